package main

import (
	"errors"
	"fmt"
	"syscall"
	"time"

	"valence.dev/ipc"
	"valence.dev/libos"
)

// Servers are started the same way (drivers/pci/cmd/pcid/doc.go,
// servers/fs/cmd/fsd, servers/net/cmd/netd): as children holding the
// handles they need, one of them a registration endpoint, which they
// call once they serve with a message of label 1 carrying one handle, a
// client capability on their own endpoint. init waits for that call, for
// the child's death (a notification bound to the endpoint, signalled by
// ProcNotify) or for a timer (another bit of the same notification),
// whichever comes first.

const (
	labelRegistration = 1
	bitDied           = 1 << 0
	bitTimeout        = 1 << 1
)

// child is a server init started (and that registered, if asked to).
type child struct {
	name   string     // "fsd"
	proc   ipc.Handle // its process handle
	pid    int
	client ipc.Handle // the capability it registered, or 0
	tap    *stderrTap // its output relay, or nil
}

// startError is a server that did not register: it ended first, or was
// killed for not registering in time.
type startError struct {
	name     string
	status   syscall.WaitStatus
	timedOut time.Duration // non-zero: killed after this long
	reason   string        // its own last words, if init read them
}

func (e *startError) Error() string {
	switch {
	case e.timedOut != 0:
		return fmt.Sprintf("%s did not start serving within %v; killed", e.name, e.timedOut)
	case e.reason != "":
		return fmt.Sprintf("%s (%s %s)", e.reason, e.name, describeStatus(e.status))
	}
	return fmt.Sprintf("%s ended before serving (%s)", e.name, describeStatus(e.status))
}

// serverSpec is how to start one server.
type serverSpec struct {
	name    string
	program func() string // its path, chosen under the spawn lock (paths.go)
	argv    []string
	env     []string
	handles []ipc.Handle // regAt's entry is replaced by the registration endpoint
	regAt   int          // -1: it does not register; it is up once spawned
	timeout time.Duration
	output  func(line string) // each line of its output, or nil: not tapped
}

// startServer spawns a server and, if it registers, waits up to
// spec.timeout for its registration. Its descriptors 1 and 2 go through
// a relay (tap.go) when spec.output is set, so that a refusal can be
// quoted and its lines kept for svc log. A child that fails is reaped
// (its process handle closed) before startServer returns.
func startServer(spawnLock func() func(), spec serverSpec) (*child, error) {
	c := &child{name: spec.name}
	handles := append([]ipc.Handle(nil), spec.handles...)
	var reg, events ipc.Handle
	if spec.regAt >= 0 {
		var err error
		if reg, err = libos.NewEndpoint(); err != nil {
			return nil, err
		}
		defer libos.Close(reg)
		regCopy, err := libos.Dup(reg, ipc.RightWrite|ipc.RightGrant, 0)
		if err != nil {
			return nil, err
		}
		defer libos.Close(regCopy) // the child has its own
		handles[spec.regAt] = regCopy
		if events, err = libos.NewNotification(); err != nil {
			return nil, err
		}
		defer libos.Close(events)
		if err := libos.NotifyBind(events, reg); err != nil {
			return nil, err
		}
	}
	spawn := func() error {
		var err error
		c.proc, c.pid, err = libos.ProcSpawn(spec.program(), spec.argv, spec.env, handles)
		return err
	}
	unlock := spawnLock()
	var err error
	if spec.output != nil {
		c.tap, err = spawnTapped(c.name, spec.output, spawn)
	} else {
		err = spawn()
	}
	unlock()
	if err != nil {
		return nil, err
	}
	if spec.regAt < 0 {
		return c, nil
	}
	if err := libos.ProcNotify(c.proc, events, bitDied); err != nil {
		c.kill()
		return nil, fmt.Errorf("watching %s: %w", c.name, err)
	}
	timer := newTimer(spec.timeout, func() { libos.NotifySignal(events, bitTimeout) })
	defer timer.stop()
	return c, c.awaitRegistration(reg, spec.timeout)
}

// awaitRegistration receives on reg until the child registers, dies or
// the timer fires; on failure the child is gone when it returns.
func (c *child) awaitRegistration(reg ipc.Handle, timeout time.Duration) error {
	for {
		var m, rep ipc.Message
		tok, err := libos.Recv(reg, &m)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			c.kill()
			return fmt.Errorf("waiting for %s: %w", c.name, err)
		}
		switch {
		case m.Flags == ipc.MsgNotification && m.Label&bitDied != 0:
			st := c.reap()
			return &startError{name: c.name, status: st, reason: c.tap.reason(2 * time.Second)}
		case m.Flags == ipc.MsgNotification && m.Label&bitTimeout != 0:
			st := c.kill()
			return &startError{name: c.name, status: st, timedOut: timeout}
		case m.Flags == ipc.MsgNotification:
			continue
		case m.Label == labelRegistration && m.NHandles == 1:
			libos.Reply(reg, tok, &rep)
			c.client = m.Handles[0]
			return nil
		default:
			// Not a registration: answer and drop what it carried, and
			// go on waiting for the real one.
			for i := uint32(0); i < m.NHandles && i < ipc.MaxHandles; i++ {
				libos.Close(m.Handles[i])
			}
			rep.Status = int32(syscall.EINVAL)
			libos.Reply(reg, tok, &rep)
		}
	}
}

// reap waits for the child's end and returns its status. The zombie is
// collected by the reaper (console.go), which waits for every child.
func (c *child) reap() syscall.WaitStatus {
	st := procWait(c.proc)
	libos.Close(c.proc)
	return st
}

// procWait waits for the process h names to end and returns its status,
// waiting again when a signal interrupts the wait (the Go runtime's own
// preemption signals do).
func procWait(h ipc.Handle) syscall.WaitStatus {
	for {
		st, err := libos.ProcWait(h)
		if !errors.Is(err, syscall.EINTR) {
			return st
		}
	}
}

// kill ends the child at once and reaps it.
func (c *child) kill() syscall.WaitStatus {
	libos.ProcKill(c.proc, syscall.SIGKILL)
	return c.reap()
}

// stop asks the child to end with SIGTERM, waits up to grace, then kills
// it. It reports how the child ended and whether it needed SIGKILL.
func (c *child) stop(grace time.Duration) (syscall.WaitStatus, bool) {
	ended := make(chan syscall.WaitStatus, 1)
	libos.ProcKill(c.proc, syscall.SIGTERM)
	go func() { ended <- procWait(c.proc) }()
	killed := false
	var st syscall.WaitStatus
	select {
	case st = <-ended:
	case <-time.After(grace):
		killed = true
		libos.ProcKill(c.proc, syscall.SIGKILL)
		st = <-ended
	}
	libos.Close(c.proc)
	return st, killed
}

// markEssential asks the out-of-memory killer to spare a server the whole
// system depends on; only a note if the kernel refuses.
func markEssential(c *child) {
	if err := libos.ProcEssential(c.proc, true); err != nil {
		logf("%s (pid %d) not marked essential: %v", c.name, c.pid, err)
	}
}
