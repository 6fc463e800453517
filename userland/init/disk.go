package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"valence.dev/drivers/lib/devreg"
	"valence.dev/ipc"
)

// diskWait bounds the search for the root disk once pcid serves: long
// enough for TCG QEMU to bring up nvmed, short enough that a machine
// without the disk still boots promptly.
const diskWait = 10 * time.Second

// pollEvery is how often pcid's list is read while drivers start.
const pollEvery = 50 * time.Millisecond

// diskPick is what pickDisk decided from one reading of pcid's list.
type diskPick struct {
	Name string // the disk to use, "" for none
	Done bool   // waiting longer cannot give a better answer
}

// pickDisk chooses among names (best first) from pcid's list: the first
// name a running driver registered, once every better name is out of
// reach. A name is out of reach when no driver is still on its way up
// (starting, or exited and about to be restarted), since pcid learns a
// driver's name only when it registers. So a registered nvme0 is taken
// at once; vda only when nvme0 cannot come any more.
func pickDisk(names []string, fns []devreg.Function) diskPick {
	registered := map[string]bool{}
	pending := false
	for _, f := range fns {
		switch {
		case f.State == "running":
			registered[f.Name] = true
		case f.Driver != "" && (f.State == "starting" || strings.HasPrefix(f.State, "exited")):
			pending = true
		}
	}
	for _, n := range names {
		if registered[n] {
			return diskPick{Name: n, Done: true}
		}
		if pending {
			return diskPick{}
		}
	}
	return diskPick{Done: true}
}

// bestRegistered is the best of names registered now, at the deadline.
func bestRegistered(names []string, fns []devreg.Function) string {
	for _, n := range names {
		for _, f := range fns {
			if f.State == "running" && f.Name == n {
				return n
			}
		}
	}
	return ""
}

// driverTrouble lists the drivers that are not running, for the reason
// given when no disk was found: "nvmed (00:03.0) exited: exit status 1".
func driverTrouble(fns []devreg.Function) string {
	var out []string
	for _, f := range fns {
		if f.Driver != "" && f.State != "running" {
			out = append(out, fmt.Sprintf("%s (%s) %s", f.Driver, f.Addr, f.State))
		}
	}
	return strings.Join(out, "; ")
}

// noDiskReason explains that none of names registered.
func noDiskReason(names []string, fns []devreg.Function, waited bool) string {
	why := "no driver registered " + strings.Join(names, " or ")
	if waited {
		why += fmt.Sprintf(" within %v", diskWait)
	}
	if t := driverTrouble(fns); t != "" {
		why += " (" + t + ")"
	}
	return why
}

// devices is pcid's registry, through a client capability init holds.
type devices struct {
	registry devreg.Client
}

// findDisk waits until pickDisk is done with choice's names or deadline
// passes, and returns the chosen name and a client capability on its
// driver. The error is the reason no disk was found.
func (d *devices) findDisk(ctx context.Context, names []string, deadline time.Time) (string, ipc.Handle, error) {
	for {
		fns, err := d.registry.List(ctx)
		if err != nil {
			return "", 0, fmt.Errorf("listing pcid's devices: %w", err)
		}
		pick := pickDisk(names, fns)
		late := !time.Now().Before(deadline)
		if late && !pick.Done {
			pick = diskPick{Name: bestRegistered(names, fns), Done: true}
		}
		if pick.Done {
			if pick.Name == "" {
				return "", 0, fmt.Errorf("%s", noDiskReason(names, fns, late))
			}
			h, err := d.lookup(ctx, pick.Name, deadline)
			return pick.Name, h, err
		}
		time.Sleep(pollEvery)
	}
}

// lookup returns a client capability on the driver registered as name,
// waiting until deadline for it to (re-)register: pcid restarts a dead
// driver after at most 8 s.
func (d *devices) lookup(ctx context.Context, name string, deadline time.Time) (ipc.Handle, error) {
	for {
		r, err := d.registry.Lookup(ctx, name)
		if err == nil {
			return r.Server, nil
		}
		if !time.Now().Before(deadline) {
			return 0, fmt.Errorf("looking up %s: %w", name, err)
		}
		time.Sleep(pollEvery)
	}
}
