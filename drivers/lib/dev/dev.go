package dev

import (
	"context"
	"errors"
)

// Regs is a window of device registers: a BAR (or part of one) mapped
// uncached, addressed by byte offset from its start. An offset outside the
// window, or not aligned to the access width, panics: that is a driver bug,
// never device behaviour.
type Regs interface {
	Read8(off uint64) uint8
	Read16(off uint64) uint16
	Read32(off uint64) uint32
	Read64(off uint64) uint64
	Write8(off uint64, v uint8)
	Write16(off uint64, v uint16)
	Write32(off uint64, v uint32)
	Write64(off uint64, v uint64)
	// Len is the window's size in bytes.
	Len() uint64
}

// Buffer is DMA memory: Bytes as the driver sees it, Addr as the device
// does (a bus address: physical, or an IOMMU-translated address).
type Buffer struct {
	Bytes []byte
	Addr  uint64
}

// DMA allocates memory the device may read and write.
type DMA interface {
	// Alloc returns a zeroed, physically contiguous buffer of at least
	// size bytes, aligned to align (a power of two, at most 4096).
	Alloc(size, align uint64) (*Buffer, error)
	// Free gives the buffer back; the device must no longer use it.
	Free(b *Buffer)
}

// IRQ is one interrupt source of a device (a legacy line or an MSI/MSI-X
// vector).
type IRQ interface {
	// Wait blocks until the interrupt has fired at least once since the
	// last Ack, or ctx is done.
	Wait(ctx context.Context) error
	// Ack unmasks the interrupt after the driver has served the device.
	Ack() error
}

// ErrTimeout is what a driver returns when the device did not do what it
// must within the time its specification allows; wrap it with the device
// and register named.
var ErrTimeout = errors.New("device timed out")
