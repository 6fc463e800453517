package frame

import "testing"

// model is the reference the Allocator is compared against: one bool per
// frame and the counter rules of the package documentation, written as
// plainly as possible with per-frame loops.
type model struct {
	used      []bool
	free      uint64
	allocated uint64
	highWater uint64
	// handed lists frames returned by Alloc/AllocContig and not yet freed.
	// It only steers the operation generator (towards valid frees, away
	// from AddFree over allocated frames); it plays no part in the
	// expected results.
	handed map[uint64]bool
}

func newModel(nframes uint64) *model {
	m := &model{used: make([]bool, nframes), handed: map[uint64]bool{}}
	for i := range m.used {
		m.used[i] = true
	}
	return m
}

func (m *model) n() uint64 { return uint64(len(m.used)) }

func (m *model) noteAlloc(n uint64) {
	m.allocated += n
	m.highWater = max(m.highWater, m.allocated)
}

func (m *model) addFree(base, end uint64) error {
	if end < base {
		return ErrInvalid
	}
	// The frames wholly inside [base, end).
	lo := base / PageSize
	if base%PageSize != 0 {
		lo++
	}
	hi := end / PageSize
	if lo >= hi {
		return nil
	}
	if hi > m.n() {
		return ErrOutOfRange
	}
	for f := max(lo, 1); f < hi; f++ {
		if m.used[f] {
			m.used[f] = false
			m.free++
		}
	}
	return nil
}

func (m *model) reserve(base, end uint64) error {
	if end < base {
		return ErrInvalid
	}
	for f := uint64(0); f < m.n(); f++ {
		if f*PageSize < end && f*PageSize+PageSize > base && !m.used[f] {
			m.used[f] = true
			m.free--
		}
	}
	return nil
}

func (m *model) allocContig(n, align uint64) (uint64, error) {
	if n == 0 || align == 0 || align&(align-1) != 0 {
		return 0, ErrInvalid
	}
outer:
	for s := align; s < m.n() && n <= m.n()-s; s += align {
		for f := s; f < s+n; f++ {
			if m.used[f] {
				continue outer
			}
		}
		for f := s; f < s+n; f++ {
			m.used[f] = true
			m.handed[f] = true
		}
		m.free -= n
		m.noteAlloc(n)
		return s * PageSize, nil
	}
	return 0, ErrNoMemory
}

func (m *model) freeContig(pa, n uint64) error {
	if n == 0 || pa == 0 {
		return ErrInvalid
	}
	if pa%PageSize != 0 {
		return ErrUnaligned
	}
	f := pa / PageSize
	if f >= m.n() || n > m.n()-f {
		return ErrOutOfRange
	}
	for g := f; g < f+n; g++ {
		if !m.used[g] {
			return ErrDoubleFree
		}
	}
	if n > m.allocated {
		return ErrNotAllocated
	}
	for g := f; g < f+n; g++ {
		m.used[g] = false
		delete(m.handed, g)
	}
	m.free += n
	m.allocated -= n
	return nil
}

func (m *model) stats() Stats {
	return Stats{
		Frames:    m.n(),
		Managed:   m.free + m.allocated,
		Free:      m.free,
		Allocated: m.allocated,
		HighWater: m.highWater,
	}
}

// compare fails the test if a and m disagree anywhere, or a.Check fails.
func compare(t *testing.T, step int, a *Allocator, m *model) {
	t.Helper()
	if err := a.Check(); err != nil {
		t.Fatalf("step %d: Check: %v", step, err)
	}
	if got, want := a.Stats(), m.stats(); got != want {
		t.Fatalf("step %d: Stats = %+v, model %+v", step, got, want)
	}
	for f := uint64(0); f < m.n(); f++ {
		if got := a.bits[f/64]>>(f%64)&1 == 1; got != m.used[f] {
			t.Fatalf("step %d: frame %d used=%v, model %v", step, f, got, m.used[f])
		}
	}
}
