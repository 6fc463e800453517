package vma

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

const P = PageSize

// Flag values for tests; the package treats them as opaque.
const (
	anon  uint32 = 1
	stack uint32 = 2
)

// op is one mutation in a table-driven scenario.
type op struct {
	kind       byte // 'm' Map, 'u' Unmap, 'p' Protect
	start, end uint64
	prot       Prot
	flags      uint32
}

func (o op) run(s *Set) error {
	switch o.kind {
	case 'm':
		return s.Map(o.start, o.end, o.prot, o.flags)
	case 'u':
		return s.Unmap(o.start, o.end)
	case 'p':
		return s.Protect(o.start, o.end, o.prot)
	}
	return ErrInvalid
}

func m(start, end uint64, prot Prot, flags uint32) op { return op{'m', start, end, prot, flags} }
func u(start, end uint64) op                          { return op{'u', start, end, 0, 0} }
func p(start, end uint64, prot Prot) op               { return op{'p', start, end, prot, 0} }

func rg(start, end uint64, prot Prot, flags uint32) Region {
	return Region{Start: start, End: end, Prot: prot, Flags: flags}
}

// TestMutations runs scenarios on a Set over [0x10000, 0x100000): a setup
// that must succeed, then one operation whose error and resulting region
// list are checked. Failing operations must leave the setup's result.
func TestMutations(t *testing.T) {
	const lo, hi = 0x10000, 0x100000
	const RW, R, RX = Read | Write, Read, Read | Exec
	for _, tc := range []struct {
		name    string
		cap     int
		setup   []op
		op      op
		wantErr error
		want    []Region
	}{
		// Map
		{"map into empty", 4, nil, m(0x20000, 0x30000, RW, anon), nil,
			[]Region{rg(0x20000, 0x30000, RW, anon)}},
		{"map merges left", 4, []op{m(0x20000, 0x30000, RW, anon)}, m(0x30000, 0x31000, RW, anon), nil,
			[]Region{rg(0x20000, 0x31000, RW, anon)}},
		{"map merges right", 4, []op{m(0x20000, 0x30000, RW, anon)}, m(0x1f000, 0x20000, RW, anon), nil,
			[]Region{rg(0x1f000, 0x30000, RW, anon)}},
		{"map fills a hole and merges both sides", 4,
			[]op{m(0x20000, 0x30000, RW, anon), m(0x40000, 0x50000, RW, anon)},
			m(0x30000, 0x40000, RW, anon), nil,
			[]Region{rg(0x20000, 0x50000, RW, anon)}},
		{"map of another kind does not merge", 4, []op{m(0x20000, 0x30000, RW, anon)}, m(0x30000, 0x31000, RW, stack), nil,
			[]Region{rg(0x20000, 0x30000, RW, anon), rg(0x30000, 0x31000, RW, stack)}},
		{"map splits one region into three", 4, []op{m(0x20000, 0x30000, RW, anon)}, m(0x24000, 0x26000, None, anon), nil,
			[]Region{rg(0x20000, 0x24000, RW, anon), rg(0x24000, 0x26000, None, anon), rg(0x26000, 0x30000, RW, anon)}},
		{"map over the same kind is a no-op", 1, []op{m(0x20000, 0x30000, RW, anon)}, m(0x24000, 0x26000, RW, anon), nil,
			[]Region{rg(0x20000, 0x30000, RW, anon)}},
		{"map replaces several regions", 8,
			[]op{m(0x20000, 0x30000, RW, anon), m(0x30000, 0x31000, R, anon), m(0x32000, 0x40000, RX, stack)},
			m(0x28000, 0x38000, R, stack), nil,
			[]Region{rg(0x20000, 0x28000, RW, anon), rg(0x28000, 0x38000, R, stack), rg(0x38000, 0x40000, RX, stack)}},
		{"map absorbs straddling regions of its kind", 8,
			[]op{m(0x20000, 0x30000, R, anon), m(0x30000, 0x34000, RW, anon), m(0x34000, 0x40000, R, anon)},
			m(0x2f000, 0x35000, R, anon), nil,
			[]Region{rg(0x20000, 0x40000, R, anon)}},
		{"map needing a third slot fails unchanged", 2,
			[]op{m(0x20000, 0x30000, RW, anon)},
			m(0x24000, 0x26000, R, anon), ErrNoSpace,
			[]Region{rg(0x20000, 0x30000, RW, anon)}},
		{"map into a full set that merges fits", 2,
			[]op{m(0x20000, 0x30000, RW, anon), m(0x40000, 0x50000, R, anon)},
			m(0x30000, 0x40000, RW, anon), nil,
			[]Region{rg(0x20000, 0x40000, RW, anon), rg(0x40000, 0x50000, R, anon)}},
		{"map with bad prot", 4, nil, m(0x20000, 0x30000, 8, anon), ErrInvalid, nil},
		{"map unaligned", 4, nil, m(0x20001, 0x30000, R, anon), ErrInvalid, nil},
		{"map empty", 4, nil, m(0x20000, 0x20000, R, anon), ErrInvalid, nil},
		{"map inverted", 4, nil, m(0x30000, 0x20000, R, anon), ErrInvalid, nil},
		{"map below window", 4, nil, m(0xf000, 0x20000, R, anon), ErrOutOfWindow, nil},
		{"map above window", 4, nil, m(0xff000, 0x101000, R, anon), ErrOutOfWindow, nil},
		{"map whole window", 1, nil, m(lo, hi, R, anon), nil, []Region{rg(lo, hi, R, anon)}},

		// Unmap
		{"unmap a hole", 4, []op{m(0x20000, 0x30000, RW, anon)}, u(0x40000, 0x50000), nil,
			[]Region{rg(0x20000, 0x30000, RW, anon)}},
		{"unmap punches a hole", 4, []op{m(0x20000, 0x30000, RW, anon)}, u(0x24000, 0x26000), nil,
			[]Region{rg(0x20000, 0x24000, RW, anon), rg(0x26000, 0x30000, RW, anon)}},
		{"unmap a hole in a full set fails unchanged", 1, []op{m(0x20000, 0x30000, RW, anon)}, u(0x24000, 0x26000), ErrNoSpace,
			[]Region{rg(0x20000, 0x30000, RW, anon)}},
		{"unmap trims edges in a full set", 2,
			[]op{m(0x20000, 0x30000, RW, anon), m(0x30000, 0x40000, R, anon)},
			u(0x2c000, 0x34000), nil,
			[]Region{rg(0x20000, 0x2c000, RW, anon), rg(0x34000, 0x40000, R, anon)}},
		{"unmap everything", 4,
			[]op{m(0x20000, 0x30000, RW, anon), m(0x30000, 0x40000, R, anon), m(0x50000, 0x60000, R, anon)},
			u(lo, hi), nil, nil},
		{"unmap out of window", 4, nil, u(0, 0x20000), ErrOutOfWindow, nil},

		// Protect
		{"protect whole region", 4, []op{m(0x20000, 0x30000, RW, anon)}, p(0x20000, 0x30000, R), nil,
			[]Region{rg(0x20000, 0x30000, R, anon)}},
		{"protect middle splits", 4, []op{m(0x20000, 0x30000, RW, anon)}, p(0x24000, 0x26000, None), nil,
			[]Region{rg(0x20000, 0x24000, RW, anon), rg(0x24000, 0x26000, None, anon), rg(0x26000, 0x30000, RW, anon)}},
		{"protect same prot is a no-op in a full set", 1, []op{m(0x20000, 0x30000, RW, anon)}, p(0x24000, 0x26000, RW), nil,
			[]Region{rg(0x20000, 0x30000, RW, anon)}},
		{"protect a hole", 4, []op{m(0x20000, 0x30000, RW, anon)}, p(0x30000, 0x31000, R), ErrNotMapped,
			[]Region{rg(0x20000, 0x30000, RW, anon)}},
		{"protect across a gap", 4,
			[]op{m(0x20000, 0x30000, RW, anon), m(0x31000, 0x40000, RW, stack)},
			p(0x2f000, 0x32000, R), ErrNotMapped,
			[]Region{rg(0x20000, 0x30000, RW, anon), rg(0x31000, 0x40000, RW, stack)}},
		{"protect partly before a region", 4, []op{m(0x20000, 0x30000, RW, anon)}, p(0x1f000, 0x21000, R), ErrNotMapped,
			[]Region{rg(0x20000, 0x30000, RW, anon)}},
		{"protect merges runs with equal flags", 8,
			[]op{m(0x20000, 0x30000, RW, anon), m(0x30000, 0x40000, R, anon), m(0x40000, 0x50000, RX, anon), m(0x50000, 0x60000, RX, stack)},
			p(0x20000, 0x60000, R), nil,
			[]Region{rg(0x20000, 0x50000, R, anon), rg(0x50000, 0x60000, R, stack)}},
		{"protect moves a boundary in a full set", 2,
			[]op{m(0x20000, 0x30000, RW, anon), m(0x30000, 0x40000, R, anon)},
			p(0x2c000, 0x30000, R), nil,
			[]Region{rg(0x20000, 0x2c000, RW, anon), rg(0x2c000, 0x40000, R, anon)}},
		{"protect splits one and merges two in a full set", 3,
			[]op{m(0x20000, 0x30000, R, anon), m(0x30000, 0x40000, RW, anon), m(0x40000, 0x50000, R, anon)},
			p(0x30000, 0x3c000, R), nil,
			[]Region{rg(0x20000, 0x3c000, R, anon), rg(0x3c000, 0x40000, RW, anon), rg(0x40000, 0x50000, R, anon)}},
		{"protect joins three in a full set", 3,
			[]op{m(0x20000, 0x30000, R, anon), m(0x30000, 0x40000, RW, anon), m(0x40000, 0x50000, R, anon)},
			p(0x30000, 0x40000, R), nil,
			[]Region{rg(0x20000, 0x50000, R, anon)}},
		{"protect needing two more slots fails unchanged", 2,
			[]op{m(0x20000, 0x30000, RW, anon)},
			p(0x24000, 0x26000, R), ErrNoSpace,
			[]Region{rg(0x20000, 0x30000, RW, anon)}},
		{"protect keeps flags", 4,
			[]op{m(0x20000, 0x30000, RW, anon), m(0x30000, 0x40000, RW, stack)},
			p(0x28000, 0x38000, R), nil,
			[]Region{rg(0x20000, 0x28000, RW, anon), rg(0x28000, 0x30000, R, anon), rg(0x30000, 0x38000, R, stack), rg(0x38000, 0x40000, RW, stack)}},
		{"protect with bad prot", 4, []op{m(0x20000, 0x30000, RW, anon)}, p(0x20000, 0x30000, 0x10), ErrInvalid,
			[]Region{rg(0x20000, 0x30000, RW, anon)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s Set
			s.Init(make([]Region, tc.cap), lo, hi)
			for i, o := range tc.setup {
				if err := o.run(&s); err != nil {
					t.Fatalf("setup %d (%+v): %v", i, o, err)
				}
			}
			if err := tc.op.run(&s); err != tc.wantErr {
				t.Errorf("err = %v, want %v", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, regionsOf(&s)); diff != "" {
				t.Errorf("regions (-want +got):\n%s", diff)
			}
			if err := s.Check(); err != nil {
				t.Errorf("Check: %v", err)
			}
		})
	}
}

func TestInitWindow(t *testing.T) {
	for _, tc := range []struct {
		lo, hi, wantLo, wantHi uint64
	}{
		{0x1000, 0x5000, 0x1000, 0x5000},
		{0x1001, 0x5fff, 0x2000, 0x5000},
		{0x5000, 0x1000, 0x1000, 0x1000},
		{0x4fff, 0x5000, 0x5000, 0x5000},
		{0x5001, 0x5fff, 0x5000, 0x5000},
		{^uint64(0), ^uint64(0), ^uint64(0) &^ pageMask, ^uint64(0) &^ pageMask},
		{0, ^uint64(0), 0, ^uint64(0) &^ pageMask},
	} {
		var s Set
		s.Init(nil, tc.lo, tc.hi)
		lo, hi := s.Window()
		if lo != tc.wantLo || hi != tc.wantHi {
			t.Errorf("Init(%#x, %#x): window [%#x, %#x), want [%#x, %#x)", tc.lo, tc.hi, lo, hi, tc.wantLo, tc.wantHi)
		}
		if err := s.Check(); err != nil {
			t.Errorf("Init(%#x, %#x): Check: %v", tc.lo, tc.hi, err)
		}
	}
	var s Set
	s.Init(make([]Region, 3), 0x5000, 0x1000)
	if err := s.Map(0x1000, 0x2000, Read, 0); err != ErrOutOfWindow {
		t.Errorf("Map in empty window = %v, want ErrOutOfWindow", err)
	}
	if s.Cap() != 3 {
		t.Errorf("Cap = %d, want 3", s.Cap())
	}
}

// threeRegions returns a Set over [0x10000, 0x100000) holding
// [0x20000,0x30000) RW, [0x30000,0x38000) R and [0x50000,0x60000) RX.
func threeRegions(t *testing.T) *Set {
	t.Helper()
	s := new(Set)
	s.Init(make([]Region, 8), 0x10000, 0x100000)
	for _, o := range []op{m(0x20000, 0x30000, Read|Write, anon), m(0x30000, 0x38000, Read, anon), m(0x50000, 0x60000, Read|Exec, anon)} {
		if err := o.run(s); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func TestFind(t *testing.T) {
	s := threeRegions(t)
	a, b, c := s.At(0), s.At(1), s.At(2)
	for _, tc := range []struct {
		addr uint64
		want Region
		ok   bool
	}{
		{0, Region{}, false},
		{0x1ffff, Region{}, false},
		{0x20000, a, true},
		{0x2ffff, a, true},
		{0x30000, b, true},
		{0x30000, b, true}, // again, now through the cached index
		{0x37fff, b, true},
		{0x38000, Region{}, false},
		{0x5abcd, c, true},
		{0x20001, a, true},
		{0x60000, Region{}, false},
		{^uint64(0), Region{}, false},
	} {
		got, ok := s.Find(tc.addr)
		if ok != tc.ok || got != tc.want {
			t.Errorf("Find(%#x) = %+v, %v; want %+v, %v", tc.addr, got, ok, tc.want, tc.ok)
		}
	}
	// A stale cached index must not return a region that has moved.
	s.Find(0x5abcd) // caches index 2
	if err := s.Unmap(0x20000, 0x30000); err != nil {
		t.Fatal(err)
	}
	if got, ok := s.Find(0x5abcd); !ok || got != c {
		t.Errorf("Find after Unmap = %+v, %v; want %+v", got, ok, c)
	}
}

func TestFirstOverlapWalk(t *testing.T) {
	s := threeRegions(t)
	for _, tc := range []struct {
		start, end uint64
		want       []Region
	}{
		{0x10000, 0x20000, nil},
		{0x10000, 0x21000, []Region{s.At(0)}},
		{0x2f000, 0x51000, []Region{s.At(0), s.At(1), s.At(2)}},
		{0x38000, 0x50000, nil},
		{0x37000, 0x50000, []Region{s.At(1)}},
		{0x60000, 0x100000, nil},
		{0x30000, 0x30000, nil},
	} {
		var got []Region
		for i := s.FirstOverlap(tc.start, tc.end); i < s.Len() && s.At(i).Start < tc.end; i++ {
			got = append(got, s.At(i))
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("walk [%#x, %#x) (-want +got):\n%s", tc.start, tc.end, diff)
		}
	}
	for _, i := range []int{-1, 3, 100} {
		if got := s.At(i); got != (Region{}) {
			t.Errorf("At(%d) = %+v, want zero", i, got)
		}
	}
}

func TestFindFree(t *testing.T) {
	s := threeRegions(t) // free: [0x10000,0x20000) [0x38000,0x50000) [0x60000,0x100000)
	for _, tc := range []struct {
		name              string
		size, align, hint uint64
		want              uint64
		wantErr           error
	}{
		{"lowest", P, P, 0, 0x10000, nil},
		{"fills first gap exactly", 0x10000, P, 0, 0x10000, nil},
		{"skips a small gap", 0x11000, P, 0, 0x38000, nil},
		{"aligned", P, 0x10000, 0x20000, 0x40000, nil},
		{"large alignment", P, 0x80000, 0, 0x80000, nil},
		{"hint inside a gap", P, P, 0x3a000, 0x3a000, nil},
		{"hint inside a region", P, P, 0x25000, 0x38000, nil},
		{"unaligned hint rounds up", P, P, 0x3a001, 0x3b000, nil},
		{"wraps to lo", 0x10000, P, 0xf8000, 0x10000, nil},
		{"wrap finds a lower gap", 0x18000, P, 0xf0000, 0x38000, nil},
		{"wrap finds the gap holding the hint", 0x20000, P, 0xf0000, 0x60000, nil},
		{"hint outside window", P, P, 0x200000, 0x10000, nil},
		{"too big", 0xa1000, P, 0, 0, ErrNoGap},
		{"whole top gap", 0xa0000, P, 0, 0x60000, nil},
		{"alignment past the window", P, 1 << 40, 0, 0, ErrNoGap},
		{"huge alignment", P, 1 << 63, 0x20000, 0, ErrNoGap},
		{"zero size", 0, P, 0, 0, ErrInvalid},
		{"unaligned size", 100, P, 0, 0, ErrInvalid},
		{"small align", P, 512, 0, 0, ErrInvalid},
		{"align not power of two", P, 3 * P, 0, 0, ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := s.FindFree(tc.size, tc.align, tc.hint)
			if got != tc.want || err != tc.wantErr {
				t.Errorf("FindFree(%#x, %#x, %#x) = %#x, %v; want %#x, %v",
					tc.size, tc.align, tc.hint, got, err, tc.want, tc.wantErr)
			}
			if err == nil && !s.IsFree(got, got+tc.size) {
				t.Errorf("IsFree(%#x, %#x) = false for FindFree's answer", got, got+tc.size)
			}
		})
	}
}

func TestCheckDetectsCorruption(t *testing.T) {
	for _, tc := range []struct {
		name    string
		corrupt func(s *Set)
		want    error
	}{
		{"window unaligned", func(s *Set) { s.lo++ }, ErrCheckWindow},
		{"window inverted", func(s *Set) { s.lo = s.hi + P }, ErrCheckWindow},
		{"count too big", func(s *Set) { s.n = 9 }, ErrCheckCount},
		{"count negative", func(s *Set) { s.n = -1 }, ErrCheckCount},
		{"empty region", func(s *Set) { s.regs[1].End = s.regs[1].Start }, ErrCheckRegion},
		{"unaligned region", func(s *Set) { s.regs[1].End-- }, ErrCheckRegion},
		{"region outside window", func(s *Set) { s.regs[0].Start = 0 }, ErrCheckRegion},
		{"bad prot", func(s *Set) { s.regs[2].Prot = 0x80 }, ErrCheckRegion},
		{"overlap", func(s *Set) { s.regs[1].Start = 0x2f000 }, ErrCheckOrder},
		{"unmerged", func(s *Set) { s.regs[1].Prot = s.regs[0].Prot }, ErrCheckMerge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := threeRegions(t)
			if err := s.Check(); err != nil {
				t.Fatalf("Check before corruption: %v", err)
			}
			tc.corrupt(s)
			if err := s.Check(); err != tc.want {
				t.Errorf("Check = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestNoAllocs asserts that no method allocates, on success and error
// paths alike.
func TestNoAllocs(t *testing.T) {
	storage := make([]Region, 16)
	var s Set
	var sink uint64
	var r Region
	var ok bool
	var n int
	reset := func() {
		s.Init(storage, 0x10000, 0x1000000)
		s.Map(0x20000, 0x30000, Read|Write, anon)
		s.Map(0x40000, 0x50000, Read, anon)
	}
	for _, tc := range []struct {
		name string
		fn   func()
	}{
		{"Init", func() { s.Init(storage, 0x10000, 0x1000000) }},
		{"Map+Unmap", func() {
			s.Map(0x24000, 0x26000, None, stack)
			s.Unmap(0x24000, 0x26000)
			s.Map(0x24000, 0x26000, Read|Write, anon)
		}},
		{"Map error", func() { s.Map(1, 2, Read, 0) }},
		{"Unmap error", func() { s.Unmap(0, 0x20000) }},
		{"Protect", func() {
			s.Protect(0x24000, 0x26000, Read)
			s.Protect(0x24000, 0x26000, Read|Write)
		}},
		{"Protect error", func() { s.Protect(0x30000, 0x41000, Read) }},
		{"Find", func() { r, ok = s.Find(0x45000) }},
		{"Find miss", func() { r, ok = s.Find(0x35000) }},
		{"FindFree", func() { sink, _ = s.FindFree(0x10000, 0x10000, 0x21000) }},
		{"FindFree error", func() { sink, _ = s.FindFree(0x10000000, P, 0) }},
		{"IsFree", func() { ok = s.IsFree(0x30000, 0x40000) }},
		{"FirstOverlap", func() { n = s.FirstOverlap(0x30000, 0x48000) }},
		{"Len+At+Cap+Window", func() {
			n = s.Len() + s.Cap()
			r = s.At(1)
			sink, _ = s.Window()
		}},
		{"Check", func() { s.Check() }},
	} {
		reset()
		if a := testing.AllocsPerRun(100, tc.fn); a != 0 {
			t.Errorf("%s: %v allocations per run, want 0", tc.name, a)
		}
		if err := s.Check(); err != nil {
			t.Errorf("%s: Check: %v", tc.name, err)
		}
	}
	_, _, _, _ = sink, r, ok, n
}

// TestHighHalfWindow uses the kernel heap window's real addresses, where
// rounding up by a large alignment overflows uint64.
func TestHighHalfWindow(t *testing.T) {
	const lo, hi = 0xffff_c000_0000_0000, 0xffff_c200_0000_0000
	var s Set
	s.Init(make([]Region, 4), lo, hi)
	if err := s.Map(lo, lo+64<<20, None, anon); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		size, align, hint uint64
		want              uint64
		wantErr           error
	}{
		{P, P, 0, lo + 64<<20, nil},
		{P, 1 << 30, lo + 1, lo + 1<<30, nil},
		{P, 1 << 62, 0, 0, ErrNoGap}, // the next multiple of 2^62 above lo is 2^64
		{P, 1 << 63, lo + P, 0, ErrNoGap},
		{hi - lo - 64<<20, P, 0, lo + 64<<20, nil},
	} {
		got, err := s.FindFree(tc.size, tc.align, tc.hint)
		if got != tc.want || err != tc.wantErr {
			t.Errorf("FindFree(%#x, %#x, %#x) = %#x, %v; want %#x, %v",
				tc.size, tc.align, tc.hint, got, err, tc.want, tc.wantErr)
		}
	}
	if r, ok := s.Find(lo + 5); !ok || r != rg(lo, lo+64<<20, None, anon) {
		t.Errorf("Find = %+v, %v", r, ok)
	}
}
