package frame

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

// newAlloc returns an initialised allocator over nframes frames with the
// byte ranges in free added.
func newAlloc(t *testing.T, nframes uint64, free ...[2]uint64) *Allocator {
	t.Helper()
	a := new(Allocator)
	if err := a.Init(make([]uint64, WordsFor(nframes)), nframes); err != nil {
		t.Fatalf("Init: %v", err)
	}
	for _, r := range free {
		if err := a.AddFree(r[0], r[1]); err != nil {
			t.Fatalf("AddFree(%#x, %#x): %v", r[0], r[1], err)
		}
	}
	return a
}

// freeFrames lists the free frame numbers in ascending order.
func freeFrames(a *Allocator) []uint64 {
	var fs []uint64
	for f := uint64(0); f < a.nframes; f++ {
		if a.bits[f/64]>>(f%64)&1 == 0 {
			fs = append(fs, f)
		}
	}
	return fs
}

func TestWordsFor(t *testing.T) {
	for _, tc := range []struct{ n, want uint64 }{
		{0, 0}, {1, 1}, {63, 1}, {64, 1}, {65, 2}, {262144, 4096},
		{MaxFrames, MaxFrames / 64}, {^uint64(0), 1 << 58},
	} {
		if got := WordsFor(tc.n); got != tc.want {
			t.Errorf("WordsFor(%d) = %d, want %d", tc.n, got, tc.want)
		}
	}
}

func TestInit(t *testing.T) {
	for _, tc := range []struct {
		name    string
		words   int
		nframes uint64
		want    error
	}{
		{"zero frames", 1, 0, ErrInvalid},
		{"too many frames", 1, MaxFrames + 1, ErrInvalid},
		{"bitmap too small", 1, 65, ErrBitmapTooSmall},
		{"exact", 2, 65, nil},
		{"bitmap larger than needed", 9, 65, nil},
		{"one frame", 1, 1, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bitmap := make([]uint64, tc.words)
			var a Allocator
			if err := a.Init(bitmap, tc.nframes); err != tc.want {
				t.Fatalf("Init = %v, want %v", err, tc.want)
			}
			if tc.want != nil {
				if a.bits != nil || a.Stats() != (Stats{}) {
					t.Errorf("failed Init changed the allocator: %+v", a)
				}
				return
			}
			if err := a.Check(); err != nil {
				t.Errorf("Check: %v", err)
			}
			if diff := cmp.Diff(Stats{Frames: tc.nframes}, a.Stats()); diff != "" {
				t.Errorf("Stats (-want +got):\n%s", diff)
			}
			if fs := freeFrames(&a); len(fs) != 0 {
				t.Errorf("free frames after Init: %v", fs)
			}
			for i := WordsFor(tc.nframes); i < uint64(len(bitmap)); i++ {
				if bitmap[i] != 0 {
					t.Errorf("Init wrote word %d beyond the bitmap it needs", i)
				}
			}
		})
	}
}

