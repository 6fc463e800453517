package vtdtest

import "fmt"

// Register values QEMU 7.2's `-device intel-iommu` reports on q35.
const (
	QEMUVersion = 0x10
	QEMUCap     = 0x00d2008c22260206
	QEMUECap    = 0x0000000000f00f4a
)

// Register offsets and bits, from VT-d rev 3.x §10.4.
const (
	offVER, offCAP, offECAP          = 0x00, 0x08, 0x10
	offGCMD, offGSTS, offRTADDR      = 0x18, 0x1c, 0x20
	offCCMD, offFSTS, offFECTL       = 0x28, 0x34, 0x38
	offFEDATA, offFEADDR, offFEUADDR = 0x3c, 0x40, 0x44

	bitTE, bitSRTP, bitWBF, bitQIE = 1 << 31, 1 << 30, 1 << 27, 1 << 26
	bitICC, bitIVT                 = 1 << 63, 1 << 63
	fstsPFO, fstsPPF               = 1 << 0, 1 << 1
	fstsW1C                        = 0x7d // PFO, AFO, APF, IQE, ICE, ITE
	fectlIM, fectlIP               = 1 << 31, 1 << 30
	frF, frT                       = 1 << 63, 1 << 62
)

// Unit is a fake remapping unit. Its zero value is not usable; see New.
type Unit struct {
	Mem            *Mem
	Ver            uint32
	Cap, ECap      uint64 // set before the first access; New gives QEMU's
	IgnoreCommands uint32 // GCMD bits the unit never acknowledges
	Stuck          bool   // CCMD.ICC and IOTLB.IVT never clear
	Refuse         bool   // invalidations complete without being performed (granularity 0)

	// Log records commands and invalidations in order, e.g. "GCMD
	// 0x80000000", "CCMD device did=0 sid=0x10", "IOTLB page did=1
	// addr=0x5000".
	Log []string
	// Errs records accesses a driver should not make: unknown offsets,
	// wrong widths, writes to read-only registers.
	Errs []string
	// Interrupts counts fault events signalled while unmasked.
	Interrupts int

	gsts                    uint32
	rtaddr, root            uint64
	ccmd, iva, iotlb        uint64
	fsts, fectl             uint32
	fedata, feaddr, feuaddr uint32
	frcd                    [][2]uint64
	next                    int

	ctxCache map[uint16]ctxEntry
	tlb      map[tlbKey]tlbEntry
}

type ctxEntry struct{ lo, hi uint64 }

type tlbKey struct {
	did  uint16
	page uint64
}

type tlbEntry struct {
	pa    uint64
	write bool
}

// New returns a unit like QEMU's, its tables in mem.
func New(mem *Mem) *Unit {
	return &Unit{Mem: mem, Ver: QEMUVersion, Cap: QEMUCap, ECap: QEMUECap, fectl: fectlIM,
		ctxCache: map[uint16]ctxEntry{}, tlb: map[tlbKey]tlbEntry{}}
}

func (u *Unit) fro() uint32 { return uint32(u.Cap>>24&0x3ff) * 16 }
func (u *Unit) nfr() int    { return int(u.Cap>>40&0xff) + 1 }
func (u *Unit) iro() uint32 { return uint32(u.ECap>>8&0x3ff) * 16 }

// Enabled reports whether translation is on (GSTS.TES).
func (u *Unit) Enabled() bool { return u.gsts&bitTE != 0 }

// Root returns the root table address latched by the last SRTP.
func (u *Unit) Root() uint64 { return u.root }

func (u *Unit) errf(format string, args ...any) {
	u.Errs = append(u.Errs, fmt.Sprintf(format, args...))
}

// frcdAt returns the fault record and half (0 low, 1 high) at off.
func (u *Unit) frcdAt(off uint32) (i, half int, ok bool) {
	if u.frcd == nil {
		u.frcd = make([][2]uint64, u.nfr())
	}
	if off < u.fro() || off >= u.fro()+uint32(len(u.frcd))*16 {
		return 0, 0, false
	}
	return int(off-u.fro()) / 16, int(off-u.fro()) % 16 / 8, true
}

// Read32 implements iommu.Regs.
func (u *Unit) Read32(off uint32) uint32 {
	switch off {
	case offVER:
		return u.Ver
	case offGSTS:
		return u.gsts
	case offFSTS:
		return u.fsts
	case offFECTL:
		return u.fectl
	case offFEDATA:
		return u.fedata
	case offFEADDR:
		return u.feaddr
	case offFEUADDR:
		return u.feuaddr
	}
	if i, half, ok := u.frcdAt(off &^ 7); ok {
		return uint32(u.frcd[i][half] >> (32 * (off >> 2 & 1)))
	}
	u.errf("Read32(%#x)", off)
	return 0
}

