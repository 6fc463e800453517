package acpi

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var le = binary.LittleEndian

// fakeMem is physical memory made of disjoint byte slices keyed by base
// address; a range is readable only if it lies inside one of them.
type fakeMem map[uint64][]byte

func (m fakeMem) Slice(pa, n uint64) ([]byte, bool) {
	for base, b := range m {
		if pa < base {
			continue
		}
		off := pa - base
		if off > uint64(len(b)) || n > uint64(len(b))-off {
			continue
		}
		return b[off : off+n], true
	}
	return nil, false
}

// blobMem is memory made of one slice at base: what the fuzz targets
// use, because it answers faster than a map.
type blobMem struct {
	base uint64
	b    []byte
}

func (m blobMem) Slice(pa, n uint64) ([]byte, bool) {
	if pa < m.base {
		return nil, false
	}
	off := pa - m.base
	if off > uint64(len(m.b)) || n > uint64(len(m.b))-off {
		return nil, false
	}
	return m.b[off : off+n], true
}

// checkDisjoint fails the test if two slices overlap, which would make
// Slice's answer depend on map iteration order.
func (m fakeMem) checkDisjoint(t testing.TB) {
	t.Helper()
	for a, x := range m {
		for b, y := range m {
			if a < b && a+uint64(len(x)) > b {
				t.Fatalf("fake memory at %#x (%d bytes) overlaps %#x (%d bytes)", a, len(x), b, len(y))
			}
		}
	}
}

