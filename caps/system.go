package caps

import (
	"fmt"
	"reflect"
	"sync"

	"valence.dev/ipc"
)

// Object is a kernel object a capability refers to. caps never looks
// inside it and compares objects with ==, so it must be comparable and is
// normally a pointer to a kernel structure.
type Object any

// Cap is what a handle resolves to.
type Cap struct {
	Object Object
	Rights ipc.Rights
	Badge  uint64
}

// System is the set of all handle tables of one kernel, with the
// derivation tree that links capabilities across them.
type System struct {
	mu      sync.Mutex             // guards everything below, every Table and every node
	tables  map[*Table]struct{}    // live tables
	holders map[Object]*holderList // objects with at least one capability
}

// holderList links every capability to one object, in no particular order.
type holderList struct {
	first *node
	count int
}

// node is one capability. obj, rights and badge never change; the rest is
// guarded by System.mu.
type node struct {
	obj    Object
	rights ipc.Rights
	badge  uint64

	table *Table // holding table and 1-based slot index; nil, 0 once removed
	index uint32

	// Derivation tree: parent (nil for a root) and a doubly linked list of
	// children.
	parent, firstChild, prevSib, nextSib *node

	// The object's holder list, doubly linked.
	prevHolder, nextHolder *node
}

// NewSystem returns an empty System.
func NewSystem() *System {
	return &System{
		tables:  make(map[*Table]struct{}),
		holders: make(map[Object]*holderList),
	}
}

// NewTable returns an empty handle table that can hold up to limit
// capabilities at once. A limit beyond the 2^32-1 slot indices a handle
// can carry is lowered to that. It panics if limit is negative.
func (s *System) NewTable(limit int) *Table {
	if limit < 0 {
		panic(fmt.Sprintf("caps: NewTable with negative limit %d", limit))
	}
	if uint64(limit) > maxSlots {
		limit = maxSlots
	}
	t := &Table{sys: s, limit: limit}
	s.mu.Lock()
	s.tables[t] = struct{}{}
	s.mu.Unlock()
	return t
}

// Holders returns how many capabilities to obj exist, in all tables.
func (s *System) Holders(obj Object) int {
	if !comparable(obj) {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if l := s.holders[obj]; l != nil {
		return l.count
	}
	return 0
}

// RevokeObject removes every capability to obj, in every table, and
// returns how many it removed. It is the kernel's own teardown of an
// object (a memory object being destroyed, an endpoint whose server
// died) and needs no capability.
func (s *System) RevokeObject(obj Object) int {
	if !comparable(obj) {
		return 0
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.holders[obj]
	if l == nil {
		return 0
	}
	// Every tree of the forest names one object, so the holder list is
	// a union of whole trees: unlinking each node from its parent and
	// children is not needed, only forgetting the links.
	removed := 0
	for n := l.first; n != nil; {
		next := n.nextHolder
		n.table.release(n)
		n.clear()
		removed++
		n = next
	}
	delete(s.holders, obj)
	return removed
}

// comparable reports whether obj can be a map key and be compared with ==
// without panicking.
func comparable(obj Object) bool {
	return obj != nil && reflect.ValueOf(obj).Comparable()
}

// addHolder links n into its object's holder list.
func (s *System) addHolder(n *node) {
	l := s.holders[n.obj]
	if l == nil {
		l = &holderList{}
		s.holders[n.obj] = l
	}
	n.nextHolder = l.first
	if l.first != nil {
		l.first.prevHolder = n
	}
	l.first = n
	l.count++
}

// dropHolder unlinks n from its object's holder list and reports whether
// it was the object's last capability.
func (s *System) dropHolder(n *node) (last bool) {
	l := s.holders[n.obj]
	if n.prevHolder != nil {
		n.prevHolder.nextHolder = n.nextHolder
	} else {
		l.first = n.nextHolder
	}
	if n.nextHolder != nil {
		n.nextHolder.prevHolder = n.prevHolder
	}
	n.prevHolder, n.nextHolder = nil, nil
	l.count--
	if l.count == 0 {
		delete(s.holders, n.obj)
		return true
	}
	return false
}
