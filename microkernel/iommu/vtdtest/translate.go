package vtdtest

// Fault reason codes (VT-d rev 3.x §7.1.3, legacy mode).
const (
	FaultRootNotPresent    = 0x1
	FaultContextNotPresent = 0x2
	FaultContextInvalid    = 0x3
	FaultBeyondAW          = 0x4
	FaultWrite             = 0x5
	FaultRead              = 0x6
	FaultPagingAccess      = 0x7
	FaultRootAccess        = 0x8
	FaultContextAccess     = 0x9
	FaultRootReserved      = 0xa
	FaultContextReserved   = 0xb
	FaultPagingReserved    = 0xc
)

// ignored are the second-level entry bits the unit ignores: 63 and 61:52.
const ignored = 0xbff0_0000_0000_0000

// Translate is what the unit does with a DMA request from bus:dev.fn to
// iova (§3, §9): with translation off the request passes untranslated;
// otherwise the context entry (cached, or read through the root table)
// names a domain and its second-level tables, the IOTLB is consulted,
// and the tables are walked, each level needing the request's access
// right. A failing request is recorded in the fault recording registers
// unless the context entry disables fault processing, and its reason
// returned (pa 0).
func (u *Unit) Translate(bus, dev, fn uint8, iova uint64, write bool) (pa uint64, fault uint8) {
	if !u.Enabled() {
		return iova, 0
	}
	sid := uint16(bus)<<8 | uint16(dev&31)<<3 | uint16(fn&7)
	pa, fault, fpd := u.translate(sid, iova, write)
	if fault != 0 && !fpd {
		u.Record(sid, iova, fault, write)
	}
	return pa, fault
}

func (u *Unit) haw() uint64 { return 1<<(u.Cap>>16&0x3f+1) - 1 }

func (u *Unit) translate(sid uint16, iova uint64, write bool) (pa uint64, fault uint8, fpd bool) {
	ce, fault := u.context(sid)
	if fault != 0 {
		return 0, fault, false
	}
	fpd = ce.lo&2 != 0
	did := uint16(ce.hi >> 8)
	aw := ce.hi & 7
	if ce.lo>>2&3 != 0 || aw > 4 || u.Cap>>(8+aw)&1 == 0 {
		return 0, FaultContextInvalid, fpd // only TT 00b is modelled
	}
	width := min(30+9*aw, u.Cap>>16&0x3f+1)
	if iova>>width != 0 {
		return 0, FaultBeyondAW, fpd
	}
	if e, ok := u.tlb[tlbKey{did, iova >> 12}]; ok {
		if write && !e.write {
			return 0, FaultWrite, fpd
		}
		return e.pa | iova&0xfff, 0, fpd
	}
	need, denied := uint64(1), uint8(FaultRead)
	if write {
		need, denied = 2, FaultWrite
	}
	table := ce.lo & u.haw() &^ 0xfff
	for level := int(aw) + 2; level >= 1; level-- {
		e, ok := u.Mem.read(table + (iova>>(12+9*(level-1))&511)*8)
		if !ok {
			return 0, FaultPagingAccess, fpd
		}
		if e&need == 0 {
			return 0, denied, fpd
		}
		// Bit 11 is reserved without snoop control, bit 7 (PS) too
		// above the last level since no large pages are modelled, as
		// are address bits above the host address width and bit 62.
		rsvd := uint64(0x800) | ^(u.haw() | ignored | 0xfff)
		if level > 1 {
			rsvd |= 0x80
		}
		if e&rsvd != 0 {
			return 0, FaultPagingReserved, fpd
		}
		table = e & u.haw() &^ 0xfff
		if level == 1 {
			u.tlb[tlbKey{did, iova >> 12}] = tlbEntry{table, e&2 != 0}
		}
	}
	return table | iova&0xfff, 0, fpd
}

// context returns the context entry of sid, from the context cache or
// the tables (§9.1, §9.3). In caching mode a not-present entry is cached
// too, under domain id 0, as the hardware may (§6.1).
func (u *Unit) context(sid uint16) (ctxEntry, uint8) {
	if c, ok := u.ctxCache[sid]; ok {
		if c.lo&1 == 0 {
			return c, FaultContextNotPresent
		}
		return c, 0
	}
	bus, devfn := uint64(sid>>8), uint64(sid&0xff)
	rlo, ok1 := u.Mem.read(u.root + bus*16)
	rhi, ok2 := u.Mem.read(u.root + bus*16 + 8)
	switch {
	case !ok1 || !ok2:
		return ctxEntry{}, FaultRootAccess
	case rlo&1 == 0:
		return ctxEntry{}, FaultRootNotPresent
	case rhi != 0 || rlo&(0xffe|^u.haw()) != 0:
		return ctxEntry{}, FaultRootReserved
	}
	ctp := rlo & u.haw() &^ 0xfff
	lo, ok1 := u.Mem.read(ctp + devfn*16)
	hi, ok2 := u.Mem.read(ctp + devfn*16 + 8)
	c := ctxEntry{lo, hi}
	switch {
	case !ok1 || !ok2:
		return ctxEntry{}, FaultContextAccess
	case lo&1 == 0:
		if u.Cap>>7&1 != 0 {
			u.ctxCache[sid] = ctxEntry{}
		}
		return c, FaultContextNotPresent
	case lo&(0xff0|^u.haw()) != 0 || hi&0xffff_ffff_ff00_0080 != 0:
		return ctxEntry{}, FaultContextReserved
	}
	u.ctxCache[sid] = c
	return c, 0
}

// Record logs a fault as primary fault logging does (§7.2.1): into the
// next fault recording register unless fault overflow is pending or that
// register is still full (then FSTS.PFO is set), updating FSTS.PPF and
// FRI, and signalling a fault event unless FECTL.IM masks it.
func (u *Unit) Record(sid uint16, addr uint64, reason uint8, write bool) {
	hi := frF | uint64(reason)<<32 | uint64(sid)
	if !write {
		hi |= frT
	}
	u.InjectRaw(addr&^0xfff, hi)
}

// InjectRaw stores a raw fault record (lo, hi; hi's F bit is forced on)
// as the next one, with the same bookkeeping as Record.
func (u *Unit) InjectRaw(lo, hi uint64) {
	u.frcdAt(u.fro()) // allocate the records
	if u.fsts&fstsPFO != 0 {
		return
	}
	if u.frcd[u.next][1]&frF != 0 {
		u.fsts |= fstsPFO
		return
	}
	u.frcd[u.next] = [2]uint64{lo, hi | frF}
	if u.fsts&fstsPPF == 0 {
		u.fsts = u.fsts&^0xff00 | uint32(u.next)<<8 | fstsPPF
		if u.fectl&fectlIM == 0 {
			u.Interrupts++
		} else {
			u.fectl |= fectlIP
		}
	}
	u.next = (u.next + 1) % len(u.frcd)
}

func (u *Unit) clearFault(i int) {
	u.frcd[i][1] &^= frF
	for _, r := range u.frcd {
		if r[1]&frF != 0 {
			return
		}
	}
	u.fsts &^= fstsPPF
}