func TestAddFreeReserve(t *testing.T) {
	type step struct {
		reserve    bool
		base, end  uint64
		want       error
		wantFree   []uint64
		wantCounts Stats
	}
	const P = PageSize
	for _, tc := range []struct {
		name    string
		nframes uint64
		steps   []step
	}{
		{"frame 0 is never freed", 8, []step{
			{false, 0, 4 * P, nil, []uint64{1, 2, 3}, Stats{8, 3, 3, 0, 0}},
		}},
		{"add rounds inward", 8, []step{
			{false, P + 1, 4*P - 1, nil, []uint64{2}, Stats{8, 1, 1, 0, 0}},
			{false, P + 1, 2*P + 5, nil, []uint64{2}, Stats{8, 1, 1, 0, 0}},
		}},
		{"add is idempotent", 8, []step{
			{false, 2 * P, 5 * P, nil, []uint64{2, 3, 4}, Stats{8, 3, 3, 0, 0}},
			{false, 3 * P, 6 * P, nil, []uint64{2, 3, 4, 5}, Stats{8, 4, 4, 0, 0}},
		}},
		{"add past the end changes nothing", 8, []step{
			{false, 6 * P, 9 * P, ErrOutOfRange, nil, Stats{Frames: 8}},
			{false, 6 * P, 8*P + 100, nil, []uint64{6, 7}, Stats{8, 2, 2, 0, 0}},
		}},
		{"inverted range", 8, []step{
			{false, 3 * P, 2 * P, ErrInvalid, nil, Stats{Frames: 8}},
			{true, 3 * P, 2 * P, ErrInvalid, nil, Stats{Frames: 8}},
		}},
		{"empty ranges", 8, []step{
			{false, 3 * P, 3 * P, nil, nil, Stats{Frames: 8}},
			{false, 3*P + 1, 4*P - 1, nil, nil, Stats{Frames: 8}},
		}},
		{"reserve rounds outward and clips", 8, []step{
			{false, 0, 8 * P, nil, []uint64{1, 2, 3, 4, 5, 6, 7}, Stats{8, 7, 7, 0, 0}},
			{true, 2*P + 1, 3*P + 1, nil, []uint64{1, 4, 5, 6, 7}, Stats{8, 5, 5, 0, 0}},
			{true, 7*P - 1, ^uint64(0), nil, []uint64{1, 4, 5}, Stats{8, 3, 3, 0, 0}},
			{true, 5 * P, 5 * P, nil, []uint64{1, 4, 5}, Stats{8, 3, 3, 0, 0}},
			{true, 100 * P, 200 * P, nil, []uint64{1, 4, 5}, Stats{8, 3, 3, 0, 0}},
		}},
		{"multi-word ranges", 200, []step{
			{false, 60 * P, 140 * P, nil, seq(60, 140), Stats{200, 80, 80, 0, 0}},
			{true, 63 * P, 129 * P, nil, append(seq(60, 63), seq(129, 140)...), Stats{200, 14, 14, 0, 0}},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newAlloc(t, tc.nframes)
			for i, s := range tc.steps {
				var err error
				if s.reserve {
					err = a.Reserve(s.base, s.end)
				} else {
					err = a.AddFree(s.base, s.end)
				}
				if err != s.want {
					t.Fatalf("step %d: err = %v, want %v", i, err, s.want)
				}
				if diff := cmp.Diff(s.wantFree, freeFrames(a)); diff != "" {
					t.Errorf("step %d: free frames (-want +got):\n%s", i, diff)
				}
				if diff := cmp.Diff(s.wantCounts, a.Stats()); diff != "" {
					t.Errorf("step %d: Stats (-want +got):\n%s", i, diff)
				}
				if err := a.Check(); err != nil {
					t.Fatalf("step %d: Check: %v", i, err)
				}
			}
		})
	}
}

// seq returns lo, lo+1, ..., hi-1.
func seq(lo, hi uint64) []uint64 {
	var s []uint64
	for i := lo; i < hi; i++ {
		s = append(s, i)
	}
	return s
}

func TestAllocOrder(t *testing.T) {
	const P = PageSize
	a := newAlloc(t, 300, [2]uint64{130 * P, 132 * P}, [2]uint64{0, 3 * P}, [2]uint64{299 * P, 300 * P})
	var got []uint64
	for {
		pa, err := a.Alloc()
		if err == ErrNoMemory {
			break
		}
		if err != nil {
			t.Fatalf("Alloc: %v", err)
		}
		got = append(got, pa/P)
	}
	if diff := cmp.Diff([]uint64{1, 2, 130, 131, 299}, got); diff != "" {
		t.Errorf("allocation order (-want +got):\n%s", diff)
	}
	// Freeing below the hint must make that frame the next one returned.
	if err := a.Free(2 * P); err != nil {
		t.Fatal(err)
	}
	if err := a.Free(131 * P); err != nil {
		t.Fatal(err)
	}
	if pa, err := a.Alloc(); pa != 2*P || err != nil {
		t.Errorf("Alloc after Free = %#x, %v; want %#x", pa, err, 2*P)
	}
	if diff := cmp.Diff(Stats{300, 5, 1, 4, 5}, a.Stats()); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}
}

