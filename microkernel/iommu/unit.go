package iommu

import (
	"errors"
	"fmt"
)

// Sentinel errors. Errors from this package wrap one of them.
var (
	ErrUnsupported  = errors.New("iommu: unsupported hardware")
	ErrTimeout      = errors.New("iommu: hardware did not respond")
	ErrInvalidation = errors.New("iommu: invalidation not performed")
	ErrState        = errors.New("iommu: unit not initialised")
	ErrNoMemory     = errors.New("iommu: no memory for translation tables")
	ErrRange        = errors.New("iommu: address out of range")
	ErrAlign        = errors.New("iommu: address not 4 KiB aligned")
	ErrMapped       = errors.New("iommu: page already mapped")
	ErrNotMapped    = errors.New("iommu: page not mapped")
	ErrDomainID     = errors.New("iommu: domain id out of range or reserved")
	ErrDomainInUse  = errors.New("iommu: domain id in use")
	ErrNoDomain     = errors.New("iommu: not a live domain of this unit")
	ErrAttached     = errors.New("iommu: attached")
	ErrNotAttached  = errors.New("iommu: function not attached")
	ErrDevice       = errors.New("iommu: device or function number out of range")
	ErrCorrupt      = errors.New("iommu: translation table corrupt")
)

// Regs is access to one remapping unit's registers: the register window
// at the DRHD's RegisterBase, uncached, with accesses of exactly the
// width asked for (a 64-bit register must be written with one 64-bit
// access, §10.2). off is a byte offset into the window.
type Regs interface {
	Read32(off uint32) uint32
	Read64(off uint32) uint64
	Write32(off uint32, v uint32)
	Write64(off uint32, v uint64)
}

// DefaultMaxPolls bounds every wait for the hardware. A real unit answers
// a command in microseconds; a loop this long means it never will.
const DefaultMaxPolls = 1 << 20

// Unit drives one DMA remapping hardware unit (one DRHD) in legacy mode
// with second-level translation. See the package documentation for the
// rules its callers must follow; it is not safe for concurrent use.
type Unit struct {
	regs Regs
	mem  Mem
	// flush is mem's Flush when page walks do not snoop (ECAP.C 0),
	// else nil.
	flush func(pa uint64)

	Version Version
	Cap     Cap
	ECap    ECap

	// MaxPolls bounds each wait for the hardware; DefaultMaxPolls
	// unless set before Init.
	MaxPolls int

	levels   int    // 3 or 4
	aw       uint8  // the context entries' AW code: 1 (39-bit) or 2 (48-bit)
	iovaBits uint8  // IOVAs are below 1<<iovaBits: min(AGAW, MGAW)
	haw      uint8  // physical addresses are below 1<<haw
	root     uint64 // the root table's physical address; 0 until Init

	ctx     [256]uint64        // each bus's context table, 0 if none yet
	owner   map[uint16]*Domain // source id → the domain it is attached to
	domains map[uint16]*Domain // live domains by id
}

// New returns a unit that will drive regs, with tables in mem.
// hostAddressWidth is the DMAR's: page tables refuse physical addresses
// at or above 1<<hostAddressWidth (0 means 52). Nothing is touched
// until Init.
func New(regs Regs, mem Mem, hostAddressWidth uint8) *Unit {
	if hostAddressWidth == 0 || hostAddressWidth > 52 {
		hostAddressWidth = 52
	}
	return &Unit{regs: regs, mem: mem, haw: hostAddressWidth, MaxPolls: DefaultMaxPolls,
		owner: map[uint16]*Domain{}, domains: map[uint16]*Domain{}}
}

// Levels returns the depth of the second-level page tables: 3 or 4.
func (u *Unit) Levels() int { return u.levels }

// AddressBits returns the IOVA width: domains map IOVAs below 1<<AddressBits.
func (u *Unit) AddressBits() uint8 { return u.iovaBits }

