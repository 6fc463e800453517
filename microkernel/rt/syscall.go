package rt

import (
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/arch/amd64"
	"valence.dev/microkernel/klog"
	"valence.dev/microkernel/mm"
)

// call is one system call being served: the caller's frame (arguments in
// RDI, RSI, RDX, R10, R8, R9 per the x86-64 Linux ABI; the result goes in
// RAX), its FPU state and the time it arrived.
type call struct {
	f   *amd64.Frame
	fx  *amd64.FXState
	now int64
	nr  uint64
}

func (c call) arg(i int) uint64 {
	switch i {
	case 0:
		return c.f.RDI
	case 1:
		return c.f.RSI
	case 2:
		return c.f.RDX
	case 3:
		return c.f.R10
	case 4:
		return c.f.R8
	}
	return c.f.R9
}

// ret sets the result.
func (c call) ret(v uint64) { c.f.RAX = v }

// fail sets an error result (-errno).
func (c call) fail(e errno.Errno) { c.f.RAX = errnoRet(e) }

func errnoRet(e errno.Errno) uint64 { return uint64(-int64(e)) }

// Errnos used by the scheduler-facing code.
const (
	eINTR     = errno.EINTR
	eAGAIN    = errno.EAGAIN
	eTIMEDOUT = errno.ETIMEDOUT
)

// support says how completely a system call is implemented.
type support uint8

const (
	// full: implemented as Linux specifies for everything the kernel runtime uses.
	full support = iota
	// partial: the subset the runtime uses; other flags or commands get an error.
	partial
	// refused: deliberately answered with an error the runtime copes with.
	refused
)

// sysEntry is one row of the system call table.
type sysEntry struct {
	name    string
	handler func(c call)
	support support
}

// syscall dispatches a system call made by the kernel's own runtime.
func syscall(f *amd64.Frame, fx *amd64.FXState, now int64) {
	c := call{f: f, fx: fx, now: now, nr: f.RAX}
	if c.nr < uint64(len(linuxTable)) {
		if e := &linuxTable[c.nr]; e.handler != nil {
			e.handler(c)
			return
		}
	}
	if c.nr >= nativeBase && c.nr-nativeBase < uint64(len(nativeTable)) {
		if e := &nativeTable[c.nr-nativeBase]; e.handler != nil {
			e.handler(c)
			return
		}
	}
	unsupported(c.nr)
	c.fail(errno.ENOSYS)
}

// reported remembers which unsupported calls were already logged.
var reported [len(linuxSyscallNames)]bool

func unsupported(nr uint64) {
	var l klog.Line
	if nr < uint64(len(reported)) {
		if reported[nr] {
			return
		}
		reported[nr] = true
		name := linuxSyscallNames[nr]
		if name == "" {
			name = "unknown"
		}
		l.S("rt: unsupported system call ").S(name).S(" (").U(nr).S(") from the kernel runtime: ENOSYS").Emit()
		return
	}
	l.S("rt: unsupported system call ").U(nr).S(" from the kernel runtime: ENOSYS").Emit()
}

// kernelPtr checks that a pointer argument names n bytes of writable kernel
// memory (the kernel's runtime has no business passing anything else) and
// makes sure they are present, so that touching them cannot fault.
func kernelPtr(addr, n uint64) bool {
	return addr >= 0xffff_8000_0000_0000 && mm.KernelPrefault(addr, n, true)
}

// kernelIn is kernelPtr for memory the call only reads: it may be
// read-only, like the kernel's constant strings, which write(2) prints.
func kernelIn(addr, n uint64) bool {
	return addr >= 0xffff_8000_0000_0000 && mm.KernelPrefault(addr, n, false)
}
