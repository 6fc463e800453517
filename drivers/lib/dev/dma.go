package dev

import (
	"fmt"
	"sync"
	"syscall"

	"valence.dev/ipc"
	"valence.dev/libos"
)

// KernelDMA allocates DMA memory from the kernel (libos.DMACreate): each
// buffer is one physically contiguous memory object, mapped into the
// driver, whose device address the kernel reports. It implements DMA.
type KernelDMA struct {
	dev ipc.Handle // a capability that may create DMA memory

	mu   sync.Mutex
	bufs map[*Buffer]ipc.Handle
}

// NewKernelDMA returns an allocator creating DMA memory through dev.
func NewKernelDMA(dev ipc.Handle) *KernelDMA {
	return &KernelDMA{dev: dev, bufs: map[*Buffer]ipc.Handle{}}
}

// Alloc implements DMA. Every buffer starts on a page, so any align up to
// 4096 holds.
func (d *KernelDMA) Alloc(size, align uint64) (*Buffer, error) {
	if size == 0 || align == 0 || align&(align-1) != 0 || align > 4096 {
		return nil, fmt.Errorf("dev: bad DMA request: %d bytes aligned to %d", size, align)
	}
	h, err := libos.DMACreate(d.dev, size)
	if err != nil {
		return nil, err
	}
	b, err := libos.Map(h, protRW)
	if err != nil {
		libos.Close(h)
		return nil, err
	}
	addr, err := libos.MemPhys(h, 0)
	if err != nil {
		syscall.Munmap(b)
		libos.Close(h)
		return nil, err
	}
	buf := &Buffer{Bytes: b, Addr: addr}
	d.mu.Lock()
	d.bufs[buf] = h
	d.mu.Unlock()
	return buf, nil
}

// Free implements DMA.
func (d *KernelDMA) Free(b *Buffer) {
	d.mu.Lock()
	h, ok := d.bufs[b]
	delete(d.bufs, b)
	d.mu.Unlock()
	if !ok {
		panic("dev: Free of a buffer this allocator did not make")
	}
	syscall.Munmap(b.Bytes)
	libos.Close(h)
}

var _ DMA = (*KernelDMA)(nil)

// Share returns a new capability on buffer b's memory, for a client to
// map (read, write, map, grant; not manage).
func (d *KernelDMA) Share(b *Buffer) (ipc.Handle, error) {
	d.mu.Lock()
	h, ok := d.bufs[b]
	d.mu.Unlock()
	if !ok {
		return 0, fmt.Errorf("dev: Share of a buffer this allocator did not make")
	}
	return libos.Dup(h, ipc.RightRead|ipc.RightWrite|ipc.RightMap|ipc.RightGrant|ipc.RightDuplicate, 0)
}
