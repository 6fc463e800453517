package rt

import (
	"unsafe"

	"gvisor.dev/gvisor/pkg/abi/linux"
)

// struct epoll_event is packed on x86-64: a 32-bit event mask and then the
// 64-bit user data at offset 4. gvisor's EpollEvent splits the data into
// Data [2]int32.

func epollEventAt(a uint64) *linux.EpollEvent { return (*linux.EpollEvent)(pointer(uintptr(a))) }

func epollData(ev *linux.EpollEvent) uint64 {
	return *(*uint64)(unsafe.Pointer(&ev.Data))
}

func setEpollData(ev *linux.EpollEvent, d uint64) {
	*(*uint64)(unsafe.Pointer(&ev.Data)) = d
}
