package acpi

import "fmt"

// DMAR flags (Intel VT-d Architecture Specification rev 3.x §8.1).
const (
	DMARIntrRemap      = 1 << 0 // the platform supports interrupt remapping
	DMARX2APICOptOut   = 1 << 1 // firmware asks the OS not to enable x2APIC mode
	DMARDMACtrlOptIn   = 1 << 2 // firmware left DMA protection on and asks the OS to keep it
	DRHDIncludePCIAll  = 1 << 0 // DRHD flag: the unit covers every PCI device of its segment not listed elsewhere (§8.3)
	dmarBodyStart      = 48     // header, Host Address Width, Flags, 10 reserved bytes
	dmarStructHeader   = 4      // Type (2 bytes), Length (2 bytes)
	drhdMinLength      = 16     // header, Flags, Size, Segment, Register Base Address
	rmrrMinLength      = 24     // header, reserved, Segment, Base, Limit
	scopeMinLength     = 6      // Type, Length, reserved (2), Enumeration ID, Start Bus
	dmarMaxPhysAddress = 1 << 52
	maxRegSizeLog      = 4 // largest DRHD Size accepted: 16 pages (QEMU reports 0, one page)
)

// Remapping structure types (§8.2). Types other than DRHD and RMRR are
// verified for length and otherwise skipped.
const (
	dmarDRHD = 0
	dmarRMRR = 1
	dmarATSR = 2
	dmarRHSA = 3
	dmarANDD = 4
)

// Device scope types (§8.3.1).
const (
	ScopePCIEndpoint = 1 // a PCI endpoint function
	ScopePCIBridge   = 2 // a PCI-PCI bridge and every device below it
	ScopeIOAPIC      = 3 // an I/O APIC; EnumerationID is its APIC ID
	ScopeHPET        = 4 // an HPET block; EnumerationID is its HPET number
	ScopeACPI        = 5 // an ACPI namespace device (see the ANDD structures)
)

// DMAR is the DMA Remapping Reporting table (signature "DMAR", §8.1): the
// platform's VT-d remapping units and the memory some devices need
// identity-mapped.
type DMAR struct {
	// HostAddressWidth is the maximum physical address width DMA can
	// reach, in bits: the table's field plus one (§8.1), 39 on QEMU.
	HostAddressWidth uint8
	Flags            uint8           // DMARIntrRemap, DMARX2APICOptOut, DMARDMACtrlOptIn
	Units            []DRHD          // in table order
	Reserved         []RMRR          // reserved memory region reports, in table order
	Skipped          []DMARStructure // structures not interpreted (ATSR, RHSA, ANDD, ...)
}

// DMARStructure names a remapping structure by type and length.
type DMARStructure struct {
	Type, Length uint16
}

// DRHD is a DMA Remapping Hardware Unit Definition (§8.3): one VT-d unit
// and the devices it translates for.
type DRHD struct {
	Flags        uint8 // DRHDIncludePCIAll
	Segment      uint16
	RegisterBase uint64 // physical address of the unit's registers, 4 KiB aligned
	// RegisterPages is the size of the register set in 4 KiB pages
	// (from the Size field, 2^N pages, added in rev 2.x; 0 reads as one
	// page, which is what QEMU reports).
	RegisterPages uint32
	Scopes        []DeviceScope
}

// IncludesAll reports whether the unit covers every PCI device of its
// segment that no other unit lists.
func (d DRHD) IncludesAll() bool { return d.Flags&DRHDIncludePCIAll != 0 }

// RMRR is a Reserved Memory Region Reporting structure (§8.4): memory the
// listed devices may access by DMA at any time (USB legacy emulation,
// integrated graphics), which must stay identity-mapped for them.
type RMRR struct {
	Segment uint16
	Base    uint64 // first byte, 4 KiB aligned
	Limit   uint64 // last byte; Limit+1 is 4 KiB aligned
	Scopes  []DeviceScope
}

// DeviceScope names a device (§8.3.1): starting at StartBus, each path
// element is a device and function number; every element but the last is
// a PCI-PCI bridge whose secondary bus the next element is on. Only
// configuration space can tell which bus that is, so resolving a path
// with more than one element is the PCI manager's business.
type DeviceScope struct {
	Type          uint8 // ScopePCIEndpoint, ... (other values kept as found)
	EnumerationID uint8
	StartBus      uint8
	Path          []PCIPath
}

