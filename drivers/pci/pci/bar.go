package pci

import "fmt"

// BARKind is what a Base Address Register maps (PCI Local Bus 3.0
// §6.2.5.1).
type BARKind uint8

const (
	BARMemory32 BARKind = iota + 1 // memory, anywhere in the low 4 GiB
	BARMemory64                    // memory, anywhere; takes two slots
	BARIO                          // I/O port space
)

func (k BARKind) String() string {
	switch k {
	case BARMemory32:
		return "mem32"
	case BARMemory64:
		return "mem64"
	case BARIO:
		return "io"
	}
	return fmt.Sprintf("BARKind(%d)", uint8(k))
}

// BAR is one implemented Base Address Register. Size is a power of two and
// Base a multiple of it; Base+Size does not wrap. Base is what firmware
// assigned: zero may mean it assigned nothing.
type BAR struct {
	// Index is the BAR's slot, 0-5 (0-1 for a bridge); a 64-bit BAR
	// takes slots Index and Index+1.
	Index        int
	Kind         BARKind
	Prefetchable bool
	Base         uint64
	Size         uint64
}

// Low bits of a BAR (PCI Local Bus 3.0 §6.2.5.1, Figures 6-5 and 6-6).
const (
	barIO           = 0x1
	barMemTypeMask  = 0x6
	barMemType32    = 0x0
	barMemType64    = 0x4
	barPrefetchable = 0x8
	barMemFlags     = 0xf
	barIOFlags      = 0x3
)

// sizeBARs decodes the n BAR slots of c by the sizing protocol of PCI
// Local Bus 3.0 §6.2.5.1: write all ones to a BAR, read back which
// address bits stuck, restore the BAR. Decoding is turned off in the
// Command register meanwhile, as the spec's implementation note asks, so
// that the all-ones address cannot capture another device's cycles; the
// Command register is restored afterwards. Invalid BARs are described in
// f.Problems and left out.
func sizeBARs(c Config, n int, f *Function) []BAR {
	cmd := c.Read16(RegCommand)
	if decode := uint16(CmdIO | CmdMemory); cmd&decode != 0 {
		// 16-bit access: a 32-bit write at 0x04 would also write the
		// Status register, whose error bits clear when written with 1.
		c.Write16(RegCommand, cmd&^decode)
		defer c.Write16(RegCommand, cmd)
	}
	var bars []BAR
	for i := 0; i < n; i++ {
		off := uint16(RegBAR0 + 4*i)
		orig, got := probeBAR(c, off)
		if orig == 0 && got == 0 {
			continue // not implemented: every bit hardwired to zero
		}
		if orig&barIO != 0 {
			if b, ok := decodeIO(i, orig, got, f); ok {
				bars = append(bars, b)
			}
			continue
		}
		if got&barMemFlags != orig&barMemFlags {
			f.problem("BAR%d: read-only type bits changed from %#x to %#x when sized; ignored", i, orig&barMemFlags, got&barMemFlags)
			continue
		}
		switch orig & barMemTypeMask {
		case barMemType32:
			if b, ok := decodeMem(i, BARMemory32, uint64(orig), uint64(got), f); ok {
				bars = append(bars, b)
			}
		case barMemType64:
			if i+1 >= n {
				f.problem("BAR%d: 64-bit BAR in the last slot; ignored", i)
				continue
			}
			origHi, gotHi := probeBAR(c, off+4)
			if b, ok := decodeMem(i, BARMemory64, uint64(origHi)<<32|uint64(orig), uint64(gotHi)<<32|uint64(got), f); ok {
				bars = append(bars, b)
			}
			i++
		default:
			f.problem("BAR%d: reserved memory type %#x; ignored", i, (orig&barMemTypeMask)>>1)
		}
	}
	return bars
}

// probeBAR sizes the BAR dword at off: it returns the value found there
// and what read back after writing all ones, and restores the former.
func probeBAR(c Config, off uint16) (orig, got uint32) {
	orig = c.Read32(off)
	c.Write32(off, 0xffffffff)
	got = c.Read32(off)
	c.Write32(off, orig)
	return orig, got
}

// decodeMem decodes a memory BAR from its 64-bit value and read-back.
func decodeMem(i int, kind BARKind, orig, got uint64, f *Function) (BAR, bool) {
	b := BAR{Index: i, Kind: kind, Prefetchable: orig&barPrefetchable != 0, Base: orig &^ barMemFlags}
	mask := got &^ barMemFlags
	if mask == 0 {
		f.problem("BAR%d: no address bit is writable; ignored", i)
		return BAR{}, false
	}
	if kind == BARMemory32 {
		// The upper half taken as all ones, as if those address bits
		// were writable, so that one formula sizes both kinds.
		mask |= 0xffffffff00000000
	}
	b.Size = ^mask + 1
	return b, checkBAR(b, f)
}

func decodeIO(i int, orig, got uint32, f *Function) (BAR, bool) {
	if got&barIO == 0 {
		f.problem("BAR%d: read-only I/O bit cleared when sized; ignored", i)
		return BAR{}, false
	}
	mask := got &^ barIOFlags
	if mask == 0 {
		f.problem("BAR%d: no address bit is writable; ignored", i)
		return BAR{}, false
	}
	if mask>>16 == 0 {
		// A function decoding only 16 bits of I/O address may hardwire
		// the upper half to zero (§6.2.5.1).
		mask |= 0xffff0000
	}
	b := BAR{Index: i, Kind: BARIO, Base: uint64(orig &^ barIOFlags), Size: uint64(^mask + 1)}
	return b, checkBAR(b, f)
}

// checkBAR reports whether b is consistent: a power-of-two size, a base
// aligned to it, and a range that neither wraps nor leaves the address
// space of its kind.
func checkBAR(b BAR, f *Function) bool {
	limit := uint64(1) << 32
	if b.Kind == BARMemory64 {
		limit = 0 // the whole 64-bit space: checked by wrap-around
	}
	switch {
	case b.Size == 0 || b.Size&(b.Size-1) != 0:
		f.problem("BAR%d: size %#x is not a power of two; ignored", b.Index, b.Size)
	case b.Base&(b.Size-1) != 0:
		f.problem("BAR%d: base %#x is not aligned to its size %#x; ignored", b.Index, b.Base, b.Size)
	case b.Base+b.Size-1 < b.Base || (limit != 0 && b.Base+b.Size > limit):
		f.problem("BAR%d: %#x bytes at %#x run past the end of %v space; ignored", b.Index, b.Size, b.Base, b.Kind)
	default:
		return true
	}
	return false
}
