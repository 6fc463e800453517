package mm

import (
	"errors"
	"fmt"
	"math/rand"
	"testing"

	"github.com/google/go-cmp/cmp"

	"valence.dev/microkernel/mm/vma"
)

// The tests here drive the bookkeeping half of an address space (layout)
// the way AddressSpace does, without page tables.

const (
	tBase = 0x10000 // the test window starts here
	tR    = vma.Read
	tRW   = vma.Read | vma.Write
	tRX   = vma.Read | vma.Exec
	tRWX  = vma.Read | vma.Write | vma.Exec
)

// pg returns the address of page i of the test window.
func pg(i int) uint64 { return tBase + uint64(i)*PageSize }

// testLayout is a layout over pages [0, pages) of the test window, with
// a count of release calls per mapping.
type testLayout struct {
	layout
	released []int
}

func newTestLayout(pages int) *testLayout {
	l := &testLayout{}
	l.set.Init(make([]vma.Region, pages+1), pg(0), pg(pages))
	return l
}

// objFrames returns the frames of object obj's pages [0, n): distinct,
// recognisable values.
func objFrames(obj, n int) []uint64 {
	f := make([]uint64, n)
	for i := range f {
		f[i] = uint64(obj<<20|i) * PageSize
	}
	return f
}

// mapShared does what AddressSpace.MapShared does with a free range and
// returns the mapping's index in released.
func (l *testLayout) mapShared(at int, fr []uint64, prot, max vma.Prot) (int, error) {
	start, end := pg(at), pg(at+len(fr))
	if !l.set.IsFree(start, end) {
		return 0, ErrExist
	}
	if prot&^max != 0 {
		return 0, ErrAccess
	}
	if err := l.mapRegion(start, end, prot, regionShared|maxFlags(max)); err != nil {
		return 0, err
	}
	id := len(l.released)
	l.released = append(l.released, 0)
	l.addShared(start, fr, func() { l.released[id]++ })
	return id, nil
}

func (l *testLayout) regions() []vma.Region {
	out := make([]vma.Region, l.set.Len())
	for i := range out {
		out[i] = l.set.At(i)
	}
	return out
}

// rec summarises a shared record for comparisons.
type rec struct {
	Start, End, First uint64
	Pieces            int
}

func (l *testLayout) records() map[uint64]rec {
	out := map[uint64]rec{}
	for _, m := range l.shared {
		out[m.start] = rec{m.start, m.end, m.frames[0], m.ref.pieces}
	}
	return out
}

func TestMaxProtRoundTrip(t *testing.T) {
	if got := maxProt(0); got != tRWX {
		t.Errorf("maxProt(0) = %v, want everything (anonymous memory)", got)
	}
	for p := vma.Prot(0); p <= tRWX; p++ {
		if got := maxProt(maxFlags(p) | regionShared); got != p {
			t.Errorf("maxProt(maxFlags(%v)) = %v", p, got)
		}
	}
}

