package rt

import (
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/sched"
)

// kernelPID is the process ID the kernel's runtime sees for itself.
const kernelPID = 0

// sysClone implements clone(2) for threads only: the runtime creates Ms with
// CLONE_VM|CLONE_FS|CLONE_FILES|CLONE_SIGHAND|CLONE_SYSVSEM|CLONE_THREAD,
// plus CLONE_SETTLS. The child starts from the parent's registers with RAX
// 0, on the new stack, with the new FS base.
func sysClone(c call) {
	flags := c.arg(0)
	const need = linux.CLONE_VM | linux.CLONE_THREAD | linux.CLONE_SIGHAND
	if flags&need != need {
		c.fail(errno.EINVAL) // the kernel is one process: no fork
		return
	}
	child := *c.f
	child.RAX = 0
	if sp := c.arg(1); sp != 0 {
		child.RSP = sp
	}
	fs := sched.Current().FSBase
	if flags&linux.CLONE_SETTLS != 0 {
		fs = c.arg(4)
	}
	tid, ok := sched.Spawn(&child, c.fx, fs)
	if !ok {
		c.fail(errno.EAGAIN)
		return
	}
	i, _ := sched.Lookup(tid)
	nt := sched.Get(i)
	nt.SigMask = sched.Current().SigMask
	if flags&linux.CLONE_PARENT_SETTID != 0 && kernelPtr(c.arg(2), 4) {
		*u32At(uintptr(c.arg(2))) = uint32(tid)
	}
	if flags&linux.CLONE_CHILD_CLEARTID != 0 {
		nt.ClearChildTID = c.arg(3)
	}
	c.ret(uint64(tid))
}

// sysExit implements exit(2): the calling thread ends.
func sysExit(c call) {
	t := sched.Current()
	if a := t.ClearChildTID; a != 0 && kernelPtr(a, 4) {
		*u32At(uintptr(a)) = 0
		futexWakeKernel(a, 1)
	}
	sched.Exit(c.f, c.fx, c.now)
}

// sysExitGroup implements exit_group(2). For the kernel's runtime this is
// the end of the kernel: status 0 (main returned) powers off, anything else
// is a kernel panic.
func sysExitGroup(c call) {
	runtimeExited(c.f, int(int32(c.arg(0))))
}

// sysGettid implements gettid(2).
func sysGettid(c call) { c.ret(uint64(sched.Current().TID)) }

// sysGetpid implements getpid(2).
func sysGetpid(c call) { c.ret(kernelPID) }

// sysGetppid implements getppid(2): the kernel has no parent.
func sysGetppid(c call) { c.ret(0) }

// sysSetTidAddress implements set_tid_address(2).
func sysSetTidAddress(c call) {
	sched.Current().ClearChildTID = c.arg(0)
	c.ret(uint64(sched.Current().TID))
}

// sysArchPrctl implements arch_prctl(2): ARCH_SET_FS and ARCH_GET_FS, which
// is how the runtime installs its thread-local storage.
func sysArchPrctl(c call) {
	t := sched.Current()
	switch c.arg(0) {
	case linux.ARCH_SET_FS:
		if !kernelPtr(c.arg(1)-8, 16) { // the TLS slot at -8(FS) must be writable
			c.fail(errno.EPERM)
			return
		}
		t.FSBase = c.arg(1)
		c.ret(0)
	case linux.ARCH_GET_FS:
		if !kernelPtr(c.arg(1), 8) {
			c.fail(errno.EFAULT)
			return
		}
		*u64At(uintptr(c.arg(1))) = t.FSBase
		c.ret(0)
	default:
		c.fail(errno.EINVAL)
	}
}

// sysSchedYield implements sched_yield(2).
func sysSchedYield(c call) {
	c.ret(0)
	sched.Yield(c.f, c.fx, c.now)
}

// sysSchedGetaffinity implements sched_getaffinity(2): one CPU, so the
// runtime picks GOMAXPROCS=1.
func sysSchedGetaffinity(c call) {
	size, mask := c.arg(1), c.arg(2)
	if size < 8 || size&7 != 0 {
		c.fail(errno.EINVAL)
		return
	}
	if !kernelPtr(mask, size) {
		c.fail(errno.EFAULT)
		return
	}
	*u64At(uintptr(mask)) = 1
	c.ret(8)
}
