package multiboot

// Available writes to out the RAM the kernel may hand out and returns
// how many entries it wrote. The answer is the union of the
// TypeAvailable regions minus every other region of the map, in.Reserved,
// every module and every range in excl, with each remaining piece shrunk
// to whole pages. Entries are sorted by Base, do not overlap or touch,
// have Type TypeAvailable and a non-zero page-multiple Len.
//
// The pieces are produced in address order, so when out is too small it
// holds exactly the lowest len(out) pieces of the full answer, and a
// return value below len(out) means the answer is complete. Available
// only reads in and excl, writes nothing but out, and allocates nothing.
func (in *Info) Available(excl []Region, out []Region) int {
	if in == nil {
		return 0
	}
	v := view{
		in:   in,
		excl: excl,
		nr:   clampCount(in.NRegions, MaxRegions),
		nres: clampCount(in.NReserved, MaxRegions),
		nmod: clampCount(in.NModules, MaxModules),
	}
	n := 0
	// cursor is the lowest address not yet decided. Each iteration
	// moves it strictly upwards to the end of a piece, which is one of
	// the finitely many region endpoints, so the loop terminates even
	// when pieces are too small to emit.
	cursor := uint64(0)
	for n < len(out) {
		p, ok := v.nextUsable(cursor)
		if !ok {
			break
		}
		q := v.pieceEnd(p)
		cursor = q
		// Shrink to whole pages only now that the piece is final: a
		// page straddling two touching available entries survives,
		// and a page touched by an exclusion does not.
		if p > ^uint64(0)-(PageSize-1) {
			break // no whole page starts at or above p
		}
		b := (p + PageSize - 1) &^ (PageSize - 1)
		e := q &^ (PageSize - 1)
		if b < e {
			out[n] = Region{Base: b, Len: e - b, Type: TypeAvailable}
			n++
		}
	}
	return n
}

// view presents an Info's ranges, with counts clamped so that a
// corrupted Info cannot make a loop index past its arrays. Ranges are
// half-open [base, end) with end saturated at the top of the address
// space; a region whose Len is 0 is empty and ignored.
type view struct {
	in             *Info
	excl           []Region
	nr, nres, nmod int
}

// avail returns the k'th available range, or an empty one if region k
// has another type.
func (v *view) avail(k int) (b, e uint64) {
	if k < 0 || k >= v.nr || v.in.Regions[k].Type != TypeAvailable {
		return 0, 0
	}
	r := v.in.Regions[k]
	return r.Base, satAdd(r.Base, r.Len)
}

// nexcl is the number of exclusion ranges exclAt can return.
func (v *view) nexcl() int { return v.nr + v.nres + v.nmod + len(v.excl) }

// exclAt returns the k'th range to subtract, numbering the non-available
// regions, then Reserved, then the modules, then the caller's excl.
// Available regions in the first block read as empty.
func (v *view) exclAt(k int) (b, e uint64) {
	switch {
	case k < 0:
		return 0, 0
	case k < v.nr:
		r := v.in.Regions[k]
		if r.Type == TypeAvailable {
			return 0, 0
		}
		return r.Base, satAdd(r.Base, r.Len)
	case k < v.nr+v.nres:
		r := v.in.Reserved[k-v.nr]
		return r.Base, satAdd(r.Base, r.Len)
	case k < v.nr+v.nres+v.nmod:
		m := v.in.Modules[k-v.nr-v.nres]
		return m.Start, m.End
	case k < v.nexcl():
		r := v.excl[k-v.nr-v.nres-v.nmod]
		return r.Base, satAdd(r.Base, r.Len)
	}
	return 0, 0
}

// nextUsable returns the lowest address at or above c that lies in an
// available range and in no exclusion.
func (v *view) nextUsable(c uint64) (uint64, bool) {
	// c strictly increases each time round (it jumps to the end of an
	// exclusion that contains it), so this runs at most once per
	// exclusion endpoint.
	for {
		p, ok := v.nextAvail(c)
		if !ok {
			return 0, false
		}
		skip := p
		for k := 0; k < v.nexcl(); k++ {
			if b, e := v.exclAt(k); b <= p && p < e {
				skip = max(skip, e)
			}
		}
		if skip == p {
			return p, true
		}
		c = skip
	}
}

// nextAvail returns c if an available range contains it, else the
// lowest start of an available range above c.
func (v *view) nextAvail(c uint64) (uint64, bool) {
	best, found := uint64(0), false
	for k := 0; k < v.nr; k++ {
		b, e := v.avail(k)
		if b >= e {
			continue
		}
		if b <= c && c < e {
			return c, true
		}
		if b > c && (!found || b < best) {
			best, found = b, true
		}
	}
	return best, found
}

// pieceEnd returns the end of the usable piece starting at p: the end of
// the run of overlapping or touching available ranges through p, cut at
// the first exclusion that starts above p. (No exclusion contains p;
// nextUsable made sure of that.)
func (v *view) pieceEnd(p uint64) uint64 {
	q := p
	// Each pass that extends q does so strictly, to the end of a
	// different range, so there are at most nr+1 passes.
	for extended := true; extended; {
		extended = false
		for k := 0; k < v.nr; k++ {
			if b, e := v.avail(k); b <= q && q < e {
				q, extended = e, true
			}
		}
	}
	for k := 0; k < v.nexcl(); k++ {
		if b, e := v.exclAt(k); b < e && b > p && b < q {
			q = b
		}
	}
	return q
}

// clampCount bounds a count field taken from a caller-writable Info.
func clampCount(n, limit int) int {
	if n < 0 {
		return 0
	}
	return min(n, limit)
}
