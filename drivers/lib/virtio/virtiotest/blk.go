package virtiotest

import (
	"bytes"
	"encoding/binary"
	"slices"
)

// Block request types and status values (§5.2.6).
const (
	blkIn     = 0
	blkOut    = 1
	blkFlush  = 4
	blkGetID  = 8
	blkOK     = 0
	blkIOErr  = 1
	blkUnsupp = 2
	blkHdrLen = 16
)

// BlkConfig returns a virtio-blk device configuration (§5.2.4) with
// capacity in 512-byte sectors, size_max, seg_max and blk_size.
func BlkConfig(capacity uint64, sizeMax, segMax, blkSize uint32) []byte {
	b := make([]byte, 40)
	binary.LittleEndian.PutUint64(b[0:], capacity)
	binary.LittleEndian.PutUint32(b[8:], sizeMax)
	binary.LittleEndian.PutUint32(b[12:], segMax)
	binary.LittleEndian.PutUint32(b[20:], blkSize)
	return b
}

// Disk is a virtio-blk backend (§5.2) over Data, a multiple of 512 bytes.
// Each batch of requests taken from the queue is completed in reverse
// order, so completions come out of order.
type Disk struct {
	Data       []byte
	Serial     string
	ReadOnly   bool
	BadSectors map[uint64]bool // requests touching these fail with IOERR
	SegMax     uint32          // if set, data segments per request the driver may use
	SizeMax    uint32          // if set, bytes per data segment

	dev     *Device
	flushes int
}

func (k *Disk) attach(d *Device) { k.dev = d }

// Process implements Backend.
func (k *Disk) Process(d *Device, q int) {
	var batch []*Chain
	for c := d.Pop(q); c != nil; c = d.Pop(q) {
		batch = append(batch, c)
	}
	slices.Reverse(batch)
	for _, c := range batch {
		k.serve(d, c)
	}
}

// serve executes one request: header (device-readable), data, status byte
// (the last device-writable byte).
func (k *Disk) serve(d *Device, c *Chain) {
	in := c.Gather()
	if len(in) < blkHdrLen || len(c.Writable) == 0 {
		d.violate("blk: request without header or status")
		return
	}
	typ := binary.LittleEndian.Uint32(in[0:])
	sector := binary.LittleEndian.Uint64(in[8:])
	w := c.Writable
	last := w[len(w)-1]
	status := &last[len(last)-1]
	// The device-writable data: every writable byte but the status.
	dataW := append(slices.Clone(w[:len(w)-1]), last[:len(last)-1])
	if len(dataW[len(dataW)-1]) == 0 {
		dataW = dataW[:len(dataW)-1]
	}
	dataR := c.Readable
	if len(dataR[0]) > blkHdrLen {
		d.violate("blk: header descriptor of %d bytes carries data", len(dataR[0]))
	}
	dataR = dataR[1:]
	segs := len(dataR) + len(dataW)
	if k.SegMax != 0 && uint32(segs) > k.SegMax {
		d.violate("blk: %d data segments, seg_max %d", segs, k.SegMax)
	}
	for _, s := range append(slices.Clone(dataR), dataW...) {
		if k.SizeMax != 0 && uint32(len(s)) > k.SizeMax {
			d.violate("blk: data segment of %d bytes, size_max %d", len(s), k.SizeMax)
		}
	}
	var written int
	*status, written = k.execute(d, typ, sector, dataR, dataW)
	d.Push(c, uint32(written+1))
}

func (k *Disk) execute(d *Device, typ uint32, sector uint64, dataR, dataW [][]byte) (uint8, int) {
	total := func(s [][]byte) int {
		n := 0
		for _, b := range s {
			n += len(b)
		}
		return n
	}
	span := func(n int) (int, bool) {
		off := sector * 512
		if n%512 != 0 || off/512 != sector || off+uint64(n) > uint64(len(k.Data)) {
			d.violate("blk: request at sector %d of %d bytes is outside the disk", sector, n)
			return 0, false
		}
		for s := sector; s < sector+uint64(n/512); s++ {
			if k.BadSectors[s] {
				return 0, false
			}
		}
		return int(off), true
	}
	switch typ {
	case blkIn:
		if len(dataR) > 0 {
			d.violate("blk: read with device-readable data")
		}
		off, ok := span(total(dataW))
		if !ok {
			return blkIOErr, 0
		}
		n := 0
		for _, b := range dataW {
			n += copy(b, k.Data[off+n:])
		}
		return blkOK, n
	case blkOut:
		if len(dataW) > 0 {
			d.violate("blk: write with device-writable data")
		}
		off, ok := span(total(dataR))
		if !ok || k.ReadOnly {
			return blkIOErr, 0
		}
		n := 0
		for _, b := range dataR {
			n += copy(k.Data[off+n:], b)
		}
		return blkOK, 0
	case blkFlush:
		if sector != 0 || len(dataR)+len(dataW) > 0 {
			d.violate("blk: flush with sector %d or data (§5.2.6.1)", sector)
		}
		k.flushes++
		return blkOK, 0
	case blkGetID:
		if total(dataW) != 20 {
			d.violate("blk: GET_ID with %d bytes of data, not 20 (§5.2.6.1)", total(dataW))
			return blkIOErr, 0
		}
		id := make([]byte, 20)
		copy(id, k.Serial)
		n := 0
		for _, b := range dataW {
			n += copy(b, id[n:])
		}
		return blkOK, n
	}
	return blkUnsupp, 0
}

// Reset implements Backend.
func (k *Disk) Reset() {}

// Contents returns a copy of the disk.
func (k *Disk) Contents() []byte {
	k.dev.mu.Lock()
	defer k.dev.mu.Unlock()
	return bytes.Clone(k.Data)
}

// Flushes returns the number of flush requests served.
func (k *Disk) Flushes() int {
	k.dev.mu.Lock()
	defer k.dev.mu.Unlock()
	return k.flushes
}
