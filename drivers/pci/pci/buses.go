package pci

import (
	"fmt"
	"sort"
	"sync"

	"valence.dev/drivers/lib/dev"
)

// BusWindows is a Space over an ECAM window that is mapped one bus (1 MiB,
// ECAMBusSize) at a time, when a function of that bus is first asked for.
// A machine's ECAM window is often 256 MiB for 256 buses of which a few
// are in use; mapping only the buses scanned costs a few MiB of uncached
// mappings instead.
//
// A bus whose window cannot be opened reads as all ones, as an absent
// bus does, and ignores writes; BusWindows.Err says why. Functions may be
// asked for from several goroutines at once.
type BusWindows struct {
	first, last uint8
	open        func(bus uint8) (dev.Regs, error)

	mu    sync.Mutex
	buses map[uint8]*ECAM
	errs  map[uint8]error
}

// NewBusWindows returns the Space of buses [first, last]; open(bus)
// returns the 1 MiB register window of bus's configuration spaces (at
// ECAM offset (bus-first)<<20), and is called at most once a bus.
func NewBusWindows(first, last uint8, open func(bus uint8) (dev.Regs, error)) (*BusWindows, error) {
	if first > last {
		return nil, fmt.Errorf("pci: ECAM bus range %#02x-%#02x is empty", first, last)
	}
	return &BusWindows{first: first, last: last, open: open,
		buses: map[uint8]*ECAM{}, errs: map[uint8]error{}}, nil
}

// Buses implements Space.
func (b *BusWindows) Buses() (first, last uint8) { return b.first, b.last }

// Function implements Space.
func (b *BusWindows) Function(bus, dev, fn uint8) Config {
	if bus < b.first || bus > b.last || dev >= 32 || fn >= 8 {
		panic(fmt.Sprintf("pci: function %02x:%02x.%x is outside the ECAM window of buses %02x-%02x",
			bus, dev, fn, b.first, b.last))
	}
	if e := b.bus(bus); e != nil {
		return e.Function(bus, dev, fn)
	}
	return absent{}
}

// Err returns why bus could not be opened, or nil.
func (b *BusWindows) Err(bus uint8) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.errs[bus]
}

// Opened returns the buses opened so far, in order.
func (b *BusWindows) Opened() []uint8 {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []uint8
	for bus := range b.buses {
		out = append(out, bus)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func (b *BusWindows) bus(bus uint8) *ECAM {
	b.mu.Lock()
	defer b.mu.Unlock()
	if e, ok := b.buses[bus]; ok {
		return e
	}
	if b.errs[bus] != nil {
		return nil
	}
	regs, err := b.open(bus)
	if err == nil {
		var e *ECAM
		if e, err = NewECAM(regs, bus, bus); err == nil {
			b.buses[bus] = e
			return e
		}
	}
	b.errs[bus] = fmt.Errorf("pci: bus %02x: %w", bus, err)
	return nil
}

// absent is the configuration space of a function that is not there: it
// reads as all ones and ignores writes (PCI Express Base r4.0 §2.3.2,
// an Unsupported Request completing a configuration read).
type absent struct{}

func (absent) Read8(off uint16) uint8       { checkOff(off, 1); return 0xff }
func (absent) Read16(off uint16) uint16     { checkOff(off, 2); return 0xffff }
func (absent) Read32(off uint16) uint32     { checkOff(off, 4); return 0xffffffff }
func (absent) Write8(off uint16, v uint8)   { checkOff(off, 1) }
func (absent) Write16(off uint16, v uint16) { checkOff(off, 2) }
func (absent) Write32(off uint16, v uint32) { checkOff(off, 4) }

func checkOff(off, width uint16) {
	if off%width != 0 || uint32(off)+uint32(width) > ConfigSize {
		panic(fmt.Sprintf("pci: %d-byte configuration access at %#x", width, off))
	}
}

// oneBus is bus of s as a Space of its own.
type oneBus struct {
	s   Space
	bus uint8
}

func (o oneBus) Buses() (first, last uint8)         { return o.bus, o.bus }
func (o oneBus) Function(bus, dev, fn uint8) Config { return o.s.Function(bus, dev, fn) }

// ScanBridges enumerates as Scan does, but only the first bus of s and
// the buses behind the bridges found (each bridge's Secondary through
// Subordinate, as firmware numbered them, clipped to s's range), each
// bus once, so that a Space such as BusWindows touches only buses that
// can hold functions. Functions come back in address order.
func ScanBridges(s Space) ([]Function, error) {
	first, last := s.Buses()
	if first > last {
		return nil, fmt.Errorf("pci: scan: bus range %#02x-%#02x is empty", first, last)
	}
	var fns []Function
	var seen [256]bool
	queue := []uint8{first}
	seen[first] = true
	for len(queue) > 0 {
		bus := queue[0]
		queue = queue[1:]
		found, err := Scan(oneBus{s, bus})
		if err != nil {
			return nil, err
		}
		for _, f := range found {
			if f.Bridge == nil || f.Bridge.Secondary == 0 {
				continue // not a bridge, or its buses not numbered
			}
			for b := int(f.Bridge.Secondary); b <= int(f.Bridge.Subordinate); b++ {
				if b >= int(first) && b <= int(last) && !seen[b] {
					seen[b] = true
					queue = append(queue, uint8(b))
				}
			}
		}
		fns = append(fns, found...)
	}
	sort.SliceStable(fns, func(i, j int) bool { return addrLess(fns[i].Addr, fns[j].Addr) })
	return fns, nil
}

func addrLess(a, b Address) bool {
	if a.Bus != b.Bus {
		return a.Bus < b.Bus
	}
	if a.Device != b.Device {
		return a.Device < b.Device
	}
	return a.Function < b.Function
}
