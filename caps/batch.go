package caps

import (
	"slices"

	"valence.dev/ipc"
)

// Batch operations: several handles checked and then acted on under one
// lock, so that a message's handles travel all together or not at all,
// whatever other threads of the sender do meanwhile. Checking them one
// call at a time and then acting in further calls would let another
// thread close one in between and leave the batch half done.

// MoveAll moves the capabilities of every handle in hs to dst, as Move
// does for one, and returns their new handles there, in order. Each needs
// ipc.RightGrant, and no capability may be named twice (ErrDuplicate).
// Either every capability moves or, on any error, none does and nothing
// changes. The checks run in the order doc.go gives, handle by handle for
// the per-handle ones (a handle's own checks, ErrBadHandle or ErrStale,
// ErrRights, then ErrDuplicate against the earlier ones), with dst's room
// for the whole batch last; the error names the handle that failed (the
// first one for ErrForeign, ErrDead and ErrFull). An empty hs checks the
// tables and moves nothing. dst may be t, which renames them all.
func (t *Table) MoveAll(hs []ipc.Handle, dst *Table) ([]ipc.Handle, error) {
	s := t.sys
	s.mu.Lock()
	defer s.mu.Unlock()
	ns, bad, err := t.decodeMoveAll(hs, dst)
	if err != nil {
		return nil, fail("move", bad, err)
	}
	// Invoke: release every slot first, then place, so that a move within
	// one table never needs more than the room decode found.
	for _, n := range ns {
		t.release(n)
	}
	out := make([]ipc.Handle, len(ns))
	for i, n := range ns {
		out[i] = dst.place(n)
	}
	return out, nil
}

// GrantAll derives, into dst, a child of every handle's capability in hs
// with the source's rights and badge, as Grant does for one, and returns
// the new handles in order. Each needs ipc.RightGrant; a handle may appear
// more than once (each occurrence makes a child). Either every child is
// made or, on any error, none is. The kernel uses it to give a new process
// its handles.
func (t *Table) GrantAll(hs []ipc.Handle, dst *Table) ([]ipc.Handle, error) {
	s := t.sys
	s.mu.Lock()
	defer s.mu.Unlock()
	first := firstOf(hs)
	if err := t.decodeDest(dst); err != nil {
		return nil, fail("grant", first, err)
	}
	ds := make([]derivation, len(hs))
	for i, h := range hs {
		p, err := t.decode(h, ipc.RightGrant)
		if err != nil {
			return nil, fail("grant", h, err)
		}
		ds[i] = derivation{parent: p, dst: dst, rights: p.rights, badge: p.badge}
	}
	if !dst.room(len(hs), 0) {
		return nil, fail("grant", first, ErrFull)
	}
	out := make([]ipc.Handle, len(ds))
	for i, d := range ds {
		out[i] = s.derive(d)
	}
	return out, nil
}

// decodeMoveAll checks a request to move every capability of hs into
// dst and returns their nodes, or the failing handle and why.
func (t *Table) decodeMoveAll(hs []ipc.Handle, dst *Table) ([]*node, ipc.Handle, error) {
	first := firstOf(hs)
	if err := t.decodeDest(dst); err != nil {
		return nil, first, err
	}
	ns := make([]*node, len(hs))
	for i, h := range hs {
		n, err := t.decode(h, ipc.RightGrant)
		if err != nil {
			return nil, h, err
		}
		if slices.Contains(ns[:i], n) { // batches are short: a message's 4 handles
			return nil, h, ErrDuplicate
		}
		ns[i] = n
	}
	release := 0
	if dst == t {
		release = len(ns)
	}
	if !dst.room(len(ns), release) {
		return nil, first, ErrFull
	}
	return ns, 0, nil
}

// firstOf is the handle a batch's errors name when no one handle is at
// fault.
func firstOf(hs []ipc.Handle) ipc.Handle {
	if len(hs) == 0 {
		return 0
	}
	return hs[0]
}
