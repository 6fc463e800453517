package proc

import (
	"fmt"

	"gvisor.dev/gvisor/pkg/abi/linux"

	"valence.dev/microkernel/arch/amd64"
	"valence.dev/microkernel/clock"
	"valence.dev/microkernel/mm"
)

const numSigs = 64

// si_code values for faults (include/uapi/asm-generic/siginfo.h), which
// gvisor's abi/linux does not define.
const (
	segvMapErr = 1
	segvAccErr = 2
	busAdrAln  = 1
	fpeIntDiv  = 1
	illIllOpn  = 2
	trapBrkpt  = 1
)

// sigDetail is the siginfo a pending signal will be delivered with.
type sigDetail struct {
	code   int32
	addr   uint64 // faults
	pid    int32  // kill and tgkill: the sender; SIGCHLD: the child
	status int32  // SIGCHLD: the exit code or signal
}

func sigbit(sig linux.Signal) uint64 { return 1 << uint(sig-1) }

var unblockable = sigbit(linux.SIGKILL) | sigbit(linux.SIGSTOP)

// defaultIgnored reports whether a signal's default action is to do
// nothing (signal(7)); SIGCONT's is to continue, which happens when it is
// sent (stop.go), so it is ignored when taken.
func defaultIgnored(sig linux.Signal) bool {
	switch sig {
	case linux.SIGCHLD, linux.SIGURG, linux.SIGWINCH, linux.SIGCONT:
		return true
	}
	return false
}

// defaultStops reports whether a signal's default action is to stop.
func defaultStops(sig linux.Signal) bool { return sigbit(sig)&stopSignals != 0 }

// defaultKills reports whether a signal's default action ends the
// process (with or without a core dump).
func defaultKills(sig linux.Signal) bool { return !defaultIgnored(sig) && !defaultStops(sig) }

// dumpsCore reports whether a signal's default action is "Core"
// (signal(7)). There are no core files; the difference is only that such
// a signal does not end a process at once when sent, but when taken, as
// on Linux.
func dumpsCore(sig linux.Signal) bool {
	switch sig {
	case linux.SIGQUIT, linux.SIGILL, linux.SIGTRAP, linux.SIGABRT, linux.SIGBUS,
		linux.SIGFPE, linux.SIGSEGV, linux.SIGXCPU, linux.SIGXFSZ, linux.SIGSYS:
		return true
	}
	return false
}

// postSignal makes sig pending on thread t and interrupts a blocking call
// if t does not block sig. SIGKILL ends the process at once; so does a
// signal whose default action ends it without a core dump, if t does not
// block it and the process is not stopped (Linux's complete_signal and
// wants_signal: a stopped process takes such a signal once continued).
func (t *Thread) postSignal(sig linux.Signal, d sigDetail) {
	p := t.proc
	if sig == linux.SIGKILL {
		p.exit(ExitStatus{Signal: sig})
		return
	}
	p.mu.Lock()
	if p.exiting {
		p.mu.Unlock()
		return
	}
	cont := p.prepareLocked(sig)
	act := p.sigactions[sig]
	if act.Handler == linux.SIG_IGN || act.Handler == linux.SIG_DFL && defaultIgnored(sig) {
		p.mu.Unlock()
		cont.notify(p)
		return
	}
	t.pending |= sigbit(sig)
	t.siginfo[sig] = d
	deliverable := t.mask&sigbit(sig) == 0
	fatal := deliverable && !p.stopped && act.Handler == linux.SIG_DFL && defaultKills(sig) && !dumpsCore(sig)
	p.mu.Unlock()
	cont.notify(p)
	switch {
	case fatal:
		p.exit(ExitStatus{Signal: sig})
	case deliverable:
		t.interrupt()
	}
}

// postProcessSignal sends a process-directed signal.
func (p *Process) postProcessSignal(sig linux.Signal) {
	p.postProcessSignalFrom(sig, sigDetail{code: linux.SI_USER})
}

