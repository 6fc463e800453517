package frame

import (
	"errors"
	"math/bits"
)

// PageSize is the size of one frame in bytes.
const PageSize = 4096

const (
	pageShift = 12
	pageMask  = PageSize - 1

	// MaxFrames is the largest nframes Init accepts: the frame number of
	// every managed frame times PageSize must fit in a uint64.
	MaxFrames = uint64(1) << (64 - pageShift)
)

// Errors. They are allocated once at package initialisation so that
// returning them never allocates.
var (
	// ErrInvalid reports a malformed argument: nframes of 0 or above
	// MaxFrames, end < base, a count of 0, an alignment that is not a
	// power of two, or the address 0 (which means "no frame").
	ErrInvalid = errors.New("frame: invalid argument")
	// ErrBitmapTooSmall reports that Init's bitmap has fewer than
	// WordsFor(nframes) words.
	ErrBitmapTooSmall = errors.New("frame: bitmap too small")
	// ErrUnaligned reports a physical address that is not a multiple of
	// PageSize.
	ErrUnaligned = errors.New("frame: address not page aligned")
	// ErrOutOfRange reports a frame at or beyond nframes.
	ErrOutOfRange = errors.New("frame: address beyond managed memory")
	// ErrDoubleFree reports freeing a frame that is already free.
	ErrDoubleFree = errors.New("frame: double free")
	// ErrNotAllocated reports freeing more frames than are allocated:
	// the frame is used but cannot have come from Alloc.
	ErrNotAllocated = errors.New("frame: freeing a frame that was not allocated")
	// ErrNoMemory reports that no free frame (or run of frames) exists.
	ErrNoMemory = errors.New("frame: out of memory")
)

// Allocator is a bitmap allocator of physical frames. The zero value
// manages no frames; every allocation from it fails with ErrNoMemory.
// It must not be copied after Init: a copy shares the bitmap but not the
// counters.
type Allocator struct {
	bits      []uint64 // caller's storage, exactly WordsFor(nframes) words
	nframes   uint64
	free      uint64 // zero bits in bits
	allocated uint64 // frames handed out and not yet freed
	highWater uint64 // largest value allocated has had
	hint      uint64 // every word below this index is all ones
}

// Stats is a snapshot of the allocator's counters, in frames.
type Stats struct {
	Frames    uint64 // nframes: the size of the managed frame-number space
	Managed   uint64 // frames in the pool: Free + Allocated
	Free      uint64 // frames available to Alloc
	Allocated uint64 // frames handed out and not yet freed
	HighWater uint64 // the most frames ever allocated at once
}

// WordsFor returns the number of uint64 words the bitmap for nframes
// frames needs.
func WordsFor(nframes uint64) uint64 {
	w := nframes / 64
	if nframes%64 != 0 {
		w++
	}
	return w
}

// Init makes a manage frames [0, nframes) using bitmap, which must have at
// least WordsFor(nframes) words; only that many are used. Every frame
// starts out used: memory becomes allocatable only through AddFree. On
// error a is left unchanged.
func (a *Allocator) Init(bitmap []uint64, nframes uint64) error {
	if nframes == 0 || nframes > MaxFrames {
		return ErrInvalid
	}
	nw := WordsFor(nframes)
	if uint64(len(bitmap)) < nw {
		return ErrBitmapTooSmall
	}
	b := bitmap[:nw]
	// All ones also sets the padding bits past nframes, which must stay
	// set forever (see the package invariants).
	for i := range b {
		b[i] = ^uint64(0)
	}
	*a = Allocator{bits: b, nframes: nframes}
	return nil
}

// AddFree marks the frames lying wholly inside the physical byte range
// [base, end) free; partial frames at either end are left alone (the
// range is rounded inward). Frames already free stay free, and frame 0 is
// never freed. It reports ErrOutOfRange, changing nothing, if a whole
// frame of the range lies at or beyond nframes.
func (a *Allocator) AddFree(base, end uint64) error {
	if end < base {
		return ErrInvalid
	}
	lo := base >> pageShift
	if base&pageMask != 0 {
		lo++
	}
	hi := end >> pageShift
	if lo >= hi {
		return nil
	}
	if hi > a.nframes {
		return ErrOutOfRange
	}
	if lo == 0 {
		lo = 1
	}
	c := a.countSet(lo, hi)
	a.clearRange(lo, hi)
	a.free += c
	if w := lo >> 6; w < a.hint {
		a.hint = w
	}
	return nil
}

