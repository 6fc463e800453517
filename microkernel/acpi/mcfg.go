package acpi

import "fmt"

// MCFG is the PCI Express memory-mapped configuration table (signature
// "MCFG", PCI Firmware Specification 3.2 §4.1.2): where each PCI segment's
// ECAM window is. The window for a segment starts at Base and holds 1 MiB
// per bus from StartBus (PCI Express Base §7.2.2).
type MCFG struct {
	Windows []ECAMWindow
}

// ECAMWindow is one configuration space allocation of the MCFG.
type ECAMWindow struct {
	Base             uint64 // physical address of bus StartBus's configuration space
	Segment          uint16
	StartBus, EndBus uint8
}

// Size returns the window's length in bytes.
func (w ECAMWindow) Size() uint64 { return (uint64(w.EndBus) - uint64(w.StartBus) + 1) << 20 }

const (
	mcfgBodyStart = 44 // header and 8 reserved bytes
	mcfgEntrySize = 16
	maxECAM       = 16 // allocations examined; QEMU has one
)

// ParseMCFG decodes a complete MCFG including its header. An allocation
// whose bus range is reversed, whose base is not 1 MiB aligned or whose
// window would wrap is refused with the whole table: the kernel hands
// these ranges to the PCI manager and must not guess.
func ParseMCFG(tbl []byte) (*MCFG, error) {
	t, err := checkTable(tbl, "MCFG", mcfgBodyStart)
	if err != nil {
		return nil, err
	}
	body := t[mcfgBodyStart:]
	if len(body)%mcfgEntrySize != 0 {
		return nil, fmt.Errorf("%w: MCFG body of %d bytes is not whole 16-byte entries", ErrMalformed, len(body))
	}
	m := &MCFG{}
	for off := 0; off < len(body) && len(m.Windows) < maxECAM; off += mcfgEntrySize {
		e := body[off:]
		w := ECAMWindow{Base: le64(e, 0), Segment: uint16(e[8]) | uint16(e[9])<<8, StartBus: e[10], EndBus: e[11]}
		switch {
		case w.EndBus < w.StartBus:
			return nil, fmt.Errorf("%w: MCFG entry %d: buses %d-%d", ErrMalformed, off/mcfgEntrySize, w.StartBus, w.EndBus)
		case w.Base == 0 || w.Base&(1<<20-1) != 0:
			return nil, fmt.Errorf("%w: MCFG entry %d: base %#x is not a 1 MiB aligned address", ErrMalformed, off/mcfgEntrySize, w.Base)
		case w.Base+w.Size() < w.Base || w.Base+w.Size() > 1<<52:
			return nil, fmt.Errorf("%w: MCFG entry %d: window at %#x does not fit the physical address space", ErrMalformed, off/mcfgEntrySize, w.Base)
		}
		m.Windows = append(m.Windows, w)
	}
	return m, nil
}
