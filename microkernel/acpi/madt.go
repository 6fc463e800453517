package acpi

import "fmt"

// MADT Flags bit (section 5.2.12).
const MADTPCATCompat = 1 << 0 // dual 8259s present: mask them before using I/O APICs

// Local APIC flags (section 5.2.12, Processor Local APIC structure).
const (
	LAPICEnabled       = 1 << 0
	LAPICOnlineCapable = 1 << 1
)

// MPS INTI flags, used by Override.Flags and the NMI entries (section
// 5.2.12, Interrupt Source Override structure). A "conforms" value means
// the bus's default: for ISA, active high and edge triggered.
const (
	PolarityMask      = 3 << 0
	PolarityConforms  = 0 << 0
	PolarityActiveHi  = 1 << 0
	PolarityActiveLow = 3 << 0
	TriggerMask       = 3 << 2
	TriggerConforms   = 0 << 2
	TriggerEdge       = 1 << 2
	TriggerLevel      = 3 << 2
)

// AllProcessors is the ProcessorUID of an LAPICNMI that applies to every
// processor (0xFF in the 8-bit form, 0xFFFFFFFF in the x2APIC form).
const AllProcessors = 0xFFFFFFFF

// MADT interrupt controller structure types (section 5.2.12).
const (
	madtLAPIC         = 0
	madtIOAPIC        = 1
	madtOverride      = 2
	madtNMISource     = 3
	madtLAPICNMI      = 4
	madtLAPICOverride = 5
	madtX2APIC        = 9
	madtX2APICNMI     = 10

	madtBodyStart = 44 // header, Local Interrupt Controller Address, Flags
)

// madtMinLen returns the length a known entry type must have at least.
// Longer entries are accepted so that later revisions may append fields.
func madtMinLen(typ uint8) (n int, known bool) {
	switch typ {
	case madtLAPIC, madtNMISource:
		return 8, true
	case madtIOAPIC, madtLAPICOverride, madtX2APICNMI:
		return 12, true
	case madtOverride:
		return 10, true
	case madtLAPICNMI:
		return 6, true
	case madtX2APIC:
		return 16, true
	}
	return 0, false
}

// MADT is the Multiple APIC Description Table (signature "APIC").
type MADT struct {
	// LAPICAddr is the local APIC's physical address: the 64-bit
	// override entry's if present, else the 32-bit header field.
	LAPICAddr uint64
	Flags     uint32 // MADTPCATCompat

	LAPICs     []LocalAPIC // processors, in table order (types 0 and 9)
	IOAPICs    []IOAPIC
	Overrides  []Override  // interrupt source overrides
	NMISources []NMISource // I/O APIC inputs wired to NMI
	LAPICNMIs  []LAPICNMI  // local APIC LINT pins wired to NMI (types 4 and 10)
}

// LocalAPIC is a processor's local APIC or x2APIC.
type LocalAPIC struct {
	ProcessorUID uint32
	APICID       uint32
	Flags        uint32 // LAPICEnabled, LAPICOnlineCapable
	X2APIC       bool   // from a type 9 entry
}

// IOAPIC is an I/O APIC whose inputs start at global system interrupt
// GSIBase.
type IOAPIC struct {
	ID      uint8
	Addr    uint32
	GSIBase uint32
}

// Override says that bus interrupt Source (bus 0 is ISA) is connected to
// GSI with the polarity and trigger mode in Flags.
type Override struct {
	Bus, Source uint8
	GSI         uint32
	Flags       uint16
}

// NMISource is a GSI that must be programmed as NMI.
type NMISource struct {
	Flags uint16
	GSI   uint32
}

// LAPICNMI is a local APIC LINT input (0 or 1) wired to NMI.
type LAPICNMI struct {
	ProcessorUID uint32 // AllProcessors for all
	Flags        uint16
	LINT         uint8
}

