// Package devtest provides fake devices' side of package dev for hosted
// driver tests: DMA memory a fake device can read and write by bus address
// (refusing addresses outside what the driver allocated, as an IOMMU
// would), a register window whose reads and writes a fake device serves,
// and an interrupt the fake raises.
package devtest

import (
	"context"
	"encoding/binary"
	"fmt"
	"sort"
	"sync"

	"valence.dev/drivers/lib/dev"
)

// DMA is a fake DMA allocator: host memory with made-up bus addresses.
type DMA struct {
	mu    sync.Mutex
	next  uint64
	bufs  map[uint64]*dev.Buffer // by Addr
	Limit uint64                 // bytes that may be outstanding; 0: no limit
	inUse uint64
}

// NewDMA returns an empty allocator whose bus addresses start at 4 GiB,
// so that a driver truncating one to 32 bits is caught.
func NewDMA() *DMA { return &DMA{next: 1 << 32, bufs: map[uint64]*dev.Buffer{}} }

// Alloc implements dev.DMA.
func (d *DMA) Alloc(size, align uint64) (*dev.Buffer, error) {
	if size == 0 || align == 0 || align&(align-1) != 0 || align > 4096 {
		return nil, fmt.Errorf("devtest: bad DMA request: size %d align %d", size, align)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	size = (size + 4095) &^ 4095
	if d.Limit != 0 && d.inUse+size > d.Limit {
		return nil, fmt.Errorf("devtest: out of DMA memory")
	}
	b := &dev.Buffer{Bytes: make([]byte, size), Addr: d.next}
	d.next += size + 4096 // a gap, so that running off the end is caught
	d.bufs[b.Addr] = b
	d.inUse += size
	return b, nil
}

// Free implements dev.DMA.
func (d *DMA) Free(b *dev.Buffer) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.bufs[b.Addr] != b {
		panic(fmt.Sprintf("devtest: Free of a buffer not allocated here (%#x)", b.Addr))
	}
	delete(d.bufs, b.Addr)
	d.inUse -= uint64(len(b.Bytes))
}

// Outstanding returns the number of buffers not freed.
func (d *DMA) Outstanding() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.bufs)
}

// Slice returns the n bytes at bus address addr, as the device would reach
// them, or an error if they are not inside one live buffer (a DMA fault).
func (d *DMA) Slice(addr, n uint64) ([]byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	addrs := make([]uint64, 0, len(d.bufs))
	for a := range d.bufs {
		addrs = append(addrs, a)
	}
	sort.Slice(addrs, func(i, j int) bool { return addrs[i] < addrs[j] })
	i := sort.Search(len(addrs), func(i int) bool { return addrs[i] > addr }) - 1
	if i >= 0 {
		b := d.bufs[addrs[i]]
		off := addr - b.Addr
		if off+n >= off && off+n <= uint64(len(b.Bytes)) {
			return b.Bytes[off : off+n], nil
		}
	}
	return nil, fmt.Errorf("devtest: DMA fault: %d bytes at %#x are not the driver's DMA memory", n, addr)
}

// Regs is a fake register window. Reads return what Read returns (or the
// last value written, if Read is nil); writes go to Write (and are stored).
// Accesses are checked for bounds and alignment, as dev.Regs promises.
type Regs struct {
	mu    sync.Mutex
	mem   []byte
	Read  func(off uint64, width int) (uint64, bool) // false: use the stored value
	Write func(off uint64, width int, v uint64)
}

// NewRegs returns a window of size bytes, all zero.
func NewRegs(size uint64) *Regs { return &Regs{mem: make([]byte, size)} }

// Len implements dev.Regs.
func (r *Regs) Len() uint64 { return uint64(len(r.mem)) }

// Store sets the stored value of a register without calling Write (the
// device's side).
func (r *Regs) Store(off uint64, width int, v uint64) {
	r.check(off, width)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.put(off, width, v)
}

