package acpi

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseFADT(t *testing.T) {
	io := func(port uint64, bits uint8) GenericAddress {
		return GenericAddress{Space: SpaceSystemIO, BitWidth: bits, Addr: port}
	}
	mmio := GenericAddress{Space: SpaceSystemMemory, BitWidth: 16, Addr: 0xfed80004}
	tests := []struct {
		name    string
		tbl     []byte
		want    *FADT
		wantErr error
	}{
		{
			name: "QEMU q35 style revision 3",
			tbl:  qemuFADT(0x7fe0040),
			want: &FADT{
				Revision: 3, Flags: 0x84a5, SCIInterrupt: 9, SMICommand: 0xb2, ACPIEnable: 0xf1, ACPIDisable: 0xf0,
				DSDT: 0x7fe0040, PM1aCnt: io(0x604, 16),
				ResetReg: io(0xcf9, 8), ResetValue: 0x0f,
			},
		},
		{
			name: "ACPI 1.0 length uses the legacy fields only",
			tbl: fadtSpec{length: 116, rev: 1, dsdt: 0x1000, sci: 9, pm1a: 0x604, pm1b: 0x608, cntLen: 2,
				flags: FADTResetRegSupported}.bytes(),
			want: &FADT{Revision: 1, Flags: FADTResetRegSupported, SCIInterrupt: 9, DSDT: 0x1000,
				PM1aCnt: io(0x604, 16), PM1bCnt: io(0x608, 16)},
		},
		{
			name: "X fields preferred over legacy when in I/O space",
			tbl: fadtSpec{length: 276, rev: 6, dsdt: 0x1000, xdsdt: 0x1_0000_2000, pm1a: 0x404, cntLen: 2,
				xpm1a: io(0x604, 16), xpm1b: io(0x608, 16), bootArch: BootArch8042 | BootArchNoVGA}.bytes(),
			want: &FADT{Revision: 6, DSDT: 0x1_0000_2000, PM1aCnt: io(0x604, 16), PM1bCnt: io(0x608, 16),
				BootArch: BootArch8042 | BootArchNoVGA},
		},
		{
			name: "memory-space X field loses to a legacy port",
			tbl:  fadtSpec{length: 244, rev: 3, pm1a: 0x604, cntLen: 2, xpm1a: mmio}.bytes(),
			want: &FADT{Revision: 3, PM1aCnt: io(0x604, 16)},
		},
		{
			name: "memory-space X field kept when there is no legacy port",
			tbl:  fadtSpec{length: 244, rev: 3, xpm1a: mmio}.bytes(),
			want: &FADT{Revision: 3, PM1aCnt: mmio},
		},
		{
			name: "zero X_DSDT falls back to DSDT",
			tbl:  fadtSpec{length: 244, rev: 3, dsdt: 0x5000}.bytes(),
			want: &FADT{Revision: 3, DSDT: 0x5000},
		},
		{
			name: "length between 1.0 and the X fields",
			tbl:  fadtSpec{length: 129, rev: 2, dsdt: 0x5000, pm1a: 0x604, cntLen: 2, resetValue: 6, reset: io(0xcf9, 8)}.bytes(),
			want: &FADT{Revision: 2, DSDT: 0x5000, PM1aCnt: io(0x604, 16), ResetReg: io(0xcf9, 8), ResetValue: 6},
		},
		{
			name:    "shorter than ACPI 1.0",
			tbl:     fadtSpec{length: 115, rev: 1}.bytes(),
			wantErr: ErrLength,
		},
		{
			name:    "bad checksum",
			tbl:     func() []byte { b := qemuFADT(0x1000); b[fadtPM1aCnt]++; return b }(),
			wantErr: ErrChecksum,
		},
		{
			name:    "wrong signature",
			tbl:     sdt("FADT", 1, make([]byte, 80)),
			wantErr: ErrSignature,
		},
		{
			name:    "shorter than a header",
			tbl:     []byte("FACP"),
			wantErr: ErrLength,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseFADT(tt.tbl)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("ParseFADT error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseFADT mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPowerOffWrites(t *testing.T) {
	io := func(port uint64) GenericAddress {
		return GenericAddress{Space: SpaceSystemIO, BitWidth: 16, Addr: port}
	}
	const mask = 0x3C00
	tests := []struct {
		name    string
		tables  *Tables
		want    []PortWrite
		wantErr error
	}{
		{
			name:   "QEMU: one write of SLP_EN to 0x604",
			tables: &Tables{FADT: &FADT{PM1aCnt: io(0x604), S5: &SleepType{0, 0}}},
			want:   []PortWrite{{Port: 0x604, Value: 0x2000, Mask: mask}},
		},
		{
			name:   "PM1b block with its own type",
			tables: &Tables{FADT: &FADT{PM1aCnt: io(0x1004), PM1bCnt: io(0x2004), S5: &SleepType{7, 5}}},
			want: []PortWrite{
				{Port: 0x1004, Value: 7<<10 | 0x2000, Mask: mask},
				{Port: 0x2004, Value: 5<<10 | 0x2000, Mask: mask},
			},
		},
		{
			name:   "SLP_TYP is masked to three bits",
			tables: &Tables{FADT: &FADT{PM1aCnt: io(0x604), S5: &SleepType{0xff, 0}}},
			want:   []PortWrite{{Port: 0x604, Value: 0x3C00, Mask: mask}},
		},
		{
			name:    "nil Tables",
			tables:  nil,
			wantErr: ErrNoFADT,
		},
		{
			name:    "no FADT",
			tables:  &Tables{},
			wantErr: ErrNoFADT,
		},
		{
			name:    "no S5",
			tables:  &Tables{FADT: &FADT{PM1aCnt: io(0x604)}},
			wantErr: ErrNoS5,
		},
		{
			name:    "no PM1a block",
			tables:  &Tables{FADT: &FADT{S5: &SleepType{}}},
			wantErr: ErrNoFADT,
		},
		{
			name:    "hardware-reduced",
			tables:  &Tables{FADT: &FADT{Flags: FADTHardwareReduced, S5: &SleepType{}}},
			wantErr: ErrUnsupported,
		},
		{
			name: "memory-mapped PM1a",
			tables: &Tables{FADT: &FADT{S5: &SleepType{},
				PM1aCnt: GenericAddress{Space: SpaceSystemMemory, Addr: 0xfed80004}}},
			wantErr: ErrUnsupported,
		},
		{
			name:    "port beyond 16 bits",
			tables:  &Tables{FADT: &FADT{S5: &SleepType{}, PM1aCnt: io(0x10004)}},
			wantErr: ErrMalformed,
		},
		{
			name: "bad PM1b",
			tables: &Tables{FADT: &FADT{S5: &SleepType{}, PM1aCnt: io(0x604),
				PM1bCnt: GenericAddress{Space: 0x7f, Addr: 8}}},
			wantErr: ErrUnsupported,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.tables.PowerOffWrites()
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("PowerOffWrites error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("PowerOffWrites mismatch (-want +got):\n%s", diff)
			}
		})
	}
}
