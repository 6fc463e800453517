package main

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"valence.dev/drivers/lib/devreg"
)

// Drivers are pcid's children, and pcid restarts them (its own budget,
// drivers/pci/cmd/pcid/doc.go); init does not supervise them twice. But
// a person asking svc what runs wants to see them, so init keeps a view
// of them from pcid's List, which it reads anyway as pcid's heartbeat
// and again for every svc list: each function with a driver is a row,
// named by the driver ("nvmed"), or "driver@address" when the driver
// serves several functions. A change of a row's pid between two readings
// is a restart; one that pcid made and undid between two readings is
// not seen, so the count is a lower bound (it is exact for the usual
// case of one death at a time: pcid waits at least 250 ms before a
// restart, and svc list reads the list fresh).

// driverRow is one driven function as init last saw it.
type driverRow struct {
	name     string // the row's name
	program  string // the driver's name, for its log
	addr     string
	pid      int32
	lastPID  int32 // the last non-zero pid seen
	state    string
	restarts int
	since    time.Time // when lastPID was first seen
	lastExit string
}

// driverTable is every driven function, by address.
type driverTable struct {
	rows map[string]*driverRow
}

func newDriverTable() *driverTable { return &driverTable{rows: map[string]*driverRow{}} }

// driversSeen carries a fresh List from pcid to the loop.
type driversSeen struct {
	fns []devreg.Function
}

// maxDrivers bounds the rows (a machine with more driven functions shows
// the first ones).
const maxDrivers = 64

// update folds a List into the table at now; a restart or an exit seen
// for the first time goes into the driver's log.
func (t *driverTable) update(fns []devreg.Function, now time.Time, l *logs) {
	count := map[string]int{}
	for _, f := range fns {
		if f.Driver != "" {
			count[f.Driver]++
		}
	}
	for _, f := range fns {
		if f.Driver == "" {
			continue
		}
		r := t.rows[f.Addr]
		if r == nil {
			if len(t.rows) >= maxDrivers {
				continue
			}
			r = &driverRow{addr: f.Addr, program: f.Driver}
			t.rows[f.Addr] = r
		}
		r.name = f.Driver
		if count[f.Driver] > 1 {
			r.name = f.Driver + "@" + f.Addr
		}
		r.pid = f.PID
		if f.PID != 0 && f.PID != r.lastPID {
			if r.lastPID != 0 {
				r.restarts++
				l.add(r.program, fmt.Sprintf("init: pcid restarted %s (pid %d -> %d)", r.name, r.lastPID, f.PID))
			}
			r.lastPID, r.since = f.PID, now
		}
		if why, ok := strings.CutPrefix(f.State, "exited: "); ok {
			r.lastExit = why
		} else if why, ok := strings.CutPrefix(f.State, "failed: "); ok {
			r.lastExit = why
		}
		r.state = f.State
	}
}

// sorted returns the rows in address order.
func (t *driverTable) sorted() []*driverRow {
	out := make([]*driverRow, 0, len(t.rows))
	for _, r := range t.rows {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].addr < out[j].addr })
	return out
}

// find returns the row called name, or nil.
func (t *driverTable) find(name string) *driverRow {
	for _, r := range t.rows {
		if r.name == name {
			return r
		}
	}
	return nil
}

// svcState is the row's state in svc's words: pcid's "exited: ..." is
// restarting (pcid restarts it, or has given up: then its state says
// "not restarted" in pcid's log, and the row stays exited).
func (r *driverRow) svcState() string {
	switch {
	case r.state == "running":
		return string(stateRunning)
	case r.state == "starting":
		return string(stateStarting)
	case strings.HasPrefix(r.state, "exited"):
		return string(stateExited)
	case strings.HasPrefix(r.state, "failed"):
		return string(stateFailed)
	}
	return r.state
}

// output keeps a service's output line in its log and, for pcid, also
// in the log of the driver the line is about ("nvmed: ..." from the
// driver itself, "pcid: nvmed (00:03.0) ..." from pcid).
func (s *supervisor) output(name, line string) {
	s.logs.add(name, line)
	if d := lineDriver(line); d != "" && d != name {
		if spec := s.m.Service(name); spec != nil && spec.Serves == "devreg" {
			s.logs.add(d, line)
		}
	}
}

// lineDriver is the program a console line is from or about, or "".
func lineDriver(line string) string {
	word, rest, ok := strings.Cut(line, ": ")
	if !ok || strings.ContainsAny(word, " \t") || len(word) > 32 {
		return ""
	}
	if word != "pcid" {
		return word
	}
	d, _, ok := strings.Cut(rest, " (")
	if !ok || strings.ContainsAny(d, " \t") || len(d) > 32 {
		return ""
	}
	return d
}
