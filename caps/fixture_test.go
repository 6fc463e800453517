package caps_test

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"valence.dev/caps"
	"valence.dev/ipc"
)

// fixture is a small System that the per-method tests start from. Every
// capability but mem's derives from all:
//
//	a:    all (ep, every right)
//	        +- badged  (ep, every right, badge 7)     a
//	        +- weak    (ep, read|write)               a
//	        +- dupOnly (ep, read|duplicate)           a
//	        +- inB     (ep, read|grant)               b
//	        +- inFull  (ep, read|duplicate|grant)     full (limit 1)
//	a:    mem (mem, read|map|duplicate|grant), the only capability to mem
//	a:    closed, a value that was closed
//	dead: a destroyed table; foreign: a table of another System
type fixture struct {
	s                    *caps.System
	a, b, full, dead     *caps.Table
	foreign              *caps.Table
	ep, mem              *object
	all, badged, weak    ipc.Handle
	dupOnly, inB, inFull ipc.Handle
	memH, closed         ipc.Handle
}

const unknownRight ipc.Rights = 1 << 7

func newFixture(t testing.TB) *fixture {
	t.Helper()
	s := caps.NewSystem()
	f := &fixture{
		s: s, a: s.NewTable(16), b: s.NewTable(16), full: s.NewTable(1), dead: s.NewTable(4),
		foreign: caps.NewSystem().NewTable(4),
		ep:      &object{"ep"}, mem: &object{"mem"},
	}
	f.all = mustInsert(t, f.a, f.ep, rAll, 0)
	f.badged = mustDuplicate(t, f.a, f.all, rAll, 7)
	f.weak = mustDuplicate(t, f.a, f.all, rR|rW, 0)
	f.dupOnly = mustDuplicate(t, f.a, f.all, rR|rD, 0)
	f.inB = mustGrant(t, f.a, f.all, f.b, rR|rG)
	f.inFull = mustGrant(t, f.a, f.all, f.full, rR|rD|rG)
	f.memH = mustInsert(t, f.a, f.mem, rR|rM|rD|rG, 0)
	f.closed = mustInsert(t, f.a, f.mem, rAll, 0)
	if _, err := f.a.Close(f.closed); err != nil {
		t.Fatal(err)
	}
	mustGrant(t, f.a, f.all, f.dead, rR)
	f.dead.Destroy()
	mustCheck(t, s)
	return f
}

// state observes everything the fixture can see.
func (f *fixture) state() state {
	handles := []handleIn{
		{f.a, f.all}, {f.a, f.badged}, {f.a, f.weak}, {f.a, f.dupOnly},
		{f.b, f.inB}, {f.full, f.inFull}, {f.a, f.memH}, {f.a, f.closed},
	}
	tables := []*caps.Table{f.a, f.b, f.full, f.dead}
	return observe(f.s, handles, tables, []caps.Object{f.ep, f.mem})
}

// unchanged fails the test if the fixture's state differs from before,
// as it must after any failed call.
func (f *fixture) unchanged(t *testing.T, before state) {
	t.Helper()
	if diff := cmp.Diff(before, f.state()); diff != "" {
		t.Errorf("a failed call changed the state (-before +after):\n%s", diff)
	}
	mustCheck(t, f.s)
}

// derivedResult checks a new handle from a successful derivation: it
// resolves in dst to want, and revoking all removes it.
func (f *fixture) derivedResult(t *testing.T, dst *caps.Table, h ipc.Handle, want caps.Cap) {
	t.Helper()
	mustCheck(t, f.s)
	got, err := dst.Info(h)
	if err != nil {
		t.Fatalf("Info of the new handle: %v", err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("new capability (-want +got):\n%s", diff)
	}
	if _, err := f.a.Revoke(f.all); err != nil {
		t.Fatal(err)
	}
	if _, err := dst.Info(h); err == nil {
		t.Errorf("revoking the root left the derived handle %#x alive", h)
	}
	mustCheck(t, f.s)
}
