package epoll

import (
	"unsafe"

	"gvisor.dev/gvisor/pkg/abi/linux"
)

// struct epoll_event is packed on x86-64 (a 32-bit mask, then 64-bit data
// at offset 4); gvisor's EpollEvent keeps the data as [2]int32.

func makeEvent(events uint32, data uint64) linux.EpollEvent {
	ev := linux.EpollEvent{Events: events}
	*(*uint64)(unsafe.Pointer(&ev.Data)) = data
	return ev
}

// Data returns the user data of ev.
func Data(ev *linux.EpollEvent) uint64 { return *(*uint64)(unsafe.Pointer(&ev.Data)) }

// EventsBytes views events as the 12-byte records user space reads.
func EventsBytes(evs []linux.EpollEvent) []byte {
	if len(evs) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&evs[0])), len(evs)*12)
}
