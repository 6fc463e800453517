package proc

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"gvisor.dev/gvisor/pkg/abi/linux"

	"valence.dev/microkernel/arch/amd64"
	"valence.dev/microkernel/clock"
	"valence.dev/microkernel/rt"
)

// Thread is one user thread, run by one kernel goroutine.
type Thread struct {
	TID  int
	proc *Process
	ctx  *rt.UserContext

	// Signal state. pending and mask are guarded by proc.mu.
	mask      uint64
	pending   uint64
	siginfo   [numSigs + 1]sigDetail
	altStack  linux.SignalStack
	intr      chan struct{} // a signal or kill arrived; buffered 1
	savedMask *uint64       // mask to restore after rt_sigsuspend-like waits

	clearChildTID uint64
	sliceStart    int64
	cur           call // the system call being served
	// exitThread is set by exit(2): the goroutine ends after the call.
	exitThread bool
	exitCode   int
	// execed is set on threads that must end because another thread of
	// the process called execve.
	execed bool
	// inCall is set while the thread waits in an IPC call, which signals
	// do not interrupt; a process-directed signal goes to another thread
	// if one can take it. Atomic, so that the IPC path takes no lock for
	// it.
	inCall atomic.Bool
}

var (
	tidMu   sync.Mutex
	nextTID = 1
)

func newTID() int {
	// TIDs share the PID space, as on Linux: a process's first thread has
	// TID == PID.
	return allocPID()
}

func (p *Process) newThread(ctx *rt.UserContext, first bool) *Thread {
	t := &Thread{proc: p, ctx: ctx, intr: make(chan struct{}, 1)}
	if first {
		t.TID = p.PID
	} else {
		t.TID = newTID()
		tableMu.Lock()
		procs[t.TID] = nil // reserve the number
		tableMu.Unlock()
	}
	t.altStack.Flags = linux.SS_DISABLE
	threadStarted() // threadExited counts it out
	p.mu.Lock()
	p.threads[t.TID] = t
	p.mu.Unlock()
	return t
}

// start runs the thread on a new goroutine.
func (t *Thread) start() { go t.run() }

// interrupt wakes the thread from a blocking system call.
func (t *Thread) interrupt() {
	select {
	case t.intr <- struct{}{}:
	default:
	}
}

// Time slice for user threads: after this long in ring 3 without blocking
// the goroutine yields to others at the next timer interrupt.
const timeSlice = 10_000_000 // ns

// run is the thread's life: run in ring 3, handle the trap, repeat.
func (t *Thread) run() {
	t.loop()
	// Not deferred: a kernel panic while serving the thread must crash
	// the kernel with its report. Deferred, the thread's exit would run
	// first, and for the first process's last thread that powers the
	// machine off as if it had exited cleanly, hiding the panic.
	t.exited()
}

// loop runs the thread until it ends.
func (t *Thread) loop() {
	t.sliceStart = clock.Monotonic()
	for t.step() {
	}
}

// step runs the thread in ring 3 once and handles the trap that brought it
// back; it reports whether the thread goes on. The address space stays
// retained from before entering ring 3 until the trap is handled, so that
// an exit, kill or execve elsewhere in the process cannot free the page
// tables the thread runs on, or the memory its system call is using.
func (t *Thread) step() bool {
	if !t.stopPoint() { // a stopped process runs no user code (stop.go)
		return false
	}
	as := t.holdAddressSpace()
	if as == nil {
		return false
	}
	defer as.Release()
	p := t.proc
	p.mu.Lock()
	signals := t.due() != 0
	p.mu.Unlock()
	if signals && !t.deliverSignals() {
		return false
	}
	if debugMode {
		// Let other threads run right before entering ring 3, where an
		// ill-timed preemption does the most harm: when the address space
		// was loaded before this point, a thread preempted here went on in
		// another process's memory (docs/debugging.md).
		runtime.Gosched()
	}
	v := rt.EnterUser(t.ctx, as.Root())
	switch {
	case v == rt.VecSyscall:
		t.syscall()
		if t.exitThread {
			return false
		}
	case v == amd64.VecPageFault:
		t.pageFault()
	case v < amd64.FirstIRQVector:
		t.exception(int(v))
	default:
		// An interrupt took the CPU away; let other goroutines run if this
		// thread has had its share.
		if now := clock.Monotonic(); now-t.sliceStart >= timeSlice {
			runtime.Gosched()
			t.sliceStart = clock.Monotonic()
		}
	}
	return true
}

// holdAddressSpace returns the process's address space, retained, or nil
// if the thread must not run any more.
func (t *Thread) holdAddressSpace() *mmAS {
	p := t.proc
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.exiting || t.execed || p.as == nil {
		return nil
	}
	p.as.Retain()
	return p.as
}

// exited runs when the thread's goroutine ends.
func (t *Thread) exited() {
	if a := t.clearChildTID; a != 0 && !t.proc.Exiting() {
		// CLONE_CHILD_CLEARTID: zero the word and wake one waiter.
		var zero [4]byte
		if as := t.proc.addressSpace(); as != nil && as.CopyOut(a, zero[:]) == nil {
			t.proc.futexes.wake(a, 1)
		}
	}
	t.proc.threadExited(t)
}

func (p *Process) addressSpace() *mmAS {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.as
}

// regs returns the thread's saved registers.
func (t *Thread) regs() *amd64.Frame { return &t.ctx.Regs }

// CanBlock prepares the thread to block in a system call: it clears stale
// interrupts and reports false if the call must not block at all because a
// signal is already deliverable, the process is stopping or exiting (the
// call then fails with EINTR, and is restarted after a stop). After
// CanBlock, any new signal, stop or kill sends on intr.
func (t *Thread) CanBlock() bool {
	select {
	case <-t.intr:
	default:
	}
	p := t.proc
	p.mu.Lock()
	defer p.mu.Unlock()
	return !p.exiting && !p.stopped && t.due() == 0
}

// sleep blocks for d or until interrupted; it reports whether the full time
// passed.
func (t *Thread) sleep(d time.Duration) bool {
	if !t.CanBlock() {
		return false
	}
	if d <= 0 {
		runtime.Gosched()
		return true
	}
	tm := time.NewTimer(d)
	defer tm.Stop()
	select {
	case <-tm.C:
		return true
	case <-t.intr:
		return false
	}
}
