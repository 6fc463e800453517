package acpi

import "fmt"

// Address space IDs of a Generic Address Structure (section 5.2.3.2).
const (
	SpaceSystemMemory = 0
	SpaceSystemIO     = 1
)

// FADT Flags bits (section 5.2.9, table "Fixed ACPI Description Table
// Fixed Feature Flags") that this package or its callers act on.
const (
	FADTResetRegSupported = 1 << 10 // RESET_REG_SUP: ResetReg is valid
	FADTHardwareReduced   = 1 << 20 // HW_REDUCED_ACPI: no PM1 blocks
)

// IA-PC boot architecture flags (FADT IAPC_BOOT_ARCH, section 5.2.9).
const (
	BootArchLegacyDevices = 1 << 0 // ISA/LPC devices beyond the basics
	BootArch8042          = 1 << 1 // a PS/2 controller is present
	BootArchNoVGA         = 1 << 2 // do not probe VGA
	BootArchNoMSI         = 1 << 3 // do not enable MSI
)

// PM1 control register bits (the fixed hardware feature control bits
// of chapter 4): SLP_TYPx occupies bits 10-12 and SLP_EN is bit 13.
const (
	slpTypShift = 10
	slpTypMask  = 7 << slpTypShift
	slpEn       = 1 << 13
)

// FADT byte offsets (section 5.2.9), from the start of the table.
const (
	fadtDSDT       = 40
	fadtSCIInt     = 46
	fadtSMICmd     = 48
	fadtACPIEnable = 52
	fadtACPIDis    = 53
	fadtPM1aCnt    = 64
	fadtPM1bCnt    = 68
	fadtPM1CntLen  = 89
	fadtBootArch   = 109
	fadtFlags      = 112
	fadtResetReg   = 116
	fadtResetValue = 128
	fadtXDSDT      = 140
	fadtXPM1aCnt   = 172
	fadtXPM1bCnt   = 184

	fadtMinLength = 116 // the ACPI 1.0 FADT; later fields are optional
	gasSize       = 12
)

// GenericAddress is a Generic Address Structure (section 5.2.3.2): a
// register in memory, I/O or another address space.
type GenericAddress struct {
	Space      uint8 // SpaceSystemMemory, SpaceSystemIO, ...
	BitWidth   uint8
	BitOffset  uint8
	AccessSize uint8 // 0 undefined, 1 byte, 2 word, 3 dword, 4 qword
	Addr       uint64
}

// FADT holds the Fixed ACPI Description Table fields the kernel uses.
type FADT struct {
	Revision     uint8  // table header revision (1 for ACPI 1.0)
	Flags        uint32 // FADTResetRegSupported, FADTHardwareReduced, ...
	SCIInterrupt uint16 // ISA IRQ (8259 mode) or GSI of the SCI

	// SMICommand, ACPIEnable and ACPIDisable let the kernel switch the
	// chipset into ACPI mode (write ACPIEnable to port SMICommand, then
	// wait for SCI_EN in PM1 control) if firmware left it in legacy
	// mode. SMICommand 0 means the system is always in ACPI mode.
	SMICommand              uint32
	ACPIEnable, ACPIDisable uint8

	// DSDT is the physical address of the DSDT: X_DSDT when non-zero,
	// else the 32-bit DSDT field.
	DSDT uint64

	// PM1aCnt and PM1bCnt are the PM1 control registers. The 64-bit
	// X_ form is used when it is non-zero and in system I/O space,
	// otherwise the legacy I/O port field (with BitWidth from
	// PM1_CNT_LEN), otherwise a non-I/O X_ form, which PowerOffWrites
	// refuses. Addr 0 means the block does not exist.
	PM1aCnt, PM1bCnt GenericAddress

	BootArch uint16 // IAPC_BOOT_ARCH (BootArch8042, ...); 0 in ACPI 1.0

	// ResetReg and ResetValue: writing ResetValue to ResetReg resets
	// the machine. Valid only if Flags&FADTResetRegSupported != 0.
	ResetReg   GenericAddress
	ResetValue uint8

	// S5 holds the SLP_TYP values for soft-off from the DSDT's \_S5_
	// object; nil if they could not be found (Tables.Problems says
	// why). ParseFADT never sets it; Parse does.
	S5 *SleepType
}