// Read64 implements iommu.Regs.
func (u *Unit) Read64(off uint32) uint64 {
	switch off {
	case offCAP:
		return u.Cap
	case offECAP:
		return u.ECap
	case offRTADDR:
		return u.rtaddr
	case offCCMD:
		return u.ccmd
	case u.iro():
		return u.iva
	case u.iro() + 8:
		return u.iotlb
	}
	if i, half, ok := u.frcdAt(off); ok && off%8 == 0 {
		return u.frcd[i][half]
	}
	u.errf("Read64(%#x)", off)
	return 0
}

// Write32 implements iommu.Regs.
func (u *Unit) Write32(off uint32, v uint32) {
	switch off {
	case offGCMD:
		u.command(v)
	case offFSTS:
		u.fsts &^= v & fstsW1C
	case offFECTL:
		u.fectl = u.fectl&^fectlIM | v&fectlIM
	case offFEDATA:
		u.fedata = v
	case offFEADDR:
		u.feaddr = v
	case offFEUADDR:
		u.feuaddr = v
	default:
		if i, half, ok := u.frcdAt(off &^ 7); ok && half == 1 && off%8 == 4 {
			if v&(1<<31) != 0 {
				u.clearFault(i)
			}
			return
		}
		u.errf("Write32(%#x, %#x)", off, v)
	}
}

// Write64 implements iommu.Regs.
func (u *Unit) Write64(off uint32, v uint64) {
	switch off {
	case offRTADDR:
		u.rtaddr = v
	case offCCMD:
		u.contextCommand(v)
	case u.iro():
		u.iva = v
	case u.iro() + 8:
		u.iotlbCommand(v)
	default:
		if i, half, ok := u.frcdAt(off); ok && half == 1 && off%8 == 0 {
			if v&frF != 0 {
				u.clearFault(i)
			}
			return
		}
		u.errf("Write64(%#x, %#x)", off, v)
	}
}

// command acts on a GCMD write: enables follow their bits, one-shot
// commands act when their bit is set (§10.4.4, §10.4.5).
func (u *Unit) command(v uint32) {
	u.Log = append(u.Log, fmt.Sprintf("GCMD %#x", v))
	ack := func(bit uint32) bool { return u.IgnoreCommands&bit == 0 }
	for _, bit := range []uint32{bitTE, bitQIE} {
		if v&bit != u.gsts&bit && ack(bit) {
			u.gsts ^= bit
		}
	}
	if v&bitSRTP != 0 {
		u.gsts &^= bitSRTP
		if ack(bitSRTP) {
			u.root = u.rtaddr &^ 0xfff
			u.gsts |= bitSRTP
		}
	}
	if v&bitWBF != 0 && !ack(bitWBF) {
		u.gsts |= bitWBF // WBFS stays set: the flush never completes
	}
}

// contextCommand performs a context-cache invalidation (§10.4.7).
func (u *Unit) contextCommand(v uint64) {
	if v&bitICC == 0 {
		u.ccmd = v
		return
	}
	gran, did, sid, fm := v>>61&3, uint16(v), uint16(v>>16), v>>32&3
	u.Log = append(u.Log, fmt.Sprintf("CCMD %s did=%d sid=%#x", granName[gran], did, sid))
	if u.Stuck {
		u.ccmd = v
		return
	}
	if u.Refuse {
		gran = 0
	}
	mask := ^uint16(0) << fm // FM masks the low function bits
	for k, c := range u.ctxCache {
		if gran == 1 || gran == 2 && uint16(c.hi>>8) == did || gran == 3 && k&mask == sid&mask {
			delete(u.ctxCache, k)
		}
	}
	u.ccmd = v&^(bitICC|3<<59) | gran<<59
}

var granName = [4]string{"none", "global", "domain", "device"}

// iotlbCommand performs an IOTLB invalidation (§10.4.8).
func (u *Unit) iotlbCommand(v uint64) {
	if v&bitIVT == 0 {
		u.iotlb = v
		return
	}
	gran, did := v>>60&3, uint16(v>>32)
	addr, am := u.iva&^0xfff, u.iva&0x3f
	name := [4]string{"none", "global", "domain", "page"}[gran]
	if gran == 3 {
		u.Log = append(u.Log, fmt.Sprintf("IOTLB page did=%d addr=%#x", did, addr))
	} else {
		u.Log = append(u.Log, fmt.Sprintf("IOTLB %s did=%d", name, did))
	}
	if u.Stuck {
		u.iotlb = v
		return
	}
	psi := u.Cap>>39&1 != 0
	maxAM := u.Cap >> 48 & 0x3f
	switch {
	case u.Refuse, gran == 0, gran == 3 && psi && (am > maxAM || addr&(1<<(12+am)-1) != 0):
		gran = 0
	case gran == 3 && !psi:
		gran = 2 // the unit may invalidate more than asked, and says so
	}
	for k := range u.tlb {
		if gran == 1 || gran == 2 && k.did == did || gran == 3 && k.did == did && k.page>>am == addr>>12>>am {
			delete(u.tlb, k)
		}
	}
	u.iotlb = v&^(bitIVT|3<<57) | gran<<57
}