// Reserve marks every frame that overlaps the physical byte range
// [base, end) used (the range is rounded outward), removing free ones
// from the pool. Frames beyond nframes are never handed out anyway, so
// the part of the range past them is ignored rather than refused. A
// reserved frame that is currently allocated stays counted as allocated.
func (a *Allocator) Reserve(base, end uint64) error {
	if end < base {
		return ErrInvalid
	}
	lo := base >> pageShift
	hi := end >> pageShift
	if end&pageMask != 0 {
		hi++
	}
	if hi > a.nframes {
		hi = a.nframes
	}
	if lo >= hi {
		return nil
	}
	taken := (hi - lo) - a.countSet(lo, hi)
	a.setRange(lo, hi)
	a.free -= taken
	return nil
}

// Alloc returns the physical address of the lowest free frame and marks
// it used. It never returns 0.
func (a *Allocator) Alloc() (pa uint64, err error) {
	if a.free == 0 {
		return 0, ErrNoMemory
	}
	for i := a.hint; i < uint64(len(a.bits)); i++ {
		w := a.bits[i]
		if w == ^uint64(0) {
			continue
		}
		b := uint64(bits.TrailingZeros64(^w))
		a.bits[i] = w | 1<<b
		a.hint = i
		a.free--
		a.noteAlloc(1)
		return (i<<6 + b) << pageShift, nil
	}
	// Only reachable if the bitmap and the free counter disagree, which
	// Check would report; failing is safer than guessing.
	return 0, ErrNoMemory
}

// AllocContig returns the physical address of the lowest run of n free
// frames whose first frame number is a multiple of alignFrames (a power
// of two; 1 means unaligned) and marks the run used. For a 2 MiB page
// use AllocContig(512, 512).
func (a *Allocator) AllocContig(n, alignFrames uint64) (pa uint64, err error) {
	if n == 0 || alignFrames == 0 || alignFrames&(alignFrames-1) != 0 {
		return 0, ErrInvalid
	}
	if n > a.free {
		return 0, ErrNoMemory
	}
	// Words below the hint are full, and frame 0 is never a candidate.
	start := a.hint << 6
	if start == 0 {
		start = 1
	}
	for {
		s := (start + alignFrames - 1) &^ (alignFrames - 1)
		if s < start || s >= a.nframes || n > a.nframes-s {
			return 0, ErrNoMemory // includes overflow of the round-up
		}
		u, found := a.firstSet(s, s+n)
		if !found {
			a.setRange(s, s+n)
			a.free -= n
			a.noteAlloc(n)
			return s << pageShift, nil
		}
		// Every candidate up to u overlaps u; skip the used run after it.
		c, ok := a.firstClear(u+1, a.nframes)
		if !ok {
			return 0, ErrNoMemory
		}
		start = c
	}
}

// noteAlloc records that n more frames are allocated.
func (a *Allocator) noteAlloc(n uint64) {
	a.allocated += n
	if a.allocated > a.highWater {
		a.highWater = a.allocated
	}
}

// Free returns the frame at physical address pa to the pool.
func (a *Allocator) Free(pa uint64) error {
	return a.FreeContig(pa, 1)
}

// FreeContig returns the n frames starting at physical address pa to the
// pool. Either all n are freed or, on error, none.
func (a *Allocator) FreeContig(pa, n uint64) error {
	if n == 0 || pa == 0 {
		return ErrInvalid
	}
	if pa&pageMask != 0 {
		return ErrUnaligned
	}
	f := pa >> pageShift
	if f >= a.nframes || n > a.nframes-f {
		return ErrOutOfRange
	}
	if a.countSet(f, f+n) != n {
		return ErrDoubleFree
	}
	if n > a.allocated {
		return ErrNotAllocated
	}
	a.clearRange(f, f+n)
	a.free += n
	a.allocated -= n
	if w := f >> 6; w < a.hint {
		a.hint = w
	}
	return nil
}

// FreeCount returns the number of free frames.
func (a *Allocator) FreeCount() uint64 { return a.free }

// Stats returns a snapshot of the counters.
func (a *Allocator) Stats() Stats {
	return Stats{
		Frames:    a.nframes,
		Managed:   a.free + a.allocated,
		Free:      a.free,
		Allocated: a.allocated,
		HighWater: a.highWater,
	}
}
