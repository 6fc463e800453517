package blk

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"

	"valence.dev/drivers/lib/block"
	"valence.dev/drivers/lib/dev"
	"valence.dev/drivers/lib/virtio"
)

// Submit implements block.Device: it checks r and fails it through Done,
// or queues it. Requests are started in the order submitted and may
// complete in any order.
func (d *Disk) Submit(r *block.Request) {
	w, err := d.decode(r)
	if err != nil {
		r.Done(fmt.Errorf("virtio-blk: %w", err))
		return
	}
	if w == nil { // a flush the device does not need
		r.Done(nil)
		return
	}
	d.issueAll(w)
}

// decode checks a request and turns it into work, changing nothing
// (§5.2.6.1: nothing beyond capacity, data a multiple of 512 bytes). It
// returns nil work for a flush to a device without VIRTIO_BLK_F_FLUSH,
// which then has no volatile cache to flush (§5.2.5).
func (d *Disk) decode(r *block.Request) (*work, error) {
	if r == nil || r.Done == nil {
		panic("virtio-blk: Submit of a request without Done")
	}
	w := &work{done: r.Done}
	switch r.Op {
	case block.OpFlush:
		if d.features&FeatureFlush == 0 {
			return nil, nil
		}
		w.typ = typeFlush
		return w, nil
	case block.OpRead:
		w.typ = typeIn
	case block.OpWrite:
		if d.features&FeatureRO != 0 {
			return nil, ErrReadOnly
		}
		w.typ = typeOut
	default:
		return nil, fmt.Errorf("op %d: %w", r.Op, ErrInvalid)
	}
	inf := d.info
	switch {
	case r.Count == 0 || r.Count > inf.MaxSectors:
		return nil, fmt.Errorf("%d blocks, want 1 to %d: %w", r.Count, inf.MaxSectors, ErrInvalid)
	case r.LBA > inf.Sectors || uint64(r.Count) > inf.Sectors-r.LBA:
		return nil, fmt.Errorf("blocks %d+%d past the end (%d): %w", r.LBA, r.Count, inf.Sectors, ErrInvalid)
	case r.Buf == nil:
		return nil, fmt.Errorf("no buffer: %w", ErrInvalid)
	}
	n := uint64(r.Count) * uint64(inf.SectorSize)
	if r.Off > uint64(len(r.Buf.Bytes)) || n > uint64(len(r.Buf.Bytes))-r.Off {
		return nil, fmt.Errorf("%d bytes at offset %d overrun a %d-byte buffer: %w", n, r.Off, len(r.Buf.Bytes), ErrInvalid)
	}
	w.sector = r.LBA * uint64(inf.SectorSize/protocolBlock)
	// The data, cut into segments of at most size_max (§5.2.3); decode
	// bounded Count so that there are at most seg_max of them.
	for addr, left := r.Buf.Addr+r.Off, n; left > 0; {
		k := min(left, d.segBytes)
		w.data = append(w.data, virtio.Segment{Addr: addr, Len: uint32(k), Write: w.typ == typeIn})
		addr, left = addr+k, left-k
	}
	return w, nil
}

// issueAll queues w behind any pending work and starts what fits.
func (d *Disk) issueAll(w *work) {
	d.mu.Lock()
	if err := d.err; err != nil {
		d.mu.Unlock()
		w.done(err)
		return
	}
	d.pending = append(d.pending, w)
	started, err := d.startPending()
	d.mu.Unlock()
	if started {
		d.q.Kick()
	}
	if err != nil {
		d.fail(err)
	}
}

