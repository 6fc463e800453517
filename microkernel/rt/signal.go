package rt

import (
	"gvisor.dev/gvisor/pkg/abi/linux"

	"valence.dev/microkernel/arch/amd64"
	"valence.dev/microkernel/sched"
)

// Signal numbers used here (from gvisor's abi/linux).
const (
	sigSEGV = int(linux.SIGSEGV)
	sigBUS  = int(linux.SIGBUS)
	sigFPE  = int(linux.SIGFPE)
	sigILL  = int(linux.SIGILL)
	sigTRAP = int(linux.SIGTRAP)
	sigURG  = int(linux.SIGURG)
	sigKILL = int(linux.SIGKILL)
	sigSTOP = int(linux.SIGSTOP)
	sigABRT = int(linux.SIGABRT)
	numSigs = 64
)

// si_code values for faults (include/uapi/asm-generic/siginfo.h). gvisor's
// abi/linux does not define these.
const (
	segvMapErr = 1 // address not mapped
	segvAccErr = 2 // invalid permissions
	fpeIntDiv  = 1 // integer divide by zero
	illIllOpn  = 2 // illegal operand
	siKernel   = linux.SI_KERNEL
	siTkill    = linux.SI_TKILL
)

// sigactions is the kernel runtime's signal disposition table (one process,
// so one table). Indexed by signal number.
var sigactions [numSigs + 1]linux.SigAction

// sigInfo records the details of a pending synchronous signal: one slot per
// thread, because a fault is delivered at once, before the thread runs again.
var sigInfo [sched.MaxThreads]struct {
	code int32
	addr uint64
}

func sigbit(sig int) uint64 { return 1 << uint(sig-1) }

// defaultIgnored reports whether a signal's default action is to ignore it
// (signal(7)).
func defaultIgnored(sig int) bool {
	switch linux.Signal(sig) {
	case linux.SIGCHLD, linux.SIGURG, linux.SIGWINCH, linux.SIGCONT:
		return true
	}
	return false
}

// postSignal makes sig pending on thread i; a thread blocked in a system
// call that does not block sig is woken with EINTR, as Linux does, so that
// the signal is delivered promptly.
func postSignal(i int32, sig int, code int32, addr uint64) {
	t := sched.Get(i)
	t.SigPending |= sigbit(sig)
	sigInfo[i].code = code
	sigInfo[i].addr = addr
	if t.State == sched.Blocked && t.SigMask&sigbit(sig) == 0 {
		sched.Wake(i, errnoRet(eINTR))
	}
}

// forceSignal delivers a synchronous signal for a fault on the current
// thread right now. If the runtime cannot take it (no handler, or blocked),
// the kernel panics instead: that is what Linux's force_sig does to a
// process, and here the process is the kernel.
func forceSignal(f *amd64.Frame, fx *amd64.FXState, sig int, code int32, addr uint64, what string) {
	t := sched.Current()
	act := &sigactions[sig]
	if sched.IsIdle() || act.Handler == linux.SIG_DFL || act.Handler == linux.SIG_IGN || t.SigMask&sigbit(sig) != 0 {
		fatal(f, what, addr)
	}
	noteFault(f, sig, addr, what)
	if !setupSignalFrame(f, fx, sig, code, addr) {
		fatal(f, "no way to deliver the signal for a fault in kernel code", addr)
	}
}

// deliverSignals runs before returning to a thread: if it has an unblocked
// pending signal, the frame is rewritten to enter the handler.
func deliverSignals(f *amd64.Frame, fx *amd64.FXState) {
	t := sched.Current()
	pend := t.SigPending &^ t.SigMask
	if pend == 0 {
		return
	}
	for sig := 1; sig <= numSigs; sig++ {
		if pend&sigbit(sig) == 0 {
			continue
		}
		t.SigPending &^= sigbit(sig)
		act := &sigactions[sig]
		switch {
		case act.Handler == linux.SIG_IGN:
		case act.Handler == linux.SIG_DFL:
			if !defaultIgnored(sig) {
				runtimeKilled(f, sig)
			}
		default:
			i := sched.CurrentIndex()
			if !setupSignalFrame(f, fx, sig, sigInfo[i].code, sigInfo[i].addr) {
				fatal(f, "cannot build a signal frame", 0)
			}
			return // one at a time: the handler runs with sig blocked
		}
	}
}