// PCIPath is one element of a device scope's path.
type PCIPath struct {
	Device, Function uint8
}

// ParseDMAR decodes a complete DMAR including its header. Everything the
// kernel would act on is checked, and any structure that fails a check
// rejects the whole table: lengths (each structure and each device scope
// within its parent, nothing left over), DRHD register bases (non-zero, 4
// KiB aligned, not wrapping, and no two units' registers overlapping), at
// most one INCLUDE_PCI_ALL unit per segment and after the segment's other
// units, no PCI scopes in such a unit, device and function numbers in
// range, and RMRR ranges (aligned, non-empty, not wrapping). Unknown
// structure types are skipped after their length is checked.
func ParseDMAR(tbl []byte) (*DMAR, error) {
	t, err := checkTable(tbl, "DMAR", dmarBodyStart)
	if err != nil {
		return nil, err
	}
	d := &DMAR{HostAddressWidth: t[36] + 1, Flags: t[37]}
	if d.HostAddressWidth < 32 || d.HostAddressWidth > 64 {
		return nil, fmt.Errorf("%w: DMAR host address width %d bits", ErrMalformed, d.HostAddressWidth)
	}
	includeAll := map[uint16]bool{}
	// Each structure is at least dmarStructHeader bytes, so this loop
	// runs at most len(t)/4 times.
	for off := dmarBodyStart; off < len(t); {
		if len(t)-off < dmarStructHeader {
			return nil, fmt.Errorf("%w: DMAR: %d bytes left at offset %d, less than a structure header", ErrMalformed, len(t)-off, off)
		}
		typ, n := le16(t, off), int(le16(t, off+2))
		if n < dmarStructHeader || n > len(t)-off {
			return nil, fmt.Errorf("%w: DMAR structure type %d at offset %d: length %d outside [%d, %d]",
				ErrMalformed, typ, off, n, dmarStructHeader, len(t)-off)
		}
		s := t[off : off+n]
		switch typ {
		case dmarDRHD:
			u, err := parseDRHD(s)
			if err != nil {
				return nil, fmt.Errorf("%w: DMAR DRHD at offset %d: %v", ErrMalformed, off, err)
			}
			if err := d.checkUnit(u, includeAll); err != nil {
				return nil, fmt.Errorf("%w: DMAR DRHD at offset %d: %v", ErrMalformed, off, err)
			}
			if u.IncludesAll() {
				includeAll[u.Segment] = true
			}
			d.Units = append(d.Units, u)
		case dmarRMRR:
			r, err := parseRMRR(s)
			if err != nil {
				return nil, fmt.Errorf("%w: DMAR RMRR at offset %d: %v", ErrMalformed, off, err)
			}
			d.Reserved = append(d.Reserved, r)
		default:
			d.Skipped = append(d.Skipped, DMARStructure{typ, uint16(n)})
		}
		off += n
	}
	return d, nil
}

// checkUnit checks a new unit against those already accepted.
func (d *DMAR) checkUnit(u DRHD, includeAll map[uint16]bool) error {
	if includeAll[u.Segment] {
		// §8.3: an INCLUDE_PCI_ALL unit comes after every other unit of
		// its segment; otherwise which unit owns a device is a guess.
		return fmt.Errorf("unit of segment %d follows that segment's INCLUDE_PCI_ALL unit", u.Segment)
	}
	end := u.RegisterBase + uint64(u.RegisterPages)<<12
	for _, o := range d.Units {
		oend := o.RegisterBase + uint64(o.RegisterPages)<<12
		if u.RegisterBase < oend && o.RegisterBase < end {
			return fmt.Errorf("registers at %#x-%#x overlap another unit's at %#x-%#x", u.RegisterBase, end-1, o.RegisterBase, oend-1)
		}
	}
	return nil
}

