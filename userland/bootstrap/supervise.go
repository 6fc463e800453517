package main

import (
	"context"
	"errors"
	"syscall"
	"time"

	"valence.dev/ipc"
	"valence.dev/libos"
)

// Restarts of fsd: at most maxRestarts within restartWindow, after a
// delay doubling from firstDelay (a disk that keeps failing is not
// hammered); the next death within the window leaves fsd stopped.
const (
	maxRestarts   = 5
	restartWindow = time.Minute
	firstDelay    = 250 * time.Millisecond
	maxDelay      = 4 * time.Second
)

// restartBudget remembers recent restarts.
type restartBudget struct {
	times []time.Time
}

// next records a restart at now and returns the delay before it, or ok
// false if the budget is spent (the restart must not happen).
func (b *restartBudget) next(now time.Time) (delay time.Duration, ok bool) {
	recent := b.times[:0]
	for _, t := range b.times {
		if now.Sub(t) < restartWindow {
			recent = append(recent, t)
		}
	}
	b.times = recent
	if len(b.times) >= maxRestarts {
		return 0, false
	}
	delay = firstDelay << len(b.times)
	b.times = append(b.times, now)
	return min(delay, maxDelay), true
}

// root is the disk root while init runs: what it needs to bring fsd back.
type root struct {
	name   string     // the disk's pcid name
	disk   ipc.Handle // a client capability on its driver
	dev    *devices
	fsd    *child // nil once given up
	budget restartBudget

	bootBound bool // the initfs is at bootDir
}

// supervise waits for init (pid initPID) to end and returns its status,
// restarting fsd when it dies meanwhile. Other children's ends (pcid's,
// strays') are reaped; pcid's is noted.
func supervise(initPID int, r *root, dev *devices, mnt *mounter, net *network) syscall.WaitStatus {
	for {
		pid, st, err := libos.Wait(-1)
		if err != nil {
			if errors.Is(err, syscall.EINTR) {
				continue
			}
			// No child left to wait for cannot happen while init lives;
			// if the kernel says so anyway, waiting on is pointless.
			logf("waiting for init: %v", err)
			return syscall.WaitStatus(1 << 8)
		}
		switch {
		case pid == initPID:
			return st
		case r != nil && r.fsd != nil && pid == r.fsd.pid:
			r.fsdDied(st)
		case mnt.died(pid, st):
		case net.died(pid, st):
		case dev != nil && dev.pcid != nil && pid == dev.pcid.pid:
			logf("pcid (pid %d) ended: %s; drivers are no longer restarted", pid, describeStatus(st))
			libos.Close(dev.pcid.proc)
			dev.pcid = nil
		}
	}
}

// fsdDied brings the root back after fsd ended (already reaped, with
// status st): a new fsd on the same disk, mounted over the old with
// ipc.MountReplace so every process's "/" reaches it. A new fsd that
// fails counts as a restart too.
func (r *root) fsdDied(st syscall.WaitStatus) {
	logf("fsd (pid %d) ended while init runs: %s", r.fsd.pid, describeStatus(st))
	// Its client capability stays open: the mount table was given it,
	// and MountReplace will swap it for the new one.
	libos.Close(r.fsd.proc)
	r.fsd = nil
	for {
		delay, ok := r.budget.next(time.Now())
		if !ok {
			logf("fsd restarted %d times within %v; not again: files on / fail until reboot", maxRestarts, restartWindow)
			return
		}
		logf("restarting fsd on %s in %v", r.name, delay)
		time.Sleep(delay)
		c, err := r.restart()
		if err != nil {
			logf("fsd not restarted on %s: %v", r.name, err)
			continue
		}
		if err := libos.Mount("/", c.client, ipc.MountReplace); err != nil {
			logf("the new fsd (pid %d) cannot replace the root's: %v", c.pid, err)
			stopFsd(c)
			continue
		}
		r.fsd = c
		logf("fsd restarted on %s (pid %d); / is served again", r.name, c.pid)
		return
	}
}

// restart starts a new fsd, from the initfs (fsdProgram). The driver may
// have died with fsd (then pcid restarts it and its old capability is
// dead), so the disk is looked up again; the old capability serves if
// pcid cannot be asked.
func (r *root) restart() (*child, error) {
	if r.dev != nil && r.dev.pcid != nil {
		h, err := r.dev.lookup(context.Background(), r.name, time.Now().Add(diskWait))
		if err == nil {
			libos.Close(r.disk)
			r.disk = h
		} else {
			logf("%v; trying the old capability", err)
		}
	}
	return startFsd(fsdProgram(true, r.bootBound), r.disk)
}