// TestProtectMax: mprotect never exceeds a mapping's maximum, in whole, in
// part, across regions, after PROT_NONE or a split; the first offending
// page in address order decides between ENOMEM and EACCES; a refused call
// changes nothing.
func TestProtectMax(t *testing.T) {
	roFlags := regionShared | maxFlags(tRX)
	woFlags := regionShared | maxFlags(tRW)
	tests := []struct {
		name  string
		setup func(l *testLayout) error
		start int
		end   int
		prot  vma.Prot
		want  error
		after []vma.Region // nil: unchanged
	}{
		{name: "read-only made writable", start: 4, end: 8, prot: tRW, want: ErrAccess},
		{name: "read-only made write-only", start: 4, end: 8, prot: vma.Write, want: ErrAccess},
		{name: "read-only made rwx", start: 4, end: 8, prot: tRWX, want: ErrAccess},
		{name: "one middle page writable", start: 5, end: 6, prot: tRW, want: ErrAccess},
		{name: "last page writable", start: 7, end: 8, prot: tRW, want: ErrAccess},
		{name: "anonymous neighbour and read-only", start: 0, end: 8, prot: tRW, want: ErrAccess},
		{name: "anonymous neighbour's last page and first page", start: 3, end: 5, prot: tRW, want: ErrAccess},
		{name: "read-only made executable (Read allows it)", start: 4, end: 8, prot: tRX, want: nil,
			after: []vma.Region{{Start: pg(0), End: pg(4), Prot: tRW}, {Start: pg(4), End: pg(8), Prot: tRX, Flags: roFlags}}},
		{name: "read-only made none", start: 4, end: 6, prot: 0, want: nil,
			after: []vma.Region{{Start: pg(0), End: pg(4), Prot: tRW}, {Start: pg(4), End: pg(6), Prot: 0, Flags: roFlags}, {Start: pg(6), End: pg(8), Prot: tR, Flags: roFlags}}},
		{name: "none then writable", setup: func(l *testLayout) error { return l.protect(pg(4), pg(8), 0) },
			start: 4, end: 8, prot: tRW, want: ErrAccess},
		{name: "split then writable", setup: func(l *testLayout) error { return l.protect(pg(5), pg(6), 0) },
			start: 4, end: 8, prot: tRW, want: ErrAccess},
		{name: "split then writable, only the untouched pieces", setup: func(l *testLayout) error { return l.protect(pg(5), pg(6), 0) },
			start: 6, end: 8, prot: tRW, want: ErrAccess},
		{name: "hole before the read-only mapping: ENOMEM first", setup: func(l *testLayout) error { return l.unmapRegion(pg(2), pg(4)) },
			start: 1, end: 6, prot: tRW, want: ErrNoMem},
		{name: "read-only mapping before a hole: EACCES first", setup: func(l *testLayout) error { return l.unmapRegion(pg(6), pg(8)) },
			start: 4, end: 8, prot: tRW, want: ErrAccess},
		{name: "range past the end", start: 4, end: 9, prot: tR, want: ErrNoMem},
		{name: "write-only made executable",
			setup: func(l *testLayout) error { _, err := l.mapShared(10, objFrames(2, 2), tRW, tRW); return err },
			start: 10, end: 12, prot: tRX, want: ErrAccess},
		{name: "write-only made readable (writable pages are)",
			setup: func(l *testLayout) error { _, err := l.mapShared(10, objFrames(2, 2), tRW, tRW); return err },
			start: 10, end: 11, prot: tR, want: nil,
			after: []vma.Region{{Start: pg(0), End: pg(4), Prot: tRW}, {Start: pg(4), End: pg(8), Prot: tR, Flags: roFlags},
				{Start: pg(10), End: pg(11), Prot: tR, Flags: woFlags}, {Start: pg(11), End: pg(12), Prot: tRW, Flags: woFlags}}},
		{name: "map-only made readable",
			setup: func(l *testLayout) error { _, err := l.mapShared(10, objFrames(2, 2), 0, 0); return err },
			start: 10, end: 12, prot: tR, want: ErrAccess},
		{name: "anonymous made rwx", start: 0, end: 4, prot: tRWX, want: nil,
			after: []vma.Region{{Start: pg(0), End: pg(4), Prot: tRWX}, {Start: pg(4), End: pg(8), Prot: tR, Flags: roFlags}}},
		{name: "two read-only objects, merged regions",
			setup: func(l *testLayout) error { _, err := l.mapShared(8, objFrames(2, 2), tR, tRX); return err },
			start: 6, end: 10, prot: tRW, want: ErrAccess},
		{name: "writable object next to the read-only one",
			setup: func(l *testLayout) error { _, err := l.mapShared(8, objFrames(2, 2), tR, tRWX); return err },
			start: 7, end: 10, prot: tRW, want: ErrAccess},
		{name: "writable object alone", setup: func(l *testLayout) error { _, err := l.mapShared(8, objFrames(2, 2), tR, tRWX); return err },
			start: 8, end: 10, prot: tRW, want: nil,
			after: []vma.Region{{Start: pg(0), End: pg(4), Prot: tRW}, {Start: pg(4), End: pg(8), Prot: tR, Flags: roFlags},
				{Start: pg(8), End: pg(10), Prot: tRW, Flags: regionShared}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := newTestLayout(16)
			// Anonymous read-write memory at pages 0-3, object 1
			// read-only (a Read|Map capability) at 4-7.
			if err := l.mapRegion(pg(0), pg(4), tRW, 0); err != nil {
				t.Fatal(err)
			}
			if _, err := l.mapShared(4, objFrames(1, 4), tR, tRX); err != nil {
				t.Fatal(err)
			}
			if tc.setup != nil {
				if err := tc.setup(l); err != nil {
					t.Fatal(err)
				}
			}
			before := l.regions()
			err := l.protect(pg(tc.start), pg(tc.end), tc.prot)
			if !errors.Is(err, tc.want) || (err == nil) != (tc.want == nil) {
				t.Fatalf("protect(pages %d-%d, %v) = %v, want %v", tc.start, tc.end, tc.prot, err, tc.want)
			}
			want := tc.after
			if want == nil {
				want = before
			}
			if diff := cmp.Diff(want, l.regions()); diff != "" {
				t.Errorf("regions (-want +got):\n%s", diff)
			}
			if err := l.check(); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestSharedRecords: unmapping or replacing part of a shared mapping cuts
// its record, so the frame found for an address is always the one mapped
// there now, and the object's reference goes with the last piece.
func TestSharedRecords(t *testing.T) {
	a, b, c := objFrames(1, 4), objFrames(2, 2), objFrames(3, 2)
	tests := []struct {
		name     string
		run      func(l *testLayout) error
		frame    map[int]uint64 // page -> frame expected; 0: none
		records  map[uint64]rec
		released []int
	}{
		{
			name: "middle unmapped, another object mapped into the hole",
			run: func(l *testLayout) error {
				if err := l.unmapRegion(pg(1), pg(3)); err != nil {
					return err
				}
				_, err := l.mapShared(1, b, tRW, tRWX)
				return err
			},
			frame: map[int]uint64{0: a[0], 1: b[0], 2: b[1], 3: a[3]},
			records: map[uint64]rec{
				pg(0): {pg(0), pg(1), a[0], 2}, pg(3): {pg(3), pg(4), a[3], 2}, pg(1): {pg(1), pg(3), b[0], 1},
			},
			released: []int{0, 0},
		},
		{
			name: "anonymous memory MAP_FIXED over part",
			run: func(l *testLayout) error {
				return l.mapRegion(pg(2), pg(3), tRW, 0)
			},
			frame:    map[int]uint64{0: a[0], 1: a[1], 2: 0, 3: a[3]},
			records:  map[uint64]rec{pg(0): {pg(0), pg(2), a[0], 2}, pg(3): {pg(3), pg(4), a[3], 2}},
			released: []int{0},
		},
		{
			name: "head and tail unmapped",
			run: func(l *testLayout) error {
				if err := l.unmapRegion(pg(0), pg(1)); err != nil {
					return err
				}
				return l.unmapRegion(pg(3), pg(5))
			},
			frame:    map[int]uint64{0: 0, 1: a[1], 2: a[2], 3: 0},
			records:  map[uint64]rec{pg(1): {pg(1), pg(3), a[1], 1}},
			released: []int{0},
		},
		{
			name: "unmapped in pieces: released with the last",
			run: func(l *testLayout) error {
				for _, r := range [][2]int{{1, 3}, {0, 1}, {3, 4}} {
					if err := l.unmapRegion(pg(r[0]), pg(r[1])); err != nil {
						return err
					}
				}
				return nil
			},
			frame:    map[int]uint64{0: 0, 1: 0, 2: 0, 3: 0},
			records:  map[uint64]rec{},
			released: []int{1},
		},
		{
			name: "one unmap across two mappings, a third in the hole",
			run: func(l *testLayout) error {
				if _, err := l.mapShared(4, b, tR, tRX); err != nil { // pages 4-5, right after a
					return err
				}
				if err := l.unmapRegion(pg(3), pg(5)); err != nil {
					return err
				}
				_, err := l.mapShared(3, c, tRW, tRWX)
				return err
			},
			frame: map[int]uint64{2: a[2], 3: c[0], 4: c[1], 5: b[1]},
			records: map[uint64]rec{
				pg(0): {pg(0), pg(3), a[0], 1}, pg(3): {pg(3), pg(5), c[0], 1}, pg(5): {pg(5), pg(6), b[1], 1},
			},
			released: []int{0, 0, 0},
		},
		{
			name: "one unmap over several whole mappings and a piece",
			run: func(l *testLayout) error {
				if _, err := l.mapShared(4, b, tR, tRX); err != nil {
					return err
				}
				if _, err := l.mapShared(6, c, tR, tRX); err != nil {
					return err
				}
				return l.unmapRegion(pg(1), pg(8))
			},
			frame:    map[int]uint64{0: a[0], 1: 0, 5: 0, 7: 0},
			records:  map[uint64]rec{pg(0): {pg(0), pg(1), a[0], 1}},
			released: []int{0, 1, 1},
		},
		{
			name: "protection changes keep the records",
			run: func(l *testLayout) error {
				if err := l.protect(pg(1), pg(2), 0); err != nil {
					return err
				}
				return l.protect(pg(1), pg(3), tRX)
			},
			frame:    map[int]uint64{0: a[0], 1: a[1], 2: a[2], 3: a[3]},
			records:  map[uint64]rec{pg(0): {pg(0), pg(4), a[0], 1}},
			released: []int{0},
		},
		{
			name:     "the address space destroyed",
			run:      func(l *testLayout) error { l.cutShared(0, ^uint64(0)); return nil },
			records:  map[uint64]rec{},
			released: []int{1},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := newTestLayout(16)
			if _, err := l.mapShared(0, a, tR, tRX); err != nil {
				t.Fatal(err)
			}
			if err := tc.run(l); err != nil {
				t.Fatal(err)
			}
			if tc.name != "the address space destroyed" {
				if err := l.check(); err != nil {
					t.Fatal(err)
				}
			}
			for p, want := range tc.frame {
				got, ok := l.sharedFrame(pg(p))
				if want == 0 && ok {
					t.Errorf("page %d: frame %#x found, want none", p, got)
				} else if want != 0 && (!ok || got != want) {
					t.Errorf("page %d: frame %#x %v, want %#x", p, got, ok, want)
				}
			}
			if diff := cmp.Diff(tc.records, l.records()); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.released, l.released); diff != "" {
				t.Errorf("release calls per mapping (-want +got):\n%s", diff)
			}
		})
	}
}

// tPage is the reference model's view of one page.
type tPage struct {
	mapped  bool
	prot    vma.Prot
	max     vma.Prot
	frame   uint64 // 0: anonymous
	mapping int
}

// TestLayoutModel runs random mmap, MemMap, munmap and mprotect calls on
// a layout and on a page-by-page model, and compares after each: the
// protections, the maximum protections, the frame found for every page,
// the release calls, and the layout's invariants.
func TestLayoutModel(t *testing.T) {
	const pages = 48
	for seed := int64(1); seed <= 40; seed++ {
		rng := rand.New(rand.NewSource(seed))
		l := newTestLayout(pages)
		model := make([]tPage, pages)
		livePages := map[int]int{} // mapping -> pages still mapped
		prots := []vma.Prot{0, tR, tRW, tRX, tRWX, vma.Exec}
		for step := 0; step < 400; step++ {
			s := rng.Intn(pages)
			e := s + 1 + rng.Intn(min(8, pages-s))
			prot := prots[rng.Intn(len(prots))]
			var what string
			var err, want error
			switch rng.Intn(4) {
			case 0: // MemMap at s, MAP_FIXED into a free range
				max := prots[rng.Intn(len(prots))]
				what = fmt.Sprintf("mapShared(%d-%d, %v, max %v)", s, e, prot, max)
				free := true
				for p := s; p < e; p++ {
					free = free && !model[p].mapped
				}
				obj := step + 1
				var id int
				id, err = l.mapShared(s, objFrames(obj, e-s), prot, max)
				switch {
				case !free:
					want = ErrExist
				case prot&^max != 0:
					want = ErrAccess
				default:
					livePages[id] = e - s
					for p := s; p < e; p++ {
						model[p] = tPage{mapped: true, prot: prot, max: max, frame: objFrames(obj, e-s)[p-s], mapping: id}
					}
				}
			case 1: // mmap MAP_FIXED anonymous
				what = fmt.Sprintf("mapRegion(%d-%d, %v)", s, e, prot)
				err = l.mapRegion(pg(s), pg(e), prot, 0)
				for p := s; p < e; p++ {
					if model[p].frame != 0 {
						livePages[model[p].mapping]--
					}
					model[p] = tPage{mapped: true, prot: prot, max: tRWX}
				}
			case 2: // munmap
				what = fmt.Sprintf("unmapRegion(%d-%d)", s, e)
				err = l.unmapRegion(pg(s), pg(e))
				for p := s; p < e; p++ {
					if model[p].frame != 0 {
						livePages[model[p].mapping]--
					}
					model[p] = tPage{}
				}
			case 3: // mprotect
				what = fmt.Sprintf("protect(%d-%d, %v)", s, e, prot)
				err = l.protect(pg(s), pg(e), prot)
				for p := s; p < e && want == nil; p++ {
					if !model[p].mapped {
						want = ErrNoMem
					} else if prot&^model[p].max != 0 {
						want = ErrAccess
					}
				}
				if want == nil {
					for p := s; p < e; p++ {
						model[p].prot = prot
					}
				}
			}
			if !errors.Is(err, want) || (err == nil) != (want == nil) {
				t.Fatalf("seed %d step %d: %s = %v, want %v", seed, step, what, err, want)
			}
			if err := l.check(); err != nil {
				t.Fatalf("seed %d step %d: after %s: %v", seed, step, what, err)
			}
			for p := 0; p < pages; p++ {
				m := model[p]
				r, ok := l.set.Find(pg(p))
				if ok != m.mapped || ok && (r.Prot != m.prot || maxProt(r.Flags) != m.max || (r.Flags&regionShared != 0) != (m.frame != 0)) {
					t.Fatalf("seed %d step %d: after %s: page %d is %+v %v, model %+v", seed, step, what, p, r, ok, m)
				}
				f, ok := l.sharedFrame(pg(p))
				if ok != (m.frame != 0) || f != m.frame {
					t.Fatalf("seed %d step %d: after %s: page %d frame %#x %v, model %#x", seed, step, what, p, f, ok, m.frame)
				}
			}
			for id, n := range livePages {
				want := 0
				if n == 0 {
					want = 1
				}
				if l.released[id] != want {
					t.Fatalf("seed %d step %d: after %s: mapping %d released %d times with %d pages left", seed, step, what, id, l.released[id], n)
				}
			}
		}
	}
}
