package acpi

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseMADT(t *testing.T) {
	withEntries := func(f func(*MADT)) *MADT {
		m := &MADT{LAPICAddr: 0xfee00000, Flags: MADTPCATCompat}
		f(m)
		return m
	}
	tests := []struct {
		name    string
		tbl     []byte
		want    *MADT
		wantErr error
	}{
		{
			name: "QEMU",
			tbl:  madtTable(0xfee00000, MADTPCATCompat, qemuMADTEntries...),
			want: qemuMADT(),
		},
		{
			name: "no entries",
			tbl:  madtTable(0xfee00000, 0),
			want: &MADT{LAPICAddr: 0xfee00000},
		},
		{
			name: "64-bit local APIC address override",
			tbl:  madtTable(0xfee00000, 0, entry(madtLAPICOverride, uint16(0), uint64(0x1_0000_0000))),
			want: &MADT{LAPICAddr: 0x1_0000_0000},
		},
		{
			name: "x2APIC processors and NMIs",
			tbl: madtTable(0xfee00000, MADTPCATCompat,
				entry(madtX2APIC, uint16(0), uint32(300), uint32(LAPICEnabled|LAPICOnlineCapable), uint32(7)),
				entry(madtX2APICNMI, uint16(PolarityActiveLow|TriggerLevel), uint32(AllProcessors), uint8(1), uint8(0), uint16(0)),
				lapicNMIEntry(3, PolarityActiveHi, 0)),
			want: withEntries(func(m *MADT) {
				m.LAPICs = []LocalAPIC{{ProcessorUID: 7, APICID: 300, Flags: LAPICEnabled | LAPICOnlineCapable, X2APIC: true}}
				m.LAPICNMIs = []LAPICNMI{
					{ProcessorUID: AllProcessors, Flags: PolarityActiveLow | TriggerLevel, LINT: 1},
					{ProcessorUID: 3, Flags: PolarityActiveHi, LINT: 0},
				}
			}),
		},
		{
			name: "NMI source, several I/O APICs",
			tbl: madtTable(0xfee00000, MADTPCATCompat,
				ioapicEntry(1, 0xfec00000, 0), ioapicEntry(2, 0xfec01000, 24),
				entry(madtNMISource, uint16(TriggerEdge), uint32(23))),
			want: withEntries(func(m *MADT) {
				m.IOAPICs = []IOAPIC{{1, 0xfec00000, 0}, {2, 0xfec01000, 24}}
				m.NMISources = []NMISource{{Flags: TriggerEdge, GSI: 23}}
			}),
		},
		{
			name: "unknown types are skipped and long entries accepted",
			tbl: madtTable(0xfee00000, MADTPCATCompat,
				entry(0x7f, uint32(1), uint32(2)),
				grow(lapicEntry(1, 2, LAPICEnabled), 0xAA, 0xBB)),
			want: withEntries(func(m *MADT) {
				m.LAPICs = []LocalAPIC{{ProcessorUID: 1, APICID: 2, Flags: LAPICEnabled}}
			}),
		},
		{
			name:    "entry length zero",
			tbl:     madtTable(0xfee00000, 0, []byte{madtLAPIC, 0, 0, 0, 0, 0, 0, 0}),
			wantErr: ErrMalformed,
		},
		{
			name:    "entry length one",
			tbl:     madtTable(0xfee00000, 0, []byte{0x7f, 1}),
			wantErr: ErrMalformed,
		},
		{
			name:    "entry runs past the table",
			tbl:     madtTable(0xfee00000, 0, []byte{0x7f, 9, 0, 0}),
			wantErr: ErrMalformed,
		},
		{
			name:    "entry shorter than its type requires",
			tbl:     madtTable(0xfee00000, 0, []byte{madtIOAPIC, 8, 0, 0, 0, 0, 0xc0, 0xfe}),
			wantErr: ErrMalformed,
		},
		{
			name:    "trailing byte",
			tbl:     madtTable(0xfee00000, 0, lapicEntry(0, 0, 1), []byte{0}),
			wantErr: ErrMalformed,
		},
		{
			name:    "shorter than the fixed fields",
			tbl:     sdt("APIC", 1, []byte{0, 0, 0xe0, 0xfe}),
			wantErr: ErrLength,
		},
		{
			name:    "bad checksum",
			tbl:     func() []byte { b := madtTable(0xfee00000, 0); b[40]++; return b }(),
			wantErr: ErrChecksum,
		},
		{
			name:    "wrong signature",
			tbl:     sdt("APIX", 1, make([]byte, 8)),
			wantErr: ErrSignature,
		},
		{
			name:    "length field beyond the bytes",
			tbl:     madtTable(0xfee00000, 0)[:40],
			wantErr: ErrLength,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseMADT(tt.tbl)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("ParseMADT error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseMADT mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// grow appends fields a later revision might add to an entry.
func grow(e []byte, extra ...byte) []byte {
	e = append(e, extra...)
	e[1] = uint8(len(e))
	return e
}

func TestISAToGSI(t *testing.T) {
	type result struct {
		GSI              uint32
		ActiveLow, Level bool
	}
	m := qemuMADT()
	m.Overrides = append(m.Overrides,
		Override{Bus: 0, Source: 12, GSI: 20, Flags: PolarityActiveLow | TriggerLevel},
		Override{Bus: 0, Source: 13, GSI: 13, Flags: 2 | 2<<2}, // reserved encodings
		Override{Bus: 1, Source: 14, GSI: 30, Flags: PolarityActiveLow},
	)
	tests := []struct {
		name string
		madt *MADT
		irq  uint8
		want result
	}{
		{"timer redirected to GSI 2", m, 0, result{2, false, false}},
		{"keyboard is identity", m, 1, result{1, false, false}},
		{"QEMU PCI link is level, active high", m, 5, result{5, false, true}},
		{"SCI", m, 9, result{9, false, true}},
		{"active low, level", m, 12, result{20, true, true}},
		{"reserved encodings read as defaults", m, 13, result{13, false, false}},
		{"other buses are ignored", m, 14, result{14, false, false}},
		{"nil MADT", nil, 4, result{4, false, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got result
			got.GSI, got.ActiveLow, got.Level = tt.madt.ISAToGSI(tt.irq)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ISAToGSI(%d) (-want +got):\n%s", tt.irq, diff)
			}
		})
	}
}