// postProcessSignalFrom makes sig pending on the process as a whole, as
// Linux's shared pending set: the first thread that does not block it
// takes it on its way back to ring 3. One such thread is woken, preferring
// one that is not waiting in an IPC call (which signals do not interrupt),
// so a signal is not held up behind a server that takes its time.
func (p *Process) postProcessSignalFrom(sig linux.Signal, d sigDetail) {
	if sig == linux.SIGKILL {
		p.exit(ExitStatus{Signal: sig})
		return
	}
	p.mu.Lock()
	if p.exiting {
		p.mu.Unlock()
		return
	}
	cont := p.prepareLocked(sig)
	act := p.sigactions[sig]
	if act.Handler == linux.SIG_IGN || act.Handler == linux.SIG_DFL && defaultIgnored(sig) {
		p.mu.Unlock()
		cont.notify(p)
		return
	}
	p.pending |= sigbit(sig)
	p.siginfo[sig] = d
	var target *Thread
	rank := func(t *Thread) int {
		switch {
		case t.mask&sigbit(sig) != 0:
			return 0 // cannot take it
		case t.inCall.Load():
			return 1 // can, once its call returns
		}
		return 2
	}
	for _, t := range p.threads {
		if target == nil || rank(t) > rank(target) || rank(t) == rank(target) && t.TID < target.TID {
			target = t
		}
	}
	if target != nil && rank(target) == 0 {
		target = nil // every thread blocks it: it waits for one to unblock it
	}
	fatal := target != nil && !p.stopped && act.Handler == linux.SIG_DFL && defaultKills(sig) && !dumpsCore(sig)
	p.mu.Unlock()
	cont.notify(p)
	switch {
	case fatal:
		// As Linux's complete_signal: the process ends now rather than
		// when a thread takes the signal. A stopped one waits for
		// SIGCONT (only SIGKILL ends it while stopped).
		p.exit(ExitStatus{Signal: sig})
	case target != nil:
		target.interrupt()
	}
}

// due is the set of signals the thread could take now: its own and the
// process's pending signals that it does not block. Callers hold p.mu or
// accept a racy look (it is re-checked under the lock before delivery).
func (t *Thread) due() uint64 {
	return (t.pending | t.proc.pending) &^ t.mask
}

// fatalSignalDue reports whether the process is dying or the thread has a
// signal due whose action is death (default action, no handler); such a
// signal ends the process now. Waits that only a fatal signal may end
// (vfork) use it.
func (t *Thread) fatalSignalDue() bool {
	p := t.proc
	p.mu.Lock()
	if p.exiting {
		p.mu.Unlock()
		return true
	}
	pend := t.due()
	for s := linux.Signal(1); s <= numSigs; s++ {
		if pend&sigbit(s) == 0 {
			continue
		}
		if p.sigactions[s].Handler == linux.SIG_DFL && defaultKills(s) {
			p.mu.Unlock()
			p.exit(ExitStatus{Signal: s})
			return true
		}
	}
	p.mu.Unlock()
	return false
}

// deliverSignals runs before the thread returns to ring 3: it takes the
// lowest pending unblocked signal and acts on it. It returns false if the
// signal killed the process.
func (t *Thread) deliverSignals() bool {
	p := t.proc
	for {
		p.mu.Lock()
		pend := t.due()
		if pend == 0 {
			p.mu.Unlock()
			return true
		}
		var sig linux.Signal
		for s := linux.Signal(1); s <= numSigs; s++ {
			if pend&sigbit(s) != 0 {
				sig = s
				break
			}
		}
		// A thread's own signals (faults, tgkill) go before the process's.
		var d sigDetail
		if t.pending&sigbit(sig) != 0 {
			t.pending &^= sigbit(sig)
			d = t.siginfo[sig]
		} else {
			p.pending &^= sigbit(sig)
			d = p.siginfo[sig]
		}
		act := p.sigactions[sig]
		seq := p.contSeq
		p.mu.Unlock()
		switch {
		case act.Handler == linux.SIG_IGN:
			continue
		case act.Handler == linux.SIG_DFL && defaultIgnored(sig):
			continue
		case act.Handler == linux.SIG_DFL && defaultStops(sig):
			// Linux's get_signal: SIGTSTP, SIGTTIN and SIGTTOU are
			// discarded in an orphaned process group.
			if sig != linux.SIGSTOP && p.groupOrphaned() {
				continue
			}
			if p.groupStop(sig, seq) && !t.park() {
				return false
			}
			continue
		case act.Handler == linux.SIG_DFL:
			p.exit(ExitStatus{Signal: sig})
			return false
		}
		if err := t.setupSignalFrame(sig, &act, d); err != nil {
			if err == mm.ErrNoMem {
				// The frame needs a page no frame is left for: like a
				// page fault, the out-of-memory killer frees memory (or
				// picks this process), and the signal waits until then.
				p.mu.Lock()
				t.pending |= sigbit(sig)
				t.siginfo[sig] = d
				p.mu.Unlock()
				if t.outOfMemory(0) {
					continue
				}
				return false
			}
			p.noteFault(fmt.Sprintf("cannot deliver %s: %v", signalName(sig), err))
			p.exit(ExitStatus{Signal: linux.SIGSEGV})
			return false
		}
		return true
	}
}