// ParseFADT decodes a complete FADT (signature "FACP") including its
// header. Fields the table is too short to contain read as zero; at
// least the 116 bytes of an ACPI 1.0 FADT are required.
func ParseFADT(tbl []byte) (*FADT, error) {
	t, err := checkTable(tbl, "FACP", fadtMinLength)
	if err != nil {
		return nil, err
	}
	f := &FADT{
		Revision:     t[8],
		Flags:        le32(t, fadtFlags),
		SCIInterrupt: le16(t, fadtSCIInt),
		SMICommand:   le32(t, fadtSMICmd),
		ACPIEnable:   t[fadtACPIEnable],
		ACPIDisable:  t[fadtACPIDis],
		DSDT:         uint64(le32(t, fadtDSDT)),
		BootArch:     le16(t, fadtBootArch),
	}
	if len(t) >= fadtXDSDT+8 {
		if x := le64(t, fadtXDSDT); x != 0 {
			f.DSDT = x
		}
	}
	cntLen := t[fadtPM1CntLen]
	f.PM1aCnt = pickPM1(t, fadtXPM1aCnt, le32(t, fadtPM1aCnt), cntLen)
	f.PM1bCnt = pickPM1(t, fadtXPM1bCnt, le32(t, fadtPM1bCnt), cntLen)
	if len(t) > fadtResetValue {
		f.ResetReg = gas(t, fadtResetReg)
		f.ResetValue = t[fadtResetValue]
	}
	return f, nil
}

// pickPM1 chooses between the X_PM1x_CNT_BLK structure at xoff (if the
// table reaches it) and the legacy 32-bit port field; see FADT.PM1aCnt.
func pickPM1(t []byte, xoff int, legacy uint32, cntLen uint8) GenericAddress {
	var x GenericAddress
	if xoff+gasSize <= len(t) {
		x = gas(t, xoff)
	}
	if x.Addr != 0 && x.Space == SpaceSystemIO {
		return x
	}
	if legacy != 0 {
		return GenericAddress{Space: SpaceSystemIO, BitWidth: uint8(min(int(cntLen)*8, 255)), Addr: uint64(legacy)}
	}
	return x
}

func gas(t []byte, off int) GenericAddress {
	if off < 0 || off+gasSize > len(t) {
		return GenericAddress{}
	}
	return GenericAddress{
		Space:      t[off],
		BitWidth:   t[off+1],
		BitOffset:  t[off+2],
		AccessSize: t[off+3],
		Addr:       le64(t, off+4),
	}
}

// PortWrite is one 16-bit I/O port write. Value holds the bits the write
// must set; Mask holds every bit the write is responsible for. Writing
// Value alone is what QEMU needs; a kernel that can read the port may
// instead write (old &^ Mask) | Value to preserve the register's other
// bits (such as SCI_EN), as an OSPM normally does.
type PortWrite struct {
	Port  uint16
	Value uint16
	Mask  uint16
}

// PowerOffWrites returns the writes that enter the S5 soft-off state
// (section 7.4.2 and chapter 16): SLP_TYPa<<10 | SLP_EN (bit 13) to
// PM1a_CNT, then SLP_TYPb<<10 | SLP_EN to PM1b_CNT if that block
// exists. Both registers must be in I/O space; hardware-reduced ACPI,
// which powers off through SLEEP_CONTROL_REG instead, is not supported.
// The kernel should disable interrupts before performing them; if the
// machine is still running afterwards, S5 failed.
func (t *Tables) PowerOffWrites() ([]PortWrite, error) {
	if t == nil || t.FADT == nil {
		return nil, ErrNoFADT
	}
	f := t.FADT
	if f.S5 == nil {
		return nil, ErrNoS5
	}
	if f.PM1aCnt.Addr == 0 {
		if f.Flags&FADTHardwareReduced != 0 {
			return nil, fmt.Errorf("%w: hardware-reduced ACPI has no PM1 control block", ErrUnsupported)
		}
		return nil, fmt.Errorf("%w: FADT has no PM1a control block", ErrNoFADT)
	}
	a, err := ioPort(f.PM1aCnt, "PM1a")
	if err != nil {
		return nil, err
	}
	writes := []PortWrite{{Port: a, Value: slpValue(f.S5.SLPTypA), Mask: slpTypMask | slpEn}}
	if f.PM1bCnt.Addr != 0 {
		b, err := ioPort(f.PM1bCnt, "PM1b")
		if err != nil {
			return nil, err
		}
		writes = append(writes, PortWrite{Port: b, Value: slpValue(f.S5.SLPTypB), Mask: slpTypMask | slpEn})
	}
	return writes, nil
}

func slpValue(typ uint8) uint16 {
	return uint16(typ)<<slpTypShift&slpTypMask | slpEn
}

func ioPort(g GenericAddress, name string) (uint16, error) {
	if g.Space != SpaceSystemIO {
		return 0, fmt.Errorf("%w: %s control block is in address space %d, not I/O", ErrUnsupported, name, g.Space)
	}
	if g.Addr > 0xFFFF {
		return 0, fmt.Errorf("%w: %s control block port %#x does not fit 16 bits", ErrMalformed, name, g.Addr)
	}
	return uint16(g.Addr), nil
}
