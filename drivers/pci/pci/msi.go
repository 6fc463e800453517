package pci

import (
	"errors"
	"fmt"
)

// ErrNotCapable is returned (wrapped) when a function lacks the
// capability an operation needs.
var ErrNotCapable = errors.New("function lacks the capability")

// Message is what a function writes to raise a message-signalled
// interrupt: Data to Addr (PCI Local Bus 3.0 §6.8). On x86 both come from
// the kernel's interrupt allocation (Intel SDM vol. 3, "Message Signalled Interrupts").
type Message struct {
	Addr uint64
	Data uint32
}

// MSI is a valid MSI capability (PCI Local Bus 3.0 §6.8.1).
type MSI struct {
	Offset uint16
	// Addr64 is whether the function can write a 64-bit address.
	Addr64 bool
	// PerVectorMask is whether there are Mask Bits and Pending Bits.
	PerVectorMask bool
	// Vectors is the Multiple Message Capable count: 1, 2, 4, 8, 16 or 32.
	Vectors int
}

// MSI registers and Message Control bits (PCI Local Bus 3.0 §6.8.1).
const (
	msiControl = 0x02
	msiAddr    = 0x04
	msiAddrHi  = 0x08 // 64-bit layout only
	msiData32  = 0x08
	msiData64  = 0x0c
	msiMask32  = 0x0c
	msiMask64  = 0x10

	msiEnable    = 1 << 0
	msiMMCShift  = 1
	msiMMEShift  = 4
	msiMMEMask   = 0x7 << msiMMEShift
	msiAddr64Cap = 1 << 7
	msiMaskCap   = 1 << 8
)

func decodeMSI(c Config, f *Function, off uint16) *MSI {
	ctrl := c.Read16(off + msiControl)
	m := &MSI{Offset: off, Addr64: ctrl&msiAddr64Cap != 0, PerVectorMask: ctrl&msiMaskCap != 0}
	mmc := (ctrl >> msiMMCShift) & 0x7
	if mmc > 5 {
		f.problem("MSI capability at %#02x: reserved Multiple Message Capable %d; ignored", off, mmc)
		return nil
	}
	m.Vectors = 1 << mmc
	size := 10 // header, control, address, data
	if m.Addr64 {
		size += 4
	}
	if m.PerVectorMask {
		size += 10 // 2 reserved bytes after data, mask and pending
	}
	if !fits(f, "MSI", off, size) {
		return nil
	}
	return m
}

// MSIX is a valid MSI-X capability (PCI Local Bus 3.0 §6.8.2). The table
// and the Pending Bit Array lie inside implemented memory BARs of the
// function (TableBIR and PBABIR name them by slot) and do not overlap.
type MSIX struct {
	Offset uint16
	// TableSize is the number of table entries, 1-2048.
	TableSize   int
	TableBIR    uint8
	TableOffset uint32
	PBABIR      uint8
	PBAOffset   uint32
}

// MSI-X registers, Message Control bits and table layout (PCI Local Bus
// 3.0 §6.8.2.3-9).
const (
	msixControl      = 0x02
	msixTable        = 0x04
	msixPBA          = 0x08
	msixCapSize      = 12
	msixSizeMask     = 0x7ff
	msixFunctionMask = 1 << 14
	msixEnable       = 1 << 15
	msixBIRMask      = 0x7

	msixEntrySize   = 16
	msixEntryAddr   = 0x0
	msixEntryAddrHi = 0x4
	msixEntryData   = 0x8
	msixEntryCtrl   = 0xc
	msixEntryMasked = 1 << 0
)

func decodeMSIX(c Config, f *Function, off uint16) *MSIX {
	if !fits(f, "MSI-X", off, msixCapSize) {
		return nil
	}
	ctrl := c.Read16(off + msixControl)
	table, pba := c.Read32(off+msixTable), c.Read32(off+msixPBA)
	m := &MSIX{
		Offset:      off,
		TableSize:   int(ctrl&msixSizeMask) + 1,
		TableBIR:    uint8(table & msixBIRMask),
		TableOffset: table &^ msixBIRMask,
		PBABIR:      uint8(pba & msixBIRMask),
		PBAOffset:   pba &^ msixBIRMask,
	}
	tableLen := uint64(m.TableSize) * msixEntrySize
	pbaLen := uint64((m.TableSize+63)/64) * 8 // one bit an entry, in qwords
	if !msixRegionOK(f, "table", m.TableBIR, m.TableOffset, tableLen) ||
		!msixRegionOK(f, "PBA", m.PBABIR, m.PBAOffset, pbaLen) {
		return nil
	}
	if m.TableBIR == m.PBABIR {
		t0, p0 := uint64(m.TableOffset), uint64(m.PBAOffset)
		if t0 < p0+pbaLen && p0 < t0+tableLen {
			f.problem("MSI-X table %#x+%#x and PBA %#x+%#x overlap in BAR%d; capability ignored",
				t0, tableLen, p0, pbaLen, m.TableBIR)
			return nil
		}
	}
	return m
}

