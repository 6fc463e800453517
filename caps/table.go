package caps

import (
	"math"

	"valence.dev/ipc"
)

// Table is one process's handle table. Its methods are in ops.go; this
// file holds the slot array and the handle encoding. All fields are
// guarded by sys.mu.
type Table struct {
	sys   *System // immutable
	limit int     // immutable: the most capabilities the table may hold

	slots []slot   // slot i+1 is slots[i]; never shrinks while alive
	free  []uint32 // indices (1-based) of free, unretired slots: a stack
	live  int      // slots holding a capability
	dead  bool     // Destroy was called
}

// slot is one entry of a table. While it holds a capability, gen is that
// capability's generation; while it is free, gen is the generation the
// next capability placed in it will get.
type slot struct {
	node    *node
	gen     uint32
	retired bool // freed at the last generation: never used again
}

// maxSlots is the number of distinct slot indices a handle can carry:
// 1 to 2^32-1 (index 0 would make handle 0 possible).
const maxSlots = math.MaxUint32

// makeHandle encodes a slot index and generation as a handle value.
func makeHandle(index, gen uint32) ipc.Handle {
	return ipc.Handle(uint64(gen)<<32 | uint64(index))
}

// splitHandle is the inverse of makeHandle.
func splitHandle(h ipc.Handle) (index, gen uint32) {
	return uint32(h), uint32(h >> 32)
}

// resolve finds the live capability h names, or says why there is none.
// A value whose slot holds a capability of a later generation is stale;
// every other miss (zero, out of range, a free or retired slot, a
// generation not yet issued) is a bad handle.
func (t *Table) resolve(h ipc.Handle) (*node, error) {
	index, gen := splitHandle(h)
	if index == 0 || uint64(index) > uint64(len(t.slots)) {
		return nil, ErrBadHandle
	}
	s := &t.slots[index-1]
	switch {
	case s.node == nil:
		return nil, ErrBadHandle
	case gen == s.gen:
		return s.node, nil
	case gen < s.gen:
		return nil, ErrStale
	default:
		return nil, ErrBadHandle
	}
}

// room reports whether n more capabilities fit after release of the
// table's current ones are freed (a Move within one table frees one). It
// checks the limit and the supply of slot indices; for the supply it
// does not count on released slots, which may retire instead.
func (t *Table) room(n, release int) bool {
	if t.live-release+n > t.limit {
		return false
	}
	return uint64(len(t.free))+(maxSlots-uint64(len(t.slots))) >= uint64(n)
}

// place puts n into a free slot and returns its handle. The caller has
// checked room; running out here is a bug in a decode step.
func (t *Table) place(n *node) ipc.Handle {
	var index uint32
	if k := len(t.free); k > 0 {
		index = t.free[k-1]
		t.free = t.free[:k-1]
	} else {
		if uint64(len(t.slots)) >= maxSlots {
			panic("caps: place without room: decode step missed a check")
		}
		t.slots = append(t.slots, slot{})
		index = uint32(len(t.slots))
	}
	s := &t.slots[index-1]
	s.node = n
	n.table, n.index = t, index
	t.live++
	return makeHandle(index, s.gen)
}

// release empties n's slot: the generation advances so that the old
// handle value goes stale, and the slot is retired instead if the
// generation would wrap.
func (t *Table) release(n *node) {
	s := &t.slots[n.index-1]
	s.node = nil
	if s.gen == math.MaxUint32 {
		s.retired = true
	} else {
		s.gen++
		t.free = append(t.free, n.index)
	}
	n.table, n.index = nil, 0
	t.live--
}

// handleOf returns the handle that names n in its table.
func handleOf(n *node) ipc.Handle {
	return makeHandle(n.index, n.table.slots[n.index-1].gen)
}
