package vma

// This file holds the operations that change a Set. Each follows the same
// shape: validate, locate the regions [i, j) that overlap the range,
// work out the final region list for that neighbourhood and how many
// slots it needs, and only then write. Nothing is written on any error
// path, which is what lets the kernel retry or report without repair.

// span returns the indexes [i, j) of the regions overlapping [start, end).
func (s *Set) span(start, end uint64) (i, j int) {
	i = s.lowerBound(start)
	j = s.startBound(end)
	if j < i { // cannot happen for start < end; keeps [i, j) well formed
		j = i
	}
	return i, j
}

// replace substitutes out[:m] for regions [a, b), shifting the regions
// after b. It checks the capacity before moving anything.
func (s *Set) replace(a, b int, out *[3]Region, m int) error {
	if a < 0 || a > b || b > s.n || m < 0 || m > len(out) {
		return ErrInvalid
	}
	newN := s.n - (b - a) + m
	if newN > len(s.regs) {
		return ErrNoSpace
	}
	copy(s.regs[a+m:newN], s.regs[b:s.n])
	copy(s.regs[a:a+m], out[:m])
	s.n = newN
	return nil
}

// insertAt inserts r before index k.
func (s *Set) insertAt(k int, r Region) error {
	if k < 0 || k > s.n {
		return ErrInvalid
	}
	if s.n >= len(s.regs) {
		return ErrNoSpace
	}
	copy(s.regs[k+1:s.n+1], s.regs[k:s.n])
	s.regs[k] = r
	s.n++
	return nil
}

// removeAt deletes the region at index k.
func (s *Set) removeAt(k int) error {
	if k < 0 || k >= s.n {
		return ErrInvalid
	}
	copy(s.regs[k:s.n-1], s.regs[k+1:s.n])
	s.n--
	return nil
}

// Map maps [start, end) with prot and flags, replacing whatever was
// mapped there (like mmap with MAP_FIXED): regions straddling an edge
// are cut, and the new region is merged with touching neighbours of the
// same kind. It needs at most two more slots (when it lands inside one
// region of another kind) and may free some.
func (s *Set) Map(start, end uint64, prot Prot, flags uint32) error {
	if err := s.checkRange(start, end); err != nil {
		return err
	}
	if prot&^protAll != 0 {
		return ErrInvalid
	}
	nr := Region{Start: start, End: end, Prot: prot, Flags: flags}
	i, j := s.span(start, end)
	a, b := i, j // the window of old regions to replace; may grow by one each side
	var out [3]Region
	m := 0

	// Left edge: a region straddling start is either absorbed (same kind)
	// or keeps its part below start. Otherwise a touching neighbour of
	// the same kind is absorbed.
	if i < j && s.regs[i].Start < start {
		if first := s.regs[i]; first.sameKind(nr) {
			nr.Start = first.Start
		} else {
			out[m] = first
			out[m].End = start
			m++
		}
	} else if a > 0 && s.regs[a-1].End == start && s.regs[a-1].sameKind(nr) {
		a--
		nr.Start = s.regs[a].Start
	}

	// Right edge, symmetrically.
	var right Region
	hasRight := false
	if i < j && s.regs[j-1].End > end {
		if last := s.regs[j-1]; last.sameKind(nr) {
			nr.End = last.End
		} else {
			right = last
			right.Start = end
			hasRight = true
		}
	} else if b < s.n && s.regs[b].Start == end && s.regs[b].sameKind(nr) {
		nr.End = s.regs[b].End
		b++
	}

	out[m] = nr
	m++
	if hasRight {
		out[m] = right
		m++
	}
	return s.replace(a, b, &out, m)
}

// Unmap removes [start, end), cutting regions that straddle its edges.
// Unmapping addresses that are not mapped is not an error. It needs one
// more slot only when it punches a hole in the middle of one region.
func (s *Set) Unmap(start, end uint64) error {
	if err := s.checkRange(start, end); err != nil {
		return err
	}
	i, j := s.span(start, end)
	if i == j {
		return nil
	}
	// The pieces left over are separated by the hole and keep their old
	// neighbours, so no merging can arise.
	var out [3]Region
	m := 0
	if first := s.regs[i]; first.Start < start {
		out[m] = first
		out[m].End = start
		m++
	}
	if last := s.regs[j-1]; last.End > end {
		out[m] = last
		out[m].Start = end
		m++
	}
	return s.replace(i, j, &out, m)
}

