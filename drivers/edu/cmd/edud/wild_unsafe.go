package main

import (
	"unsafe"

	"valence.dev/drivers/lib/dev"
)

// wild reads the word just past the BAR window through a raw pointer: the
// wild pointer of a buggy driver. dev.Regs would refuse the offset; the
// hardware (the kernel's page tables) refuses the address.
func wild(regs *dev.MMIO) {
	m := regs.Mapping()
	p := (*uint32)(unsafe.Add(unsafe.Pointer(unsafe.SliceData(m)), len(m)))
	println("edud: read", *p)
}
