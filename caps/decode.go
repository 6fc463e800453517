package caps

import "valence.dev/ipc"

// Decode steps: they check a request against the current state, in the
// order doc.go gives, and change nothing. Each returns what the matching
// invoke step needs, or the sentinel error of the first check that failed.

// decode resolves h in t and checks that its capability has every right
// in need.
func (t *Table) decode(h ipc.Handle, need ipc.Rights) (*node, error) {
	if t.dead {
		return nil, ErrDead
	}
	n, err := t.resolve(h)
	if err != nil {
		return nil, err
	}
	if need&^n.rights != 0 {
		return nil, ErrRights
	}
	return n, nil
}

// decodeDest checks that dst is a live table of t's System.
func (t *Table) decodeDest(dst *Table) error {
	switch {
	case dst == nil || dst.sys != t.sys:
		return ErrForeign
	case t.dead || dst.dead:
		return ErrDead
	}
	return nil
}

// derivation is a checked request to derive a child capability.
type derivation struct {
	parent *node
	dst    *Table
	rights ipc.Rights
	badge  uint64
}

// decodeDerive checks a request to derive, into dst, a child of h's
// capability with the given rights and badge (0: the parent's), where the
// source capability must hold need.
func (t *Table) decodeDerive(h ipc.Handle, need ipc.Rights, dst *Table, rights ipc.Rights, badge uint64) (derivation, error) {
	if err := t.decodeDest(dst); err != nil {
		return derivation{}, err
	}
	p, err := t.decode(h, need)
	if err != nil {
		return derivation{}, err
	}
	if rights&^p.rights != 0 {
		return derivation{}, ErrAttenuate
	}
	badge, ok := childBadge(p.badge, badge)
	if !ok {
		return derivation{}, ErrAttenuate
	}
	if !dst.room(1, 0) {
		return derivation{}, ErrFull
	}
	return derivation{parent: p, dst: dst, rights: rights, badge: badge}, nil
}

// childBadge applies the minting rule: asking for 0 keeps the parent's
// badge; an unbadged parent may mint any badge; a badged parent's child
// must keep its badge.
func childBadge(parent, asked uint64) (uint64, bool) {
	switch {
	case asked == 0 || asked == parent:
		return parent, true
	case parent == 0:
		return asked, true
	default:
		return 0, false
	}
}

// derive is the invoke step of Duplicate and Grant.
func (s *System) derive(d derivation) ipc.Handle {
	p := d.parent
	n := &node{obj: p.obj, rights: d.rights, badge: d.badge}
	adopt(p, n)
	s.addHolder(n)
	return d.dst.place(n)
}

// decodeMove checks a request to move h's capability into dst.
func (t *Table) decodeMove(h ipc.Handle, dst *Table) (*node, error) {
	if err := t.decodeDest(dst); err != nil {
		return nil, err
	}
	n, err := t.decode(h, ipc.RightGrant)
	if err != nil {
		return nil, err
	}
	release := 0
	if dst == t {
		release = 1
	}
	if !dst.room(1, release) {
		return nil, ErrFull
	}
	return n, nil
}
