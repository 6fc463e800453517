package rt

import (
	"runtime"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/mm"
)

// sysUname implements uname(2).
func sysUname(c call) {
	a := c.arg(0)
	if !kernelPtr(a, uint64(linux.UTSLen+1)*6) {
		c.fail(errno.EFAULT)
		return
	}
	u := utsnameAt(a)
	*u = linux.UtsName{}
	copyString(u.Sysname[:], "Valence")
	copyString(u.Nodename[:], "valence")
	copyString(u.Release[:], Version)
	copyString(u.Version[:], runtime.Version())
	copyString(u.Machine[:], "x86_64")
	copyString(u.Domainname[:], "(none)")
	c.ret(0)
}

func copyString(dst []byte, s string) {
	for i := 0; i < len(s) && i < len(dst)-1; i++ {
		dst[i] = s[i]
	}
}

// sysGetrandom implements getrandom(2) from the kernel's ChaCha8 generator.
func sysGetrandom(c call) {
	buf, n := c.arg(0), c.arg(1)
	if n > 1<<25 {
		n = 1 << 25
	}
	if n > 0 && !kernelPtr(buf, n) {
		c.fail(errno.EFAULT)
		return
	}
	if n > 0 {
		randomFill(bytesAt(uintptr(buf), int(n)))
	}
	c.ret(n)
}

// sysDebugTrapFault dereferences nil inside the trap handler, to exercise
// the kernel panic path where the Go runtime cannot help.
func sysDebugTrapFault(c call) {
	var p *uint64
	c.ret(*nilAt(p))
}

//go:noinline
func nilAt(p *uint64) *uint64 { return p }

// sysDebugDoubleFault points the page-fault interrupt stack at an unmapped
// address and then faults: the CPU cannot push the page-fault frame, takes
// a second page fault while delivering the first, and raises a double fault
// (SDM vol. 3A §6.15, interrupt 8), which arrives on its own stack.
func sysDebugDoubleFault(c call) {
	tss.SetIST(stackPageFault, mm.HeapBase+mm.HeapSize-mm.PageSize)
	var p *uint64
	c.ret(*nilAt(p))
}
