package acpi

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const ebdaBase = 0x9fc00 // SeaBIOS's EBDA with -m 128M

// biosMem models low memory: the BDA word pointing at the EBDA, 1 KiB of
// EBDA and the 128 KiB BIOS area, with RSDP images placed in them.
func biosMem(ebdaSeg uint16, ebda, bios map[int][]byte) fakeMem {
	bda := le.AppendUint16(nil, ebdaSeg)
	e := make([]byte, ebdaScanLength)
	for off, b := range ebda {
		copy(e[off:], b)
	}
	r := make([]byte, biosAreaEnd-biosAreaStart)
	for off, b := range bios {
		copy(r[off:], b)
	}
	return fakeMem{ebdaSegmentPtr: bda, ebdaBase: e, biosAreaStart: r}
}

func TestFindRSDP(t *testing.T) {
	good := rsdpV1(rsdtPA)
	badSum := append([]byte(nil), good...)
	badSum[16]++
	badExt := rsdpV2(rsdtPA, xsdtPA)
	badExt[24]++
	tests := []struct {
		name    string
		mem     Memory
		want    uint64
		wantErr error
	}{
		{
			name: "in the BIOS area, like SeaBIOS",
			mem:  biosMem(ebdaBase>>4, nil, map[int][]byte{0x159e0: good}),
			want: 0xf59e0,
		},
		{
			name: "EBDA is searched first",
			mem:  biosMem(ebdaBase>>4, map[int][]byte{0x40: good}, map[int][]byte{0x10: good}),
			want: ebdaBase + 0x40,
		},
		{
			name: "EBDA copy running into unreadable memory is skipped",
			mem:  biosMem(ebdaBase>>4, map[int][]byte{ebdaScanLength - 16: good[:16]}, map[int][]byte{0x20: good}),
			want: biosAreaStart + 0x20,
		},
		{
			name: "bad checksum candidate is skipped",
			mem:  biosMem(ebdaBase>>4, map[int][]byte{0: badSum}, map[int][]byte{0x100: badSum, 0x200: good}),
			want: biosAreaStart + 0x200,
		},
		{
			name: "bad extended checksum candidate is skipped",
			mem:  biosMem(0, nil, map[int][]byte{0x100: badExt, 0x300: good}),
			want: biosAreaStart + 0x300,
		},
		{
			name:    "signature off the 16-byte grid is ignored",
			mem:     biosMem(0, nil, map[int][]byte{0x108: good}),
			wantErr: ErrNotFound,
		},
		{
			name:    "EBDA pointer zero and nothing in the BIOS area",
			mem:     biosMem(0, map[int][]byte{0: good}, nil),
			wantErr: ErrNotFound,
		},
		{
			name:    "nothing readable",
			mem:     fakeMem{},
			wantErr: ErrNotFound,
		},
		{
			name:    "nil Memory",
			mem:     nil,
			wantErr: ErrNotFound,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FindRSDP(tt.mem)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("FindRSDP error = %v, want %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("FindRSDP (-want +got):\n%s", diff)
			}
		})
	}
}
