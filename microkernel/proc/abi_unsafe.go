package proc

import (
	"unsafe"

	"gvisor.dev/gvisor/pkg/abi/linux"
)

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
