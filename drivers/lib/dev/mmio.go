package dev

import (
	"fmt"

	"valence.dev/ipc"
	"valence.dev/libos"
)

// Single uncached accesses (mmio_amd64.s). addr must be the address of a
// mapped register of that width; the x86 MOV of that width is one bus
// transaction to an uncached page (Intel SDM vol. 3A §11.3, UC memory).
//
//go:noescape
func mmioRead8(addr uintptr) uint8

//go:noescape
func mmioRead16(addr uintptr) uint16

//go:noescape
func mmioRead32(addr uintptr) uint32

//go:noescape
func mmioRead64(addr uintptr) uint64

//go:noescape
func mmioWrite8(addr uintptr, v uint8)

//go:noescape
func mmioWrite16(addr uintptr, v uint16)

//go:noescape
func mmioWrite32(addr uintptr, v uint32)

//go:noescape
func mmioWrite64(addr uintptr, v uint64)

// MMIO is a device register window mapped from a device memory capability
// (libos.DevMMIO). It implements Regs.
type MMIO struct {
	mem  []byte // keeps the mapping reachable; never read as Go memory
	base uintptr
	size uint64
}

// MapMMIO maps the device memory capability h for reading and writing.
func MapMMIO(h ipc.Handle) (*MMIO, error) { return mapMMIO(h, protRW) }

// MapMMIOReadOnly maps h for reading only (a driver's view of its
// configuration space): a write through it is a fault.
func MapMMIOReadOnly(h ipc.Handle) (*MMIO, error) { return mapMMIO(h, protRead) }

func mapMMIO(h ipc.Handle, prot int) (*MMIO, error) {
	b, err := libos.Map(h, prot)
	if err != nil {
		return nil, fmt.Errorf("dev: mapping registers: %w", err)
	}
	return &MMIO{mem: b, base: sliceAddr(b), size: uint64(len(b))}, nil
}

// Sub returns the window [off, off+n) of r as a Regs of its own.
func (r *MMIO) Sub(off, n uint64) (*MMIO, error) {
	if off > r.size || n > r.size-off {
		return nil, fmt.Errorf("dev: window %#x+%#x is outside a %#x-byte window", off, n, r.size)
	}
	return &MMIO{mem: r.mem, base: r.base + uintptr(off), size: n}, nil
}

func (r *MMIO) at(off uint64, width uint64) uintptr {
	if off%width != 0 || off > r.size || width > r.size-off {
		panic(fmt.Sprintf("dev: %d-byte register access at %#x in a %#x-byte window", width, off, r.size))
	}
	return r.base + uintptr(off)
}

func (r *MMIO) Len() uint64 { return r.size }

// Mapping returns the whole mapping r was made from, for code that must
// reach it by address (a DMA engine's view, a deliberately wild pointer in
// a test); accesses through it are not of a guaranteed width.
func (r *MMIO) Mapping() []byte { return r.mem }

func (r *MMIO) Read8(off uint64) uint8       { return mmioRead8(r.at(off, 1)) }
func (r *MMIO) Read16(off uint64) uint16     { return mmioRead16(r.at(off, 2)) }
func (r *MMIO) Read32(off uint64) uint32     { return mmioRead32(r.at(off, 4)) }
func (r *MMIO) Read64(off uint64) uint64     { return mmioRead64(r.at(off, 8)) }
func (r *MMIO) Write8(off uint64, v uint8)   { mmioWrite8(r.at(off, 1), v) }
func (r *MMIO) Write16(off uint64, v uint16) { mmioWrite16(r.at(off, 2), v) }
func (r *MMIO) Write32(off uint64, v uint32) { mmioWrite32(r.at(off, 4), v) }
func (r *MMIO) Write64(off uint64, v uint64) { mmioWrite64(r.at(off, 8), v) }

var _ Regs = (*MMIO)(nil)
