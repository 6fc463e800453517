package iommu

import (
	"fmt"
	"sync/atomic"
)

// Mem is physical memory for translation tables, one 4 KiB page at a
// time. Alloc returns a page-aligned physical address of a zeroed page
// (ok false when memory is short); Page returns the page at pa as the CPU
// sees it (in the kernel, through the direct map); Free gives a page back.
type Mem interface {
	Alloc() (pa uint64, ok bool)
	Free(pa uint64)
	Page(pa uint64) *[512]uint64
}

// Flusher is implemented by a Mem that can write a cache line back to
// memory (clflush). A unit whose page walks do not snoop the CPU caches
// (ECAP.C 0, as QEMU reports) needs it: every table write is followed by
// a Flush of the line holding it, and a new table by a Flush of each of
// its lines.
type Flusher interface {
	Flush(pa uint64)
}

const (
	cacheLine = 64
	pageSize  = 4096
	addrMask  = 0x000f_ffff_ffff_f000 // bits 51:12: a table or page address in an entry

	rootPresent = 1 << 0 // root entry, low half (§9.1)
	ctxPresent  = 1 << 0 // context entry, low half (§9.3); FPD (bit 1) and TT (3:2) stay 0
	ctxDIDShift = 8      // context entry, high half: AW in 2:0, DID in 23:8
)

// SourceID is the requester id of a PCI function: the 16 bits VT-d
// indexes its root and context tables with (bus in 15:8, device 7:3,
// function 2:0).
func SourceID(bus, dev, fn uint8) uint16 { return uint16(bus)<<8 | uint16(dev)<<3 | uint16(fn) }

// newTable allocates a zeroed table page and makes its zeroes visible to
// the unit.
func (u *Unit) newTable() (uint64, error) {
	pa, ok := u.mem.Alloc()
	if !ok {
		return 0, ErrNoMemory
	}
	if pa == 0 || pa%pageSize != 0 || pa>>u.haw != 0 {
		u.mem.Free(pa)
		return 0, fmt.Errorf("%w: Mem gave page %#x", ErrNoMemory, pa)
	}
	p := u.mem.Page(pa)
	for i := range p {
		atomic.StoreUint64(&p[i], 0)
	}
	if u.flush != nil {
		for off := uint64(0); off < pageSize; off += cacheLine {
			u.flush(pa + off)
		}
	}
	return pa, nil
}

// store writes one 64-bit table entry. The store is atomic, so the unit
// never sees half of it, and it is flushed when walks do not snoop.
func (u *Unit) store(table uint64, i int, v uint64) {
	atomic.StoreUint64(&u.mem.Page(table)[i], v)
	if u.flush != nil {
		u.flush(table + uint64(i)*8)
	}
}

func (u *Unit) load(table uint64, i int) uint64 {
	return atomic.LoadUint64(&u.mem.Page(table)[i])
}

// Attach points the context entry of bus:dev.fn at d, so that the
// function's DMA is translated by d's page tables (§9.3: present, fault
// processing enabled, translation type 00b, d's address width and
// domain id). Attaching a function again to the domain it is attached
// to does nothing; a function attached to another domain is refused
// (ErrAttached): Detach it first.
func (u *Unit) Attach(d *Domain, bus, dev, fn uint8) error {
	if err := u.check(d); err != nil {
		return err
	}
	if dev > 31 || fn > 7 {
		return fmt.Errorf("%w: %02x:%02x.%x", ErrDevice, bus, dev, fn)
	}
	sid := SourceID(bus, dev, fn)
	if o := u.owner[sid]; o != nil {
		if o == d {
			return nil
		}
		return fmt.Errorf("%w: %02x:%02x.%x is in domain %d", ErrAttached, bus, dev, fn, o.id)
	}
	ctx := u.ctx[bus]
	if ctx == 0 {
		t, err := u.newTable()
		if err != nil {
			return err
		}
		u.store(u.root, 2*int(bus)+1, 0)
		u.store(u.root, 2*int(bus), t|rootPresent)
		u.ctx[bus], ctx = t, t
	}
	i := 2 * (int(dev)<<3 | int(fn))
	// High half first: the unit reads an entry as present only once
	// the low half with P is written.
	u.store(ctx, i+1, uint64(d.id)<<ctxDIDShift|uint64(u.aw))
	u.store(ctx, i, d.top|ctxPresent)
	u.owner[sid] = d
	d.attached++
	// A not-present entry is cached only in caching mode, and then
	// under domain id 0 (§6.1); otherwise the unit only needs to see
	// the writes.
	if u.Cap.CM {
		if err := u.invalidateContext(CCMDDevice, 0, sid); err != nil {
			return err
		}
		return u.invalidateIOTLB(IOTLBDomain, d.id, 0)
	}
	return u.flushWriteBuffer()
}

// Detach makes bus:dev.fn's context entry not present, so that its DMA
// faults, and invalidates the context cache for it and the IOTLB for its
// domain: when Detach returns, the function can no longer reach any page
// of the domain. An error here means the unit may still hold the old
// translations; treat every page the domain mapped as still reachable.
func (u *Unit) Detach(bus, dev, fn uint8) error {
	if u.root == 0 {
		return ErrState
	}
	if dev > 31 || fn > 7 {
		return fmt.Errorf("%w: %02x:%02x.%x", ErrDevice, bus, dev, fn)
	}
	sid := SourceID(bus, dev, fn)
	d := u.owner[sid]
	if d == nil {
		return fmt.Errorf("%w: %02x:%02x.%x", ErrNotAttached, bus, dev, fn)
	}
	i := 2 * (int(dev)<<3 | int(fn))
	u.store(u.ctx[bus], i, 0) // P off first
	u.store(u.ctx[bus], i+1, 0)
	delete(u.owner, sid)
	d.attached--
	if err := u.flushWriteBuffer(); err != nil {
		return err
	}
	// §6.5.3.3 (present to not-present context entry): device-selective
	// context-cache invalidation, then domain-selective IOTLB.
	if err := u.invalidateContext(CCMDDevice, d.id, sid); err != nil {
		return err
	}
	return u.invalidateIOTLB(IOTLBDomain, d.id, 0)
}

// AttachedTo returns the domain bus:dev.fn is attached to, or nil.
func (u *Unit) AttachedTo(bus, dev, fn uint8) *Domain {
	if dev > 31 || fn > 7 {
		return nil
	}
	return u.owner[SourceID(bus, dev, fn)]
}
