package amd64

// The I/O APIC (82093AA datasheet §3.2): an index register at offset 0 and a
// data window at offset 0x10 give access to the version register and to one
// 64-bit redirection entry per global system interrupt (GSI).
const (
	ioapicIndex  = 0x00
	ioapicData   = 0x10
	ioapicVer    = 0x01
	ioapicRedTbl = 0x10

	RedirMasked    = 1 << 16
	RedirLevel     = 1 << 15
	RedirActiveLow = 1 << 13
)

// IOAPIC is an I/O APIC mapped at a virtual address, serving GSIs from
// GSIBase.
type IOAPIC struct {
	Base    uintptr
	GSIBase uint32
}

func (a IOAPIC) read(reg uint32) uint32 {
	MMIOWrite32(a.Base+ioapicIndex, reg)
	return MMIORead32(a.Base + ioapicData)
}

func (a IOAPIC) write(reg, v uint32) {
	MMIOWrite32(a.Base+ioapicIndex, reg)
	MMIOWrite32(a.Base+ioapicData, v)
}

// Entries returns the number of redirection entries.
func (a IOAPIC) Entries() int { return int(a.read(ioapicVer)>>16&0xFF) + 1 }

// Route sends GSI gsi to vector on the CPU with APIC ID dest, with the given
// trigger and polarity flags (RedirLevel, RedirActiveLow). It reports whether
// this I/O APIC serves gsi.
func (a IOAPIC) Route(gsi uint32, vector uint8, flags uint32, dest uint8) bool {
	if gsi < a.GSIBase || int(gsi-a.GSIBase) >= a.Entries() {
		return false
	}
	n := gsi - a.GSIBase
	a.write(ioapicRedTbl+2*n+1, uint32(dest)<<24)
	a.write(ioapicRedTbl+2*n, uint32(vector)|flags)
	return true
}

// MaskAll masks every redirection entry, so only interrupts the kernel routes
// explicitly arrive.
func (a IOAPIC) MaskAll() {
	for n := 0; n < a.Entries(); n++ {
		a.write(ioapicRedTbl+2*uint32(n), RedirMasked)
	}
}

// SetMasked masks or unmasks the input for gsi, keeping its vector and
// flags; it reports whether this I/O APIC serves gsi. Interrupts must be
// off: the index/data pair is shared with the trap handlers.
func (a IOAPIC) SetMasked(gsi uint32, masked bool) bool {
	if gsi < a.GSIBase || int(gsi-a.GSIBase) >= a.Entries() {
		return false
	}
	reg := ioapicRedTbl + 2*(gsi-a.GSIBase)
	v := a.read(reg)
	if masked {
		v |= RedirMasked
	} else {
		v &^= RedirMasked
	}
	a.write(reg, v)
	return true
}
