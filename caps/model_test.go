package caps_test

import (
	"slices"

	"valence.dev/caps"
	"valence.dev/ipc"
)

// model is a reference implementation of the caps semantics, written to
// be obviously right rather than fast: a flat list of live capabilities
// with parent pointers, every question answered by a scan. It does not
// choose handle values; it records the ones the System returns.
type model struct {
	caps   []*mcap // live capabilities
	limits [nTables]int
	dead   [nTables]bool
}

// mcap is one live capability of the model.
type mcap struct {
	table  int
	h      ipc.Handle
	obj    int
	rights ipc.Rights
	badge  uint64
	parent *mcap // nil for a root
}

const (
	nTables  = 3
	nObjects = 4
)

// resolve gives the capability h names in table ti, or the error the
// System must give: stale when the slot holds a later generation, else a
// bad handle.
func (m *model) resolve(ti int, h ipc.Handle) (*mcap, error) {
	var sameSlot *mcap
	for _, c := range m.caps {
		if c.table != ti {
			continue
		}
		if c.h == h {
			return c, nil
		}
		if uint32(c.h) == uint32(h) {
			sameSlot = c
		}
	}
	if sameSlot != nil && h>>32 < sameSlot.h>>32 {
		return nil, caps.ErrStale
	}
	return nil, caps.ErrBadHandle
}

// decode applies the checks every handle operation starts with.
func (m *model) decode(ti int, h ipc.Handle, need ipc.Rights) (*mcap, error) {
	if m.dead[ti] {
		return nil, caps.ErrDead
	}
	c, err := m.resolve(ti, h)
	if err != nil {
		return nil, err
	}
	if need&^c.rights != 0 {
		return nil, caps.ErrRights
	}
	return c, nil
}

func (m *model) count(ti int) int {
	n := 0
	for _, c := range m.caps {
		if c.table == ti {
			n++
		}
	}
	return n
}

func (m *model) holders(obj int) int {
	n := 0
	for _, c := range m.caps {
		if c.obj == obj {
			n++
		}
	}
	return n
}

// insertCheck predicts the error of Insert.
func (m *model) insertCheck(ti int, rights ipc.Rights) error {
	switch {
	case m.dead[ti]:
		return caps.ErrDead
	case rights&^ipc.RightsAll != 0:
		return caps.ErrAttenuate
	case m.count(ti) >= m.limits[ti]:
		return caps.ErrFull
	}
	return nil
}

// deriveCheck predicts Duplicate (need RightDuplicate, dst == ti) and
// Grant (need RightGrant, badge 0), returning the child's badge.
func (m *model) deriveCheck(ti int, h ipc.Handle, need ipc.Rights, dst int, rights ipc.Rights, badge uint64) (*mcap, uint64, error) {
	if m.dead[dst] {
		return nil, 0, caps.ErrDead
	}
	p, err := m.decode(ti, h, need)
	if err != nil {
		return nil, 0, err
	}
	if rights&^p.rights != 0 {
		return nil, 0, caps.ErrAttenuate
	}
	switch {
	case badge == 0:
		badge = p.badge
	case p.badge != 0 && badge != p.badge:
		return nil, 0, caps.ErrAttenuate
	}
	if m.count(dst) >= m.limits[dst] {
		return nil, 0, caps.ErrFull
	}
	return p, badge, nil
}

// moveCheck predicts Move.
func (m *model) moveCheck(ti int, h ipc.Handle, dst int) (*mcap, error) {
	if m.dead[ti] || m.dead[dst] {
		return nil, caps.ErrDead
	}
	c, err := m.decode(ti, h, ipc.RightGrant)
	if err != nil {
		return nil, err
	}
	if dst != ti && m.count(dst) >= m.limits[dst] {
		return nil, caps.ErrFull
	}
	return c, nil
}

// moveAllCheck predicts MoveAll: every handle checked in order (resolve,
// RightGrant, not named before), then the room for all of them.
func (m *model) moveAllCheck(ti int, hs []ipc.Handle, dst int) ([]*mcap, error) {
	if m.dead[ti] || m.dead[dst] {
		return nil, caps.ErrDead
	}
	var cs []*mcap
	for _, h := range hs {
		c, err := m.decode(ti, h, ipc.RightGrant)
		if err != nil {
			return nil, err
		}
		if slices.Contains(cs, c) {
			return nil, caps.ErrDuplicate
		}
		cs = append(cs, c)
	}
	if dst != ti && m.count(dst)+len(cs) > m.limits[dst] {
		return nil, caps.ErrFull
	}
	return cs, nil
}

// grantAllCheck predicts GrantAll, returning the parents in order.
func (m *model) grantAllCheck(ti int, hs []ipc.Handle, dst int) ([]*mcap, error) {
	if m.dead[ti] || m.dead[dst] {
		return nil, caps.ErrDead
	}
	var ps []*mcap
	for _, h := range hs {
		p, err := m.decode(ti, h, ipc.RightGrant)
		if err != nil {
			return nil, err
		}
		ps = append(ps, p)
	}
	if m.count(dst)+len(ps) > m.limits[dst] {
		return nil, caps.ErrFull
	}
	return ps, nil
}

// remove deletes c, re-parenting its children to its parent, and reports
// whether c was its object's last capability.
func (m *model) remove(c *mcap) (last bool) {
	for _, d := range m.caps {
		if d.parent == c {
			d.parent = c.parent
		}
	}
	m.caps = slices.DeleteFunc(m.caps, func(d *mcap) bool { return d == c })
	return m.holders(c.obj) == 0
}

// descends reports whether d is a proper descendant of c.
func descends(d, c *mcap) bool {
	for p := d.parent; p != nil; p = p.parent {
		if p == c {
			return true
		}
	}
	return false
}

// revoke deletes every descendant of c and returns how many.
func (m *model) revoke(c *mcap) int {
	before := len(m.caps)
	m.caps = slices.DeleteFunc(m.caps, func(d *mcap) bool { return descends(d, c) })
	return before - len(m.caps)
}

// destroy deletes table ti's capabilities in slot order, returning the
// objects orphaned, in that order.
func (m *model) destroy(ti int) []int {
	var mine []*mcap
	for _, c := range m.caps {
		if c.table == ti {
			mine = append(mine, c)
		}
	}
	slices.SortFunc(mine, func(x, y *mcap) int { return int(uint32(x.h)) - int(uint32(y.h)) })
	var orphans []int
	for _, c := range mine {
		if m.remove(c) {
			orphans = append(orphans, c.obj)
		}
	}
	m.dead[ti] = true
	return orphans
}

// revokeObject deletes every capability to obj.
func (m *model) revokeObject(obj int) int {
	before := len(m.caps)
	m.caps = slices.DeleteFunc(m.caps, func(c *mcap) bool { return c.obj == obj })
	return before - len(m.caps)
}
