package multiboot

import (
	"math/rand"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func avail(base, n uint64) Region { return Region{Base: base, Len: n, Type: TypeAvailable} }

func TestAvailable(t *testing.T) {
	const top = ^uint64(0)
	tests := []struct {
		name     string
		regions  []Region
		reserved []Region
		modules  []Module
		excl     []Region
		outLen   int
		want     []Region
	}{
		{
			name:    "empty map",
			regions: nil,
			outLen:  4,
			want:    []Region{},
		},
		{
			name:    "rounds inward to pages",
			regions: []Region{avail(0x1001, 0x3000)},
			outLen:  4,
			want:    []Region{avail(0x2000, 0x2000)},
		},
		{
			name:    "less than a page disappears",
			regions: []Region{avail(0x1800, 0x1000)},
			outLen:  4,
			want:    []Region{},
		},
		{
			name:    "adjacent entries merge before rounding",
			regions: []Region{avail(0x1800, 0x800), avail(0x1000, 0x800)},
			outLen:  4,
			want:    []Region{avail(0x1000, 0x1000)},
		},
		{
			name:    "overlapping and unsorted entries merge",
			regions: []Region{avail(0x5000, 0x3000), avail(0x1000, 0x2000), avail(0x2000, 0x4000), avail(0x10000, 0x1000)},
			outLen:  4,
			want:    []Region{avail(0x1000, 0x7000), avail(0x10000, 0x1000)},
		},
		{
			name:    "one entry bridges several",
			regions: []Region{avail(0x1000, 0x1000), avail(0x3000, 0x1000), avail(0x5000, 0x1000), avail(0x1800, 0x4000)},
			outLen:  4,
			want:    []Region{avail(0x1000, 0x5000)},
		},
		{
			name: "reserved types win over available",
			regions: []Region{
				avail(0, 0x100000),
				{Base: 0x9f000, Len: 0x61000, Type: TypeReserved},
				{Base: 0x4000, Len: 0x10, Type: TypeNVS},
				{Base: 0x8000, Len: 0x1000, Type: TypeBad},
				{Base: 0x9000, Len: 0x1000, Type: 0x1234},
			},
			outLen: 8,
			want:   []Region{avail(0, 0x4000), avail(0x5000, 0x3000), avail(0xa000, 0x95000)},
		},
		{
			name:     "reserved, modules and exclusions are subtracted",
			regions:  qemuMap,
			reserved: []Region{{Base: 0x9000, Len: InfoSize}, {Base: 0x9100, Len: 10}, {Base: 0x9500, Len: 0}},
			modules:  []Module{{Start: 0x200000, End: 0x201234}, {Start: 0x300000, End: 0x300000}},
			excl:     []Region{{Base: 0x100000, Len: 0x80000}, {Base: 0x7000000, Len: 0x2000000}},
			outLen:   8,
			want: []Region{
				avail(0, 0x9000), avail(0xa000, 0x95000),
				avail(0x180000, 0x80000), avail(0x202000, 0x6dfe000),
			},
		},
		{
			name:    "exclusion covering everything",
			regions: qemuMap,
			excl:    []Region{{Base: 0, Len: top}},
			outLen:  8,
			want:    []Region{},
		},
		{
			name:    "region reaching the top of the address space",
			regions: []Region{avail(top-0x2fff, 0x10000)},
			outLen:  2,
			want:    []Region{avail(top-0x2fff, 0x2000)},
		},
		{
			name:    "region within the last page",
			regions: []Region{avail(top-0x7ff, 0x800)},
			outLen:  2,
			want:    []Region{},
		},
		{
			name:    "zero output capacity",
			regions: qemuMap,
			outLen:  0,
			want:    []Region{},
		},
		{
			name:    "output too small keeps the lowest pieces",
			regions: []Region{avail(0x3000, 0x1000), avail(0x1000, 0x1000), avail(0x5000, 0x1000), avail(0x7000, 0x1000)},
			outLen:  2,
			want:    []Region{avail(0x1000, 0x1000), avail(0x3000, 0x1000)},
		},
		{
			name:    "output too small after a split keeps the lowest pieces",
			regions: []Region{avail(0x1000, 0x4000), avail(0x8000, 0x1000)},
			excl:    []Region{{Base: 0x2000, Len: 0x1000}},
			outLen:  2,
			want:    []Region{avail(0x1000, 0x1000), avail(0x3000, 0x2000)},
		},
		{
			name:    "output too small keeps the lower half of a split",
			regions: []Region{avail(0x1000, 0x1000), avail(0x8000, 0x4000)},
			excl:    []Region{{Base: 0x9000, Len: 0x1000}},
			outLen:  2,
			want:    []Region{avail(0x1000, 0x1000), avail(0x8000, 0x1000)},
		},
		{
			name:    "unaligned exclusion removes whole pages",
			regions: []Region{avail(0, 0x10000)},
			excl:    []Region{{Base: 0x2fff, Len: 2}, {Base: 0x8000, Len: 1}},
			outLen:  4,
			want:    []Region{avail(0, 0x2000), avail(0x4000, 0x4000), avail(0x9000, 0x7000)},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var in Info
			in.NRegions = copy(in.Regions[:], tt.regions)
			in.NReserved = copy(in.Reserved[:], tt.reserved)
			in.NModules = copy(in.Modules[:], tt.modules)
			out := make([]Region, tt.outLen)
			n := in.Available(tt.excl, out)
			if diff := cmp.Diff(tt.want, out[:n], cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("Available mismatch (-want +got):\n%s", diff)
			}
			checkPrefix(t, out[:n], len(out), refAvailable(&in, tt.excl))
		})
	}
}

