package frame

import "math/bits"

// This file holds the word-at-a-time bitmap primitives. Each works on a
// half-open frame range [lo, hi) and visits every word the range touches
// exactly once, masking the partial words at either end. Callers must
// pass hi <= nframes; every helper still checks the word index against
// len(a.bits) so a bad argument yields a wrong answer, never a panic.

// wordMask returns the bits [lo%64, lo%64+n) of one word; n is 1..64.
func wordMask(lo, n uint64) uint64 {
	if n >= 64 {
		return ^uint64(0)
	}
	return ((uint64(1) << n) - 1) << (lo & 63)
}

// chunk returns the word index, the mask of the range's bits within that
// word, and the number of frames the word covers, for the word containing
// lo in a range ending at hi (lo < hi).
func chunk(lo, hi uint64) (w, mask, n uint64) {
	n = 64 - lo&63
	if hi-lo < n {
		n = hi - lo
	}
	return lo >> 6, wordMask(lo, n), n
}

// countSet returns how many frames in [lo, hi) are used.
func (a *Allocator) countSet(lo, hi uint64) uint64 {
	var c uint64
	for lo < hi {
		w, m, n := chunk(lo, hi)
		if w >= uint64(len(a.bits)) {
			break
		}
		c += uint64(bits.OnesCount64(a.bits[w] & m))
		lo += n
	}
	return c
}

// setRange marks every frame in [lo, hi) used.
func (a *Allocator) setRange(lo, hi uint64) {
	for lo < hi {
		w, m, n := chunk(lo, hi)
		if w >= uint64(len(a.bits)) {
			return
		}
		a.bits[w] |= m
		lo += n
	}
}

// clearRange marks every frame in [lo, hi) free.
func (a *Allocator) clearRange(lo, hi uint64) {
	for lo < hi {
		w, m, n := chunk(lo, hi)
		if w >= uint64(len(a.bits)) {
			return
		}
		a.bits[w] &^= m
		lo += n
	}
}

// firstSet returns the lowest used frame in [lo, hi).
func (a *Allocator) firstSet(lo, hi uint64) (uint64, bool) {
	for lo < hi {
		w, m, n := chunk(lo, hi)
		if w >= uint64(len(a.bits)) {
			break
		}
		if x := a.bits[w] & m; x != 0 {
			return w<<6 + uint64(bits.TrailingZeros64(x)), true
		}
		lo += n
	}
	return 0, false
}

// firstClear returns the lowest free frame in [lo, hi).
func (a *Allocator) firstClear(lo, hi uint64) (uint64, bool) {
	for lo < hi {
		w, m, n := chunk(lo, hi)
		if w >= uint64(len(a.bits)) {
			break
		}
		if x := ^a.bits[w] & m; x != 0 {
			return w<<6 + uint64(bits.TrailingZeros64(x)), true
		}
		lo += n
	}
	return 0, false
}
