package caps_test

import (
	"math"

	"github.com/google/go-cmp/cmp"
	"valence.dev/caps"
	"valence.dev/ipc"
)

// step decodes one operation from the input and runs it on both the
// System and the model. The first byte chooses the operation (modulo 18);
// the operation then reads its own arguments.
func (x *harness) step() {
	switch x.next() % 18 {
	case 0, 1, 2:
		x.insert()
	case 3:
		x.lookup()
	case 4, 5:
		x.duplicate()
	case 6, 7:
		x.grant()
	case 8:
		x.move()
	case 9, 10:
		x.close()
	case 11:
		x.revoke()
	case 12:
		x.destroy()
	case 13:
		x.revokeObject()
	case 14:
		x.fastForward()
	case 15:
		x.info()
	case 16:
		x.moveAll()
	case 17:
		x.grantAll()
	}
}

func (x *harness) record(format string, args ...any) {
	x.log = append(x.log, logEntry{format, args})
}

func (x *harness) insert() {
	ti, obj, rights, badge := x.table(), x.object(), x.rights(nil), x.badge()
	x.record("Insert(t%d, obj%d, %#x, %d)", ti, obj, rights, badge)
	want := x.m.insertCheck(ti, rights)
	h, err := x.tables[ti].Insert(x.objs[obj], rights, badge)
	x.expect(err, want)
	if err == nil {
		x.issue(ti, h)
		x.m.caps = append(x.m.caps, &mcap{table: ti, h: h, obj: obj, rights: rights, badge: badge})
	}
}

func (x *harness) lookup() {
	ti := x.table()
	h, need := x.handle(ti), x.need()
	x.record("Lookup(t%d, %#x, %#x)", ti, h, need)
	c, want := x.m.decode(ti, h, need)
	got, err := x.tables[ti].Lookup(h, need)
	x.expect(err, want)
	x.sameCap(got, c)
}

func (x *harness) info() {
	ti := x.table()
	h := x.handle(ti)
	x.record("Info(t%d, %#x)", ti, h)
	c, want := x.m.decode(ti, h, 0)
	got, err := x.tables[ti].Info(h)
	x.expect(err, want)
	x.sameCap(got, c)
}

// sameCap compares a returned Cap with the model's capability (nil: the
// zero Cap).
func (x *harness) sameCap(got caps.Cap, c *mcap) {
	var want caps.Cap
	if c != nil {
		want = caps.Cap{Object: x.objs[c.obj], Rights: c.rights, Badge: c.badge}
	}
	if got != want {
		x.fail("got %s, model %s", describe(got), describe(want))
	}
}

func (x *harness) duplicate() {
	ti := x.table()
	h := x.handle(ti)
	src, _ := x.m.resolve(ti, h)
	rights, badge := x.rights(src), x.badge()
	x.record("Duplicate(t%d, %#x, %#x, %d)", ti, h, rights, badge)
	p, b, want := x.m.deriveCheck(ti, h, ipc.RightDuplicate, ti, rights, badge)
	nh, err := x.tables[ti].Duplicate(h, rights, badge)
	x.expect(err, want)
	if err == nil {
		x.issue(ti, nh)
		x.m.caps = append(x.m.caps, &mcap{table: ti, h: nh, obj: p.obj, rights: rights, badge: b, parent: p})
	}
}

func (x *harness) grant() {
	ti := x.table()
	h, dst := x.handle(ti), x.table()
	src, _ := x.m.resolve(ti, h)
	rights := x.rights(src)
	x.record("Grant(t%d, %#x, t%d, %#x)", ti, h, dst, rights)
	p, b, want := x.m.deriveCheck(ti, h, ipc.RightGrant, dst, rights, 0)
	nh, err := x.tables[ti].Grant(h, x.tables[dst], rights)
	x.expect(err, want)
	if err == nil {
		x.issue(dst, nh)
		x.m.caps = append(x.m.caps, &mcap{table: dst, h: nh, obj: p.obj, rights: rights, badge: b, parent: p})
	}
}

func (x *harness) move() {
	ti := x.table()
	h, dst := x.handle(ti), x.table()
	x.record("Move(t%d, %#x, t%d)", ti, h, dst)
	c, want := x.m.moveCheck(ti, h, dst)
	nh, err := x.tables[ti].Move(h, x.tables[dst])
	x.expect(err, want)
	if err == nil {
		x.issue(dst, nh)
		c.table, c.h = dst, nh
	}
}

