package virtiotest

import (
	"encoding/binary"
	"fmt"

	"valence.dev/drivers/lib/virtio"
	"valence.dev/drivers/lib/virtio/internal/ringmem"
)

// Chain is a buffer chain the device took from a queue's available ring:
// the driver's DMA memory, reached through DMA.Slice by bus address.
type Chain struct {
	Queue    int
	Head     uint16
	descs    []uint16 // the chain's descriptor indices, head first
	Readable [][]byte
	Writable [][]byte
}

// WritableLen returns the bytes the device may write into the chain.
func (c *Chain) WritableLen() int {
	n := 0
	for _, b := range c.Writable {
		n += len(b)
	}
	return n
}

// Gather returns the chain's readable bytes, concatenated.
func (c *Chain) Gather() []byte {
	var out []byte
	for _, b := range c.Readable {
		out = append(out, b...)
	}
	return out
}

// Scatter copies data into the chain's writable buffers and returns the
// bytes copied.
func (c *Chain) Scatter(data []byte) int {
	n := 0
	for _, b := range c.Writable {
		k := copy(b, data[n:])
		n += k
		if n == len(data) {
			break
		}
	}
	return n
}

// Fault is a misbehaviour injected into the next used element the device
// writes.
type Fault int

const (
	// FaultUsedIDOutOfRange writes an id past the queue size.
	FaultUsedIDOutOfRange Fault = iota + 1
	// FaultUsedIDNotInFlight writes as id a descriptor that is not the
	// head of a chain in flight (the chain's second descriptor, or the
	// one after its head).
	FaultUsedIDNotInFlight
	// FaultUsedLenTooLarge writes a len one larger than the chain's
	// writable bytes.
	FaultUsedLenTooLarge
	// FaultUsedIdxJump advances used idx by more than the queue size.
	FaultUsedIdxJump
)

// Inject makes the next used element carry fault f.
func (d *Device) Inject(f Fault) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.faults = append(d.faults, f)
}

func (d *Device) slice(addr, n uint64) ([]byte, error) { return d.DMA.Slice(addr, n) }

// halt records a DMA or ring error the device ran into and stops it,
// asking for a reset as a real device would (§2.1.2).
func (d *Device) halt(err error) {
	d.violate("%v", err)
	d.status |= virtio.StatusDeviceNeedsReset
	d.configInterrupt()
}

// Pop takes the next available chain of queue q (§2.7.6), or returns nil.
// Descriptors are read through DMA.Slice, so an address outside the
// driver's DMA memory halts the device instead of reading stray memory.
func (d *Device) Pop(q int) *Chain {
	qs := &d.queues[q]
	if !qs.enabled || !d.live() {
		return nil
	}
	aw, err := d.slice(qs.driver, 4)
	if err != nil {
		d.halt(fmt.Errorf("queue %d: available ring: %w", q, err))
		return nil
	}
	_, idx := ringmem.Split(ringmem.Load32(aw))
	pending := idx - qs.lastAvail
	if pending > qs.size {
		d.halt(fmt.Errorf("queue %d: avail idx %d is %d past %d (size %d)", q, idx, pending, qs.lastAvail, qs.size))
		return nil
	}
	if out := int(idx - qs.usedIdx); out > qs.maxOutstanding {
		qs.maxOutstanding = out
	}
	if pending == 0 {
		return nil
	}
	slot, err := d.slice(qs.driver+4+2*uint64(qs.lastAvail%qs.size), 2)
	if err != nil {
		d.halt(fmt.Errorf("queue %d: available ring entry: %w", q, err))
		return nil
	}
	qs.lastAvail++
	c, err := d.walk(q, binary.LittleEndian.Uint16(slot))
	if err != nil {
		d.halt(err)
		return nil
	}
	return c
}

// walk follows a descriptor chain (§2.7.5).
func (d *Device) walk(q int, head uint16) (*Chain, error) {
	qs := &d.queues[q]
	c := &Chain{Queue: q, Head: head}
	i := head
	for n := 0; ; n++ {
		if i >= qs.size || n >= int(qs.size) {
			return nil, fmt.Errorf("queue %d: chain from %d: descriptor %d out of range or looping", q, head, i)
		}
		desc, err := d.slice(qs.desc+16*uint64(i), 16)
		if err != nil {
			return nil, fmt.Errorf("queue %d: descriptor table: %w", q, err)
		}
		c.descs = append(c.descs, i)
		addr := binary.LittleEndian.Uint64(desc[0:])
		n32 := binary.LittleEndian.Uint32(desc[8:])
		flags := binary.LittleEndian.Uint16(desc[12:])
		if flags&4 != 0 {
			return nil, fmt.Errorf("queue %d: indirect descriptor %d without VIRTIO_F_INDIRECT_DESC", q, i)
		}
		buf, err := d.slice(addr, uint64(n32))
		if err != nil {
			return nil, fmt.Errorf("queue %d: descriptor %d buffer: %w", q, i, err)
		}
		if flags&2 != 0 {
			c.Writable = append(c.Writable, buf)
		} else {
			if len(c.Writable) > 0 {
				return nil, fmt.Errorf("queue %d: readable descriptor %d after a writable one (§2.7.4.2)", q, i)
			}
			c.Readable = append(c.Readable, buf)
		}
		if flags&1 == 0 {
			return c, nil
		}
		i = binary.LittleEndian.Uint16(desc[14:])
	}
}

// Push returns chain c to the driver through the used ring (§2.7.8) with
// written bytes, applying an injected fault if one is pending, and
// interrupts the driver.
func (d *Device) Push(c *Chain, written uint32) {
	qs := &d.queues[c.Queue]
	if !qs.enabled || !d.live() {
		return
	}
	if n := c.WritableLen(); int(written) > n {
		panic(fmt.Sprintf("virtiotest: backend pushes %d bytes written into %d", written, n))
	}
	id, count := uint32(c.Head), 1
	if len(d.faults) > 0 {
		f := d.faults[0]
		d.faults = d.faults[1:]
		switch f {
		case FaultUsedIDOutOfRange:
			id = uint32(qs.size) + 7
		case FaultUsedIDNotInFlight:
			id = uint32(c.Head+1) % uint32(qs.size)
			if len(c.descs) > 1 {
				id = uint32(c.descs[1])
			}
		case FaultUsedLenTooLarge:
			written = uint32(c.WritableLen()) + 1
		case FaultUsedIdxJump:
			count = int(qs.size) + 2
		}
	}
	for range count {
		e, err := d.slice(qs.device+4+8*uint64(qs.usedIdx%qs.size), 8)
		if err != nil {
			d.halt(fmt.Errorf("queue %d: used ring: %w", c.Queue, err))
			return
		}
		binary.LittleEndian.PutUint32(e[0:], id)
		binary.LittleEndian.PutUint32(e[4:], written)
		qs.usedIdx++
	}
	uw, err := d.slice(qs.device, 4)
	if err != nil {
		d.halt(fmt.Errorf("queue %d: used ring: %w", c.Queue, err))
		return
	}
	// Publish after the elements (§2.7.8.2); flags stay 0, so the driver
	// always notifies.
	ringmem.Store32(uw, ringmem.Join(0, qs.usedIdx))
	d.queueInterrupt(c.Queue)
}

// Echo is a backend that returns every chain with its readable bytes
// copied into its writable ones (as many as fit).
type Echo struct{}

// Process implements Backend.
func (Echo) Process(d *Device, q int) {
	for c := d.Pop(q); c != nil; c = d.Pop(q) {
		d.Push(c, uint32(c.Scatter(c.Gather())))
	}
}

// Reset implements Backend.
func (Echo) Reset() {}