// msixRegionOK checks that length bytes at off of BAR bir are inside an
// implemented memory BAR.
func msixRegionOK(f *Function, what string, bir uint8, off uint32, length uint64) bool {
	if bir > 5 {
		f.problem("MSI-X %s BIR %d is reserved; capability ignored", what, bir)
		return false
	}
	b, ok := f.BAR(int(bir))
	if !ok || b.Kind == BARIO {
		f.problem("MSI-X %s is in BAR%d, which is not a valid memory BAR; capability ignored", what, bir)
		return false
	}
	if uint64(off)+length > b.Size {
		f.problem("MSI-X %s (%#x bytes at %#x) runs past the end of BAR%d (%#x bytes); capability ignored",
			what, length, off, bir, b.Size)
		return false
	}
	return true
}

func checkMessage(msg Message, addr64 bool) error {
	if msg.Addr&3 != 0 {
		return fmt.Errorf("message address %#x is not dword-aligned", msg.Addr)
	}
	if !addr64 && msg.Addr>>32 != 0 {
		return fmt.Errorf("message address %#x does not fit in 32 bits", msg.Addr)
	}
	return nil
}

// EnableMSI programs the function's MSI capability to send vectors
// interrupts (a power of two, at most MSI.Vectors) as msg.Data,
// msg.Data+1, ... to msg.Addr, and enables it, turning off MSI-X first
// (PCI Local Bus 3.0 §6.8.1: at most one may be enabled). msg.Data must
// fit the 16-bit Message Data register, with its low log2(vectors) bits
// clear, for the function sets them to the vector number. The caller
// must also EnableBusMaster: a message is a memory write.
func (f *Function) EnableMSI(c Config, msg Message, vectors int) error {
	m := f.MSI
	if m == nil {
		return fmt.Errorf("pci: %v: MSI: %w", f.Addr, ErrNotCapable)
	}
	if vectors < 1 || vectors > m.Vectors || vectors&(vectors-1) != 0 {
		return fmt.Errorf("pci: %v: MSI: %d vectors asked for; capable of %d", f.Addr, vectors, m.Vectors)
	}
	if err := checkMessage(msg, m.Addr64); err != nil {
		return fmt.Errorf("pci: %v: MSI: %w", f.Addr, err)
	}
	if msg.Data > 0xffff || msg.Data&uint32(vectors-1) != 0 {
		return fmt.Errorf("pci: %v: MSI: data %#x is not 16 bits with its low %d bits clear", f.Addr, msg.Data, log2(vectors))
	}
	f.DisableMSIX(c)
	ctrl := c.Read16(m.Offset+msiControl) &^ (msiEnable | msiMMEMask)
	c.Write16(m.Offset+msiControl, ctrl) // off while it is programmed
	c.Write32(m.Offset+msiAddr, uint32(msg.Addr))
	data, mask := uint16(msiData32), uint16(msiMask32)
	if m.Addr64 {
		c.Write32(m.Offset+msiAddrHi, uint32(msg.Addr>>32))
		data, mask = msiData64, msiMask64
	}
	c.Write16(m.Offset+data, uint16(msg.Data))
	if m.PerVectorMask {
		// Unmask the vectors used; keep the others masked.
		c.Write32(m.Offset+mask, ^uint32(0)<<vectors)
	}
	c.Write16(m.Offset+msiControl, ctrl|uint16(log2(vectors))<<msiMMEShift|msiEnable)
	return nil
}

// DisableMSI turns MSI off, if the function has it.
func (f *Function) DisableMSI(c Config) {
	if m := f.MSI; m != nil {
		c.Write16(m.Offset+msiControl, c.Read16(m.Offset+msiControl)&^msiEnable)
	}
}

func log2(n int) int {
	l := 0
	for n > 1 {
		n >>= 1
		l++
	}
	return l
}
