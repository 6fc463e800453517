package console

import (
	"sync"
	"syscall"
	"unsafe"

	"gvisor.dev/gvisor/pkg/abi/linux"
)

var readMu sync.Mutex

// Read blocks until console input is available and copies up to len(p)
// bytes of it into p. Goroutine context only.
func Read(p []byte) int {
	if len(p) == 0 {
		return 0
	}
	readMu.Lock()
	defer readMu.Unlock()
	for {
		seq := RxSeq.Load()
		if n := take(p); n > 0 {
			return n
		}
		// Sleep until Interrupt bumps RxSeq. FUTEX_WAIT returns at once if the
		// value already changed, so no wakeup between the load and the wait
		// is lost.
		syscall.Syscall6(syscall.SYS_FUTEX, uintptr(unsafe.Pointer(&RxSeq)),
			linux.FUTEX_WAIT|linux.FUTEX_PRIVATE_FLAG, uintptr(seq), 0, 0, 0)
	}
}
