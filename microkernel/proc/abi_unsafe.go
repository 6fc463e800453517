package proc

import (
	"unsafe"

	"gvisor.dev/gvisor/pkg/abi/linux"
)

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
