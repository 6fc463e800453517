package rt

import (
	"unsafe"

	"gvisor.dev/gvisor/pkg/abi/linux"

	"valence.dev/microkernel/arch/amd64"
	"valence.dev/microkernel/sched"
)

type (
	sigcontext = amd64.SigContext
	ucontext   = amd64.UContext
	rtSigframe = amd64.RtSigframe
)

const (
	sigframeSize = unsafe.Sizeof(rtSigframe{})
	redZone      = 128 // the System V ABI's red zone below RSP
	// restorableFlags are the RFLAGS bits rt_sigreturn takes from the
	// saved context (Linux's FIX_EFLAGS without TF): never IF or IOPL.
	restorableFlags = 0x1 | 0x4 | 0x10 | 0x40 | 0x80 | 0x400 | 0x800 | amd64.FlagAC | amd64.FlagRF
)

func sigActionAt(a uint64) *linux.SigAction     { return (*linux.SigAction)(pointer(uintptr(a))) }
func signalStackAt(a uint64) *linux.SignalStack { return (*linux.SignalStack)(pointer(uintptr(a))) }

// setupSignalFrame rewrites f so that the current thread enters the handler
// for sig on return, with an rt_sigframe describing the interrupted state on
// its signal stack (or below the red zone), as Linux's __setup_rt_frame does.
func setupSignalFrame(f *amd64.Frame, fx *amd64.FXState, sig int, code int32, addr uint64) bool {
	t := sched.Current()
	act := &sigactions[sig]
	if act.Flags&linux.SA_RESTORER == 0 || act.Restorer == 0 {
		return false
	}
	sp := f.RSP
	if act.Flags&linux.SA_ONSTACK != 0 && t.AltStackSize != 0 && !onAltStack(t, sp) {
		sp = t.AltStackSP + t.AltStackSize
	} else {
		sp -= redZone
	}
	sp = (sp - amd64.FXStateSize) &^ 63
	fpstate := sp
	sp = (sp-uint64(sigframeSize))&^15 - 8 // RSP ≡ 8 (mod 16) at entry, as after a CALL
	if !kernelPtr(sp, fpstate+amd64.FXStateSize-sp) {
		return false
	}
	*fxAt(uintptr(fpstate)) = *fx

	fr := (*rtSigframe)(pointer(uintptr(sp)))
	*fr = rtSigframe{}
	fr.Pretcode = act.Restorer
	fr.UC.Stack = linux.SignalStack{Addr: t.AltStackSP, Size: t.AltStackSize, Flags: uint32(t.AltStackFlags)}
	if t.AltStackSize == 0 {
		fr.UC.Stack.Flags = linux.SS_DISABLE
	}
	mc := &fr.UC.MContext
	mc.R8, mc.R9, mc.R10, mc.R11 = f.R8, f.R9, f.R10, f.R11
	mc.R12, mc.R13, mc.R14, mc.R15 = f.R12, f.R13, f.R14, f.R15
	mc.RDI, mc.RSI, mc.RBP, mc.RBX = f.RDI, f.RSI, f.RBP, f.RBX
	mc.RDX, mc.RAX, mc.RCX, mc.RSP = f.RDX, f.RAX, f.RCX, f.RSP
	mc.RIP, mc.EFLAGS = f.RIP, f.RFLAGS
	mc.CS, mc.SS = uint16(f.CS), uint16(f.SS)
	mc.Err, mc.Trapno, mc.CR2 = f.ErrorCode, f.Vector, addr
	mc.Oldmask = t.SigMask
	mc.Fpstate = fpstate
	fr.UC.Sigmask = linux.SignalSet(t.SigMask)
	fr.Info.Signo = int32(sig)
	fr.Info.Code = code
	if code > 0 {
		fr.Info.SetAddr(addr)
	}

	t.SigMask |= uint64(act.Mask)
	if act.Flags&linux.SA_NODEFER == 0 {
		t.SigMask |= sigbit(sig)
	}
	t.SigMask &^= unblockable

	f.RSP = sp
	f.RIP = act.Handler
	f.RDI = uint64(sig)
	f.RSI = sp + uint64(unsafe.Offsetof(rtSigframe{}.Info))
	f.RDX = sp + uint64(unsafe.Offsetof(rtSigframe{}.UC))
	f.RAX = 0
	f.RFLAGS &^= amd64.FlagTF | amd64.FlagDF
	fx.InitFX()
	return true
}

// restoreSignalFrame undoes setupSignalFrame when the handler returns
// through sa_restorer into rt_sigreturn; RSP then points just past the
// return address, at the ucontext.
func restoreSignalFrame(f *amd64.Frame, fx *amd64.FXState) bool {
	sp := f.RSP - 8
	if !kernelPtr(sp, uint64(sigframeSize)) {
		return false
	}
	fr := (*rtSigframe)(pointer(uintptr(sp)))
	mc := &fr.UC.MContext
	f.R8, f.R9, f.R10, f.R11 = mc.R8, mc.R9, mc.R10, mc.R11
	f.R12, f.R13, f.R14, f.R15 = mc.R12, mc.R13, mc.R14, mc.R15
	f.RDI, f.RSI, f.RBP, f.RBX = mc.RDI, mc.RSI, mc.RBP, mc.RBX
	f.RDX, f.RAX, f.RCX, f.RSP = mc.RDX, mc.RAX, mc.RCX, mc.RSP
	f.RIP = mc.RIP
	f.RFLAGS = f.RFLAGS&^restorableFlags | mc.EFLAGS&restorableFlags | amd64.FlagIF
	if mc.Fpstate != 0 {
		if !kernelPtr(mc.Fpstate, amd64.FXStateSize) || mc.Fpstate&15 != 0 {
			return false
		}
		*fx = *fxAt(uintptr(mc.Fpstate))
		// FXRSTOR faults on reserved MXCSR bits; keep only defined ones.
		fx[3] = fx[3]&^0xFFFFFFFF | fx[3]&0xFFFF
	}
	t := sched.Current()
	t.SigMask = uint64(fr.UC.Sigmask) &^ unblockable
	return true
}