func TestAvailableNil(t *testing.T) {
	var in *Info
	if n := in.Available(nil, make([]Region, 4)); n != 0 {
		t.Errorf("nil Info: got %d regions", n)
	}
	// Count fields out of range must not make Available index past
	// the arrays.
	bad := Info{NRegions: -1, NReserved: MaxRegions + 5, NModules: 1 << 30}
	bad.Regions[0] = avail(0x1000, 0x1000)
	if n := bad.Available(nil, make([]Region, 4)); n != 0 {
		t.Errorf("negative NRegions: got %d regions", n)
	}
}

// TestAvailableRandom compares Available with the elementary-interval
// model in helpers_test.go on random small maps, where collisions
// between endpoints are frequent.
func TestAvailableRandom(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	addr := func() uint64 { return uint64(rng.Intn(64)) * 0x800 }
	for iter := 0; iter < 2000; iter++ {
		var in Info
		in.NRegions = rng.Intn(12)
		for i := 0; i < in.NRegions; i++ {
			typ := uint32(TypeAvailable)
			if rng.Intn(4) == 0 {
				typ = uint32(2 + rng.Intn(4))
			}
			in.Regions[i] = Region{Base: addr(), Len: addr() + uint64(rng.Intn(3)), Type: typ}
		}
		in.NReserved = rng.Intn(3)
		for i := 0; i < in.NReserved; i++ {
			in.Reserved[i] = Region{Base: addr() + 7, Len: uint64(rng.Intn(0x1800))}
		}
		in.NModules = rng.Intn(3)
		for i := 0; i < in.NModules; i++ {
			s := addr()
			in.Modules[i] = Module{Start: s, End: s + uint64(rng.Intn(0x3000))}
		}
		excl := []Region{{Base: addr(), Len: uint64(rng.Intn(0x2000))}}
		want := refAvailable(&in, excl)

		out := make([]Region, rng.Intn(len(want)+2))
		checkPrefix(t, out[:in.Available(excl, out)], len(out), want)
	}
}

// checkPrefix fails unless got, the result of Available with an out of
// length outLen, is exactly the first min(outLen, len(want)) entries of
// the model's answer: the lowest pieces, and all of them if they fit.
func checkPrefix(t *testing.T, got []Region, outLen int, want []Region) {
	t.Helper()
	if len(want) > outLen {
		want = want[:outLen]
	}
	if slices.Equal(want, got) {
		return // cheap path: the fuzz targets call this on every input
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Fatalf("Available with room for %d disagrees with the model (-model +got):\n%s", outLen, diff)
	}
}
