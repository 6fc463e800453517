package amd64_test

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"valence.dev/microkernel/arch/amd64"
)

func TestIndex(t *testing.T) {
	// va builds a canonical address from its four table indices and offset.
	va := func(pml4, pdpt, pd, pt, off uint64) uint64 {
		v := pml4<<39 | pdpt<<30 | pd<<21 | pt<<12 | off
		if pml4 >= 256 {
			v |= 0xFFFF << 48
		}
		return v
	}
	tests := []struct {
		va   uint64
		want [4]int // PML4, PDPT, PD, PT
	}{
		{0, [4]int{0, 0, 0, 0}},
		{0xFFF, [4]int{0, 0, 0, 0}},
		{0x1000, [4]int{0, 0, 0, 1}},
		{0x20_0000, [4]int{0, 0, 1, 0}},
		{0x4000_0000, [4]int{0, 1, 0, 0}},
		{0x80_0000_0000, [4]int{1, 0, 0, 0}},
		{0x0000_7FFF_FFFF_FFFF, [4]int{255, 511, 511, 511}},
		{0xFFFF_8000_0000_0000, [4]int{256, 0, 0, 0}},
		{0xFFFF_FFFF_8000_0000, [4]int{511, 510, 0, 0}}, // -2 GiB kernel image
		{0xFFFF_FFFF_FFFF_FFFF, [4]int{511, 511, 511, 511}},
		{0x0000_0000_0040_1234, [4]int{0, 0, 2, 1}},
		{va(1, 2, 3, 4, 0x567), [4]int{1, 2, 3, 4}},
		{va(300, 17, 400, 123, 0xFFF), [4]int{300, 17, 400, 123}},
		{va(511, 0, 511, 0, 0), [4]int{511, 0, 511, 0}},
	}
	for _, tc := range tests {
		var got [4]int
		for level := 4; level >= 1; level-- {
			got[4-level] = amd64.Index(tc.va, level)
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("Index(%#x, 4..1) (-want +got):\n%s", tc.va, diff)
		}
	}
}

func TestCanonical(t *testing.T) {
	tests := []struct {
		va   uint64
		want bool
	}{
		{0, true},
		{0x0000_7FFF_FFFF_FFFF, true},  // top of the lower half
		{0x0000_8000_0000_0000, false}, // first non-canonical
		{0x0000_FFFF_FFFF_FFFF, false},
		{0x0001_0000_0000_0000, false},
		{0x7FFF_FFFF_FFFF_FFFF, false},
		{0x8000_0000_0000_0000, false},
		{0xFFFE_FFFF_FFFF_FFFF, false},
		{0xFFFF_7FFF_FFFF_FFFF, false}, // last non-canonical
		{0xFFFF_8000_0000_0000, true},  // bottom of the upper half
		{0xFFFF_FFFF_8000_0000, true},
		{0xFFFF_FFFF_FFFF_FFFF, true},
		{0x8000_7FFF_FFFF_FFFF, false}, // bit 63 alone
		{0x7FFF_8000_0000_0000, false}, // all but bit 63
	}
	for _, tc := range tests {
		if got := amd64.Canonical(tc.va); got != tc.want {
			t.Errorf("Canonical(%#x) = %v, want %v", tc.va, got, tc.want)
		}
	}
}

func TestPTEBits(t *testing.T) {
	// SDM vol. 3A tables 4-14 to 4-20 and figure 4-12.
	tests := []struct {
		name      string
		got, want uint64
	}{
		{"P", amd64.PTEPresent, 1 << 0}, {"R/W", amd64.PTEWrite, 1 << 1}, {"U/S", amd64.PTEUser, 1 << 2},
		{"PWT", amd64.PTEWriteThr, 1 << 3}, {"PCD", amd64.PTENoCache, 1 << 4}, {"A", amd64.PTEAccessed, 1 << 5},
		{"D", amd64.PTEDirty, 1 << 6}, {"PS", amd64.PTEHuge, 1 << 7}, {"G", amd64.PTEGlobal, 1 << 8},
		{"XD", amd64.PTENoExec, 1 << 63},
		{"address mask", amd64.PTEAddrMask, (1<<52 - 1) &^ (1<<12 - 1)},
		{"PageSize", amd64.PageSize, 1 << amd64.PageShift},
		{"HugePageSize", amd64.HugePageSize, amd64.PageSize * amd64.TableEntries},
		{"PF P", amd64.PFPresent, 1 << 0}, {"PF W/R", amd64.PFWrite, 1 << 1}, {"PF U/S", amd64.PFUser, 1 << 2},
		{"PF RSVD", amd64.PFReserved, 1 << 3}, {"PF I/D", amd64.PFFetch, 1 << 4},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("%s = %#x, want %#x", tc.name, tc.got, tc.want)
		}
	}
}

func ExampleIndex() {
	va := uint64(0xFFFF_FFFF_8010_2030)
	fmt.Println(amd64.Index(va, 4), amd64.Index(va, 3), amd64.Index(va, 2), amd64.Index(va, 1))
	// Output: 511 510 0 258
}
