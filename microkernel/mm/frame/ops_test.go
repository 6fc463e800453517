package frame

import (
	"math/rand"
	"sort"
	"testing"
)

// opSize is the number of input bytes one operation consumes.
const opSize = 5

// byteReader hands out input bytes, then zeros once they run out, so any
// byte string is a valid program.
type byteReader struct {
	b []byte
	i int
}

func (r *byteReader) next() byte {
	if r.i >= len(r.b) {
		return 0
	}
	c := r.b[r.i]
	r.i++
	return c
}

// runProgram interprets prog as a sequence of allocator operations on a
// fresh Allocator and model and compares them after every step. The first
// two bytes choose nframes (1..512), so both single-word and multi-word
// bitmaps, with and without padding, are exercised.
func runProgram(t *testing.T, prog []byte) {
	r := &byteReader{b: prog}
	nframes := 1 + uint64(r.next()) + uint64(r.next()&1)<<8
	bitmap := make([]uint64, WordsFor(nframes))
	var a Allocator
	if err := a.Init(bitmap, nframes); err != nil {
		t.Fatalf("Init(%d): %v", nframes, err)
	}
	m := newModel(nframes)
	compare(t, -1, &a, m)

	// addr turns two bytes into a physical address spread over the
	// managed range and a little beyond it, usually page aligned.
	addr := func(x, off byte) uint64 {
		pa := uint64(x) * (nframes + 3) / 255 * PageSize
		if off%4 == 0 {
			pa += uint64(off)*16 + 1
		}
		return pa
	}
	for step := 0; r.i < len(r.b); step++ {
		op, p1, p2, p3, p4 := r.next(), r.next(), r.next(), r.next(), r.next()
		switch op % 8 {
		case 0, 1: // Alloc, weighted double.
			got, gerr := a.Alloc()
			want, werr := m.allocContig(1, 1)
			if got != want || gerr != werr {
				t.Fatalf("step %d: Alloc = %#x, %v; model %#x, %v", step, got, gerr, want, werr)
			}
		case 2: // AllocContig
			n := 1 + uint64(p1%40)
			align := uint64(1) << (p2 % 8)
			if p3 == 0xff {
				align = 3 // not a power of two
			}
			got, gerr := a.AllocContig(n, align)
			want, werr := m.allocContig(n, align)
			if got != want || gerr != werr {
				t.Fatalf("step %d: AllocContig(%d, %d) = %#x, %v; model %#x, %v",
					step, n, align, got, gerr, want, werr)
			}
		case 3, 4: // Free or FreeContig
			n := uint64(1)
			if op%8 == 4 {
				n = uint64(p3 % 9) // includes the invalid 0
			}
			var pa uint64
			if p4%4 != 0 && len(m.handed) > 0 {
				// Mostly free a frame that is really allocated.
				fs := make([]uint64, 0, len(m.handed))
				for f := range m.handed {
					fs = append(fs, f)
				}
				sort.Slice(fs, func(i, j int) bool { return fs[i] < fs[j] })
				pa = fs[(int(p1)<<8|int(p2))%len(fs)] * PageSize
			} else {
				pa = addr(p1, p4)
			}
			var gerr error
			if op%8 == 3 {
				gerr = a.Free(pa)
			} else {
				gerr = a.FreeContig(pa, n)
			}
			werr := m.freeContig(pa, n)
			if gerr != werr {
				t.Fatalf("step %d: FreeContig(%#x, %d) = %v; model %v", step, pa, n, gerr, werr)
			}
		case 5: // AddFree, skipping the documented misuse of freeing allocated frames.
			base, end := addr(p1, p3), addr(p2, p4)
			if p2 == 0xff {
				end = nframes * PageSize // all of memory
			}
			if p3 == 0xfe {
				base, end = end, base
			}
			if coversHanded(m, base, end) {
				continue
			}
			gerr := a.AddFree(base, end)
			werr := m.addFree(base, end)
			if gerr != werr {
				t.Fatalf("step %d: AddFree(%#x, %#x) = %v; model %v", step, base, end, gerr, werr)
			}
		case 6: // Reserve
			base, end := addr(p1, p3), addr(p2, p4)
			if p3 == 0xfe {
				base, end = end, base
			}
			if p4 == 0xff {
				end = ^uint64(0) // far past the top of memory
			}
			gerr := a.Reserve(base, end)
			werr := m.reserve(base, end)
			if gerr != werr {
				t.Fatalf("step %d: Reserve(%#x, %#x) = %v; model %v", step, base, end, gerr, werr)
			}
		case 7: // FreeCount must agree with Stats (compare checks Stats).
			if got := a.FreeCount(); got != m.free {
				t.Fatalf("step %d: FreeCount = %d, model %d", step, got, m.free)
			}
		}
		compare(t, step, &a, m)
	}
}

// coversHanded reports whether AddFree(base, end) would free an allocated
// frame.
func coversHanded(m *model, base, end uint64) bool {
	for f := range m.handed {
		if f*PageSize >= base && f*PageSize+PageSize <= end {
			return true
		}
	}
	return false
}

// TestRandomPrograms runs many random operation sequences against the
// model. The seed is fixed so a failure reproduces; FuzzOps explores
// further.
func TestRandomPrograms(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	programs := 300
	if testing.Short() {
		programs = 30
	}
	for i := 0; i < programs; i++ {
		prog := make([]byte, 2+opSize*(50+rng.Intn(250)))
		rng.Read(prog)
		// Bias towards a mostly usable machine: start by adding memory.
		prog[2] = 5
		prog[3], prog[4], prog[5], prog[6] = 0, 0xff, 1, 1
		runProgram(t, prog)
	}
}

// FuzzOps interprets the fuzz input as an operation sequence (see
// runProgram) and checks every step against the reference model.
func FuzzOps(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{200, 0, 5, 0, 0xff, 1, 1, 0, 0, 0, 0, 0, 2, 7, 3, 0, 0, 3, 0, 0, 0, 1})
	f.Add([]byte{63, 1, 5, 0, 0xff, 4, 4, 2, 3, 9, 0, 0, 6, 0, 30, 1, 1, 1, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, prog []byte) {
		if len(prog) > 2+opSize*400 {
			prog = prog[:2+opSize*400] // keep each input fast
		}
		runProgram(t, prog)
	})
}