// loadFixture reads testdata/<dir>/<hex address>.bin files into memory.
func loadFixture(t testing.TB, dir string) fakeMem {
	t.Helper()
	files, err := filepath.Glob(filepath.Join("testdata", dir, "*.bin"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixture files in %s: %v", dir, err)
	}
	mem := fakeMem{}
	for _, f := range files {
		pa, err := strconv.ParseUint(strings.TrimSuffix(filepath.Base(f), ".bin"), 16, 64)
		if err != nil {
			t.Fatalf("fixture %s: %v", f, err)
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		mem[pa] = b
	}
	return mem
}

// sdt builds a table with a valid header: the given signature, correct
// length and checksum.
func sdt(sig string, rev uint8, body []byte) []byte {
	b := make([]byte, headerSize, headerSize+len(body))
	copy(b, sig)
	b[8] = rev
	copy(b[10:16], "VALNCE")
	copy(b[16:24], "TESTTABL")
	b = append(b, body...)
	le.PutUint32(b[4:], uint32(len(b)))
	return fixSum(b)
}

// fixSum recomputes the checksum of a table after it was edited.
func fixSum(b []byte) []byte {
	b[9] = 0
	b[9] = -sum(b)
	return b
}

func rsdpV1(rsdt uint32) []byte {
	b := make([]byte, rsdpV1Length)
	copy(b, rsdpSignature)
	copy(b[9:15], "BOCHS ")
	le.PutUint32(b[16:], rsdt)
	b[8] = -sum(b)
	return b
}

func rsdpV2(rsdt uint32, xsdt uint64) []byte {
	b := make([]byte, rsdpV2Length)
	copy(b, rsdpSignature)
	copy(b[9:15], "VALNCE")
	b[15] = 2
	le.PutUint32(b[16:], rsdt)
	le.PutUint32(b[20:], rsdpV2Length)
	le.PutUint64(b[24:], xsdt)
	b[8] = -sum(b[:rsdpV1Length])
	b[32] = -sum(b)
	return b
}

func rsdtTable(addrs ...uint32) []byte {
	var body []byte
	for _, a := range addrs {
		body = le.AppendUint32(body, a)
	}
	return sdt("RSDT", 1, body)
}

func xsdtTable(addrs ...uint64) []byte {
	var body []byte
	for _, a := range addrs {
		body = le.AppendUint64(body, a)
	}
	return sdt("XSDT", 1, body)
}

// fadtSpec describes a FADT; length selects the revision's size (116
// for ACPI 1.0, 244 for revision 3 as QEMU's q35 builds, 276 for 6.x).
type fadtSpec struct {
	length                  int
	rev                     uint8
	dsdt                    uint32
	xdsdt                   uint64
	sci                     uint16
	smiCmd                  uint32
	acpiEnable, acpiDisable uint8
	pm1a, pm1b              uint32
	cntLen                  uint8
	xpm1a, xpm1b            GenericAddress
	flags                   uint32
	bootArch                uint16
	reset                   GenericAddress
	resetValue              uint8
}

func putGAS(b []byte, off int, g GenericAddress) {
	if off+gasSize > len(b) {
		return
	}
	b[off], b[off+1], b[off+2], b[off+3] = g.Space, g.BitWidth, g.BitOffset, g.AccessSize
	le.PutUint64(b[off+4:], g.Addr)
}

func (s fadtSpec) bytes() []byte {
	b := make([]byte, max(s.length, fadtMinLength)) // cut to length below
	le.PutUint32(b[fadtDSDT:], s.dsdt)
	le.PutUint16(b[fadtSCIInt:], s.sci)
	le.PutUint32(b[fadtSMICmd:], s.smiCmd)
	b[fadtACPIEnable], b[fadtACPIDis] = s.acpiEnable, s.acpiDisable
	le.PutUint32(b[fadtPM1aCnt:], s.pm1a)
	le.PutUint32(b[fadtPM1bCnt:], s.pm1b)
	b[fadtPM1CntLen] = s.cntLen
	le.PutUint16(b[fadtBootArch:], s.bootArch)
	le.PutUint32(b[fadtFlags:], s.flags)
	if s.length > fadtResetValue {
		putGAS(b, fadtResetReg, s.reset)
		b[fadtResetValue] = s.resetValue
	}
	if s.length >= fadtXDSDT+8 {
		le.PutUint64(b[fadtXDSDT:], s.xdsdt)
	}
	putGAS(b, fadtXPM1aCnt, s.xpm1a)
	putGAS(b, fadtXPM1bCnt, s.xpm1b)
	return sdt("FACP", s.rev, b[headerSize:s.length])
}

// qemuFADT is a FADT like QEMU q35's: PM1a_CNT at port 0x604, SCI 9.
func qemuFADT(dsdt uint32) []byte {
	return fadtSpec{
		length: 244, rev: 3, dsdt: dsdt, sci: 9, smiCmd: 0xb2, acpiEnable: 0xf1, acpiDisable: 0xf0,
		pm1a: 0x604, cntLen: 2, flags: 0x84a5, bootArch: 0,
		xpm1a: GenericAddress{Space: SpaceSystemIO, BitWidth: 16, Addr: 0x604},
		reset: GenericAddress{Space: SpaceSystemIO, BitWidth: 8, Addr: 0xcf9}, resetValue: 0x0f,
	}.bytes()
}

// s5q35 is QEMU's \_S5_: Name(_S5_, Package(4){0, 0, 0, 0}).
var s5q35 = []byte{0x08, '_', 'S', '5', '_', 0x12, 0x06, 0x04, 0x00, 0x00, 0x00, 0x00}

// dsdtWith wraps AML in a DSDT between some unrelated bytecode: an empty
// Scope(\_SB_) before it and Method(PTS_, 1) { Noop } after it.
func dsdtWith(aml []byte) []byte {
	body := append([]byte{0x10, 0x06, '\\', '_', 'S', 'B', '_'}, aml...)
	return sdt("DSDT", 1, append(body, 0x14, 0x07, 'P', 'T', 'S', '_', 0x01, 0xA3))
}

func madtTable(lapic, flags uint32, entries ...[]byte) []byte {
	body := le.AppendUint32(nil, lapic)
	body = le.AppendUint32(body, flags)
	for _, e := range entries {
		body = append(body, e...)
	}
	return sdt("APIC", 3, body)
}

func entry(typ uint8, fields ...any) []byte {
	b := []byte{typ, 0}
	for _, f := range fields {
		switch v := f.(type) {
		case uint8:
			b = append(b, v)
		case uint16:
			b = le.AppendUint16(b, v)
		case uint32:
			b = le.AppendUint32(b, v)
		case uint64:
			b = le.AppendUint64(b, v)
		default:
			panic("entry: unsupported field type")
		}
	}
	b[1] = uint8(len(b))
	return b
}

func lapicEntry(uid, id uint8, flags uint32) []byte { return entry(madtLAPIC, uid, id, flags) }
func ioapicEntry(id uint8, addr, gsi uint32) []byte {
	return entry(madtIOAPIC, id, uint8(0), addr, gsi)
}
func isoEntry(bus, src uint8, gsi uint32, flags uint16) []byte {
	return entry(madtOverride, bus, src, gsi, flags)
}
func lapicNMIEntry(uid uint8, flags uint16, lint uint8) []byte {
	return entry(madtLAPICNMI, uid, flags, lint)
}

// qemuMADTEntries are the entries of QEMU's MADT for one CPU.
var qemuMADTEntries = [][]byte{
	lapicEntry(0, 0, LAPICEnabled),
	ioapicEntry(0, 0xfec00000, 0),
	isoEntry(0, 0, 2, 0),
	isoEntry(0, 5, 5, 0x0d),
	isoEntry(0, 9, 9, 0x0d),
	isoEntry(0, 10, 10, 0x0d),
	isoEntry(0, 11, 11, 0x0d),
	lapicNMIEntry(0xff, 0, 1),
}

// qemuMADT is what ParseMADT should make of qemuMADTEntries.
func qemuMADT() *MADT {
	return &MADT{
		LAPICAddr: 0xfee00000,
		Flags:     MADTPCATCompat,
		LAPICs:    []LocalAPIC{{ProcessorUID: 0, APICID: 0, Flags: LAPICEnabled}},
		IOAPICs:   []IOAPIC{{ID: 0, Addr: 0xfec00000, GSIBase: 0}},
		Overrides: []Override{
			{Bus: 0, Source: 0, GSI: 2, Flags: 0},
			{Bus: 0, Source: 5, GSI: 5, Flags: 0x0d},
			{Bus: 0, Source: 9, GSI: 9, Flags: 0x0d},
			{Bus: 0, Source: 10, GSI: 10, Flags: 0x0d},
			{Bus: 0, Source: 11, GSI: 11, Flags: 0x0d},
		},
		LAPICNMIs: []LAPICNMI{{ProcessorUID: AllProcessors, Flags: 0, LINT: 1}},
	}
}

// errStrings turns errors into their messages for comparison.
func errStrings(errs []error) []string {
	var s []string
	for _, e := range errs {
		s = append(s, e.Error())
	}
	return s
}
