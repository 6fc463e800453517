package iommu

// Register offsets from a unit's register base (VT-d rev 3.x §10.4). The
// IOTLB registers and the fault recording registers have no fixed place:
// ECAP.IRO and CAP.FRO say where they are (§10.4.2, §10.4.3).
const (
	RegVER     = 0x00 // 32-bit: architecture version (§10.4.1)
	RegCAP     = 0x08 // 64-bit: capabilities (§10.4.2)
	RegECAP    = 0x10 // 64-bit: extended capabilities (§10.4.3)
	RegGCMD    = 0x18 // 32-bit: global command (§10.4.4)
	RegGSTS    = 0x1c // 32-bit: global status (§10.4.5)
	RegRTADDR  = 0x20 // 64-bit: root table address (§10.4.6)
	RegCCMD    = 0x28 // 64-bit: context command (§10.4.7)
	RegFSTS    = 0x34 // 32-bit: fault status (§10.4.9)
	RegFECTL   = 0x38 // 32-bit: fault event control (§10.4.10)
	RegFEDATA  = 0x3c // 32-bit: fault event data (§10.4.11)
	RegFEADDR  = 0x40 // 32-bit: fault event address (§10.4.12)
	RegFEUADDR = 0x44 // 32-bit: fault event upper address (§10.4.13)

	// Relative to ECAP.IRO (§10.4.8).
	RegIVA   = 0x0 // 64-bit: invalidate address, for page-selective IOTLB invalidation
	RegIOTLB = 0x8 // 64-bit: IOTLB invalidate

	FaultRecordSize = 16 // bytes per fault recording register, at CAP.FRO (§10.4.14)
)

// Global command and status bits (§10.4.4, §10.4.5). Command bit n is
// acknowledged by status bit n.
const (
	GCMDTE    = 1 << 31 // translation enable / TES
	GCMDSRTP  = 1 << 30 // set root table pointer / RTPS (one-shot)
	GCMDSFL   = 1 << 29 // set fault log / FLS (one-shot)
	GCMDEAFL  = 1 << 28 // enable advanced fault logging / AFLS
	GCMDWBF   = 1 << 27 // write buffer flush / WBFS (one-shot; WBFS clears when done)
	GCMDQIE   = 1 << 26 // queued invalidation enable / QIES
	GCMDIRE   = 1 << 25 // interrupt remapping enable / IRES
	GCMDSIRTP = 1 << 24 // set interrupt remap table pointer / IRTPS (one-shot)
	GCMDCFI   = 1 << 23 // compatibility format interrupts / CFIS

	// gcmdPreserve selects, in GSTS, the status of the enable bits that
	// a GCMD write must repeat to keep them on; the one-shot bits are
	// left out so a write does not repeat a past command (§10.4.4).
	gcmdPreserve = 0x96ff_ffff
)

// Context command register fields (§10.4.7).
const (
	CCMDICC         = 1 << 63 // invalidate context cache; hardware clears it when done
	CCMDGlobal      = 1 << 61 // CIRG 01b
	CCMDDomain      = 2 << 61 // CIRG 10b
	CCMDDevice      = 3 << 61 // CIRG 11b
	ccmdCAIGShift   = 59      // actual granularity, 0 if not performed
	ccmdSIDShift    = 16
	ccmdFMShift     = 32
	ccmdGranularity = 3
)

// IOTLB invalidate register fields (§10.4.8.1).
const (
	IOTLBIVT       = 1 << 63 // invalidate; hardware clears it when done
	IOTLBGlobal    = 1 << 60 // IIRG 01b
	IOTLBDomain    = 2 << 60 // IIRG 10b
	IOTLBPage      = 3 << 60 // IIRG 11b: page-selective within a domain, address in IVA
	IOTLBDR        = 1 << 49 // drain reads (if CAP.DRD)
	IOTLBDW        = 1 << 48 // drain writes (if CAP.DWD)
	iotlbIAIGShift = 57      // actual granularity, 0 if not performed
	iotlbDIDShift  = 32
)

// Fault status and control bits (§10.4.9, §10.4.10).
const (
	FSTSPFO      = 1 << 0 // primary fault overflow (write 1 to clear)
	FSTSPPF      = 1 << 1 // primary pending fault: some fault record has F set
	FSTSIQE      = 1 << 4 // invalidation queue error
	fstsFRIShift = 8      // FRI, bits 15:8: index of the first pending record
	FECTLIM      = 1 << 31
	FECTLIP      = 1 << 30
)

