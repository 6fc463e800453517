package pci

// Capability IDs (PCI Code and ID Assignment 1.11 §2).
const (
	CapPM     = 0x01 // PCI Power Management
	CapMSI    = 0x05 // Message Signalled Interrupts
	CapVendor = 0x09 // vendor-specific (virtio 1.1 §4.1.4 lives here)
	CapPCIe   = 0x10 // PCI Express
	CapMSIX   = 0x11 // MSI-X
)

// Capability is one entry of the capability list (PCI Local Bus 3.0
// §6.7): its ID and the offset of its header in configuration space.
type Capability struct {
	ID     uint8
	Offset uint16
}

// ExtCapability is one entry of the PCI Express extended capability list
// (PCI Express Base r4.0 §7.6), which lives at 0x100-0xfff.
type ExtCapability struct {
	ID      uint16
	Version uint8
	Offset  uint16
}

// VendorCap is a vendor-specific capability (PCI Local Bus 3.0 §6.7,
// Appendix H): its bytes as read, the header included, so that Data[0] is
// CapVendor, Data[1] the next pointer and Data[2] == len(Data) >= 3.
// Virtio's structures (virtio 1.1 §4.1.4) are decoded from Data.
type VendorCap struct {
	Offset uint16
	Data   []byte
}

// PCIe is the PCI Express capability (PCI Express Base r4.0 §7.5.3).
type PCIe struct {
	Offset uint16
	// Version is the capability version, 1 or 2.
	Version uint8
	// PortType is the Device/Port Type field: 0 an endpoint, 4 a root
	// port, 9 a root-complex integrated endpoint (§7.5.3.2).
	PortType uint8
	// MaxPayload is the Max_Payload_Size Supported, in bytes.
	MaxPayload int
	// LinkSpeed and LinkWidth are the Link Status register's Current
	// Link Speed (a code: 1 = 2.5 GT/s, 2 = 5 GT/s, ...) and Negotiated
	// Link Width (lanes).
	LinkSpeed uint8
	LinkWidth uint8
}

// Limits of the capability lists: a conventional capability is at least
// a dword in 0x40-0xff (so at most 48 fit), an extended one in
// 0x100-0xfff (at most 960). A longer list is a loop or garbage.
const (
	capFirst    = 0x40
	capEnd      = 0x100
	maxCaps     = (capEnd - capFirst) / 4
	extCapFirst = 0x100
	maxExtCaps  = (ConfigSize - extCapFirst) / 4
)

// walkCaps walks the capability list (PCI Local Bus 3.0 §6.7) and
// decodes the capabilities the manager and drivers use. The walk stops at
// a pointer into the header, a pointer back to a capability already seen,
// or after maxCaps entries, so a device cannot make it loop; each such
// stop is a problem.
func walkCaps(c Config, f *Function) {
	if c.Read16(RegStatus)&statusCapList == 0 {
		return
	}
	var seen [capEnd / 4]bool
	ptr := c.Read8(RegCapPtr)
	for n := 0; ptr != 0; n++ {
		// The bottom two bits are reserved: software masks them.
		off := uint16(ptr &^ 3)
		switch {
		case n == maxCaps:
			f.problem("capability list longer than %d entries; cut", maxCaps)
			return
		case off < capFirst:
			f.problem("capability pointer %#02x points into the header; list cut", ptr)
			return
		case seen[off/4]:
			f.problem("capability list loops back to %#02x; cut", off)
			return
		}
		seen[off/4] = true
		id := c.Read8(off)
		f.Caps = append(f.Caps, Capability{ID: id, Offset: off})
		decodeCap(c, f, id, off)
		ptr = c.Read8(off + 1)
	}
	if f.PCIe != nil {
		walkExtCaps(c, f)
	}
}

