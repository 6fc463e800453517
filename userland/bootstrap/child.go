package main

import (
	"errors"
	"fmt"
	"path"
	"sync"
	"syscall"
	"time"

	"valence.dev/ipc"
	"valence.dev/libos"
)

// pcid and fsd are started the same way (drivers/pci/cmd/pcid/doc.go,
// servers/fs/cmd/fsd): as children holding the handles they need plus a
// registration endpoint, which they call once they serve with a message
// of label 1 carrying one handle, a client capability on their own
// endpoint. Bootstrap waits for that call, for the child's death (a
// notification bound to the endpoint, signalled by ProcNotify) or for a
// timer (another bit of the same notification), whichever comes first.

const (
	labelRegistration = 1
	bitDied           = 1 << 0
	bitTimeout        = 1 << 1
)

// child is a server bootstrap started and that registered.
type child struct {
	name   string     // "fsd"
	proc   ipc.Handle // its process handle
	pid    int
	client ipc.Handle // the capability it registered
	tap    *stderrTap // its stderr relay, or nil
}

// startError is a server that did not register: it ended first, or was
// killed for not registering in time.
type startError struct {
	name     string
	status   syscall.WaitStatus
	timedOut time.Duration // non-zero: killed after this long
	reason   string        // its own last words, if bootstrap read them
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

// startServer spawns progPath with handles and a registration endpoint
// after them, and waits up to timeout for its registration. With
// tapStderr its stderr goes through a relay (tap.go), so that a refusal
// can be quoted. A child that fails is reaped before startServer
// returns.
func startServer(progPath string, argv, env []string, handles []ipc.Handle, timeout time.Duration, tapStderr bool) (*child, error) {
	reg, err := libos.NewEndpoint()
	if err != nil {
		return nil, err
	}
	defer libos.Close(reg)
	regCopy, err := libos.Dup(reg, ipc.RightWrite|ipc.RightGrant, 0)
	if err != nil {
		return nil, err
	}
	defer libos.Close(regCopy) // the child has its own
	events, err := libos.NewNotification()
	if err != nil {
		return nil, err
	}
	defer libos.Close(events)
	if err := libos.NotifyBind(events, reg); err != nil {
		return nil, err
	}

	c := &child{name: path.Base(progPath)}
	spawn := func() error {
		var err error
		c.proc, c.pid, err = libos.ProcSpawn(progPath, argv, env, append(append([]ipc.Handle(nil), handles...), regCopy))
		return err
	}
	if tapStderr {
		c.tap, err = spawnTapped(c.name, spawn)
	} else {
		err = spawn()
	}
	if err != nil {
		return nil, err
	}
	if err := libos.ProcNotify(c.proc, events, bitDied); err != nil {
		c.kill()
		return nil, fmt.Errorf("watching %s: %w", c.name, err)
	}
	timer := newTimer(timeout, func() { libos.NotifySignal(events, bitTimeout) })
	defer timer.stop()

	for {
		var m, rep ipc.Message
		tok, err := libos.Recv(reg, &m)
		if errors.Is(err, syscall.EINTR) {
			continue
		}
		if err != nil {
			c.kill()
			return nil, fmt.Errorf("waiting for %s: %w", c.name, err)
		}
		switch {
		case m.Flags == ipc.MsgNotification && m.Label&bitDied != 0:
			st := c.reap()
			return nil, &startError{name: c.name, status: st, reason: c.tap.reason(2 * time.Second)}
		case m.Flags == ipc.MsgNotification && m.Label&bitTimeout != 0:
			st := c.kill()
			return nil, &startError{name: c.name, status: st, timedOut: timeout}
		case m.Flags == ipc.MsgNotification:
			continue
		case m.Label == labelRegistration && m.NHandles == 1:
			libos.Reply(reg, tok, &rep)
			c.client = m.Handles[0]
			return c, nil
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

// reap waits for the child's end, collects its zombie, and returns its
// status.
func (c *child) reap() syscall.WaitStatus {
	st, _ := libos.ProcWait(c.proc)
	libos.Wait(c.pid) // ProcWait does not reap
	libos.Close(c.proc)
	return st
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
	go func() {
		st, _ := libos.ProcWait(c.proc)
		ended <- st
	}()
	killed := false
	var st syscall.WaitStatus
	select {
	case st = <-ended:
	case <-time.After(grace):
		killed = true
		libos.ProcKill(c.proc, syscall.SIGKILL)
		st = <-ended
	}
	libos.Wait(c.pid)
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

// timer runs f once after d unless stopped first; stop guarantees that
// f is not running and will not run, so f may use handles the caller is
// about to close.
type timer struct {
	mu      sync.Mutex
	stopped bool
	t       *time.Timer
}

func newTimer(d time.Duration, f func()) *timer {
	tm := &timer{}
	tm.t = time.AfterFunc(d, func() {
		tm.mu.Lock()
		defer tm.mu.Unlock()
		if !tm.stopped {
			f()
		}
	})
	return tm
}

func (tm *timer) stop() {
	tm.t.Stop()
	tm.mu.Lock()
	tm.stopped = true
	tm.mu.Unlock()
}
