package amd64

import (
	"sync/atomic"
	"unsafe"
)

// MMIO registers are read and written with atomic 32-bit operations: on amd64
// these are plain MOVs, but unlike ordinary loads and stores the compiler will
// never merge, reorder across them or elide them, which device registers need.

// MMIORead32 reads the 32-bit device register at virtual address va.
func MMIORead32(va uintptr) uint32 {
	return atomic.LoadUint32((*uint32)(pointer(va)))
}

// MMIOWrite32 writes the 32-bit device register at virtual address va.
func MMIOWrite32(va uintptr, v uint32) {
	atomic.StoreUint32((*uint32)(pointer(va)), v)
}

// MMIORead64 reads the 64-bit device register at virtual address va in one
// access.
func MMIORead64(va uintptr) uint64 {
	return atomic.LoadUint64((*uint64)(pointer(va)))
}

// MMIOWrite64 writes the 64-bit device register at virtual address va in
// one access.
func MMIOWrite64(va uintptr, v uint64) {
	atomic.StoreUint64((*uint64)(pointer(va)), v)
}

// Addr returns the address of the 10-byte LGDT/LIDT operand held by p.
func (p *PseudoDescriptor) Addr() uintptr { return uintptr(unsafe.Pointer(p)) + 6 }

// pointer turns an address outside the Go heap (a device register, the
// direct map) into a pointer. It reinterprets the bits instead of converting,
// because the address never was a Go pointer; the garbage collector ignores
// pointers that do not point into its heap.
func pointer(va uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&va)) }