func parseDRHD(s []byte) (DRHD, error) {
	if len(s) < drhdMinLength {
		return DRHD{}, fmt.Errorf("length %d, need at least %d", len(s), drhdMinLength)
	}
	u := DRHD{Flags: s[4], Segment: le16(s, 6), RegisterBase: le64(s, 8), RegisterPages: 1 << (s[5] & 0x0f)}
	if s[5]&0x0f > maxRegSizeLog {
		return DRHD{}, fmt.Errorf("register set of 2^%d pages is implausible", s[5]&0x0f)
	}
	switch end := u.RegisterBase + uint64(u.RegisterPages)<<12; {
	case u.RegisterBase == 0:
		return DRHD{}, fmt.Errorf("register base address is 0")
	case u.RegisterBase&0xfff != 0:
		return DRHD{}, fmt.Errorf("register base %#x is not 4 KiB aligned", u.RegisterBase)
	case end < u.RegisterBase || end > dmarMaxPhysAddress:
		return DRHD{}, fmt.Errorf("registers at %#x do not fit the physical address space", u.RegisterBase)
	}
	scopes, err := parseScopes(s[drhdMinLength:])
	if err != nil {
		return DRHD{}, err
	}
	if u.IncludesAll() {
		for _, sc := range scopes {
			if sc.Type == ScopePCIEndpoint || sc.Type == ScopePCIBridge {
				return DRHD{}, fmt.Errorf("INCLUDE_PCI_ALL unit lists a PCI device scope (type %d)", sc.Type)
			}
		}
	}
	u.Scopes = scopes
	return u, nil
}

func parseRMRR(s []byte) (RMRR, error) {
	if len(s) < rmrrMinLength {
		return RMRR{}, fmt.Errorf("length %d, need at least %d", len(s), rmrrMinLength)
	}
	r := RMRR{Segment: le16(s, 6), Base: le64(s, 8), Limit: le64(s, 16)}
	switch {
	case r.Base&0xfff != 0:
		return RMRR{}, fmt.Errorf("base %#x is not 4 KiB aligned", r.Base)
	case r.Limit < r.Base:
		return RMRR{}, fmt.Errorf("limit %#x below base %#x", r.Limit, r.Base)
	case r.Limit&0xfff != 0xfff:
		return RMRR{}, fmt.Errorf("limit %#x does not end a 4 KiB page", r.Limit)
	case r.Limit >= dmarMaxPhysAddress:
		return RMRR{}, fmt.Errorf("region %#x-%#x does not fit the physical address space", r.Base, r.Limit)
	}
	scopes, err := parseScopes(s[rmrrMinLength:])
	if err != nil {
		return RMRR{}, err
	}
	for _, sc := range scopes {
		if sc.Type != ScopePCIEndpoint && sc.Type != ScopePCIBridge {
			return RMRR{}, fmt.Errorf("device scope of type %d, want a PCI endpoint or bridge", sc.Type)
		}
	}
	r.Scopes = scopes
	return r, nil
}

// parseScopes decodes the device scope structures filling b exactly.
func parseScopes(b []byte) ([]DeviceScope, error) {
	var scopes []DeviceScope
	for off := 0; off < len(b); {
		if len(b)-off < 2 {
			return nil, fmt.Errorf("%d stray bytes after the device scopes", len(b)-off)
		}
		n := int(b[off+1])
		if n < scopeMinLength+2 || n > len(b)-off || (n-scopeMinLength)%2 != 0 {
			return nil, fmt.Errorf("device scope at offset %d: length %d is not %d plus a whole, non-empty path within %d bytes",
				off, n, scopeMinLength, len(b)-off)
		}
		sc := DeviceScope{Type: b[off], EnumerationID: b[off+4], StartBus: b[off+5]}
		if sc.Type == 0 {
			return nil, fmt.Errorf("device scope at offset %d has reserved type 0", off)
		}
		for p := off + scopeMinLength; p < off+n; p += 2 {
			e := PCIPath{Device: b[p], Function: b[p+1]}
			if e.Device > 31 || e.Function > 7 {
				return nil, fmt.Errorf("device scope at offset %d: path element %02x.%x out of range", off, e.Device, e.Function)
			}
			sc.Path = append(sc.Path, e)
		}
		scopes = append(scopes, sc)
		off += n
	}
	return scopes, nil
}
