package vma

import "errors"

// PageSize is the granularity of every address and length.
const PageSize = 4096

const pageMask = PageSize - 1

// Prot is a region's access protection, a set of bit flags.
type Prot uint8

// Protection bits. None (no bits) reserves addresses that fault on any
// access.
const (
	Read  Prot = 1
	Write Prot = 2
	Exec  Prot = 4
	None  Prot = 0

	protAll = Read | Write | Exec
)

// Region is the half-open virtual range [Start, End) mapped with one
// protection. Flags are opaque to this package; two touching regions are
// merged only when both Prot and Flags are equal.
type Region struct {
	Start, End uint64
	Prot       Prot
	Flags      uint32
}

// sameKind reports whether r and o may be merged when they touch.
func (r Region) sameKind(o Region) bool {
	return r.Prot == o.Prot && r.Flags == o.Flags
}

// Errors. They are allocated once at package initialisation so that
// returning them never allocates.
var (
	// ErrInvalid reports an unaligned address or size, start >= end, a
	// bad alignment, or Prot bits other than Read|Write|Exec.
	ErrInvalid = errors.New("vma: invalid argument")
	// ErrOutOfWindow reports a range not inside the Set's window.
	ErrOutOfWindow = errors.New("vma: range outside the managed window")
	// ErrNoSpace reports that the result would need more regions than
	// the storage holds. The Set is unchanged.
	ErrNoSpace = errors.New("vma: region storage full")
	// ErrNotMapped reports that Protect's range contains an unmapped page
	// (ENOMEM for mprotect). The Set is unchanged.
	ErrNotMapped = errors.New("vma: range not fully mapped")
	// ErrNoGap reports that FindFree found no free range large enough.
	ErrNoGap = errors.New("vma: no free range large enough")
)

// Set is a sorted set of disjoint regions inside a window [lo, hi). The
// zero value has an empty window and no storage; every mutation fails.
// It must not be copied after Init: a copy shares the storage but not
// the count.
type Set struct {
	regs   []Region // caller's storage; regions live in regs[:n]
	n      int
	lo, hi uint64
	last   int // index Find last returned; only a hint, may be stale
}

// Init makes s an empty set managing [lo, hi) with room for len(storage)
// regions. lo is rounded up and hi down to a page boundary; if that
// leaves nothing, the window is empty and every range is rejected with
// ErrOutOfWindow.
func (s *Set) Init(storage []Region, lo, hi uint64) {
	hi &^= pageMask
	if lo&pageMask != 0 && lo < hi {
		lo = (lo + pageMask) &^ pageMask // cannot overflow: lo < hi < 2^64-4096
	}
	if lo > hi {
		lo = hi
	}
	*s = Set{regs: storage, lo: lo, hi: hi}
}

// Len returns the number of regions.
func (s *Set) Len() int { return s.n }

// Cap returns the number of regions the storage can hold.
func (s *Set) Cap() int { return len(s.regs) }

// Window returns the managed range [lo, hi).
func (s *Set) Window() (lo, hi uint64) { return s.lo, s.hi }

// At returns the i'th region in address order, or the zero Region if i is
// not in [0, Len()).
func (s *Set) At(i int) Region {
	if i < 0 || i >= s.n || i >= len(s.regs) {
		return Region{}
	}
	return s.regs[i]
}

// lowerBound returns the index of the first region with End > addr, or n.
// Because regions are sorted and disjoint, End is increasing too.
func (s *Set) lowerBound(addr uint64) int {
	l, h := 0, s.n
	for l < h {
		m := int(uint(l+h) >> 1)
		if s.regs[m].End > addr {
			h = m
		} else {
			l = m + 1
		}
	}
	return l
}

// startBound returns the index of the first region with Start >= addr,
// or n.
func (s *Set) startBound(addr uint64) int {
	l, h := 0, s.n
	for l < h {
		m := int(uint(l+h) >> 1)
		if s.regs[m].Start >= addr {
			h = m
		} else {
			l = m + 1
		}
	}
	return l
}

// Find returns the region containing addr. It is the page-fault path's
// lookup: it first re-checks the region the previous Find returned (a
// stale index is harmless because regions never overlap: if that slot's
// region contains addr, it is the answer), then binary-searches.
func (s *Set) Find(addr uint64) (Region, bool) {
	if k := s.last; k >= 0 && k < s.n {
		if r := s.regs[k]; r.Start <= addr && addr < r.End {
			return r, true
		}
	}
	k := s.lowerBound(addr)
	if k < s.n && s.regs[k].Start <= addr {
		s.last = k
		return s.regs[k], true
	}
	return Region{}, false
}

// FirstOverlap returns the index of the first region that overlaps
// [start, end), or Len() if none does (or start >= end). Regions i,
// i+1, ... overlap the range while At(i).Start < end.
func (s *Set) FirstOverlap(start, end uint64) int {
	if start >= end {
		return s.n
	}
	k := s.lowerBound(start)
	if k < s.n && s.regs[k].Start < end {
		return k
	}
	return s.n
}

// IsFree reports whether [start, end) is a valid range inside the window
// that no region overlaps.
func (s *Set) IsFree(start, end uint64) bool {
	return s.checkRange(start, end) == nil && s.FirstOverlap(start, end) == s.n
}

// checkRange validates a range argument.
func (s *Set) checkRange(start, end uint64) error {
	if start&pageMask != 0 || end&pageMask != 0 || start >= end {
		return ErrInvalid
	}
	if start < s.lo || end > s.hi {
		return ErrOutOfWindow
	}
	return nil
}

// alignUp rounds x up to a multiple of a (a power of two), reporting
// false on overflow.
func alignUp(x, a uint64) (uint64, bool) {
	r := (x + a - 1) &^ (a - 1)
	return r, r >= x
}

// FindFree returns the lowest address p, a multiple of align, such that
// [p, p+size) is free and p >= hint. If there is none it wraps around and
// returns the lowest such p in the whole window. A hint of 0, or one
// outside the window, searches from lo. size must be a positive multiple
// of PageSize and align a power of two >= PageSize.
func (s *Set) FindFree(size, align, hint uint64) (uint64, error) {
	if size == 0 || size&pageMask != 0 || align < PageSize || align&(align-1) != 0 {
		return 0, ErrInvalid
	}
	from := hint
	if from < s.lo || from >= s.hi {
		from = s.lo
	}
	if p, ok := s.gapFrom(from, size, align); ok {
		return p, nil
	}
	if from > s.lo {
		if p, ok := s.gapFrom(s.lo, size, align); ok {
			return p, nil
		}
	}
	return 0, ErrNoGap
}

// gapFrom returns the lowest aligned p >= from with [p, p+size) free and
// inside the window. It walks the gaps between regions, starting with the
// one containing (or following) from.
func (s *Set) gapFrom(from, size, align uint64) (uint64, bool) {
	k := s.lowerBound(from) // every region before k ends at or before from
	p := from
	for {
		var ok bool
		if p, ok = alignUp(p, align); !ok || p >= s.hi {
			return 0, false
		}
		limit := s.hi
		if k < s.n {
			limit = s.regs[k].Start
		}
		if p < limit && limit-p >= size {
			return p, true
		}
		if k >= s.n {
			return 0, false
		}
		if e := s.regs[k].End; e > p {
			p = e
		}
		k++
	}
}