// forceFault delivers a synchronous fault signal: if the thread blocks or
// ignores it, the default action (death) applies, as Linux's force_sig
// does, since returning to the faulting instruction would fault again.
func (t *Thread) forceFault(sig linux.Signal, code int32, addr uint64, what string) {
	p := t.proc
	r := t.regs()
	p.noteFault(fmt.Sprintf("%s: %s at %#x (rip %#x, rsp %#x)", what, signalName(sig), addr, r.RIP, r.RSP))
	p.mu.Lock()
	if p.sigactions[sig].Handler == linux.SIG_IGN || t.mask&sigbit(sig) != 0 {
		p.sigactions[sig].Handler = linux.SIG_DFL
		t.mask &^= sigbit(sig)
	}
	t.pending |= sigbit(sig)
	t.siginfo[sig] = sigDetail{code: code, addr: addr}
	p.mu.Unlock()
}

// noteFault records a fault for the exit log.
func (p *Process) noteFault(s string) {
	p.mu.Lock()
	p.lastFault = s
	p.lastFaultTime = clock.Monotonic()
	p.mu.Unlock()
}

// pageFault handles a page fault in ring 3.
func (t *Thread) pageFault() {
	r := t.regs()
	addr := t.ctx.CR2
	write := r.ErrorCode&amd64.PFWrite != 0
	exec := r.ErrorCode&amd64.PFFetch != 0
	as := t.proc.addressSpace()
	if as == nil {
		return
	}
	err := as.Fault(addr, write, exec)
	if err == nil {
		return
	}
	if err == mm.ErrNoMem {
		// The out-of-memory killer frees memory, killing the biggest
		// process (charge.go), and the access is retried; if this process
		// is the biggest, it has been killed.
		t.outOfMemory(addr)
		return
	}
	code := int32(segvMapErr)
	if r.ErrorCode&amd64.PFPresent != 0 {
		code = segvAccErr
	}
	t.forceFault(linux.SIGSEGV, code, addr, "page fault")
}

// exception turns a CPU exception in ring 3 into a signal.
func (t *Thread) exception(v int) {
	r := t.regs()
	switch v {
	case amd64.VecDivide:
		t.forceFault(linux.SIGFPE, fpeIntDiv, r.RIP, "divide error")
	case amd64.VecFPU, amd64.VecSIMD:
		t.forceFault(linux.SIGFPE, 0, r.RIP, "floating-point exception")
	case amd64.VecInvalidOp:
		t.forceFault(linux.SIGILL, illIllOpn, r.RIP, "invalid opcode")
	case amd64.VecBreakpoint, amd64.VecDebug:
		t.forceFault(linux.SIGTRAP, trapBrkpt, r.RIP, "breakpoint")
	case amd64.VecAlignment:
		t.forceFault(linux.SIGBUS, busAdrAln, r.RIP, "alignment check")
	default:
		// #GP (privileged instruction, non-canonical address, bad IRET
		// state), #SS, #NP and the rest: SIGSEGV with si_code SI_KERNEL, as
		// Linux reports them.
		t.forceFault(linux.SIGSEGV, linux.SI_KERNEL, 0, amd64.ExceptionName(v))
	}
}

