package main

import (
	"fmt"
	"sync"
	"time"

	"valence.dev/userland/init/control"
)

// Every service keeps its recent lines for svc log: what it wrote (its
// descriptors 1 and 2 go through init, tap.go) and init's events about
// it. Rings are bounded in lines and in bytes per line, and there are at
// most maxRings of them (drivers get theirs when pcid's output names
// them), so no service can make init hold more than a few hundred KiB.
const (
	ringLines = 64
	maxRings  = 64
)

// ring is one service's recent lines, oldest first.
type ring struct {
	mu    sync.Mutex
	lines []string // at most ringLines
	next  int      // where the next line goes once full
}

func (r *ring) add(line string) {
	if len(line) > control.MaxLine {
		line = line[:control.MaxLine]
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.lines) < ringLines {
		r.lines = append(r.lines, line)
		return
	}
	r.lines[r.next] = line
	r.next = (r.next + 1) % ringLines
}

// all returns the lines, oldest first.
func (r *ring) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, 0, len(r.lines))
	out = append(out, r.lines[r.next:]...)
	return append(out, r.lines[:r.next]...)
}

// logs are the rings by name, shared by the relays (tap.go) and the
// supervisor; each line is stamped with the time since init started.
type logs struct {
	start time.Time
	mu    sync.Mutex
	rings map[string]*ring
}

func newLogs() *logs { return &logs{start: time.Now(), rings: map[string]*ring{}} }

// add appends line to name's ring, making the ring if there are fewer
// than maxRings.
func (l *logs) add(name, line string) {
	l.mu.Lock()
	r := l.rings[name]
	if r == nil && len(l.rings) < maxRings {
		r = &ring{}
		l.rings[name] = r
	}
	l.mu.Unlock()
	if r != nil {
		r.add(fmt.Sprintf("[%9.3f] %s", time.Since(l.start).Seconds(), line))
	}
}

// lines returns name's lines, oldest first, or nil.
func (l *logs) lines(name string) []string {
	l.mu.Lock()
	r := l.rings[name]
	l.mu.Unlock()
	if r == nil {
		return nil
	}
	return r.all()
}