// ParseMADT decodes a complete MADT including its header. Any entry
// whose length is below 2, below its type's minimum, or past the end of
// the table rejects the whole table: once one length is wrong, every
// later entry boundary is a guess. Unknown entry types are skipped.
func ParseMADT(tbl []byte) (*MADT, error) {
	t, err := checkTable(tbl, "APIC", madtBodyStart)
	if err != nil {
		return nil, err
	}
	m := &MADT{LAPICAddr: uint64(le32(t, 36)), Flags: le32(t, 40)}
	// Each entry is at least 2 bytes, so this loop runs at most
	// len(t)/2 times.
	for off := madtBodyStart; off < len(t); {
		if len(t)-off < 2 {
			return nil, fmt.Errorf("%w: MADT entry header at offset %d is cut off", ErrMalformed, off)
		}
		typ, n := t[off], int(t[off+1])
		if n < 2 || n > len(t)-off {
			return nil, fmt.Errorf("%w: MADT entry at offset %d has length %d, %d bytes left", ErrMalformed, off, n, len(t)-off)
		}
		if min, known := madtMinLen(typ); known && n < min {
			return nil, fmt.Errorf("%w: MADT type %d entry at offset %d has length %d, need %d", ErrMalformed, typ, off, n, min)
		}
		m.add(typ, t[off:off+n])
		off += n
	}
	return m, nil
}

// add records entry e of type typ; its length was checked by ParseMADT.
func (m *MADT) add(typ uint8, e []byte) {
	switch typ {
	case madtLAPIC:
		m.LAPICs = append(m.LAPICs, LocalAPIC{ProcessorUID: uint32(e[2]), APICID: uint32(e[3]), Flags: le32(e, 4)})
	case madtIOAPIC:
		m.IOAPICs = append(m.IOAPICs, IOAPIC{ID: e[2], Addr: le32(e, 4), GSIBase: le32(e, 8)})
	case madtOverride:
		m.Overrides = append(m.Overrides, Override{Bus: e[2], Source: e[3], GSI: le32(e, 4), Flags: le16(e, 8)})
	case madtNMISource:
		m.NMISources = append(m.NMISources, NMISource{Flags: le16(e, 2), GSI: le32(e, 4)})
	case madtLAPICNMI:
		uid := uint32(e[2])
		if uid == 0xFF {
			uid = AllProcessors
		}
		m.LAPICNMIs = append(m.LAPICNMIs, LAPICNMI{ProcessorUID: uid, Flags: le16(e, 3), LINT: e[5]})
	case madtLAPICOverride:
		m.LAPICAddr = le64(e, 4)
	case madtX2APIC:
		m.LAPICs = append(m.LAPICs, LocalAPIC{ProcessorUID: le32(e, 12), APICID: le32(e, 4), Flags: le32(e, 8), X2APIC: true})
	case madtX2APICNMI:
		m.LAPICNMIs = append(m.LAPICNMIs, LAPICNMI{ProcessorUID: le32(e, 4), Flags: le16(e, 2), LINT: e[8]})
	}
}

// ISAToGSI maps ISA IRQ irq to the global system interrupt it arrives on
// and its electrical characteristics. Without an override for it the
// mapping is the identity, active high, edge triggered (the ISA
// defaults); an override's "conforms" polarity or trigger also means the
// ISA default. A nil MADT maps every IRQ by the defaults.
//
// Two IRQs can end up on one GSI: on QEMU, IRQ 0 is overridden to GSI 2,
// and ISA IRQ 2 (the 8259 cascade) is never used, so its identity
// mapping is harmless. Deciding what to do with such a collision is the
// caller's business.
func (m *MADT) ISAToGSI(irq uint8) (gsi uint32, activeLow, levelTriggered bool) {
	if m == nil {
		return uint32(irq), false, false
	}
	for _, o := range m.Overrides {
		if o.Bus != 0 || o.Source != irq {
			continue
		}
		return o.GSI, o.Flags&PolarityMask == PolarityActiveLow, o.Flags&TriggerMask == TriggerLevel
	}
	return uint32(irq), false, false
}
