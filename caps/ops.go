package caps

import "valence.dev/ipc"

// The operations on a table. Each exported method locks the System, runs a
// decode step that checks everything and changes nothing, and then an
// invoke step that cannot fail (see "Decode, then invoke" in doc.go).

// Insert places a new root capability to obj (one with no parent) in t and
// returns its handle. The kernel calls it when it creates an object. obj
// must be non-nil and comparable (ErrBadObject); rights must be a subset
// of ipc.RightsAll (ErrAttenuate); a badge of 0 means unbadged.
func (t *Table) Insert(obj Object, rights ipc.Rights, badge uint64) (ipc.Handle, error) {
	s := t.sys
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case t.dead:
		return 0, fail("insert", 0, ErrDead)
	case !comparable(obj):
		return 0, fail("insert", 0, ErrBadObject)
	case rights&^ipc.RightsAll != 0:
		return 0, fail("insert", 0, ErrAttenuate)
	case !t.room(1, 0):
		return 0, fail("insert", 0, ErrFull)
	}
	n := &node{obj: obj, rights: rights, badge: badge}
	s.addHolder(n)
	return t.place(n), nil
}

// Lookup resolves h and checks that its capability has every right in
// need. It is the check every system call that takes a handle makes.
func (t *Table) Lookup(h ipc.Handle, need ipc.Rights) (Cap, error) {
	s := t.sys
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := t.decode(h, need)
	if err != nil {
		return Cap{}, fail("lookup", h, err)
	}
	return n.cap(), nil
}

// Info resolves h, whatever its rights.
func (t *Table) Info(h ipc.Handle) (Cap, error) {
	s := t.sys
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := t.decode(h, 0)
	if err != nil {
		return Cap{}, fail("info", h, err)
	}
	return n.cap(), nil
}

// Duplicate derives a child of h's capability in t and returns its handle.
// It needs ipc.RightDuplicate. The child gets exactly rights, which must
// be a subset of the source's (ErrAttenuate). A badge of 0 keeps the
// source's badge; any other badge is minted into the child if the source
// is unbadged, and must equal the source's badge otherwise (ErrAttenuate).
func (t *Table) Duplicate(h ipc.Handle, rights ipc.Rights, badge uint64) (ipc.Handle, error) {
	s := t.sys
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := t.decodeDerive(h, ipc.RightDuplicate, t, rights, badge)
	if err != nil {
		return 0, fail("duplicate", h, err)
	}
	return s.derive(d), nil
}

// Grant derives a child of h's capability, with exactly rights (a subset
// of the source's) and the same badge, into dst, and returns the handle
// that names it there. It needs ipc.RightGrant. The kernel uses it when a
// handle travels in a message and the sender keeps its own.
func (t *Table) Grant(h ipc.Handle, dst *Table, rights ipc.Rights) (ipc.Handle, error) {
	s := t.sys
	s.mu.Lock()
	defer s.mu.Unlock()
	d, err := t.decodeDerive(h, ipc.RightGrant, dst, rights, 0)
	if err != nil {
		return 0, fail("grant", h, err)
	}
	return s.derive(d), nil
}

// Move transfers h's capability itself to dst and returns its new handle
// there; h stops naming it. The capability keeps its rights, badge,
// parent and children, so revocation reaches it as before. It needs
// ipc.RightGrant. dst may be t, which renames the capability.
func (t *Table) Move(h ipc.Handle, dst *Table) (ipc.Handle, error) {
	s := t.sys
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := t.decodeMove(h, dst)
	if err != nil {
		return 0, fail("move", h, err)
	}
	t.release(n)
	return dst.place(n), nil
}

// Close removes h's capability, and that capability only: its children
// are re-parented to its parent (or become roots), so a revoke of any
// ancestor still reaches them. It needs no right. If it was the last
// capability to its object, Close returns the object, so that the kernel
// can free it; otherwise it returns nil.
func (t *Table) Close(h ipc.Handle) (orphan Object, err error) {
	s := t.sys
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := t.decode(h, 0)
	if err != nil {
		return nil, fail("close", h, err)
	}
	obj := n.obj
	if s.removeCap(n) {
		return obj, nil
	}
	return nil, nil
}

// Revoke removes every capability derived from h's, directly or not, in
// every table, and returns how many it removed. h's own capability stays.
// It needs ipc.RightManage. Revoke never removes an object's last
// capability, since h's capability names the same object.
func (t *Table) Revoke(h ipc.Handle) (int, error) {
	s := t.sys
	s.mu.Lock()
	defer s.mu.Unlock()
	n, err := t.decode(h, ipc.RightManage)
	if err != nil {
		return 0, fail("revoke", h, err)
	}
	return s.removeDescendants(n), nil
}

// Destroy removes all of t's capabilities, as if each were closed (their
// children elsewhere are re-parented, not revoked), and marks t dead: every
// later call on t, or granting or moving into t, fails with ErrDead. It
// returns the objects that no longer have a capability anywhere, in slot
// order, for the kernel to free. Destroying a dead table returns nil.
func (t *Table) Destroy() []Object {
	s := t.sys
	s.mu.Lock()
	defer s.mu.Unlock()
	if t.dead {
		return nil
	}
	var orphans []Object
	for i := range t.slots {
		if n := t.slots[i].node; n != nil {
			obj := n.obj
			if s.removeCap(n) {
				orphans = append(orphans, obj)
			}
		}
	}
	t.dead = true
	t.slots, t.free = nil, nil
	delete(s.tables, t)
	return orphans
}

// Len returns how many capabilities t holds.
func (t *Table) Len() int {
	t.sys.mu.Lock()
	defer t.sys.mu.Unlock()
	return t.live
}

// Limit returns the most capabilities t may hold at once.
func (t *Table) Limit() int { return t.limit }

func (n *node) cap() Cap { return Cap{Object: n.obj, Rights: n.rights, Badge: n.badge} }