func TestAllocContig(t *testing.T) {
	const P = PageSize
	for _, tc := range []struct {
		name     string
		nframes  uint64
		free     [][2]uint64
		used     []uint64 // frames to allocate away first (by Reserve)
		n, align uint64
		want     uint64
		wantErr  error
	}{
		{"single skips frame 0", 64, [][2]uint64{{0, 64 * P}}, nil, 1, 1, P, nil},
		{"aligned skips frame 0", 64, [][2]uint64{{0, 64 * P}}, nil, 4, 4, 4 * P, nil},
		{"first fit around a hole", 64, [][2]uint64{{0, 64 * P}}, []uint64{3}, 3, 1, 4 * P, nil},
		{"fits exactly before the hole", 64, [][2]uint64{{0, 64 * P}}, []uint64{4}, 3, 1, P, nil},
		{"2 MiB page", 2048, [][2]uint64{{P, 2048 * P}}, []uint64{600}, 512, 512, 1024 * P, nil},
		{"crosses words", 256, [][2]uint64{{60 * P, 200 * P}}, nil, 100, 1, 60 * P, nil},
		{"run at the very end", 128, [][2]uint64{{100 * P, 128 * P}}, nil, 28, 4, 100 * P, nil},
		{"too long", 128, [][2]uint64{{100 * P, 128 * P}}, nil, 29, 1, 0, ErrNoMemory},
		{"fragmented", 128, [][2]uint64{{0, 128 * P}}, []uint64{10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120}, 10, 1, 0, ErrNoMemory},
		{"alignment too big", 128, [][2]uint64{{0, 128 * P}}, nil, 1, 128, 0, ErrNoMemory},
		{"huge alignment", 128, [][2]uint64{{0, 128 * P}}, nil, 1, 1 << 63, 0, ErrNoMemory},
		{"n zero", 128, nil, nil, 0, 1, 0, ErrInvalid},
		{"align zero", 128, nil, nil, 1, 0, 0, ErrInvalid},
		{"align not power of two", 128, nil, nil, 1, 6, 0, ErrInvalid},
		{"more than free", 128, [][2]uint64{{0, 8 * P}}, nil, 8, 1, 0, ErrNoMemory},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newAlloc(t, tc.nframes, tc.free...)
			for _, f := range tc.used {
				if err := a.Reserve(f*P, f*P+P); err != nil {
					t.Fatal(err)
				}
			}
			before := a.Stats()
			pa, err := a.AllocContig(tc.n, tc.align)
			if pa != tc.want || err != tc.wantErr {
				t.Fatalf("AllocContig(%d, %d) = %#x, %v; want %#x, %v", tc.n, tc.align, pa, err, tc.want, tc.wantErr)
			}
			want := before
			if err == nil {
				want.Free -= tc.n
				want.Allocated += tc.n
				want.HighWater = want.Allocated
			}
			if diff := cmp.Diff(want, a.Stats()); diff != "" {
				t.Errorf("Stats (-want +got):\n%s", diff)
			}
			if err := a.Check(); err != nil {
				t.Fatalf("Check: %v", err)
			}
			if err == nil {
				if err := a.FreeContig(pa, tc.n); err != nil {
					t.Fatalf("FreeContig: %v", err)
				}
				if diff := cmp.Diff(before.Free, a.FreeCount()); diff != "" {
					t.Errorf("FreeCount after FreeContig (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestFreeErrors(t *testing.T) {
	const P = PageSize
	for _, tc := range []struct {
		name  string
		pa, n uint64
		want  error
	}{
		{"ok", 2 * P, 1, nil},
		{"ok run", 2 * P, 3, nil},
		{"address zero", 0, 1, ErrInvalid},
		{"count zero", 2 * P, 0, ErrInvalid},
		{"unaligned", 2*P + 8, 1, ErrUnaligned},
		{"past the end", 100 * P, 1, ErrOutOfRange},
		{"run past the end", 60 * P, 5, ErrOutOfRange},
		{"huge run", 2 * P, ^uint64(0), ErrOutOfRange},
		{"free frame", 10 * P, 1, ErrDoubleFree},
		{"run ending in a free frame", 3 * P, 8, ErrDoubleFree},
		{"reserved frame with nothing allocated", 20 * P, 1, nil}, // see below
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Frames 1..9 allocated, 10..19 free, 20..63 never added.
			a := newAlloc(t, 64, [2]uint64{P, 20 * P})
			for i := 0; i < 9; i++ {
				if _, err := a.Alloc(); err != nil {
					t.Fatal(err)
				}
			}
			want := tc.want
			if tc.pa == 20*P {
				// Take the allocated frames back so allocated is 0 and the
				// reserved frame can be recognised as never allocated.
				if err := a.FreeContig(P, 9); err != nil {
					t.Fatal(err)
				}
				want = ErrNotAllocated
			}
			before := freeFrames(a)
			err := a.FreeContig(tc.pa, tc.n)
			if err != want {
				t.Fatalf("FreeContig(%#x, %d) = %v, want %v", tc.pa, tc.n, err, want)
			}
			if tc.n == 1 {
				// Free must agree with FreeContig(pa, 1) on a fresh copy.
				b := newAlloc(t, 64, [2]uint64{P, 20 * P})
				for i := 0; i < 9; i++ {
					b.Alloc()
				}
				if tc.pa == 20*P {
					b.FreeContig(P, 9)
				}
				if err := b.Free(tc.pa); err != want {
					t.Errorf("Free(%#x) = %v, want %v", tc.pa, err, want)
				}
			}
			if err != nil {
				if diff := cmp.Diff(before, freeFrames(a)); diff != "" {
					t.Errorf("failed free changed the bitmap (-before +after):\n%s", diff)
				}
			}
			if err := a.Check(); err != nil {
				t.Fatalf("Check: %v", err)
			}
		})
	}
}

func TestZeroValue(t *testing.T) {
	var a Allocator
	if pa, err := a.Alloc(); pa != 0 || err != ErrNoMemory {
		t.Errorf("Alloc = %#x, %v", pa, err)
	}
	if pa, err := a.AllocContig(1, 1); pa != 0 || err != ErrNoMemory {
		t.Errorf("AllocContig = %#x, %v", pa, err)
	}
	if err := a.Free(PageSize); err != ErrOutOfRange {
		t.Errorf("Free = %v", err)
	}
	if err := a.AddFree(0, PageSize); err != ErrOutOfRange {
		t.Errorf("AddFree = %v", err)
	}
	if err := a.Reserve(0, PageSize); err != nil {
		t.Errorf("Reserve = %v", err)
	}
	if err := a.Check(); err != nil {
		t.Errorf("Check = %v", err)
	}
}

func TestHighWater(t *testing.T) {
	a := newAlloc(t, 64, [2]uint64{0, 64 * PageSize})
	var pas []uint64
	for i := 0; i < 5; i++ {
		pa, _ := a.Alloc()
		pas = append(pas, pa)
	}
	for _, pa := range pas[:3] {
		a.Free(pa)
	}
	a.AllocContig(2, 1)
	if diff := cmp.Diff(Stats{64, 63, 59, 4, 5}, a.Stats()); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}
}

func TestCheckDetectsCorruption(t *testing.T) {
	for _, tc := range []struct {
		name    string
		corrupt func(a *Allocator)
		want    error
	}{
		{"bitmap length", func(a *Allocator) { a.bits = a.bits[:1] }, ErrCheckBitmap},
		{"frame zero free", func(a *Allocator) { a.bits[0] &^= 1 }, ErrCheckFrameZero},
		{"padding clear", func(a *Allocator) { a.bits[1] &^= 1 << 63 }, ErrCheckPadding},
		{"free counter", func(a *Allocator) { a.free++ }, ErrCheckFree},
		{"bit flipped", func(a *Allocator) { a.bits[1] |= 1 << 3 }, ErrCheckFree},
		{"hint above free frame", func(a *Allocator) { a.hint = 1 }, ErrCheckHint},
		{"hint past the end", func(a *Allocator) { a.hint = 3 }, ErrCheckHint},
		{"allocated too high", func(a *Allocator) { a.allocated = 200; a.highWater = 200 }, ErrCheckAllocated},
		{"high water too low", func(a *Allocator) { a.highWater = 0 }, ErrCheckHighWater},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newAlloc(t, 100, [2]uint64{0, 100 * PageSize})
			a.Alloc()
			a.Alloc()
			if err := a.Check(); err != nil {
				t.Fatalf("Check before corruption: %v", err)
			}
			tc.corrupt(a)
			if err := a.Check(); err != tc.want {
				t.Errorf("Check = %v, want %v", err, tc.want)
			}
		})
	}
}

