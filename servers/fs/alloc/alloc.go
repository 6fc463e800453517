package alloc

import (
	"errors"
	"fmt"
)

// ErrNoSpace reports that no free block is left. Some may become free at
// the next commit (see Pending).
var ErrNoSpace = errors.New("alloc: no free blocks")

// ErrCorrupt reports a request that contradicts the bitmap, such as
// freeing a block that is already free. It means the tree and the bitmap
// disagree: the image is damaged.
var ErrCorrupt = errors.New("alloc: bitmap inconsistent with request")

// Allocator is the free-space map of one mounted filesystem. See the
// package documentation for the meaning of its bitmaps. It is not safe
// for concurrent use; the filesystem serialises all calls.
type Allocator struct {
	layout  Layout
	used    bitset
	fresh   tracked
	pending tracked

	nused, nfresh, npending uint64 // bits set below layout.Blocks

	// dirty[c][i] says bitmap block i of copy c differs from what the
	// next commit that writes copy c must store.
	dirty [2][]bool
	next  uint64 // where Alloc without a hint starts looking
}

// New returns the allocator of an empty filesystem: everything outside
// the fixed area is free, and both copies must be written in full.
func New(l Layout) *Allocator {
	a := newAllocator(l)
	for b := uint64(0); b < l.DataStart(); b++ {
		a.used.set(b)
	}
	a.nused = l.DataStart()
	a.markAllDirty(0)
	a.markAllDirty(1)
	return a
}

func newAllocator(l Layout) *Allocator {
	a := &Allocator{
		layout:  l,
		used:    make(bitset, l.words()),
		fresh:   newTracked(l.words()),
		pending: newTracked(l.words()),
		next:    l.DataStart(),
	}
	for b := l.Blocks; b < uint64(l.words())*64; b++ {
		a.used.set(b) // padding: never allocated
	}
	a.dirty[0] = make([]bool, l.BitmapBlocks)
	a.dirty[1] = make([]bool, l.BitmapBlocks)
	return a
}

func (a *Allocator) markAllDirty(c int) {
	for i := range a.dirty[c] {
		a.dirty[c][i] = true
	}
}

func (a *Allocator) markDirty(b uint64) {
	a.dirty[0][b/BitsPerBlock] = true
	a.dirty[1][b/BitsPerBlock] = true
}

// Layout returns the layout the allocator manages.
func (a *Allocator) Layout() Layout { return a.layout }

// Free is the number of blocks Alloc can hand out now.
func (a *Allocator) Free() uint64 { return a.layout.Blocks - a.nused }

// Pending is the number of blocks that become free at the next commit.
func (a *Allocator) Pending() uint64 { return a.npending }

// Used is the number of blocks the next commit's tree and fixed area
// occupy: what its bitmap will mark as in use.
func (a *Allocator) Used() uint64 { return a.nused - a.npending }

// Alloc hands out a run of consecutive free blocks, at least one and at
// most max, starting at the first free block at or after hint (wrapping
// around). A hint outside the data area means "no preference". The blocks
// are fresh until the next commit.
func (a *Allocator) Alloc(hint, max uint64) (start, n uint64, err error) {
	if max == 0 {
		return 0, 0, fmt.Errorf("alloc: zero-length allocation: %w", ErrCorrupt)
	}
	if a.Free() == 0 {
		return 0, 0, ErrNoSpace
	}
	l := a.layout
	hinted := hint >= l.DataStart() && hint < l.Blocks
	if !hinted {
		hint = a.next
	}
	start = a.used.nextClear(hint, l.Blocks)
	if start == l.Blocks {
		start = a.used.nextClear(l.DataStart(), hint)
	}
	end := a.used.nextSet(start, min(l.Blocks, start+max))
	for b := start; b < end; b++ {
		a.used.set(b)
		a.fresh.set(b)
		a.markDirty(b)
	}
	n = end - start
	a.nused += n
	a.nfresh += n
	if !hinted {
		a.next = end
	}
	return start, n, nil
}

// check refuses a run that is empty, outside the data area, or not
// entirely in use.
func (a *Allocator) check(start, n uint64) error {
	l := a.layout
	if n == 0 || start < l.DataStart() || start >= l.Blocks || n > l.Blocks-start {
		return fmt.Errorf("alloc: blocks %d+%d outside the data area: %w", start, n, ErrCorrupt)
	}
	if b := a.used.nextClear(start, start+n); b < start+n {
		return fmt.Errorf("alloc: block %d is already free: %w", b, ErrCorrupt)
	}
	if b := a.pending.nextSet(start, start+n); b < start+n {
		return fmt.Errorf("alloc: block %d freed twice: %w", b, ErrCorrupt)
	}
	return nil
}

// Release returns a run of blocks. Fresh blocks are free at once; the
// others stay in use until the next commit, because the durable tree
// may still refer to them. Nothing changes if the run is not entirely in
// use.
func (a *Allocator) Release(start, n uint64) error {
	if err := a.check(start, n); err != nil {
		return err
	}
	for b := start; b < start+n; b++ {
		a.markDirty(b)
		if a.fresh.test(b) {
			a.fresh.clear(b)
			a.used.clear(b)
			a.nfresh--
			a.nused--
			continue
		}
		a.pending.set(b)
		a.npending++
	}
	return nil
}

// FreshRun reports whether block start is fresh and how many blocks from
// start (at most n) share that answer. Callers split a file's extents
// into parts they may overwrite in place (fresh) and parts they must
// copy.
func (a *Allocator) FreshRun(start, n uint64) (fresh bool, run uint64) {
	if start >= a.layout.Blocks {
		return false, n
	}
	end := min(a.layout.Blocks, start+n)
	if a.fresh.test(start) {
		return true, a.fresh.nextClear(start, end) - start
	}
	return false, a.fresh.nextSet(start, end) - start
}

// Committed is called once a commit is durable: pending blocks become
// free and fresh blocks become part of the committed tree.
func (a *Allocator) Committed() {
	for i, s := range a.pending.summary {
		for s != 0 {
			w := i*64 + trailingZeros(s)
			a.used[w] &^= a.pending.bitset[w]
			s &= s - 1
		}
	}
	a.nused -= a.npending
	a.npending = 0
	a.pending.reset()
	a.fresh.reset()
	a.nfresh = 0
}
