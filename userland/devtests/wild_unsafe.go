package main

import "unsafe"

// wildRead reads the word at addr, an address nothing maps in this
// process, as a driver with a wild pointer would.
func wildRead(addr uintptr) {
	p := (*uint32)(unsafe.Add(unsafe.Pointer(nil), addr))
	println("devtests: faulty: read at", addr, ":", *p)
}