// Init checks the unit, gives it an empty root table, invalidates its
// caches and enables translation (§10.4.4, TE: the steps software must
// take before enabling). From then on every DMA through the unit is
// blocked until a function is attached to a domain and the page mapped.
func (u *Unit) Init() error {
	if u.root != 0 {
		return fmt.Errorf("%w: Init called twice", ErrState)
	}
	if err := u.probe(); err != nil {
		return err
	}
	// Firmware may have left translation or queued invalidation on;
	// register-based invalidation does not work while the queue is on
	// (§6.5.2), and the root pointer is best replaced with TE off.
	gsts := u.regs.Read32(RegGSTS)
	if gsts&GCMDTE != 0 {
		if err := u.setEnable(GCMDTE, false, "TES"); err != nil {
			return err
		}
	}
	if gsts&GCMDQIE != 0 {
		if err := u.setEnable(GCMDQIE, false, "QIES"); err != nil {
			return err
		}
	}
	root, err := u.newTable()
	if err != nil {
		return err
	}
	if err := u.start(root); err != nil {
		u.mem.Free(root)
		return err
	}
	u.root = root
	return nil
}

// probe reads and checks the capabilities and chooses the page-table depth.
func (u *Unit) probe() error {
	u.Version = DecodeVersion(u.regs.Read32(RegVER))
	if u.Version.Major < 1 {
		return fmt.Errorf("%w: VER reports version %d.%d", ErrUnsupported, u.Version.Major, u.Version.Minor)
	}
	u.Cap = DecodeCap(u.regs.Read64(RegCAP))
	u.ECap = DecodeECap(u.regs.Read64(RegECAP))
	switch {
	case u.Cap.FRO == 0 || u.ECap.IRO == 0:
		return fmt.Errorf("%w: CAP.FRO %#x, ECAP.IRO %#x", ErrUnsupported, u.Cap.FRO, u.ECap.IRO)
	case u.Cap.SAGAW&(1<<2) != 0:
		// Prefer four levels: the depth of the CPU's own tables, and
		// the only one many real units support.
		u.levels, u.aw = 4, 2
	case u.Cap.SAGAW&(1<<1) != 0:
		u.levels, u.aw = 3, 1
	default:
		return fmt.Errorf("%w: CAP.SAGAW %#b has neither 39-bit nor 48-bit tables", ErrUnsupported, u.Cap.SAGAW)
	}
	u.iovaBits = min(uint8(30+9*u.aw), u.Cap.MGAW)
	if !u.ECap.C {
		f, ok := u.mem.(Flusher)
		if !ok {
			return fmt.Errorf("%w: ECAP.C is 0 (page walks do not snoop) and Mem cannot Flush", ErrUnsupported)
		}
		u.flush = f.Flush
	}
	if u.MaxPolls <= 0 {
		u.MaxPolls = DefaultMaxPolls
	}
	return nil
}

// start points the unit at root, invalidates and enables translation.
func (u *Unit) start(root uint64) error {
	u.regs.Write64(RegRTADDR, root) // TTM (bits 11:10) 00b: legacy mode
	if err := u.command(GCMDSRTP, GCMDSRTP, true, "RTPS"); err != nil {
		return err
	}
	if err := u.flushWriteBuffer(); err != nil {
		return err
	}
	// §10.4.4 (SRTP): after setting the root pointer, invalidate the
	// context cache and then the IOTLB globally.
	if err := u.invalidateContext(CCMDGlobal, 0, 0); err != nil {
		return err
	}
	if err := u.invalidateIOTLB(IOTLBGlobal, 0, 0); err != nil {
		return err
	}
	return u.setEnable(GCMDTE, true, "TES")
}

// command writes GCMD with bit set on top of the enables now in force
// (§10.4.4: GCMD has no memory, so each write must repeat them) and
// waits for the status bit ack to become want.
func (u *Unit) command(bit, ack uint32, want bool, name string) error {
	cmd := u.regs.Read32(RegGSTS)&gcmdPreserve | bit
	u.regs.Write32(RegGCMD, cmd)
	return u.waitGSTS(ack, want, name)
}