// startPending puts pending work in the queue while there are slots and
// descriptors, and says whether it started any. d.mu is held.
func (d *Disk) startPending() (bool, error) {
	started := false
	for len(d.pending) > 0 && len(d.freeSlots) > 0 {
		w := d.pending[0]
		s := d.freeSlots[len(d.freeSlots)-1]
		hdr := d.headers.Bytes[s*slotStride : s*slotStride+slotStride]
		binary.LittleEndian.PutUint32(hdr[0:], w.typ)
		binary.LittleEndian.PutUint32(hdr[4:], 0) // reserved
		binary.LittleEndian.PutUint64(hdr[8:], w.sector)
		hdr[headerLen] = statusUnset
		base := d.headers.Addr + uint64(s*slotStride)
		segs := make([]virtio.Segment, 0, len(w.data)+2)
		segs = append(segs, virtio.Segment{Addr: base, Len: headerLen})
		segs = append(segs, w.data...)
		segs = append(segs, virtio.Segment{Addr: base + headerLen, Len: 1, Write: true})
		if err := d.q.Add(segs, s); err != nil {
			if errors.Is(err, virtio.ErrQueueFull) {
				break // wait for completions to free descriptors
			}
			return started, err
		}
		d.freeSlots = d.freeSlots[:len(d.freeSlots)-1]
		d.slots[s] = w
		d.pending = d.pending[1:]
		started = true
	}
	return started, nil
}

// complete harvests finished requests, starts pending ones and reports
// the finished (§2.7.14, §5.2.6).
func (d *Disk) complete() {
	used, herr := d.q.Harvest()
	type result struct {
		w   *work
		err error
	}
	var done []result
	d.mu.Lock()
	for _, u := range used {
		s := u.Token.(int)
		w := d.slots[s]
		d.slots[s] = nil
		d.freeSlots = append(d.freeSlots, s)
		done = append(done, result{w, statusError(d.headers.Bytes[s*slotStride+headerLen])})
	}
	var serr error
	started := false
	if d.err == nil {
		started, serr = d.startPending()
	}
	d.mu.Unlock()
	if started {
		d.q.Kick()
	}
	for _, r := range done {
		r.w.done(r.err)
	}
	if err := errors.Join(herr, serr); err != nil {
		d.fail(err)
	}
}

// statusError maps a request's status byte (§5.2.6).
func statusError(s uint8) error {
	switch s {
	case statusOK:
		return nil
	case statusIOErr:
		return ErrIO
	case statusUnsupp:
		return ErrUnsupported
	case statusUnset:
		return fmt.Errorf("virtio-blk: request returned without a status: %w", virtio.ErrDevice)
	}
	return fmt.Errorf("virtio-blk: status %#02x: %w", s, virtio.ErrDevice)
}

// configChanged serves a configuration change (§4.1.5.4); only a reset
// request matters to the driver (a capacity change is not followed).
func (d *Disk) configChanged() {
	if err := d.t.CheckStatus(); err != nil {
		d.fail(err)
	}
}

// fail stops the disk after the device misbehaved or asked for a reset:
// the device is reset first, so that it no longer reads or writes the
// clients' buffers, and then every request in flight or pending fails.
func (d *Disk) fail(err error) {
	d.mu.Lock()
	if d.err == nil {
		d.err = fmt.Errorf("virtio-blk: %w", err)
	}
	err = d.err
	d.mu.Unlock()
	d.t.Reset(context.Background())
	d.failAll(err)
}

// failAll fails every request in flight or pending with err; the device
// must have been reset.
func (d *Disk) failAll(err error) {
	d.mu.Lock()
	var ws []*work
	for _, tok := range d.q.Drain() {
		s := tok.(int)
		ws = append(ws, d.slots[s])
		d.slots[s] = nil
		d.freeSlots = append(d.freeSlots, s)
	}
	ws = append(ws, d.pending...)
	d.pending = nil
	d.mu.Unlock()
	for _, w := range ws {
		w.done(err)
	}
}

// Close implements block.Device: it stops serving interrupts, resets the
// device, fails what was queued with ErrClosed and frees the memory.
func (d *Disk) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	if d.err == nil {
		d.err = ErrClosed
	}
	err := d.err
	d.mu.Unlock()
	d.cancel()
	<-d.served
	if rerr := d.release(context.Background()); rerr != nil {
		return rerr
	}
	d.failAll(err)
	return nil
}

// release resets the device, which frees the ring, then the driver's own
// DMA memory; if the reset fails that memory is kept (the device may still
// write it).
func (d *Disk) release(ctx context.Context) error {
	if err := d.t.Close(ctx); err != nil {
		return fmt.Errorf("virtio-blk: close: %w", err)
	}
	for _, b := range []**dev.Buffer{&d.headers, &d.idBuf} {
		if *b != nil {
			d.dma.Free(*b)
			*b = nil
		}
	}
	return nil
}
