package acpi

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func cat(parts ...[]byte) []byte {
	var b []byte
	for _, p := range parts {
		b = append(b, p...)
	}
	return b
}

var (
	nameS5     = []byte{0x08, '_', 'S', '5', '_'}
	rootNameS5 = []byte{0x08, '\\', '_', 'S', '5', '_'}
)

func TestParseS5(t *testing.T) {
	tests := []struct {
		name    string
		aml     []byte
		want    *SleepType
		wantErr error
	}{
		{
			name: "QEMU q35 and pc: Package(4){0,0,0,0}",
			aml:  s5q35,
			want: &SleepType{0, 0},
		},
		{
			name: "BytePrefix elements",
			aml:  cat(nameS5, []byte{0x12, 0x08, 0x04, 0x0A, 0x05, 0x0A, 0x07, 0x00, 0x00}),
			want: &SleepType{5, 7},
		},
		{
			name: "root-prefixed name inside a scope",
			aml:  cat([]byte{0x10, 0x20, '\\', 0x00}, rootNameS5, []byte{0x12, 0x06, 0x04, 0x01, 0x00, 0x00, 0x00}),
			want: &SleepType{1, 0},
		},
		{
			name: "old two-element package",
			aml:  cat(nameS5, []byte{0x12, 0x05, 0x02, 0x0A, 0x07, 0x01}),
			want: &SleepType{7, 1},
		},
		{
			name: "Word, DWord and QWord prefixes",
			aml: cat(nameS5, []byte{0x12, 0x0F, 0x03, 0x0B, 0x06, 0x00, 0x0C, 0x03, 0, 0, 0,
				0x0E, 0, 0, 0, 0, 0, 0, 0, 0}),
			want: &SleepType{6, 3},
		},
		{
			name: "two-byte PkgLength",
			aml:  cat(nameS5, []byte{0x12, 0x41, 0x01, 0x04, 0x0A, 0x02, 0x0A, 0x03}, make([]byte, 11)),
			want: &SleepType{2, 3},
		},
		{
			name: "four-byte PkgLength",
			aml:  cat(nameS5, []byte{0x12, 0xC7, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01}),
			want: &SleepType{0, 1},
		},
		{
			name: "references before the definition are skipped",
			aml: cat([]byte{0x70, '_', 'S', '5', '_', 0x60}, // Store(_S5_, Local0)
				[]byte{0x5C, '_', 'S', '5', '_'}, // \_S5_ not after NameOp
				s5q35),
			want: &SleepType{0, 0},
		},
		{
			name: "malformed candidate then a valid one",
			aml:  cat(nameS5, []byte{0x12, 0x03, 0x01, 0x00}, s5q35),
			want: &SleepType{0, 0},
		},
		{
			name:    "no _S5_ at all",
			aml:     dsdtWith(nil)[headerSize:],
			wantErr: ErrNoS5,
		},
		{
			name:    "empty",
			aml:     nil,
			wantErr: ErrNoS5,
		},
		{
			name:    "name at the very start has no NameOp",
			aml:     []byte("_S5_\x12\x06\x04\x00\x00\x00\x00"),
			wantErr: ErrNoS5,
		},
		{
			name:    "name at the very end",
			aml:     nameS5,
			wantErr: ErrMalformed,
		},
		{
			name:    "not a package",
			aml:     cat(nameS5, []byte{0x0A, 0x05}),
			wantErr: ErrMalformed,
		},
		{
			name:    "one element",
			aml:     cat(nameS5, []byte{0x12, 0x03, 0x01, 0x05}),
			wantErr: ErrMalformed,
		},
		{
			name:    "package shorter than its element count",
			aml:     cat(nameS5, []byte{0x12, 0x03, 0x04, 0x00, 0x00, 0x00}),
			wantErr: ErrMalformed,
		},
		{
			name:    "PkgLength runs past the end",
			aml:     cat(nameS5, []byte{0x12, 0x3F, 0x04, 0x00, 0x00}),
			wantErr: ErrMalformed,
		},
		{
			name:    "PkgLength with no room for the element count",
			aml:     cat(nameS5, []byte{0x12, 0x01, 0x04}),
			wantErr: ErrMalformed,
		},
		{
			name:    "PkgLength truncated",
			aml:     cat(nameS5, []byte{0x12, 0xC0, 0x00}),
			wantErr: ErrMalformed,
		},
		{
			name:    "PkgLength missing",
			aml:     cat(nameS5, []byte{0x12}),
			wantErr: ErrMalformed,
		},
		{
			name:    "PkgLength reserved bits",
			aml:     cat(nameS5, []byte{0x12, 0x50, 0x00, 0x04, 0x00, 0x00}),
			wantErr: ErrMalformed,
		},
		{
			name:    "SLP_TYP too large",
			aml:     cat(nameS5, []byte{0x12, 0x06, 0x04, 0x0A, 0x08, 0x00, 0x00}),
			wantErr: ErrMalformed,
		},
		{
			name:    "OnesOp is out of range",
			aml:     cat(nameS5, []byte{0x12, 0x05, 0x02, 0x00, 0xFF, 0x00}),
			wantErr: ErrMalformed,
		},
		{
			name:    "truncated BytePrefix value",
			aml:     cat(nameS5, []byte{0x12, 0x04, 0x02, 0x00, 0x0A}),
			wantErr: ErrMalformed,
		},
		{
			name:    "element computed at run time",
			aml:     cat(nameS5, []byte{0x12, 0x07, 0x02, 'S', 'L', 'P', 'A', 0x00}),
			wantErr: ErrUnsupported,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseS5(tt.aml)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("ParseS5 error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseS5 mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPkgLength(t *testing.T) {
	tests := []struct {
		in      []byte
		length  int
		n       int
		wantErr bool
	}{
		{in: []byte{0x00}, length: 0, n: 1},
		{in: []byte{0x3F, 0xFF}, length: 63, n: 1},
		{in: []byte{0x45, 0x12}, length: 0x125, n: 2},
		{in: []byte{0x8F, 0x34, 0x12}, length: 0x1234F, n: 3},
		{in: []byte{0xCF, 0xFF, 0xFF, 0xFF}, length: 0xFFFFFFF, n: 4},
		{in: nil, wantErr: true},
		{in: []byte{0x40}, wantErr: true},
		{in: []byte{0xC0, 0, 0}, wantErr: true},
		{in: []byte{0x60, 0}, wantErr: true},
	}
	for _, tt := range tests {
		length, n, err := pkgLength(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("pkgLength(% x) error = %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		if diff := cmp.Diff([2]int{tt.length, tt.n}, [2]int{length, n}); err == nil && diff != "" {
			t.Errorf("pkgLength(% x) (-want +got):\n%s", tt.in, diff)
		}
	}
}