// Cap is the decoded capability register (§10.4.2).
type Cap struct {
	Raw uint64

	Domains  uint32 // ND: 2^(4+2*ND) domain identifiers
	AFL      bool   // advanced fault logging
	RWBF     bool   // software must flush the write buffer after table updates
	CM       bool   // caching mode: not-present and faulting entries may be cached
	SAGAW    uint8  // supported adjusted guest address widths, bit 1: 39-bit (3-level), bit 2: 48-bit (4-level), bit 3: 57-bit
	MGAW     uint8  // maximum guest address width, in bits
	ZLR      bool   // zero-length reads
	FRO      uint32 // byte offset of the fault recording registers
	SLLPS    uint8  // second-level large pages: bit 0 2 MiB, bit 1 1 GiB
	PSI      bool   // page-selective IOTLB invalidation
	NFR      uint32 // number of fault recording registers
	MAMV     uint8  // maximum address mask value for page-selective invalidation
	DWD, DRD bool   // write and read draining
	PI       bool   // posted interrupts
}

// DecodeCap decodes the capability register.
func DecodeCap(v uint64) Cap {
	nd := v & 7
	return Cap{
		Raw:     v,
		Domains: 1 << (4 + 2*nd), // ND 7 is reserved; it reads as 2^18, clamped to 2^16 by domainIDs
		AFL:     v>>3&1 != 0,
		RWBF:    v>>4&1 != 0,
		CM:      v>>7&1 != 0,
		SAGAW:   uint8(v >> 8 & 0x1f),
		MGAW:    uint8(v>>16&0x3f) + 1,
		ZLR:     v>>22&1 != 0,
		FRO:     uint32(v>>24&0x3ff) * 16,
		SLLPS:   uint8(v >> 34 & 0xf),
		PSI:     v>>39&1 != 0,
		NFR:     uint32(v>>40&0xff) + 1,
		MAMV:    uint8(v >> 48 & 0x3f),
		DWD:     v>>54&1 != 0,
		DRD:     v>>55&1 != 0,
		PI:      v>>59&1 != 0,
	}
}

// ECap is the decoded extended capability register (§10.4.3).
type ECap struct {
	Raw uint64

	C    bool   // page walks snoop the CPU caches: no clflush needed after table writes
	QI   bool   // queued invalidation
	DT   bool   // device TLBs
	IR   bool   // interrupt remapping
	EIM  bool   // extended (x2APIC) interrupt mode
	PT   bool   // pass-through translation type
	SC   bool   // snoop control
	IRO  uint32 // byte offset of the IOTLB registers
	MHMV uint8  // maximum handle mask value
	SMTS bool   // scalable-mode translation
	SLTS bool   // second-level translation in scalable mode
}

// DecodeECap decodes the extended capability register.
func DecodeECap(v uint64) ECap {
	return ECap{
		Raw:  v,
		C:    v&1 != 0,
		QI:   v>>1&1 != 0,
		DT:   v>>2&1 != 0,
		IR:   v>>3&1 != 0,
		EIM:  v>>4&1 != 0,
		PT:   v>>6&1 != 0,
		SC:   v>>7&1 != 0,
		IRO:  uint32(v>>8&0x3ff) * 16,
		MHMV: uint8(v >> 20 & 0xf),
		SMTS: v>>43&1 != 0,
		SLTS: v>>46&1 != 0,
	}
}

// Version is the architecture version in VER (§10.4.1).
type Version struct{ Major, Minor uint8 }

// DecodeVersion decodes the version register.
func DecodeVersion(v uint32) Version { return Version{uint8(v >> 4 & 0xf), uint8(v & 0xf)} }

// Values QEMU 7.2's `-device intel-iommu` reports, read from a running
// machine with the monitor's xp command (see doc.go). They are what the
// tests' fake unit defaults to.
const (
	QEMUVersion = 0x10               // 1.0
	QEMUCap     = 0x00d2008c22260206 // aw-bits=39: ND 6, SAGAW 39-bit, MGAW 39, FRO 0x220, NFR 1, PSI, MAMV 18, DRD, DWD, CM 0
	QEMUCap48   = 0x00d2008c222f0606 // aw-bits=48: SAGAW 39- and 48-bit, MGAW 48
	QEMUCapCM   = 0x00d2008c22260286 // caching-mode=on
	QEMUECap    = 0x0000000000f00f4a // C 0, QI, IR, PT, IRO 0xf0, MHMV 15
	QEMURegBase = 0xfed90000         // the DRHD's register base on q35
)
