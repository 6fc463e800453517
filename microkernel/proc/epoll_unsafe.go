package proc

import (
	"unsafe"

	"gvisor.dev/gvisor/pkg/abi/linux"
)

// struct epoll_event is packed on x86-64 (a 32-bit mask, then 64-bit data
// at offset 4); gvisor's EpollEvent keeps the data as [2]int32.

func epollEvent(events uint32, data uint64) linux.EpollEvent {
	ev := linux.EpollEvent{Events: events}
	*(*uint64)(unsafe.Pointer(&ev.Data)) = data
	return ev
}

func epollData(ev *linux.EpollEvent) uint64 { return *(*uint64)(unsafe.Pointer(&ev.Data)) }

// epollEventsBytes views events as the 12-byte records user space reads.
func epollEventsBytes(evs []linux.EpollEvent) []byte {
	if len(evs) == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(&evs[0])), len(evs)*12)
}

// termiosBytes views termios as bytes.
func termiosBytes(t *linux.KernelTermios) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(t)), unsafe.Sizeof(*t))
}

// statBytes views a struct stat as bytes.
func statBytes(st *linux.Stat) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(st)), unsafe.Sizeof(*st))
}

func utsBytes(u *linux.UtsName) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(u)), unsafe.Sizeof(*u))
}

func siginfoBytes(s *linux.SignalInfo) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(s)), unsafe.Sizeof(*s))
}