// TestNoAllocs asserts that no method allocates, on both the success and
// the error paths.
func TestNoAllocs(t *testing.T) {
	bitmap := make([]uint64, WordsFor(4096))
	var a Allocator
	var sink uint64
	var st Stats
	for _, tc := range []struct {
		name string
		fn   func()
	}{
		{"WordsFor", func() { sink += WordsFor(12345) }},
		{"Init", func() { a.Init(bitmap, 4096) }},
		{"Init error", func() { a.Init(bitmap, 1<<20) }},
		{"AddFree", func() { a.AddFree(0, 4096*PageSize) }},
		{"AddFree error", func() { a.AddFree(0, 8192*PageSize) }},
		{"Reserve", func() { a.Reserve(5*PageSize, 9*PageSize) }},
		{"Alloc+Free", func() {
			pa, _ := a.Alloc()
			a.Free(pa)
		}},
		{"Alloc error", func() {
			var z Allocator
			sink, _ = z.Alloc()
		}},
		{"AllocContig+FreeContig", func() {
			pa, _ := a.AllocContig(512, 512)
			a.FreeContig(pa, 512)
		}},
		{"AllocContig error", func() { sink, _ = a.AllocContig(1<<20, 1) }},
		{"Free error", func() { a.Free(3) }},
		{"double free", func() { a.Free(100 * PageSize) }},
		{"FreeCount", func() { sink += a.FreeCount() }},
		{"Stats", func() { st = a.Stats() }},
		{"Check", func() { a.Check() }},
	} {
		a.Init(bitmap, 4096)
		a.AddFree(0, 4096*PageSize)
		if n := testing.AllocsPerRun(100, tc.fn); n != 0 {
			t.Errorf("%s: %v allocations per run, want 0", tc.name, n)
		}
	}
	_, _ = sink, st
}
