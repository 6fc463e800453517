package main

import "unsafe"

// addrOf is the address of b's first byte, for raw system calls. The
// tests pass only memory from mmap (an arena) or slices kept alive across
// the call, which Go's collector neither moves nor frees.
func addrOf(b []byte) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(b))) }
