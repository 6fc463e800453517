// Package kfiletest provides a fake calling thread for hosted tests of
// the open-file layer (kfile, pipe, tty, epoll, fsclient).
package kfiletest

import (
	"sync"

	"gvisor.dev/gvisor/pkg/abi/linux"
)

// Caller is a kfile.Caller standing in for a thread of process Pid. It
// blocks until Interrupt is called; with NoBlock set, CanBlock refuses
// (as for a thread with a signal already due).
type Caller struct {
	Pid     int
	NoBlock bool

	intr   chan struct{}
	mu     sync.Mutex
	raised []linux.Signal
	inCall bool
}

// NewCaller returns a caller of process pid.
func NewCaller(pid int) *Caller { return &Caller{Pid: pid, intr: make(chan struct{}, 1)} }

// PID implements kfile.Caller.
func (c *Caller) PID() int { return c.Pid }

// CanBlock implements kfile.Caller: as proc.Thread's, it clears a stale
// interrupt first.
func (c *Caller) CanBlock() bool {
	select {
	case <-c.intr:
	default:
	}
	return !c.NoBlock
}

// Interrupted implements kfile.Caller.
func (c *Caller) Interrupted() <-chan struct{} { return c.intr }

// Interrupt wakes the caller from a blocking call, as a signal does.
func (c *Caller) Interrupt() {
	select {
	case c.intr <- struct{}{}:
	default:
	}
}

// Raise implements kfile.Caller, recording sig.
func (c *Caller) Raise(sig linux.Signal) {
	c.mu.Lock()
	c.raised = append(c.raised, sig)
	c.mu.Unlock()
}

// Raised returns the signals raised so far.
func (c *Caller) Raised() []linux.Signal {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]linux.Signal(nil), c.raised...)
}

// Exiting implements kfile.Caller: a fake process never dies.
func (c *Caller) Exiting() bool { return false }

// SetInCall implements kfile.Caller.
func (c *Caller) SetInCall(on bool) {
	c.mu.Lock()
	c.inCall = on
	c.mu.Unlock()
}

// InCall reports whether the caller is marked as waiting in an IPC call.
func (c *Caller) InCall() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.inCall
}
