package proc

import (
	"encoding/binary"
	"math"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"
)

func validSignal(sig int64) bool { return sig >= 1 && sig <= numSigs }

// sysRtSigaction implements rt_sigaction(2).
func sysRtSigaction(c *call) result {
	sig := c.iarg(0)
	if c.arg(3) != 8 || !validSignal(sig) {
		return fail(errno.EINVAL)
	}
	s := linux.Signal(sig)
	var newAct linux.SigAction
	if c.arg(1) != 0 {
		if s == linux.SIGKILL || s == linux.SIGSTOP {
			return fail(errno.EINVAL)
		}
		var b [32]byte
		if err := c.as().CopyIn(c.arg(1), b[:]); err != nil {
			return fail(errno.EFAULT)
		}
		newAct = linux.SigAction{
			Handler:  binary.LittleEndian.Uint64(b[0:]),
			Flags:    binary.LittleEndian.Uint64(b[8:]),
			Restorer: binary.LittleEndian.Uint64(b[16:]),
			Mask:     linux.SignalSet(binary.LittleEndian.Uint64(b[24:]) &^ unblockable),
		}
	}
	c.p.mu.Lock()
	old := c.p.sigactions[s]
	if c.arg(1) != 0 {
		c.p.sigactions[s] = newAct
	}
	c.p.mu.Unlock()
	if c.arg(2) != 0 {
		var b [32]byte
		binary.LittleEndian.PutUint64(b[0:], old.Handler)
		binary.LittleEndian.PutUint64(b[8:], old.Flags)
		binary.LittleEndian.PutUint64(b[16:], old.Restorer)
		binary.LittleEndian.PutUint64(b[24:], uint64(old.Mask))
		return copyOutStruct(c, c.arg(2), b[:])
	}
	return ok0()
}

// sysRtSigprocmask implements rt_sigprocmask(2).
func sysRtSigprocmask(c *call) result {
	if c.arg(3) != 8 {
		return fail(errno.EINVAL)
	}
	var set uint64
	if c.arg(1) != 0 {
		var b [8]byte
		if err := c.as().CopyIn(c.arg(1), b[:]); err != nil {
			return fail(errno.EFAULT)
		}
		set = binary.LittleEndian.Uint64(b[:])
	}
	c.p.mu.Lock()
	old := c.t.mask
	if c.arg(1) != 0 {
		switch c.arg(0) {
		case linux.SIG_BLOCK:
			c.t.mask |= set
		case linux.SIG_UNBLOCK:
			c.t.mask &^= set
		case linux.SIG_SETMASK:
			c.t.mask = set
		default:
			c.p.mu.Unlock()
			return fail(errno.EINVAL)
		}
		c.t.mask &^= unblockable
	}
	c.p.mu.Unlock()
	if c.arg(2) != 0 {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], old)
		return copyOutStruct(c, c.arg(2), b[:])
	}
	return ok0()
}

// sysRtSigreturn implements rt_sigreturn(2).
func sysRtSigreturn(c *call) result {
	if err := c.t.sigreturn(); err != nil {
		c.p.noteFault("rt_sigreturn with a bad frame: " + err.Error())
		c.p.exit(ExitStatus{Signal: linux.SIGSEGV})
	}
	return noReturn()
}

// sysSigaltstack implements sigaltstack(2).
func sysSigaltstack(c *call) result {
	t := c.t
	rsp := t.regs().RSP
	c.p.mu.Lock()
	old := t.altStack
	c.p.mu.Unlock()
	onStack := old.Flags&linux.SS_DISABLE == 0 && old.Size != 0 && rsp > old.Addr && rsp <= old.Addr+old.Size
	if c.arg(0) != 0 {
		var b [24]byte
		if err := c.as().CopyIn(c.arg(0), b[:]); err != nil {
			return fail(errno.EFAULT)
		}
		n := linux.SignalStack{
			Addr:  binary.LittleEndian.Uint64(b[0:]),
			Flags: binary.LittleEndian.Uint32(b[8:]),
			Size:  binary.LittleEndian.Uint64(b[16:]),
		}
		if onStack {
			return fail(errno.EPERM)
		}
		switch {
		case n.Flags&linux.SS_DISABLE != 0:
			n = linux.SignalStack{Flags: linux.SS_DISABLE}
		case n.Flags != 0:
			return fail(errno.EINVAL)
		case n.Size < minSigStkSz:
			return fail(errno.ENOMEM)
		}
		c.p.mu.Lock()
		t.altStack = n
		c.p.mu.Unlock()
	}
	if c.arg(1) != 0 {
		if onStack {
			old.Flags |= linux.SS_ONSTACK
		}
		if old.Size == 0 {
			old.Flags = linux.SS_DISABLE
		}
		var b [24]byte
		binary.LittleEndian.PutUint64(b[0:], old.Addr)
		binary.LittleEndian.PutUint32(b[8:], old.Flags)
		binary.LittleEndian.PutUint64(b[16:], old.Size)
		return copyOutStruct(c, c.arg(1), b[:])
	}
	return ok0()
}

