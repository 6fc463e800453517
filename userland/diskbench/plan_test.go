package main

import (
	"math/rand/v2"
	"reflect"
	"testing"
)

func TestSplit(t *testing.T) {
	for _, tc := range []struct {
		name   string
		off    int64
		n, max int
		want   []piece
	}{
		{"fits", 4096, 4096, 512 << 10, []piece{{4096, 0, 4096}}},
		{"exact", 0, 1 << 20, 1 << 20, []piece{{0, 0, 1 << 20}}},
		{"halves", 1 << 20, 1 << 20, 512 << 10, []piece{{1 << 20, 0, 512 << 10}, {3 << 19, 512 << 10, 512 << 10}}},
		{"ragged", 0, 10, 4, []piece{{0, 0, 4}, {4, 4, 4}, {8, 8, 2}}},
		{"no limit", 8, 16, 0, []piece{{8, 0, 16}}},
	} {
		if got := split(tc.off, tc.n, tc.max); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: split(%d, %d, %d) = %v, want %v", tc.name, tc.off, tc.n, tc.max, got, tc.want)
		}
	}
}

func TestSeqOffset(t *testing.T) {
	for _, tc := range []struct {
		k    int64
		io   int
		disk int64
		want int64
	}{
		{0, 1 << 20, 256 << 20, 0},
		{5, 1 << 20, 256 << 20, 5 << 20},
		{256, 1 << 20, 256 << 20, 0},
		{3, 1 << 20, 2<<20 + 4096, 1 << 20}, // the ragged tail is never read
		{7, 1 << 20, 4096, 0},               // a disk smaller than one read
	} {
		if got := seqOffset(tc.k, tc.io, tc.disk); got != tc.want {
			t.Errorf("seqOffset(%d, %d, %d) = %d, want %d", tc.k, tc.io, tc.disk, got, tc.want)
		}
	}
}

func TestRandomOffset(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const disk = 1<<20 + 100
	for i := 0; i < 10000; i++ {
		off := randomOffset(rng, 4096, disk)
		if off%4096 != 0 || off < 0 || off+4096 > disk {
			t.Fatalf("offset %d: not an aligned whole 4 KiB inside %d bytes", off, disk)
		}
	}
}

func TestMinMedianAndLine(t *testing.T) {
	for _, tc := range []struct {
		vals     []float64
		min, med float64
		line     string
	}{
		{[]float64{5, 1, 4, 2, 3}, 1, 3, "bench: x min 1.000 median 3.000 MiB/s (5 repetitions of 2 s)"},
		{[]float64{10.5, 10.25, 9}, 9, 10.25, "bench: x min 9.000 median 10.250 MiB/s (5 repetitions of 2 s)"},
	} {
		min, med := minMedian(tc.vals)
		if min != tc.min || med != tc.med {
			t.Errorf("minMedian = %v, %v; want %v, %v", min, med, tc.min, tc.med)
		}
		if got := benchLine("x", min, med, "MiB/s", 5, 2); got != tc.line {
			t.Errorf("benchLine = %q, want %q", got, tc.line)
		}
	}
}

func TestCheckSector(t *testing.T) {
	b := make([]byte, 2*sector)
	for i := 0; i < 2; i++ {
		v := uint64(10+i) ^ patternMagic
		for j := 0; j < 8; j++ {
			b[i*sector+j] = byte(v >> (8 * j))
		}
	}
	if err := checkAll(b, 10*sector); err != nil {
		t.Errorf("sectors 10-11 at their place: %v", err)
	}
	if err := checkEnds(b, 11*sector); err == nil {
		t.Error("sectors 10-11 read as 11-12 passed the check")
	}
}
