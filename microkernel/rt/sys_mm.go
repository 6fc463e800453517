package rt

import (
	"valence.dev/microkernel/mm"
)

// sysMmap implements mmap(2) for anonymous memory in the kernel heap window.
func sysMmap(c call) {
	va, e := mm.KernelMmap(c.arg(0), c.arg(1), c.arg(2), c.arg(3))
	if e != 0 {
		c.fail(e)
		return
	}
	c.ret(va)
}

// sysMunmap implements munmap(2).
func sysMunmap(c call) {
	if e := mm.KernelMunmap(c.arg(0), c.arg(1)); e != 0 {
		c.fail(e)
		return
	}
	c.ret(0)
}

// sysMprotect implements mprotect(2).
func sysMprotect(c call) {
	if e := mm.KernelMprotect(c.arg(0), c.arg(1), c.arg(2)); e != 0 {
		c.fail(e)
		return
	}
	c.ret(0)
}

// sysMadvise implements madvise(2).
func sysMadvise(c call) {
	if e := mm.KernelMadvise(c.arg(0), c.arg(1), c.arg(2)); e != 0 {
		c.fail(e)
		return
	}
	c.ret(0)
}

// Page-fault outcomes, re-exported for trap.go.
const (
	faultHandled  = mm.FaultHandled
	faultNoMemory = mm.FaultNoMemory
)

func kernelFault(addr, code uint64) mm.FaultResult { return mm.KernelFault(addr, code) }
