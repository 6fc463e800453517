package acpi

import (
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// qemuDMARHex is the DMAR QEMU 7.2 (Debian 1:7.2+dfsg-7+deb12u18) builds
// for `-machine q35 -m 128 -nodefaults -device intel-iommu`, copied out of
// guest memory with the monitor's pmemsave (0x7fe2214, 104 bytes). Note
// that the unit does not set INCLUDE_PCI_ALL: QEMU lists the I/O APIC
// and every function on bus 0 (the host bridge 00.0 and the ICH9 LPC,
// SATA and SMBus functions 1f.0, 1f.2, 1f.3).
const qemuDMARHex = "444d4152680000000142424f43485320425850432020202001000000425850430100000026010000000000000000000000003800000000000000d9fe000000000308000000ff000001080000000000000108000000001f000108000000001f020108000000001f03"

// qemuDMARBridgeHex is the same machine with `-device edu -device
// pcie-root-port,id=rp1,chassis=1 -device e1000e,bus=rp1`: the root port
// appears as a bridge scope (type 2) covering what is below it.
const qemuDMARBridgeHex = "444d415278000000010c424f43485320425850432020202001000000425850430100000026010000000000000000000000004800000000000000d9fe000000000308000000ff00000108000000000000010800000000010002080000000002000108000000001f000108000000001f020108000000001f03"

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func scope(typ, id, bus uint8, path ...PCIPath) []byte {
	b := []byte{typ, uint8(scopeMinLength + 2*len(path)), 0, 0, id, bus}
	for _, p := range path {
		b = append(b, p.Device, p.Function)
	}
	return b
}

func drhd(flags uint8, seg uint16, base uint64, scopes ...[]byte) []byte {
	b := []byte{dmarDRHD, 0, 0, 0, flags, 0}
	b = le.AppendUint16(b, seg)
	b = le.AppendUint64(b, base)
	for _, s := range scopes {
		b = append(b, s...)
	}
	le.PutUint16(b[2:], uint16(len(b)))
	return b
}

func rmrr(seg uint16, base, limit uint64, scopes ...[]byte) []byte {
	b := []byte{dmarRMRR, 0, 0, 0, 0, 0}
	b = le.AppendUint16(b, seg)
	b = le.AppendUint64(b, base)
	b = le.AppendUint64(b, limit)
	for _, s := range scopes {
		b = append(b, s...)
	}
	le.PutUint16(b[2:], uint16(len(b)))
	return b
}

func dmarTable(haw, flags uint8, structs ...[]byte) []byte {
	body := make([]byte, dmarBodyStart-headerSize)
	body[0], body[1] = haw-1, flags
	for _, s := range structs {
		body = append(body, s...)
	}
	return sdt("DMAR", 1, body)
}

func qemuDMAR() *DMAR {
	ep := func(dev, fn uint8) DeviceScope {
		return DeviceScope{Type: ScopePCIEndpoint, Path: []PCIPath{{dev, fn}}}
	}
	return &DMAR{HostAddressWidth: 39, Flags: DMARIntrRemap, Units: []DRHD{{
		RegisterBase: 0xfed90000, RegisterPages: 1,
		Scopes: []DeviceScope{
			{Type: ScopeIOAPIC, StartBus: 0xff, Path: []PCIPath{{0, 0}}},
			ep(0, 0), ep(0x1f, 0), ep(0x1f, 2), ep(0x1f, 3),
		},
	}}}
}

func TestParseDMARQEMU(t *testing.T) {
	got, err := ParseDMAR(unhex(t, qemuDMARHex))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(qemuDMAR(), got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	got, err = ParseDMAR(unhex(t, qemuDMARBridgeHex))
	if err != nil {
		t.Fatal(err)
	}
	want := qemuDMAR()
	s := want.Units[0].Scopes
	want.Units[0].Scopes = append(s[:2:2],
		DeviceScope{Type: ScopePCIEndpoint, Path: []PCIPath{{1, 0}}},
		DeviceScope{Type: ScopePCIBridge, Path: []PCIPath{{2, 0}}})
	want.Units[0].Scopes = append(want.Units[0].Scopes, s[2:]...)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("with a root port (-want +got):\n%s", diff)
	}
}

func TestParseDMAR(t *testing.T) {
	ioapic := scope(ScopeIOAPIC, 0, 0xff, PCIPath{0, 0})
	ep := func(dev, fn uint8) []byte { return scope(ScopePCIEndpoint, 0, 0, PCIPath{dev, fn}) }
	tests := []struct {
		name string
		tbl  []byte
		want *DMAR
		msg  string // part of the error, "" for success
	}{
		{
			name: "two units, include-all last, RMRR, skipped ATSR and RHSA",
			tbl: dmarTable(46, DMARIntrRemap|DMARX2APICOptOut,
				drhd(0, 0, 0xfed90000, ep(2, 0)),
				drhd(DRHDIncludePCIAll, 0, 0xfed91000, ioapic, scope(ScopeHPET, 0, 0, PCIPath{0x1f, 0})),
				rmrr(0, 0x7c000000, 0x7c7fffff, ep(2, 0), scope(ScopePCIBridge, 0, 0, PCIPath{0x1c, 0}, PCIPath{0, 1})),
				[]byte{dmarATSR, 0, 8, 0, 0, 0, 0, 0},
				[]byte{dmarRHSA, 0, 20, 0, 0, 0, 0, 0, 0, 0x90, 0xd9, 0xfe, 0, 0, 0, 0, 0, 0, 0, 0}),
			want: &DMAR{HostAddressWidth: 46, Flags: DMARIntrRemap | DMARX2APICOptOut,
				Units: []DRHD{
					{RegisterBase: 0xfed90000, RegisterPages: 1, Scopes: []DeviceScope{{Type: ScopePCIEndpoint, Path: []PCIPath{{2, 0}}}}},
					{Flags: DRHDIncludePCIAll, RegisterBase: 0xfed91000, RegisterPages: 1, Scopes: []DeviceScope{
						{Type: ScopeIOAPIC, StartBus: 0xff, Path: []PCIPath{{0, 0}}},
						{Type: ScopeHPET, Path: []PCIPath{{0x1f, 0}}}}},
				},
				Reserved: []RMRR{{Base: 0x7c000000, Limit: 0x7c7fffff, Scopes: []DeviceScope{
					{Type: ScopePCIEndpoint, Path: []PCIPath{{2, 0}}},
					{Type: ScopePCIBridge, Path: []PCIPath{{0x1c, 0}, {0, 1}}}}}},
				Skipped: []DMARStructure{{dmarATSR, 8}, {dmarRHSA, 20}},
			},
		},
		{
			name: "include-all in each of two segments",
			tbl:  dmarTable(39, 0, drhd(DRHDIncludePCIAll, 0, 0xfed90000), drhd(DRHDIncludePCIAll, 1, 0xfed92000)),
			want: &DMAR{HostAddressWidth: 39, Units: []DRHD{
				{Flags: DRHDIncludePCIAll, RegisterBase: 0xfed90000, RegisterPages: 1},
				{Flags: DRHDIncludePCIAll, Segment: 1, RegisterBase: 0xfed92000, RegisterPages: 1}}},
		},
		{name: "no structures", tbl: dmarTable(39, 0), want: &DMAR{HostAddressWidth: 39}},
		{name: "wrong signature", tbl: sdt("DMAX", 1, make([]byte, 12)), msg: "wrong signature"},
		{name: "short header", tbl: sdt("DMAR", 1, make([]byte, 4)), msg: "length field"},
		{name: "register base not aligned", tbl: dmarTable(39, 0, drhd(0, 0, 0xfed90800)), msg: "not 4 KiB aligned"},
		{name: "register base zero", tbl: dmarTable(39, 0, drhd(0, 0, 0)), msg: "register base address is 0"},
		{name: "register base wraps", tbl: dmarTable(39, 0, drhd(0, 0, 0xffff_ffff_ffff_f000)), msg: "do not fit"},
		{name: "units overlap", tbl: dmarTable(39, 0, drhd(0, 0, 0xfed90000), drhd(0, 1, 0xfed90000)), msg: "overlap"},
		{name: "unit after include-all", tbl: dmarTable(39, 0, drhd(DRHDIncludePCIAll, 0, 0xfed90000), drhd(0, 0, 0xfed91000)), msg: "follows"},
		{name: "include-all with a PCI scope", tbl: dmarTable(39, 0, drhd(DRHDIncludePCIAll, 0, 0xfed90000, ep(3, 0))), msg: "lists a PCI device scope"},
		{name: "structure length zero", tbl: dmarTable(39, 0, []byte{dmarATSR, 0, 0, 0}), msg: "length 0 outside"},
		{name: "structure past the end", tbl: dmarTable(39, 0, []byte{dmarATSR, 0, 9, 0, 0, 0, 0, 0}), msg: "length 9 outside"},
		{name: "stray bytes", tbl: dmarTable(39, 0, drhd(0, 0, 0xfed90000), []byte{0, 0}), msg: "less than a structure header"},
		{name: "DRHD too short", tbl: dmarTable(39, 0, []byte{dmarDRHD, 0, 8, 0, 0, 0, 0, 0}), msg: "need at least 16"},
		{name: "scope without a path", tbl: dmarTable(39, 0, drhd(0, 0, 0xfed90000, scope(ScopePCIEndpoint, 0, 0))), msg: "non-empty path"},
		{name: "scope longer than its unit", tbl: dmarTable(39, 0, drhd(0, 0, 0xfed90000, ep(2, 0)[:7])), msg: "device scope at offset 0"},
		{name: "odd scope length", tbl: dmarTable(39, 0, drhd(0, 0, 0xfed90000, []byte{1, 9, 0, 0, 0, 0, 2, 0, 0})), msg: "whole, non-empty path"},
		{name: "scope type 0", tbl: dmarTable(39, 0, drhd(0, 0, 0xfed90000, scope(0, 0, 0, PCIPath{2, 0}))), msg: "reserved type 0"},
		{name: "device 32", tbl: dmarTable(39, 0, drhd(0, 0, 0xfed90000, ep(32, 0))), msg: "out of range"},
		{name: "function 8", tbl: dmarTable(39, 0, drhd(0, 0, 0xfed90000, ep(1, 8))), msg: "out of range"},
		{name: "RMRR limit below base", tbl: dmarTable(39, 0, rmrr(0, 0x2000, 0x0fff, ep(2, 0))), msg: "below base"},
		{name: "RMRR unaligned base", tbl: dmarTable(39, 0, rmrr(0, 0x2100, 0x2fff, ep(2, 0))), msg: "not 4 KiB aligned"},
		{name: "RMRR unaligned limit", tbl: dmarTable(39, 0, rmrr(0, 0x2000, 0x2ffe, ep(2, 0))), msg: "does not end a 4 KiB page"},
		{name: "RMRR naming an I/O APIC", tbl: dmarTable(39, 0, rmrr(0, 0x2000, 0x2fff, ioapic)), msg: "want a PCI endpoint"},
		{name: "host address width 8", tbl: dmarTable(8, 0), msg: "host address width"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDMAR(tt.tbl)
			if tt.msg != "" {
				if err == nil || !strings.Contains(err.Error(), tt.msg) || got != nil {
					t.Fatalf("ParseDMAR = %+v, %v; want an error containing %q", got, err, tt.msg)
				}
				if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrLength) && !errors.Is(err, ErrSignature) {
					t.Errorf("error %v wraps no sentinel", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestParseWithDMAR checks that Parse finds the DMAR through the root
// table, and that a second one or a bad one becomes a Problem.
func TestParseWithDMAR(t *testing.T) {
	good := unhex(t, qemuDMARHex)
	bad := dmarTable(39, 0, drhd(0, 0, 0xfed90800))
	tests := []struct {
		name     string
		tables   [][]byte
		want     *DMAR
		problems int
	}{
		{"qemu", [][]byte{good}, qemuDMAR(), 0},
		{"two", [][]byte{good, dmarTable(39, 0)}, qemuDMAR(), 1},
		{"bad", [][]byte{bad}, nil, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := fakeMem{}
			var addrs []uint32
			for i, tbl := range tt.tables {
				pa := uint32(0x100000 + i*0x1000)
				mem[uint64(pa)] = tbl
				addrs = append(addrs, pa)
			}
			mem[0xe0000] = rsdpV1(0xf0000)
			mem[0xf0000] = rsdtTable(addrs...)
			got, err := Parse(mem, 0xe0000)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got.DMAR); diff != "" {
				t.Errorf("DMAR (-want +got):\n%s", diff)
			}
			if len(got.Problems) != tt.problems {
				t.Errorf("problems %q, want %d", errStrings(got.Problems), tt.problems)
			}
		})
	}
}

// FuzzDMAR runs ParseDMAR on arbitrary structure bytes behind a valid
// header (fix set), or on arbitrary bytes as the whole table. Whatever
// it accepts must satisfy the invariants its documentation promises.
func FuzzDMAR(f *testing.F) {
	f.Add(unhex(f, qemuDMARHex)[dmarBodyStart:], true)
	f.Add(unhex(f, qemuDMARBridgeHex)[dmarBodyStart:], true)
	f.Add(unhex(f, qemuDMARHex), false)
	f.Add(append(rmrr(0, 0x2000, 0x2fff, scope(ScopePCIBridge, 0, 0, PCIPath{1, 0}, PCIPath{0, 0})),
		drhd(DRHDIncludePCIAll, 0, 0xfed90000, scope(ScopeHPET, 0, 0, PCIPath{0x1f, 0}))...), true)
	f.Fuzz(func(t *testing.T, data []byte, fix bool) {
		tbl := data
		if fix {
			tbl = dmarTable(39, DMARIntrRemap, data)
		}
		d, err := ParseDMAR(tbl)
		if err != nil {
			if d != nil {
				t.Fatalf("result with error %v", err)
			}
			return
		}
		seen := map[uint16]bool{}
		for i, u := range d.Units {
			if u.RegisterBase == 0 || u.RegisterBase&0xfff != 0 || u.RegisterPages == 0 {
				t.Fatalf("accepted unit %+v", u)
			}
			if seen[u.Segment] {
				t.Fatalf("unit %d follows an include-all unit of segment %d", i, u.Segment)
			}
			seen[u.Segment] = u.IncludesAll()
			for _, o := range d.Units[:i] {
				if u.RegisterBase < o.RegisterBase+uint64(o.RegisterPages)<<12 && o.RegisterBase < u.RegisterBase+uint64(u.RegisterPages)<<12 {
					t.Fatalf("overlapping units %+v and %+v", o, u)
				}
			}
			checkScopes(t, u.Scopes)
		}
		for _, r := range d.Reserved {
			if r.Base&0xfff != 0 || r.Limit < r.Base || r.Limit&0xfff != 0xfff {
				t.Fatalf("accepted RMRR %+v", r)
			}
			checkScopes(t, r.Scopes)
		}
	})
}

func checkScopes(t *testing.T, scopes []DeviceScope) {
	for _, s := range scopes {
		if s.Type == 0 || len(s.Path) == 0 {
			t.Fatalf("accepted scope %+v", s)
		}
		for _, p := range s.Path {
			if p.Device > 31 || p.Function > 7 {
				t.Fatalf("accepted scope %+v", s)
			}
		}
	}
}
