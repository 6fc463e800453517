package iommu

import "fmt"

// Reason is a fault reason code (FR) of a fault record. The names are
// those of the legacy-mode (root and context table) translation faults,
// VT-d rev 3.x §7.1.3, and the interrupt-remapping faults.
type Reason uint8

// Fault reasons for legacy-mode translation.
const (
	ReasonRootNotPresent      Reason = 0x1 // the root entry of the bus is not present
	ReasonContextNotPresent   Reason = 0x2 // the function's context entry is not present: not attached
	ReasonContextInvalid      Reason = 0x3 // the context entry is programmed wrongly (AW or TT unsupported)
	ReasonAddressBeyondMGAW   Reason = 0x4 // the address is beyond the domain's address width
	ReasonWrite               Reason = 0x5 // write to a page not mapped writable (or not mapped)
	ReasonRead                Reason = 0x6 // read of a page not mapped
	ReasonPagingEntryAccess   Reason = 0x7 // a paging entry could not be read
	ReasonRootTableAccess     Reason = 0x8 // the root entry could not be read
	ReasonContextTableAccess  Reason = 0x9 // the context entry could not be read
	ReasonRootReserved        Reason = 0xa // reserved bits set in a present root entry
	ReasonContextReserved     Reason = 0xb // reserved bits set in a present context entry
	ReasonPagingEntryReserved Reason = 0xc // reserved bits set in a present paging entry
	ReasonTranslationType     Reason = 0xd // the context entry's translation type blocks the request
)

var reasonNames = map[Reason]string{
	ReasonRootNotPresent:      "root entry not present",
	ReasonContextNotPresent:   "context entry not present",
	ReasonContextInvalid:      "context entry invalid",
	ReasonAddressBeyondMGAW:   "address beyond the address width",
	ReasonWrite:               "write not permitted",
	ReasonRead:                "read not permitted",
	ReasonPagingEntryAccess:   "paging entry not readable",
	ReasonRootTableAccess:     "root table not readable",
	ReasonContextTableAccess:  "context table not readable",
	ReasonRootReserved:        "root entry reserved bits set",
	ReasonContextReserved:     "context entry reserved bits set",
	ReasonPagingEntryReserved: "paging entry reserved bits set",
	ReasonTranslationType:     "request blocked by translation type",
	0x20:                      "interrupt request reserved fields set",
	0x21:                      "interrupt index beyond the table",
	0x22:                      "interrupt remapping entry not present",
	0x23:                      "interrupt remapping table not readable",
	0x24:                      "interrupt remapping entry reserved bits set",
	0x25:                      "compatibility-format interrupt blocked",
	0x26:                      "interrupt source id check failed",
}

func (r Reason) String() string {
	if s, ok := reasonNames[r]; ok {
		return s
	}
	return fmt.Sprintf("fault reason %#02x", uint8(r))
}

// Fault is a decoded fault record (§10.4.14): which function's request
// to which page failed, and why.
type Fault struct {
	Bus, Device, Function uint8
	Addr                  uint64 // the page address of the request (bits 11:0 are not recorded)
	Reason                Reason
	Write                 bool // a write request (T 0); false for reads
}

func (f Fault) String() string {
	rw := "read"
	if f.Write {
		rw = "write"
	}
	return fmt.Sprintf("%02x:%02x.%x %s at %#x: %v", f.Bus, f.Device, f.Function, rw, f.Addr, f.Reason)
}

// Fault record fields, counted in the high 64 bits (record bits 127:64).
const (
	frcdF      = 1 << 63 // fault: the record is valid; write 1 to clear
	frcdT      = 1 << 62 // type: 1 read, 0 write
	frcdFRMask = 0xff << 32
)

// DecodeFault decodes a fault recording register from its low and high
// 64 bits. ok is false if the F bit is clear: the record holds nothing.
func DecodeFault(lo, hi uint64) (f Fault, ok bool) {
	sid := uint16(hi)
	return Fault{
		Bus:      uint8(sid >> 8),
		Device:   uint8(sid >> 3 & 31),
		Function: uint8(sid & 7),
		Addr:     lo &^ 0xfff,
		Reason:   Reason(hi & frcdFRMask >> 32),
		Write:    hi&frcdT == 0,
	}, hi&frcdF != 0
}

// Faults appends to buf every fault the unit has recorded and clears
// each record, so the unit can record more (§7.2.1: primary fault
// logging). overflow reports that faults were lost because every record
// was full (FSTS.PFO), which it also clears. It reads FSTS and, only if
// a fault is pending, each of the CAP.NFR records starting at FSTS.FRI.
func (u *Unit) Faults(buf []Fault) (faults []Fault, overflow bool) {
	if u.Cap.FRO == 0 { // not probed
		return buf, false
	}
	fsts := u.regs.Read32(RegFSTS)
	if fsts&FSTSPPF != 0 {
		n := u.Cap.NFR
		i := fsts >> fstsFRIShift & 0xff
		if i >= n {
			i = 0
		}
		for range n {
			off := u.Cap.FRO + i*FaultRecordSize
			hi := u.regs.Read64(off + 8)
			if f, ok := DecodeFault(u.regs.Read64(off), hi); ok {
				buf = append(buf, f)
				u.regs.Write32(off+12, 1<<31) // F is write-1-to-clear
			}
			i = (i + 1) % n
		}
	}
	if fsts&FSTSPFO != 0 {
		u.regs.Write32(RegFSTS, FSTSPFO)
		overflow = true
	}
	return buf, overflow
}
