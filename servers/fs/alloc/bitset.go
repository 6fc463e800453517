package alloc

import "math/bits"

// bitset is a bitmap over block numbers, one bit per block.
type bitset []uint64

func (s bitset) test(b uint64) bool { return s[b/64]&(1<<(b%64)) != 0 }
func (s bitset) set(b uint64)       { s[b/64] |= 1 << (b % 64) }
func (s bitset) clear(b uint64)     { s[b/64] &^= 1 << (b % 64) }

// nextClear returns the first clear bit in [from, limit), or limit.
func (s bitset) nextClear(from, limit uint64) uint64 {
	for from < limit {
		w := ^s[from/64] >> (from % 64)
		if w != 0 {
			return min(from+uint64(bits.TrailingZeros64(w)), limit)
		}
		from = (from/64 + 1) * 64
	}
	return limit
}

// nextSet returns the first set bit in [from, limit), or limit.
func (s bitset) nextSet(from, limit uint64) uint64 {
	for from < limit {
		w := s[from/64] >> (from % 64)
		if w != 0 {
			return min(from+uint64(bits.TrailingZeros64(w)), limit)
		}
		from = (from/64 + 1) * 64
	}
	return limit
}

// count returns the number of set bits in [from, limit).
func (s bitset) count(from, limit uint64) uint64 {
	var n uint64
	for b := from; b < limit; {
		if b%64 == 0 && limit-b >= 64 {
			n += uint64(bits.OnesCount64(s[b/64]))
			b += 64
			continue
		}
		if s.test(b) {
			n++
		}
		b++
	}
	return n
}

// tracked is a bitset that also keeps a summary bit per word it has
// set a bit in, so that clearing it costs a pass over the summary (one
// bit per 64 blocks) rather than over the whole device. fresh and
// pending are tracked: every commit clears them.
type tracked struct {
	bitset
	summary bitset
}

func newTracked(words int) tracked {
	return tracked{bitset: make(bitset, words), summary: make(bitset, (words+63)/64)}
}

func (t *tracked) set(b uint64) {
	t.bitset.set(b)
	t.summary.set(b / 64)
}

// reset clears every bit.
func (t *tracked) reset() {
	for i, s := range t.summary {
		for s != 0 {
			t.bitset[i*64+bits.TrailingZeros64(s)] = 0
			s &= s - 1
		}
		t.summary[i] = 0
	}
}
