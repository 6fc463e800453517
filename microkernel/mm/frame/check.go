package frame

import (
	"errors"
	"math/bits"
)

// Errors reported by Check, one per invariant so a failure names the rule
// that broke.
var (
	ErrCheckBitmap    = errors.New("frame: check: bitmap length does not match nframes")
	ErrCheckFrameZero = errors.New("frame: check: frame 0 is free")
	ErrCheckPadding   = errors.New("frame: check: padding bits past nframes are clear")
	ErrCheckFree      = errors.New("frame: check: free counter does not match bitmap")
	ErrCheckHint      = errors.New("frame: check: search hint past a free frame or the bitmap")
	ErrCheckAllocated = errors.New("frame: check: more frames allocated than used")
	ErrCheckHighWater = errors.New("frame: check: high-water mark below allocated")
)

// Check verifies the invariants listed in the package documentation and
// returns the first violation found, or nil. It reads the whole bitmap.
func (a *Allocator) Check() error {
	nw := uint64(len(a.bits))
	if nw != WordsFor(a.nframes) {
		return ErrCheckBitmap
	}
	if a.nframes == 0 {
		if a.free != 0 || a.allocated != 0 {
			return ErrCheckFree
		}
		return nil
	}
	if a.bits[0]&1 == 0 {
		return ErrCheckFrameZero
	}
	if tail := a.nframes & 63; tail != 0 {
		pad := ^uint64(0) << tail
		if a.bits[nw-1]&pad != pad {
			return ErrCheckPadding
		}
	}
	if a.hint > nw {
		return ErrCheckHint
	}
	var used uint64
	for i := uint64(0); i < nw; i++ {
		w := a.bits[i]
		if i < a.hint && w != ^uint64(0) {
			return ErrCheckHint
		}
		used += uint64(bits.OnesCount64(w))
	}
	used -= nw*64 - a.nframes // the padding bits are not frames
	if a.free != a.nframes-used {
		return ErrCheckFree
	}
	if a.allocated > used-1 { // used >= 1: frame 0 is used
		return ErrCheckAllocated
	}
	if a.highWater < a.allocated {
		return ErrCheckHighWater
	}
	return nil
}