// minSigStkSz is MINSIGSTKSZ for x86-64.
const minSigStkSz = 2048

// The signal rule. A Linux call that names a process by PID (kill,
// tgkill, tkill) may reach only processes the caller has authority over:
// itself, its descendants, and — the root of every process tree, the
// supervisor — everything, for the first process. Anything else is EPERM,
// as for an unprivileged Linux user signalling another user's process.
// As on Linux, SIGCONT may also be sent to any process of the caller's
// session (kill(2)): a job-control shell continues jobs it did not start.
// This is the native kill's rule too; a holder of a process handle with
// RightSignal may signal that process whatever their relation.
func (p *Process) maySignal(target *Process) bool {
	return target == p || p.isFirst() || target.descendantOf(p)
}

// maySend is maySignal for signal sig.
func (p *Process) maySend(target *Process, sig linux.Signal) bool {
	if p.maySignal(target) {
		return true
	}
	if sig != linux.SIGCONT {
		return false
	}
	_, mine := p.jobIDs()
	_, theirs := target.jobIDs()
	return mine == theirs
}

// sysTgkill implements tgkill(2).
func sysTgkill(c *call) result {
	tgid, tid, sig := c.i32(0), c.i32(1), c.iarg(2)
	if tgid <= 0 || tid <= 0 || sig < 0 || sig > numSigs {
		return fail(errno.EINVAL)
	}
	p, found := Lookup(int(tgid))
	if !found || p == nil {
		return fail(errno.ESRCH)
	}
	p.mu.Lock()
	t := p.threads[int(tid)]
	p.mu.Unlock()
	if t == nil {
		return fail(errno.ESRCH)
	}
	if !c.p.maySend(p, linux.Signal(sig)) {
		return fail(errno.EPERM)
	}
	if sig != 0 {
		t.postSignal(linux.Signal(sig), sigDetail{code: linux.SI_TKILL, pid: int32(c.p.PID)})
	}
	return ok0()
}

// sysTkill implements tkill(2), for threads of the calling process.
func sysTkill(c *call) result {
	c.args = [6]uint64{uint64(c.p.PID), c.args[0], c.args[1]}
	return sysTgkill(c)
}

// sysKill implements kill(2): pid > 0 names one process; 0 the caller's
// process group, -pgid another group (each member the caller may signal
// gets it; EPERM if none may, ESRCH if the group is empty); -1 every
// process the caller may signal except itself and the first process (as
// Linux; ESRCH if none).
func sysKill(c *call) result {
	pid, sig := c.i32(0), c.iarg(1)
	if sig < 0 || sig > numSigs {
		return fail(errno.EINVAL)
	}
	s := linux.Signal(sig)
	d := sigDetail{code: linux.SI_USER, pid: int32(c.p.PID)}
	switch {
	case pid == -1:
		n := 0
		for _, p := range List() {
			if p == c.p || p.isFirst() || !c.p.maySend(p, s) {
				continue
			}
			n++
			if sig != 0 {
				p.signalIfAlive(s, d)
			}
		}
		if n == 0 {
			return fail(errno.ESRCH)
		}
		return ok0()
	case pid == math.MinInt32:
		return fail(errno.ESRCH) // -INT_MIN names nothing
	case pid <= 0:
		pgid := int(-pid)
		if pid == 0 {
			pgid, _ = c.p.jobIDs()
		}
		return fail(killGroup(c.p, pgid, s, d))
	}
	target, found := Lookup(int(pid))
	if !found || target == nil {
		return fail(errno.ESRCH)
	}
	if !c.p.maySend(target, s) {
		return fail(errno.EPERM)
	}
	if sig != 0 {
		target.signalIfAlive(s, d)
	}
	return ok0()
}

// killGroup sends sig from p to every member of group pgid p may signal,
// as Linux's __kill_pgrp_info: 0 if any was, EPERM if none might be,
// ESRCH if the group has no members.
func killGroup(p *Process, pgid int, sig linux.Signal, d sigDetail) errno.Errno {
	var e errno.Errno = errno.ESRCH
	sent := false
	for _, m := range groupMembers(pgid) {
		if !p.maySend(m, sig) {
			e = errno.EPERM
			continue
		}
		sent = true
		if sig != 0 {
			m.signalIfAlive(sig, d)
		}
	}
	if sent {
		return 0
	}
	return e
}

// signalIfAlive posts a process-directed signal unless p is a zombie,
// whose signals are discarded.
func (p *Process) signalIfAlive(sig linux.Signal, d sigDetail) {
	select {
	case <-p.dead:
		return
	default:
	}
	p.postProcessSignalFrom(sig, d)
}

// isFirst reports whether p is the first process.
func (p *Process) isFirst() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.first
}
