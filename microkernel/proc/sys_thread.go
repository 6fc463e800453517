package proc

import (
	"encoding/binary"
	"runtime"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/rt"
)

// sysClone implements clone(2) for the two uses stock Go programs make of
// it: new threads (CLONE_VM|CLONE_THREAD|CLONE_SIGHAND, as the runtime
// creates its Ms) and vfork-style children (CLONE_VM|CLONE_VFORK, as
// os/exec starts a program). A fork that copies the address space is not
// supported (ENOSYS): no Go program needs it.
func sysClone(c *call) result {
	flags := c.arg(0)
	switch {
	case flags&linux.CLONE_THREAD != 0:
		return cloneThread(c, flags)
	case flags&linux.CLONE_VM != 0 && flags&linux.CLONE_VFORK != 0:
		return vfork(c, flags)
	}
	c.p.reportUnsupported(c.nr)
	return fail(errno.ENOSYS)
}

func cloneThread(c *call, flags uint64) result {
	const need = linux.CLONE_VM | linux.CLONE_SIGHAND
	if flags&need != need {
		return fail(errno.EINVAL)
	}
	if c.p.Exiting() {
		return fail(errno.EAGAIN)
	}
	if e := admitThread(c.p); e != 0 {
		return fail(e) // the thread limits (EAGAIN) or no kernel memory
	}
	parent := c.t.ctx
	ctx := rt.NewUserContext(0, 0)
	ctx.Regs = parent.Regs
	ctx.FX = parent.FX
	ctx.FSBase = parent.FSBase
	ctx.Regs.RAX = 0
	if sp := c.arg(1); sp != 0 {
		ctx.Regs.RSP = sp
	}
	if flags&linux.CLONE_SETTLS != 0 {
		ctx.FSBase = c.arg(4)
	}
	t := c.p.newThread(ctx, false)
	c.p.mu.Lock()
	t.mask = c.t.mask
	c.p.mu.Unlock()
	var tid [4]byte
	binary.LittleEndian.PutUint32(tid[:], uint32(t.TID))
	if flags&linux.CLONE_PARENT_SETTID != 0 {
		c.as().CopyOut(c.arg(2), tid[:])
	}
	if flags&linux.CLONE_CHILD_SETTID != 0 {
		c.as().CopyOut(c.arg(3), tid[:])
	}
	if flags&linux.CLONE_CHILD_CLEARTID != 0 {
		t.clearChildTID = c.arg(3)
	}
	t.start()
	return ok(uint64(t.TID))
}

// sysExit implements exit(2): the calling thread ends.
func sysExit(c *call) result {
	c.t.exitThread = true
	c.t.exitCode = int(int32(c.arg(0)))
	return noReturn()
}

// sysExitGroup implements exit_group(2): the whole process ends.
func sysExitGroup(c *call) result {
	c.p.exit(ExitStatus{Code: int(c.arg(0) & 0xff)})
	return noReturn()
}

// sysGettid implements gettid(2).
func sysGettid(c *call) result { return ok(uint64(c.t.TID)) }

// sysGetpid implements getpid(2).
func sysGetpid(c *call) result { return ok(uint64(c.p.PID)) }

// sysGetppid implements getppid(2).
func sysGetppid(c *call) result {
	c.p.mu.Lock()
	defer c.p.mu.Unlock()
	if c.p.parent == nil {
		return ok0()
	}
	return ok(uint64(c.p.parent.PID))
}

// sysZero serves calls whose answer is always 0 here (the IDs: every
// process runs as root until there are users).
func sysZero(c *call) result { return ok0() }

// sysSetTidAddress implements set_tid_address(2).
func sysSetTidAddress(c *call) result {
	c.t.clearChildTID = c.arg(0)
	return ok(uint64(c.t.TID))
}

// sysArchPrctl implements arch_prctl(2): the FS base is how Go (and libc)
// find their thread-local storage.
func sysArchPrctl(c *call) result {
	switch c.arg(0) {
	case linux.ARCH_SET_FS:
		if c.arg(1) >= 0x0000_8000_0000_0000 {
			return fail(errno.EPERM)
		}
		c.t.ctx.FSBase = c.arg(1)
		return ok0()
	case linux.ARCH_GET_FS:
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], c.t.ctx.FSBase)
		return copyOutStruct(c, c.arg(1), b[:])
	}
	return fail(errno.EINVAL)
}

// sysSchedYield implements sched_yield(2).
func sysSchedYield(c *call) result {
	runtime.Gosched()
	return ok0()
}

// sysSchedGetaffinity implements sched_getaffinity(2): one CPU.
func sysSchedGetaffinity(c *call) result {
	size := c.arg(1)
	if size < 8 || size&7 != 0 {
		return fail(errno.EINVAL)
	}
	var mask [8]byte
	mask[0] = 1
	if err := c.as().CopyOut(c.arg(2), mask[:]); err != nil {
		return fail(errno.EFAULT)
	}
	return ok(8)
}

// sysGetrandom implements getrandom(2).
func sysGetrandom(c *call) result {
	n := c.arg(1)
	if n > maxIO {
		n = maxIO
	}
	b := make([]byte, n)
	rt.RandomBytes(b)
	if err := c.as().CopyOut(c.arg(0), b); err != nil {
		return fail(errno.EFAULT)
	}
	return ok(n)
}

// sysUname implements uname(2).
func sysUname(c *call) result {
	var u linux.UtsName
	set := func(dst []byte, s string) { copy(dst[:len(dst)-1], s) }
	set(u.Sysname[:], "Valence")
	set(u.Nodename[:], "valence")
	set(u.Release[:], rt.Version)
	set(u.Version[:], runtime.Version())
	set(u.Machine[:], "x86_64")
	set(u.Domainname[:], "(none)")
	return copyOutStruct(c, c.arg(0), utsBytes(&u))
}