// setupSignalFrame pushes an rt_sigframe on the user stack (or the
// alternate signal stack) and points the thread at the handler, as
// Linux's __setup_rt_frame does. Every write goes through CopyOut.
func (t *Thread) setupSignalFrame(sig linux.Signal, act *linux.SigAction, d sigDetail) error {
	if act.Flags&linux.SA_RESTORER == 0 || act.Restorer == 0 {
		return fmt.Errorf("no SA_RESTORER")
	}
	as := t.proc.addressSpace()
	if as == nil {
		return fmt.Errorf("no address space")
	}
	r := t.regs()
	p := t.proc
	p.mu.Lock()
	oldMask := t.mask
	alt := t.altStack
	p.mu.Unlock()
	onAlt := alt.Flags&linux.SS_DISABLE == 0 && alt.Size != 0 && r.RSP > alt.Addr && r.RSP <= alt.Addr+alt.Size
	sp := r.RSP
	if act.Flags&linux.SA_ONSTACK != 0 && alt.Flags&linux.SS_DISABLE == 0 && alt.Size != 0 && !onAlt {
		sp = alt.Addr + alt.Size
	} else {
		sp -= 128 // red zone
	}
	sp = (sp - amd64.FXStateSize) &^ 63
	fpstate := sp
	sp = (sp-sigframeSize)&^15 - 8

	var fr amd64.RtSigframe
	fr.Pretcode = act.Restorer
	fr.UC.Stack = alt
	if alt.Size == 0 {
		fr.UC.Stack.Flags = linux.SS_DISABLE
	} else if onAlt {
		fr.UC.Stack.Flags |= linux.SS_ONSTACK
	}
	mc := &fr.UC.MContext
	mc.R8, mc.R9, mc.R10, mc.R11 = r.R8, r.R9, r.R10, r.R11
	mc.R12, mc.R13, mc.R14, mc.R15 = r.R12, r.R13, r.R14, r.R15
	mc.RDI, mc.RSI, mc.RBP, mc.RBX = r.RDI, r.RSI, r.RBP, r.RBX
	mc.RDX, mc.RAX, mc.RCX, mc.RSP = r.RDX, r.RAX, r.RCX, r.RSP
	mc.RIP, mc.EFLAGS = r.RIP, r.RFLAGS
	mc.CS, mc.SS = uint16(r.CS), uint16(r.SS)
	mc.Err, mc.Trapno, mc.CR2 = r.ErrorCode, r.Vector, d.addr
	mc.Oldmask = oldMask
	mc.Fpstate = fpstate
	fr.UC.Sigmask = linux.SignalSet(oldMask)
	fr.Info.Signo = int32(sig)
	fr.Info.Code = d.code
	switch {
	case sig == linux.SIGCHLD && d.code >= linux.CLD_EXITED && d.code <= linux.CLD_CONTINUED:
		fr.Info.SetPID(d.pid)
		fr.Info.SetStatus(d.status)
	case d.code > 0:
		fr.Info.SetAddr(d.addr)
	default:
		fr.Info.SetPID(d.pid)
	}
	if err := as.CopyOut(fpstate, fxBytes(&t.ctx.FX)); err != nil {
		return err
	}
	if err := as.CopyOut(sp, sigframeBytes(&fr)); err != nil {
		return err
	}
	p.mu.Lock()
	t.mask |= uint64(act.Mask)
	if act.Flags&linux.SA_NODEFER == 0 {
		t.mask |= sigbit(sig)
	}
	t.mask &^= unblockable
	if act.Flags&linux.SA_RESETHAND != 0 {
		p.sigactions[sig] = linux.SigAction{}
	}
	p.mu.Unlock()
	r.RSP = sp
	r.RIP = act.Handler
	r.RDI = uint64(sig)
	r.RSI = sp + sigframeInfoOffset
	r.RDX = sp + sigframeUCOffset
	r.RAX = 0
	r.RFLAGS &^= amd64.FlagTF | amd64.FlagDF
	t.ctx.FX.InitFX()
	return nil
}

// sigreturn restores the context saved by setupSignalFrame.
func (t *Thread) sigreturn() error {
	as := t.proc.addressSpace()
	if as == nil {
		return fmt.Errorf("no address space")
	}
	r := t.regs()
	var fr amd64.RtSigframe
	if err := as.CopyIn(r.RSP-8, sigframeBytes(&fr)); err != nil {
		return err
	}
	mc := &fr.UC.MContext
	r.R8, r.R9, r.R10, r.R11 = mc.R8, mc.R9, mc.R10, mc.R11
	r.R12, r.R13, r.R14, r.R15 = mc.R12, mc.R13, mc.R14, mc.R15
	r.RDI, r.RSI, r.RBP, r.RBX = mc.RDI, mc.RSI, mc.RBP, mc.RBX
	r.RDX, r.RAX, r.RCX, r.RSP = mc.RDX, mc.RAX, mc.RCX, mc.RSP
	r.RIP, r.RFLAGS = mc.RIP, mc.EFLAGS // EnterUser sanitises the flags
	if mc.Fpstate != 0 {
		var fx amd64.FXState
		if err := as.CopyIn(mc.Fpstate, fxBytes(&fx)); err != nil {
			return err
		}
		fx[3] = fx[3]&^0xFFFFFFFF | fx[3]&0xFFFF // FXRSTOR faults on reserved MXCSR bits
		t.ctx.FX = fx
	}
	p := t.proc
	p.mu.Lock()
	t.mask = uint64(fr.UC.Sigmask) &^ unblockable
	p.mu.Unlock()
	return nil
}
