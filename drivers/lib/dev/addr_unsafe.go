package dev

import (
	"syscall"
	"unsafe"
)

const (
	protRW   = syscall.PROT_READ | syscall.PROT_WRITE
	protRead = syscall.PROT_READ
)

// sliceAddr is the address of a mapping's first byte.
func sliceAddr(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }
