package rt

import (
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/sched"
)

// unblockable signals can never be masked.
var unblockable = sigbit(sigKILL) | sigbit(sigSTOP)

// sysRtSigaction implements rt_sigaction(2).
func sysRtSigaction(c call) {
	sig, act, oact, size := int(c.arg(0)), c.arg(1), c.arg(2), c.arg(3)
	if size != 8 || sig < 1 || sig > numSigs {
		c.fail(errno.EINVAL)
		return
	}
	const sz = 32 // sizeof(struct sigaction) for the kernel ABI
	if (act != 0 && !kernelIn(act, sz)) || (oact != 0 && !kernelPtr(oact, sz)) {
		c.fail(errno.EFAULT)
		return
	}
	old := sigactions[sig]
	if act != 0 {
		if sig == sigKILL || sig == sigSTOP {
			c.fail(errno.EINVAL)
			return
		}
		sigactions[sig] = *sigActionAt(act)
		sigactions[sig].Mask &^= linux.SignalSet(unblockable)
	}
	if oact != 0 {
		*sigActionAt(oact) = old
	}
	c.ret(0)
}

// sysRtSigprocmask implements rt_sigprocmask(2).
func sysRtSigprocmask(c call) {
	how, set, oset, size := c.arg(0), c.arg(1), c.arg(2), c.arg(3)
	if size != 8 {
		c.fail(errno.EINVAL)
		return
	}
	if (set != 0 && !kernelIn(set, 8)) || (oset != 0 && !kernelPtr(oset, 8)) {
		c.fail(errno.EFAULT)
		return
	}
	t := sched.Current()
	old := t.SigMask
	if set != 0 {
		s := *u64At(uintptr(set))
		switch how {
		case linux.SIG_BLOCK:
			t.SigMask |= s
		case linux.SIG_UNBLOCK:
			t.SigMask &^= s
		case linux.SIG_SETMASK:
			t.SigMask = s
		default:
			c.fail(errno.EINVAL)
			return
		}
		t.SigMask &^= unblockable
	}
	if oset != 0 {
		*u64At(uintptr(oset)) = old
	}
	c.ret(0)
}

// sysSigaltstack implements sigaltstack(2).
func sysSigaltstack(c call) {
	ss, oss := c.arg(0), c.arg(1)
	if (ss != 0 && !kernelIn(ss, 24)) || (oss != 0 && !kernelPtr(oss, 24)) {
		c.fail(errno.EFAULT)
		return
	}
	t := sched.Current()
	old := linux.SignalStack{Addr: t.AltStackSP, Size: t.AltStackSize, Flags: uint32(t.AltStackFlags)}
	if t.AltStackSize == 0 {
		old.Flags = linux.SS_DISABLE
	} else if onAltStack(t, c.f.RSP) {
		old.Flags |= linux.SS_ONSTACK
	}
	if ss != 0 {
		if onAltStack(t, c.f.RSP) {
			c.fail(errno.EPERM)
			return
		}
		n := *signalStackAt(ss)
		switch {
		case n.Flags&linux.SS_DISABLE != 0:
			t.AltStackSP, t.AltStackSize, t.AltStackFlags = 0, 0, linux.SS_DISABLE
		case n.Flags != 0:
			c.fail(errno.EINVAL)
			return
		case n.Size < minSigStkSz:
			c.fail(errno.ENOMEM)
			return
		default:
			t.AltStackSP, t.AltStackSize, t.AltStackFlags = n.Addr, n.Size, 0
		}
	}
	if oss != 0 {
		*signalStackAt(oss) = old
	}
	c.ret(0)
}

func onAltStack(t *sched.Thread, sp uint64) bool {
	return t.AltStackSize != 0 && sp > t.AltStackSP && sp <= t.AltStackSP+t.AltStackSize
}

// sysRtSigreturn implements rt_sigreturn(2): restore the context saved by
// setupSignalFrame, as the signal handler may have modified it.
func sysRtSigreturn(c call) {
	if !restoreSignalFrame(c.f, c.fx) {
		fatal(c.f, "rt_sigreturn with a bad signal frame", c.f.RSP)
	}
}

// sysTgkill implements tgkill(2).
func sysTgkill(c call) {
	if c.arg(0) != kernelPID {
		c.fail(errno.ESRCH)
		return
	}
	c.f.RDI = c.f.RSI
	c.f.RSI = c.f.RDX
	sysTkill(c)
}

// sysTkill implements tkill(2).
func sysTkill(c call) {
	tid, sig := int32(c.arg(0)), int(c.arg(1))
	if sig < 0 || sig > numSigs {
		c.fail(errno.EINVAL)
		return
	}
	i, ok := sched.Lookup(tid)
	if !ok {
		c.fail(errno.ESRCH)
		return
	}
	c.ret(0)
	if sig != 0 {
		postSignal(i, sig, siTkill, 0)
	}
}

// sysKill implements kill(2) for the kernel's own process: the signal goes
// to the calling thread (any thread may take a process-directed signal).
func sysKill(c call) {
	pid, sig := int64(c.arg(0)), int(c.arg(1))
	if pid != kernelPID && pid != -1 {
		c.fail(errno.ESRCH)
		return
	}
	if sig < 0 || sig > numSigs {
		c.fail(errno.EINVAL)
		return
	}
	c.ret(0)
	if sig != 0 {
		postSignal(sched.CurrentIndex(), sig, linux.SI_USER, 0)
	}
}

// minSigStkSz is MINSIGSTKSZ for x86-64 (arch/x86/include/uapi/asm/
// signal.h), which gvisor's abi/linux does not define.
const minSigStkSz = 2048
