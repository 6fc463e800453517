package main

import "unsafe"

// unsafePointer lets the raw system calls in the tests pass buffers.
func unsafePointer(b *byte) unsafe.Pointer { return unsafe.Pointer(b) }
