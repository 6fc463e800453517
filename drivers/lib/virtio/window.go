package virtio

import (
	"fmt"

	"valence.dev/drivers/lib/dev"
)

// Window returns the n bytes of r starting at off as a register window of
// their own, or an error if they do not lie inside r. Accesses through it
// are checked against n (panicking like dev.Regs on a driver bug), so a
// structure can never reach its neighbours in the same BAR.
func Window(r dev.Regs, off, n uint64) (dev.Regs, error) {
	if n == 0 || off+n < off || off+n > r.Len() {
		return nil, fmt.Errorf("virtio: structure at %#x+%#x lies outside its %#x-byte BAR", off, n, r.Len())
	}
	return &window{r: r, base: off, n: n}, nil
}

type window struct {
	r       dev.Regs
	base, n uint64
}

func (w *window) at(off uint64, width uint64) uint64 {
	if off%width != 0 || off+width > w.n || off+width < off {
		panic(fmt.Sprintf("virtio: %d-byte register access at %#x in a %#x-byte window", width, off, w.n))
	}
	return w.base + off
}

func (w *window) Len() uint64                  { return w.n }
func (w *window) Read8(off uint64) uint8       { return w.r.Read8(w.at(off, 1)) }
func (w *window) Read16(off uint64) uint16     { return w.r.Read16(w.at(off, 2)) }
func (w *window) Read32(off uint64) uint32     { return w.r.Read32(w.at(off, 4)) }
func (w *window) Read64(off uint64) uint64     { return w.r.Read64(w.at(off, 8)) }
func (w *window) Write8(off uint64, v uint8)   { w.r.Write8(w.at(off, 1), v) }
func (w *window) Write16(off uint64, v uint16) { w.r.Write16(w.at(off, 2), v) }
func (w *window) Write32(off uint64, v uint32) { w.r.Write32(w.at(off, 4), v) }
func (w *window) Write64(off uint64, v uint64) { w.r.Write64(w.at(off, 8), v) }

// maxMapped is how much of a structure the driver maps: §4.1.4 allows a
// driver to limit a structure to 4 KiB, as no current device uses more.
const maxMapped = 4096

// Windows are the register windows of a device's structures.
type Windows struct {
	Common, Notify, ISR dev.Regs
	Device              dev.Regs // nil if the device type has no configuration
	// NotifyOffMultiplier is from the notify capability (§4.1.4.4).
	NotifyOffMultiplier uint32
}

// Windows maps the layout's structures, given the function's BARs by
// index (bar returns an error for a BAR the driver was not handed or that
// is not a memory BAR).
func (l Layout) Windows(bar func(index uint8) (dev.Regs, error)) (Windows, error) {
	mapCap := func(c Cap, limit uint64) (dev.Regs, error) {
		r, err := bar(c.BAR)
		if err != nil {
			return nil, fmt.Errorf("virtio: %s structure's BAR %d: %w", c.Type, c.BAR, err)
		}
		n := c.Length
		if limit != 0 && n > limit {
			n = limit
		}
		w, err := Window(r, c.Offset, n)
		if err != nil {
			return nil, fmt.Errorf("virtio: %s structure: %w", c.Type, err)
		}
		return w, nil
	}
	var w Windows
	var err error
	if w.Common, err = mapCap(l.Common, maxMapped); err != nil {
		return Windows{}, err
	}
	// The notify structure is as long as the device's queues need
	// (§4.1.4.4.1), possibly more than 4 KiB: map all of it.
	if w.Notify, err = mapCap(l.Notify, 0); err != nil {
		return Windows{}, err
	}
	if w.ISR, err = mapCap(l.ISR, maxMapped); err != nil {
		return Windows{}, err
	}
	if l.HasDevice {
		if w.Device, err = mapCap(l.Device, maxMapped); err != nil {
			return Windows{}, err
		}
	}
	w.NotifyOffMultiplier = l.Notify.NotifyOffMultiplier
	return w, nil
}
