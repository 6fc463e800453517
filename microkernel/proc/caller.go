package proc

import (
	"gvisor.dev/gvisor/pkg/abi/linux"

	"valence.dev/microkernel/kfile"
)

// A Thread is the caller of the file calls it makes: the open-file
// layer (kfile and the packages of its files) sees it only through
// kfile.Caller.
var _ kfile.Caller = (*Thread)(nil)

// PID implements kfile.Caller.
func (t *Thread) PID() int { return t.proc.PID }

// Interrupted implements kfile.Caller: the channel a signal or kill
// sends on.
func (t *Thread) Interrupted() <-chan struct{} { return t.intr }

// Raise implements kfile.Caller: sig for this thread, sent by its own
// process.
func (t *Thread) Raise(sig linux.Signal) {
	t.postSignal(sig, sigDetail{code: linux.SI_USER, pid: int32(t.proc.PID)})
}

// Exiting implements kfile.Caller.
func (t *Thread) Exiting() bool { return t.proc.Exiting() }

// SetInCall implements kfile.Caller.
func (t *Thread) SetInCall(on bool) { t.inCall.Store(on) }

// callerOf is t as a kfile.Caller: nil (the kernel's own call) when t is
// nil, as files test for, never an interface holding a nil *Thread.
func callerOf(t *Thread) kfile.Caller {
	if t == nil {
		return nil
	}
	return t
}

// procOf is the process of the thread c, nil for the kernel's own
// calls: /proc answers for it.
func procOf(c kfile.Caller) *Process {
	if t, ok := c.(*Thread); ok && t != nil {
		return t.proc
	}
	return nil
}