// b2i converts a bool to 0 or 1 for slot arithmetic.
func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Protect sets the protection of every page in [start, end) to prot,
// keeping each region's Flags, like mprotect. Every page must be mapped,
// else ErrNotMapped and nothing changes.
//
// Unlike Map, Protect can touch any number of regions, so it works in
// place rather than through a fixed buffer, in an order chosen so that no
// step needs more slots than the final result: first the regions in the
// range are rewritten and coalesced (which only shrinks the list), then
// merges with the outer neighbours (shrinks), and only then the splits at
// the edges (grows to exactly the final size, checked up front).
func (s *Set) Protect(start, end uint64, prot Prot) error {
	if err := s.checkRange(start, end); err != nil {
		return err
	}
	if prot&^protAll != 0 {
		return ErrInvalid
	}
	i, j := s.span(start, end)
	if i == j || s.regs[i].Start > start || s.regs[j-1].End < end {
		return ErrNotMapped
	}
	// Pieces of consecutive regions merge once their Prot is equal, if
	// their Flags are; count the merged pieces while checking for holes.
	mids := 1
	for k := i + 1; k < j; k++ {
		if s.regs[k-1].End != s.regs[k].Start {
			return ErrNotMapped
		}
		if s.regs[k-1].Flags != s.regs[k].Flags {
			mids++
		}
	}
	first, last := s.regs[i], s.regs[j-1]
	// An edge region that already has prot needs no cut: treat the whole
	// of it as in range. After this, a remaining cut always leaves a
	// piece whose Prot differs from its in-range part.
	if first.Prot == prot {
		start = first.Start
	}
	if last.Prot == prot {
		end = last.End
	}
	cutLeft, cutRight := first.Start < start, last.End > end
	mergeLeft := !cutLeft && i > 0 && s.regs[i-1].End == start &&
		s.regs[i-1].Prot == prot && s.regs[i-1].Flags == first.Flags
	mergeRight := !cutRight && j < s.n && s.regs[j].Start == end &&
		s.regs[j].Prot == prot && s.regs[j].Flags == last.Flags
	final := s.n - (j - i) + mids + b2i(cutLeft) + b2i(cutRight) - b2i(mergeLeft) - b2i(mergeRight)
	if final > len(s.regs) {
		return ErrNoSpace
	}

	// 1. Rewrite regs[i:j] as the coalesced in-range pieces. The write
	// index w never passes the read index k.
	w := i
	for k := i; k < j; k++ {
		r := s.regs[k]
		r.Prot = prot
		if r.Start < start {
			r.Start = start
		}
		if r.End > end {
			r.End = end
		}
		if w > i && s.regs[w-1].Flags == r.Flags {
			s.regs[w-1].End = r.End
		} else {
			s.regs[w] = r
			w++
		}
	}
	copy(s.regs[w:], s.regs[j:s.n])
	s.n -= j - w
	lo, hi := i, w // the in-range pieces

	// 2. Merges with the outer neighbours. The errors below cannot occur
	// given the checks above; they are returned rather than ignored only
	// so that a broken invariant is not silently compounded.
	if mergeLeft {
		s.regs[lo-1].End = s.regs[lo].End
		if err := s.removeAt(lo); err != nil {
			return err
		}
		lo--
		hi--
	}
	if mergeRight {
		s.regs[hi-1].End = s.regs[hi].End
		if err := s.removeAt(hi); err != nil {
			return err
		}
	}

	// 3. Cuts: restore the out-of-range parts of the edge regions.
	if cutLeft {
		left := first
		left.End = start
		if err := s.insertAt(lo, left); err != nil {
			return err
		}
		hi++
	}
	if cutRight {
		right := last
		right.Start = end
		if err := s.insertAt(hi, right); err != nil {
			return err
		}
	}
	return nil
}
