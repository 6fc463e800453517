package rt

import (
	gosyscall "syscall"
	"unsafe"

	"gvisor.dev/gvisor/pkg/abi/linux"
)

func irqSeqAddr() uintptr { return uintptr(unsafe.Pointer(&irqSeq)) }

// WaitIRQ blocks the calling goroutine's thread until a device interrupt
// has arrived since IRQSeq returned seq, through the runtime's own futex
// call, which the trap handler's wake-up ends.
func WaitIRQ(seq uint32) {
	for irqSeq.Load() == seq {
		gosyscall.Syscall6(gosyscall.SYS_FUTEX, irqSeqAddr(), linux.FUTEX_WAIT|linux.FUTEX_PRIVATE_FLAG, uintptr(seq), 0, 0, 0)
	}
}