func decodeCap(c Config, f *Function, id uint8, off uint16) {
	switch id {
	case CapMSI:
		if f.MSI != nil {
			f.problem("second MSI capability at %#02x; ignored", off)
		} else {
			f.MSI = decodeMSI(c, f, off)
		}
	case CapMSIX:
		if f.MSIX != nil {
			f.problem("second MSI-X capability at %#02x; ignored", off)
		} else {
			f.MSIX = decodeMSIX(c, f, off)
		}
	case CapPCIe:
		if f.PCIe != nil {
			f.problem("second PCI Express capability at %#02x; ignored", off)
		} else {
			f.PCIe = decodePCIe(c, f, off)
		}
	case CapVendor:
		if v, ok := readVendorCap(c, f, off); ok {
			f.VendorCaps = append(f.VendorCaps, v)
		}
	}
}

// fits reports whether a capability of size bytes at off ends inside the
// conventional configuration space, and if not, says so in f.Problems.
func fits(f *Function, name string, off uint16, size int) bool {
	if int(off)+size > capEnd {
		f.problem("%s capability at %#02x: its %d bytes run past %#x; ignored", name, off, size, capEnd)
		return false
	}
	return true
}

func readVendorCap(c Config, f *Function, off uint16) (VendorCap, bool) {
	n := int(c.Read8(off + 2))
	if n < 3 {
		f.problem("vendor-specific capability at %#02x: length %d is shorter than its header; ignored", off, n)
		return VendorCap{}, false
	}
	if !fits(f, "vendor-specific", off, n) {
		return VendorCap{}, false
	}
	v := VendorCap{Offset: off, Data: make([]byte, n)}
	for i := range v.Data {
		v.Data[i] = c.Read8(off + uint16(i))
	}
	// Data[2] was read again in the loop: make it the length used, in
	// case the device changed it meanwhile.
	v.Data[2] = byte(n)
	return v, true
}

// Registers of the PCI Express capability (PCI Express Base r4.0 §7.5.3).
const (
	pcieCapsReg    = 0x02
	pcieDevCaps    = 0x04
	pcieLinkStatus = 0x12
	pcieLenV1      = 0x24
	pcieLenV2      = 0x3c
)

func decodePCIe(c Config, f *Function, off uint16) *PCIe {
	caps := c.Read16(off + pcieCapsReg)
	p := &PCIe{Offset: off, Version: uint8(caps & 0xf), PortType: uint8(caps>>4) & 0xf}
	size := pcieLenV2
	switch p.Version {
	case 1:
		size = pcieLenV1
	case 2:
	default:
		f.problem("PCI Express capability at %#02x: version %d unknown; ignored", off, p.Version)
		return nil
	}
	if !fits(f, "PCI Express", off, size) {
		return nil
	}
	mps := c.Read32(off+pcieDevCaps) & 0x7
	if mps > 5 {
		f.problem("PCI Express capability at %#02x: reserved Max_Payload_Size %d; ignored", off, mps)
		return nil
	}
	p.MaxPayload = 128 << mps
	ls := c.Read16(off + pcieLinkStatus)
	p.LinkSpeed = uint8(ls & 0xf)
	p.LinkWidth = uint8(ls>>4) & 0x3f
	return p
}

// walkExtCaps walks the extended capability list from 0x100 (PCI Express
// Base r4.0 §7.6.3), bounded as walkCaps is. A header of all zeros or all
// ones at 0x100 means there is no list.
func walkExtCaps(c Config, f *Function) {
	var seen [ConfigSize / 4]bool
	off := uint16(extCapFirst)
	for n := 0; ; n++ {
		hdr := c.Read32(off)
		if hdr == 0 || hdr == 0xffffffff {
			if n > 0 {
				f.problem("extended capability at %#03x is empty; list cut", off)
			}
			return
		}
		if n == maxExtCaps {
			f.problem("extended capability list longer than %d entries; cut", maxExtCaps)
			return
		}
		seen[off/4] = true
		f.ExtCaps = append(f.ExtCaps, ExtCapability{ID: uint16(hdr), Version: uint8(hdr>>16) & 0xf, Offset: off})
		next := uint16(hdr>>20) &^ 3
		switch {
		case next == 0:
			return
		case next < extCapFirst:
			f.problem("extended capability pointer %#03x points below %#x; list cut", next, extCapFirst)
			return
		case seen[next/4]:
			f.problem("extended capability list loops back to %#03x; cut", next)
			return
		}
		off = next
	}
}
