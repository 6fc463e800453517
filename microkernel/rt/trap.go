package rt

import (
	"valence.dev/microkernel/arch/amd64"
	"valence.dev/microkernel/clock"
	"valence.dev/microkernel/console"
	"valence.dev/microkernel/sched"
)

// Trap stacks and the stand-in gs that describe them (see trap_amd64.s).
const (
	numTrapStacks = 6
	trapStackSize = 1 << 16 // TRAP_STACK_SHIFT
	trapGSize     = 1 << 10 // TRAP_G_SHIFT
	// trapGuard is the space below a stand-in g's stackguard0: a Go
	// function whose frame would cross it calls morestack, which cannot work
	// here and faults, instead of silently running off the stack.
	trapGuard = 8 << 10
)

var (
	trapStacks      [numTrapStacks][trapStackSize / 8]uint64
	trapGs          [numTrapStacks][trapGSize / 8]uintptr
	syscallSavedSP  uint64
	syscallStackTop uint64
	// currentFS is the FS base of the thread the exit path returns to;
	// fsChanged tells the exit path to load it (trap_amd64.s).
	currentFS uint64
	fsChanged uint8
	// trapDepth counts nested traps: above 1, a fault interrupted trap
	// handling itself.
	trapDepth int
)

// vectors, syscallEntry and idleLoop are entry points in trap_amd64.s; the
// *Addr functions return their addresses for the IDT, IA32_LSTAR and the
// idle thread's frame.
func vectors()
func syscallEntry()
func idleLoop()
func vectorsAddr() uintptr
func syscallEntryAddr() uintptr
func idleLoopAddr() uintptr

// kernelEnd returns the address of the end of the kernel image's bss
// (the linker's runtime.end; trap_amd64.s).
func kernelEnd() uintptr

func trapStackTop(i int) uintptr {
	return addrOfWords(trapStacks[i][:]) + trapStackSize
}

// initTrapStacks fills in the stand-in gs: stack bounds and guards.
func initTrapStacks() {
	for i := range trapStacks {
		lo := addrOfWords(trapStacks[i][:])
		g := &trapGs[i]
		g[0] = lo                 // stack.lo
		g[1] = lo + trapStackSize // stack.hi
		g[2] = lo + trapGuard     // stackguard0
		g[3] = lo + trapGuard     // stackguard1
	}
	syscallStackTop = uint64(trapStackTop(stackSyscall))
}

// syncFS points the exit path and the next trap at the FS base of the
// thread about to run.
func syncFS() {
	t := sched.Current()
	fs := t.FSBase
	if fs < 8 {
		fs = uint64(addrOfUintptrs(spareTLS[:])) + 8
	}
	if fs != currentFS {
		currentFS = fs
		fsChanged = 1
	}
	tlsSlot = uintptr(fs - 8)
}

// trap handles every interrupt, exception and system call; trapcommon calls
// it with the saved frame and FPU state of the interrupted context.
func trap(f *amd64.Frame, fx *amd64.FXState) {
	trapDepth++
	now := clock.Monotonic()
	v := f.Vector
	fromUser := v&UserTrapFlag != 0
	if fromUser {
		// fromUser already saved the ring 3 state and turned the frame
		// into enterUser's return: system calls and faults are for the
		// goroutine running that thread to handle. Interrupts still need
		// serving here.
		v &^= UserTrapFlag
		f.Vector = v
	}
	switch {
	case fromUser && (v == amd64.SyscallVector || v < amd64.FirstIRQVector):
	case v == amd64.SyscallVector:
		syscall(f, fx, now)
	case v == amd64.VecPageFault:
		pageFault(f, fx)
	case v < amd64.FirstIRQVector:
		exception(f, fx)
	case v == timerVector:
		ticks++
		lapic.EOI()
		sched.Tick(f, fx, now)
	case v == consoleVector:
		if console.Interrupt() {
			futexWakeKernel(uint64(consoleSeqAddr()), 1<<30)
		}
		lapic.EOI()
	case v >= firstDeviceVector && v < firstDeviceVector+NumDeviceVectors:
		deviceIRQ(v)
	case v == spuriousVector:
		// No EOI for spurious interrupts (SDM vol. 3A §10.9).
	default:
		strayIRQs++
		lapic.EOI()
	}
	if trapDepth == 1 {
		sched.Reschedule(f, fx, now)
		if !sched.IsIdle() {
			deliverSignals(f, fx)
		}
		syncFS()
	}
	trapDepth--
}

var strayIRQs uint64

// pageFault serves demand paging of the kernel heap and turns any other
// page fault into SIGSEGV for the faulting thread.
func pageFault(f *amd64.Frame, fx *amd64.FXState) {
	addr := amd64.ReadCR2()
	switch kernelFault(addr, f.ErrorCode) {
	case faultHandled:
		return
	case faultNoMemory:
		fatal(f, "out of memory serving a page fault", addr)
	}
	if trapDepth > 1 {
		fatal(f, "page fault in a trap handler", addr)
	}
	code := int32(segvMapErr)
	if f.ErrorCode&amd64.PFPresent != 0 {
		code = segvAccErr
	}
	forceSignal(f, fx, sigSEGV, code, addr, "page fault")
}

// exception turns a CPU exception in kernel code into the signal Linux
// would deliver, or a kernel panic where no signal can help.
func exception(f *amd64.Frame, fx *amd64.FXState) {
	v := int(f.Vector)
	if trapDepth > 1 || v == amd64.VecDoubleFault || v == amd64.VecMachineCheck || v == amd64.VecNMI {
		fatal(f, amd64.ExceptionName(v), amd64.ReadCR2())
	}
	switch v {
	case amd64.VecDivide:
		forceSignal(f, fx, sigFPE, fpeIntDiv, f.RIP, "divide error")
	case amd64.VecFPU, amd64.VecSIMD:
		forceSignal(f, fx, sigFPE, 0, f.RIP, "floating-point exception")
	case amd64.VecInvalidOp:
		forceSignal(f, fx, sigILL, illIllOpn, f.RIP, "invalid opcode")
	case amd64.VecBreakpoint, amd64.VecDebug:
		forceSignal(f, fx, sigTRAP, 0, f.RIP, "breakpoint")
	case amd64.VecAlignment:
		forceSignal(f, fx, sigBUS, 0, f.RIP, "alignment check")
	case amd64.VecGeneralProt, amd64.VecSegment, amd64.VecStack:
		forceSignal(f, fx, sigSEGV, siKernel, 0, "general protection fault")
	default:
		fatal(f, amd64.ExceptionName(v), amd64.ReadCR2())
	}
}