// batch picks zero to four handles of table ti for a batch operation;
// picking from the same few live values makes repeats common.
func (x *harness) batch(ti int) []ipc.Handle {
	hs := make([]ipc.Handle, x.next()%5)
	for i := range hs {
		hs[i] = x.handle(ti)
	}
	return hs
}

func (x *harness) moveAll() {
	ti := x.table()
	hs, dst := x.batch(ti), x.table()
	x.record("MoveAll(t%d, %#x, t%d)", ti, hs, dst)
	cs, want := x.m.moveAllCheck(ti, hs, dst)
	nhs, err := x.tables[ti].MoveAll(hs, x.tables[dst])
	x.expect(err, want)
	if err != nil {
		return
	}
	if len(nhs) != len(hs) {
		x.fail("MoveAll returned %d handles for %d", len(nhs), len(hs))
	}
	for i, c := range cs {
		x.issue(dst, nhs[i])
		c.table, c.h = dst, nhs[i]
	}
}

func (x *harness) grantAll() {
	ti := x.table()
	hs, dst := x.batch(ti), x.table()
	x.record("GrantAll(t%d, %#x, t%d)", ti, hs, dst)
	ps, want := x.m.grantAllCheck(ti, hs, dst)
	nhs, err := x.tables[ti].GrantAll(hs, x.tables[dst])
	x.expect(err, want)
	if err != nil {
		return
	}
	if len(nhs) != len(hs) {
		x.fail("GrantAll returned %d handles for %d", len(nhs), len(hs))
	}
	for i, p := range ps {
		x.issue(dst, nhs[i])
		x.m.caps = append(x.m.caps, &mcap{table: dst, h: nhs[i], obj: p.obj, rights: p.rights, badge: p.badge, parent: p})
	}
}

func (x *harness) close() {
	ti := x.table()
	h := x.handle(ti)
	x.record("Close(t%d, %#x)", ti, h)
	c, want := x.m.decode(ti, h, 0)
	orphan, err := x.tables[ti].Close(h)
	x.expect(err, want)
	if err != nil {
		return
	}
	var wantOrphan caps.Object
	if x.m.remove(c) {
		wantOrphan = x.objs[c.obj]
	}
	if orphan != wantOrphan {
		x.fail("Close returned orphan %v, model %v", orphan, wantOrphan)
	}
}

func (x *harness) revoke() {
	ti := x.table()
	h := x.handle(ti)
	x.record("Revoke(t%d, %#x)", ti, h)
	c, want := x.m.decode(ti, h, ipc.RightManage)
	n, err := x.tables[ti].Revoke(h)
	x.expect(err, want)
	if err == nil {
		if wantN := x.m.revoke(c); n != wantN {
			x.fail("Revoke removed %d, model %d", n, wantN)
		}
	}
}

// destroy kills a table one time in eight; a dead table is instead
// destroyed again (a no-op) and replaced by a fresh one.
func (x *harness) destroy() {
	ti, gate := x.table(), x.next()
	if x.m.dead[ti] {
		limit := 1 + int(gate%16)
		x.record("Destroy(t%d) again, then a new t%d with limit %d", ti, ti, limit)
		if got := x.tables[ti].Destroy(); got != nil {
			x.fail("second Destroy returned %v", got)
		}
		x.renew(ti, limit)
		return
	}
	if gate%8 != 0 {
		return
	}
	x.record("Destroy(t%d)", ti)
	got := x.ids(x.tables[ti].Destroy())
	want := x.m.destroy(ti)
	if diff := cmp.Diff(want, got); diff != "" {
		x.fail("Destroy orphans (-model +got):\n%s", diff)
	}
}

func (x *harness) revokeObject() {
	obj, gate := x.object(), x.next()
	if gate%4 != 0 {
		return
	}
	x.record("RevokeObject(obj%d)", obj)
	n := x.sys.RevokeObject(x.objs[obj])
	if want := x.m.revokeObject(obj); n != want {
		x.fail("RevokeObject removed %d, model %d", n, want)
	}
}

// fastForward moves a free slot close to generation wrap, so that
// sequences reach slot retirement. The model needs no change: it never
// predicts handle values, only checks them.
func (x *harness) fastForward() {
	ti := x.table()
	index, gen := uint32(x.next()%8)+1, math.MaxUint32-uint32(x.next()%3)
	x.record("FastForward(t%d, slot %d, gen %#x)", ti, index, gen)
	caps.FastForward(x.tables[ti], index, gen)
}
