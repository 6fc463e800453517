package proc

import (
	"unsafe"

	"valence.dev/microkernel/arch/amd64"
)

const (
	sigframeSize       = uint64(unsafe.Sizeof(amd64.RtSigframe{}))
	sigframeInfoOffset = uint64(unsafe.Offsetof(amd64.RtSigframe{}.Info))
	sigframeUCOffset   = uint64(unsafe.Offsetof(amd64.RtSigframe{}.UC))
)

// sigframeBytes views a signal frame as the bytes the user stack holds.
func sigframeBytes(f *amd64.RtSigframe) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(f)), sigframeSize)
}

// fxBytes views an FXSAVE area as bytes.
func fxBytes(f *amd64.FXState) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(f)), amd64.FXStateSize)
}