// Load returns the stored value of a register (the device's side).
func (r *Regs) Load(off uint64, width int) uint64 {
	r.check(off, width)
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.get(off, width)
}

func (r *Regs) check(off uint64, width int) {
	if off%uint64(width) != 0 || off+uint64(width) > uint64(len(r.mem)) || off+uint64(width) < off {
		panic(fmt.Sprintf("devtest: %d-byte register access at %#x in a %#x-byte window", width, off, len(r.mem)))
	}
}

func (r *Regs) get(off uint64, width int) uint64 {
	r.check(off, width)
	b := r.mem[off:]
	switch width {
	case 1:
		return uint64(b[0])
	case 2:
		return uint64(binary.LittleEndian.Uint16(b))
	case 4:
		return uint64(binary.LittleEndian.Uint32(b))
	}
	return binary.LittleEndian.Uint64(b)
}

func (r *Regs) put(off uint64, width int, v uint64) {
	r.check(off, width)
	b := r.mem[off:]
	switch width {
	case 1:
		b[0] = byte(v)
	case 2:
		binary.LittleEndian.PutUint16(b, uint16(v))
	case 4:
		binary.LittleEndian.PutUint32(b, uint32(v))
	default:
		binary.LittleEndian.PutUint64(b, v)
	}
}

func (r *Regs) read(off uint64, width int) uint64 {
	r.check(off, width) // before locking: it panics
	r.mu.Lock()
	rd := r.Read
	r.mu.Unlock()
	if rd != nil {
		if v, ok := rd(off, width); ok {
			return v
		}
	}
	return r.Load(off, width)
}

func (r *Regs) write(off uint64, width int, v uint64) {
	r.check(off, width)
	r.Store(off, width, v)
	r.mu.Lock()
	wr := r.Write
	r.mu.Unlock()
	if wr != nil {
		wr(off, width, v)
	}
}

func (r *Regs) Read8(off uint64) uint8       { return uint8(r.read(off, 1)) }
func (r *Regs) Read16(off uint64) uint16     { return uint16(r.read(off, 2)) }
func (r *Regs) Read32(off uint64) uint32     { return uint32(r.read(off, 4)) }
func (r *Regs) Read64(off uint64) uint64     { return r.read(off, 8) }
func (r *Regs) Write8(off uint64, v uint8)   { r.write(off, 1, uint64(v)) }
func (r *Regs) Write16(off uint64, v uint16) { r.write(off, 2, uint64(v)) }
func (r *Regs) Write32(off uint64, v uint32) { r.write(off, 4, uint64(v)) }
func (r *Regs) Write64(off uint64, v uint64) { r.write(off, 8, v) }

// IRQ is a fake interrupt: the device calls Raise; the driver Waits and
// Acks. Raised while masked (between a Wait's return and the Ack), the
// interrupt stays pending and Wait returns at once after the Ack.
type IRQ struct {
	mu      sync.Mutex
	pending bool
	masked  bool
	ch      chan struct{}
	Acks    int
}

// NewIRQ returns an interrupt that has not fired.
func NewIRQ() *IRQ { return &IRQ{ch: make(chan struct{}, 1)} }

// Raise fires the interrupt.
func (q *IRQ) Raise() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.pending = true
	if !q.masked {
		q.masked = true
		select {
		case q.ch <- struct{}{}:
		default:
		}
	}
}

// Wait implements dev.IRQ.
func (q *IRQ) Wait(ctx context.Context) error {
	select {
	case <-q.ch:
		q.mu.Lock()
		q.pending = false
		q.mu.Unlock()
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Ack implements dev.IRQ.
func (q *IRQ) Ack() error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.Acks++
	q.masked = false
	if q.pending {
		q.masked = true
		select {
		case q.ch <- struct{}{}:
		default:
		}
	}
	return nil
}

var (
	_ dev.Regs = (*Regs)(nil)
	_ dev.DMA  = (*DMA)(nil)
	_ dev.IRQ  = (*IRQ)(nil)
)
