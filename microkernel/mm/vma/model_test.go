package vma

import (
	"math/rand"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// model is the reference a Set is compared against: one entry per page of
// the window, so every operation is a plain loop. Its region list is
// derived by grouping runs of equal pages, which is exactly the canonical
// (fully merged) form a Set must keep.
type model struct {
	lo, hi uint64
	pages  []page
	cap    int
}

type page struct {
	mapped bool
	prot   Prot
	flags  uint32
}

func newModel(lo, hi uint64, capacity int) *model {
	return &model{lo: lo, hi: hi, pages: make([]page, (hi-lo)/PageSize), cap: capacity}
}

func (m *model) regions() []Region {
	var rs []Region
	for i, p := range m.pages {
		if !p.mapped {
			continue
		}
		a := m.lo + uint64(i)*PageSize
		if n := len(rs); n > 0 && rs[n-1].End == a && rs[n-1].Prot == p.prot && rs[n-1].Flags == p.flags {
			rs[n-1].End += PageSize
			continue
		}
		rs = append(rs, Region{Start: a, End: a + PageSize, Prot: p.prot, Flags: p.flags})
	}
	return rs
}

func (m *model) checkRange(start, end uint64) error {
	if start%PageSize != 0 || end%PageSize != 0 || start >= end {
		return ErrInvalid
	}
	if start < m.lo || end > m.hi {
		return ErrOutOfWindow
	}
	return nil
}

// apply runs set on a copy of the pages in [start, end) and commits it if
// the resulting region list fits the capacity.
func (m *model) apply(start, end uint64, set func(p *page)) error {
	old := append([]page(nil), m.pages...)
	for a := start; a < end; a += PageSize {
		set(&m.pages[(a-m.lo)/PageSize])
	}
	if len(m.regions()) > m.cap {
		m.pages = old
		return ErrNoSpace
	}
	return nil
}

func (m *model) mapRange(start, end uint64, prot Prot, flags uint32) error {
	if err := m.checkRange(start, end); err != nil {
		return err
	}
	if prot > 7 {
		return ErrInvalid
	}
	return m.apply(start, end, func(p *page) { *p = page{true, prot, flags} })
}

func (m *model) unmap(start, end uint64) error {
	if err := m.checkRange(start, end); err != nil {
		return err
	}
	return m.apply(start, end, func(p *page) { *p = page{} })
}

func (m *model) protect(start, end uint64, prot Prot) error {
	if err := m.checkRange(start, end); err != nil {
		return err
	}
	if prot > 7 {
		return ErrInvalid
	}
	for a := start; a < end; a += PageSize {
		if !m.pages[(a-m.lo)/PageSize].mapped {
			return ErrNotMapped
		}
	}
	return m.apply(start, end, func(p *page) { p.prot = prot })
}

func (m *model) mapped(a uint64) bool {
	return a >= m.lo && a < m.hi && m.pages[(a-m.lo)/PageSize].mapped
}

// find returns the region of rs (a model's regions) containing addr.
func find(rs []Region, addr uint64) (Region, bool) {
	for _, r := range rs {
		if r.Start <= addr && addr < r.End {
			return r, true
		}
	}
	return Region{}, false
}

func (m *model) firstOverlap(start, end uint64) int {
	rs := m.regions()
	for i, r := range rs {
		if start < end && r.Start < end && start < r.End {
			return i
		}
	}
	return len(rs)
}

func (m *model) isFree(start, end uint64) bool {
	if m.checkRange(start, end) != nil {
		return false
	}
	for a := start; a < end; a += PageSize {
		if m.mapped(a) {
			return false
		}
	}
	return true
}

func (m *model) findFree(size, align, hint uint64) (uint64, error) {
	if size == 0 || size%PageSize != 0 || align < PageSize || align&(align-1) != 0 {
		return 0, ErrInvalid
	}
	from := hint
	if from < m.lo || from >= m.hi {
		from = m.lo
	}
	for _, f := range []uint64{from, m.lo} {
		if f%align != 0 {
			if f > ^uint64(0)-align {
				continue
			}
			f += align - f%align
		}
		for p := f; p < m.hi && size <= m.hi-p; p += align {
			if m.isFree(p, p+size) {
				return p, nil
			}
			if p > ^uint64(0)-align {
				break
			}
		}
	}
	return 0, ErrNoGap
}

// regionsOf lists a Set's regions through its public accessors.
func regionsOf(s *Set) []Region {
	var rs []Region
	for i := 0; i < s.Len(); i++ {
		rs = append(rs, s.At(i))
	}
	return rs
}

// compare fails the test if s and m disagree anywhere, or s.Check fails.
func compare(t *testing.T, step int, s *Set, m *model) {
	t.Helper()
	if err := s.Check(); err != nil {
		t.Fatalf("step %d: Check: %v\nregions: %+v", step, err, regionsOf(s))
	}
	if diff := cmp.Diff(m.regions(), regionsOf(s)); diff != "" {
		t.Fatalf("step %d: regions (-model +set):\n%s", step, diff)
	}
	// Probe Find on every page, and just outside the window.
	rs := m.regions()
	for a := m.lo - PageSize; a <= m.hi; a += PageSize {
		for _, addr := range []uint64{a, a + PageSize - 1} {
			got, gok := s.Find(addr)
			want, wok := find(rs, addr)
			if got != want || gok != wok {
				t.Fatalf("step %d: Find(%#x) = %+v, %v; model %+v, %v", step, addr, got, gok, want, wok)
			}
		}
	}
}

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

// runProgram interprets prog as a sequence of Set operations and checks
// each against the model. The first bytes choose the capacity (1..8, small
// so ErrNoSpace is common), the window size (1..64 pages) and its base.
func runProgram(t *testing.T, prog []byte) {
	r := &byteReader{b: prog}
	capacity := 1 + int(r.next()%8)
	npages := 1 + uint64(r.next()%64)
	lo := (2 + uint64(r.next()%32)) * PageSize
	hi := lo + npages*PageSize
	var s Set
	s.Init(make([]Region, capacity), lo, hi)
	m := newModel(lo, hi, capacity)
	compare(t, -1, &s, m)

	// addr maps a byte to an address from two pages below the window to
	// a few pages above it.
	addr := func(x byte) uint64 { return lo - 2*PageSize + uint64(x)%(npages+5)*PageSize }
	for step := 0; r.i < len(r.b); step++ {
		op, a, b, c, d := r.next(), r.next(), r.next(), r.next(), r.next()
		start := addr(a)
		end := start + (1+uint64(b%12))*PageSize
		switch {
		case c&0xc0 == 0xc0:
			end = addr(b) // may be <= start
		case c&0xc0 == 0x80:
			start++ // unaligned
		}
		prot := Prot(c % 8)
		if d == 0xff {
			prot = 8
		}
		flags := uint32(d % 3)
		switch op % 8 {
		case 0, 1:
			gerr, werr := s.Map(start, end, prot, flags), m.mapRange(start, end, prot, flags)
			if gerr != werr {
				t.Fatalf("step %d: Map(%#x, %#x, %d, %d) = %v; model %v", step, start, end, prot, flags, gerr, werr)
			}
		case 2:
			gerr, werr := s.Unmap(start, end), m.unmap(start, end)
			if gerr != werr {
				t.Fatalf("step %d: Unmap(%#x, %#x) = %v; model %v", step, start, end, gerr, werr)
			}
		case 3, 4:
			gerr, werr := s.Protect(start, end, prot), m.protect(start, end, prot)
			if gerr != werr {
				t.Fatalf("step %d: Protect(%#x, %#x, %d) = %v; model %v", step, start, end, prot, gerr, werr)
			}
		case 5, 6:
			size := (1 + uint64(b%8)) * PageSize
			if b == 0xff {
				size = 100 // invalid
			}
			align := uint64(PageSize) << (c % 6)
			if c == 0xff {
				align = 3 * PageSize // invalid
			}
			hint := uint64(0)
			if d&1 == 1 {
				hint = addr(a) + uint64(d&0x10)
			}
			got, gerr := s.FindFree(size, align, hint)
			want, werr := m.findFree(size, align, hint)
			if got != want || gerr != werr {
				t.Fatalf("step %d: FindFree(%#x, %#x, %#x) = %#x, %v; model %#x, %v",
					step, size, align, hint, got, gerr, want, werr)
			}
		case 7:
			if got, want := s.IsFree(start, end), m.isFree(start, end); got != want {
				t.Fatalf("step %d: IsFree(%#x, %#x) = %v; model %v", step, start, end, got, want)
			}
			if got, want := s.FirstOverlap(start, end), m.firstOverlap(start, end); got != want {
				t.Fatalf("step %d: FirstOverlap(%#x, %#x) = %d; model %d", step, start, end, got, want)
			}
		}
		compare(t, step, &s, m)
	}
}

// TestRandomPrograms runs many random operation sequences against the
// model. The seed is fixed so a failure reproduces; FuzzOps explores
// further.
func TestRandomPrograms(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	programs := 400
	if testing.Short() {
		programs = 30
	}
	for i := 0; i < programs; i++ {
		prog := make([]byte, 3+5*(20+rng.Intn(150)))
		rng.Read(prog)
		runProgram(t, prog)
	}
}

// FuzzOps interprets the fuzz input as an operation sequence (see
// runProgram) and checks the Set against the model after every step.
func FuzzOps(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{3, 40, 0, 0, 2, 5, 3, 0, 0, 7, 2, 1, 0, 3, 1, 1, 3, 4, 0, 3, 0, 0, 5, 0, 1, 0, 0})
	f.Add([]byte{7, 63, 10, 1, 3, 20, 1, 1, 5, 10, 10, 1, 1, 8, 2, 1, 4, 12, 1, 1, 1, 2, 6, 0, 2, 2, 5, 1, 0, 0})
	f.Fuzz(func(t *testing.T, prog []byte) {
		if len(prog) > 3+5*300 {
			prog = prog[:3+5*300] // keep each input fast
		}
		runProgram(t, prog)
	})
}