// setEnable turns one of GCMD's enable bits on or off, keeping the others.
func (u *Unit) setEnable(bit uint32, on bool, name string) error {
	cmd := u.regs.Read32(RegGSTS) & gcmdPreserve
	if on {
		cmd |= bit
	} else {
		cmd &^= bit
	}
	u.regs.Write32(RegGCMD, cmd)
	return u.waitGSTS(bit, on, name)
}

func (u *Unit) waitGSTS(bit uint32, want bool, name string) error {
	for i := 0; i < u.MaxPolls; i++ {
		if (u.regs.Read32(RegGSTS)&bit != 0) == want {
			return nil
		}
	}
	return fmt.Errorf("%w: GSTS.%s not %s after %d reads", ErrTimeout, name, setOrClear(want), u.MaxPolls)
}

func setOrClear(b bool) string {
	if b {
		return "set"
	}
	return "clear"
}

// flushWriteBuffer makes table writes visible to a unit that buffers
// them (CAP.RWBF, §6.8): GCMD.WBF, then wait for GSTS.WBFS to clear.
func (u *Unit) flushWriteBuffer() error {
	if !u.Cap.RWBF {
		return nil
	}
	return u.command(GCMDWBF, GCMDWBF, false, "WBFS")
}

// invalidateContext issues a register-based context-cache invalidation
// (§6.5.1.1, CCMD §10.4.7) and waits for it; gran is CCMDGlobal,
// CCMDDomain or CCMDDevice (function mask 0: exactly sid).
func (u *Unit) invalidateContext(gran uint64, did, sid uint16) error {
	u.regs.Write64(RegCCMD, CCMDICC|gran|uint64(sid)<<ccmdSIDShift|uint64(did))
	var v uint64
	for i := 0; ; i++ {
		if i == u.MaxPolls {
			return fmt.Errorf("%w: CCMD.ICC not clear after %d reads", ErrTimeout, u.MaxPolls)
		}
		if v = u.regs.Read64(RegCCMD); v&CCMDICC == 0 {
			break
		}
	}
	if v>>ccmdCAIGShift&ccmdGranularity == 0 {
		return fmt.Errorf("%w: CCMD.CAIG 0 for context invalidation %#x", ErrInvalidation, gran>>61)
	}
	return nil
}

// invalidateIOTLB issues a register-based IOTLB invalidation (§6.5.1.2,
// §10.4.8) and waits for it; gran is IOTLBGlobal, IOTLBDomain, or
// IOTLBPage with the 4 KiB page at addr. In-flight DMA is drained when
// the unit can, so that once this returns no request still uses a
// translation that was removed.
func (u *Unit) invalidateIOTLB(gran uint64, did uint16, addr uint64) error {
	off := u.ECap.IRO
	cmd := IOTLBIVT | gran | uint64(did)<<iotlbDIDShift
	if u.Cap.DRD {
		cmd |= IOTLBDR
	}
	if u.Cap.DWD {
		cmd |= IOTLBDW
	}
	if gran == IOTLBPage {
		u.regs.Write64(off+RegIVA, addr) // AM 0: one page; IH 0: paging-structure caches too
	}
	u.regs.Write64(off+RegIOTLB, cmd)
	var v uint64
	for i := 0; ; i++ {
		if i == u.MaxPolls {
			return fmt.Errorf("%w: IOTLB.IVT not clear after %d reads", ErrTimeout, u.MaxPolls)
		}
		if v = u.regs.Read64(off + RegIOTLB); v&IOTLBIVT == 0 {
			break
		}
	}
	if v>>iotlbIAIGShift&3 == 0 {
		return fmt.Errorf("%w: IOTLB.IAIG 0 for IOTLB invalidation %#x", ErrInvalidation, gran>>60)
	}
	return nil
}

// SetFaultEvent programs the fault event interrupt (§10.4.10-13) with an
// MSI address and data and unmasks it. Until it is called the event stays
// masked, as after reset, and faults are only recorded.
func (u *Unit) SetFaultEvent(addr uint64, data uint32) {
	u.regs.Write32(RegFEDATA, data)
	u.regs.Write32(RegFEADDR, uint32(addr))
	u.regs.Write32(RegFEUADDR, uint32(addr>>32))
	u.regs.Write32(RegFECTL, 0)
}
