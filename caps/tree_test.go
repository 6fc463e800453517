package caps_test

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"valence.dev/caps"
	"valence.dev/ipc"
)

// forest is a derivation tree over three tables, built by name so that
// tests can say which capabilities they expect to survive.
type forest struct {
	s       *caps.System
	tables  map[string]*caps.Table
	handles map[string]handleIn
	order   []string
}

func newForest(t testing.TB, tables ...string) *forest {
	f := &forest{s: caps.NewSystem(), tables: map[string]*caps.Table{}, handles: map[string]handleIn{}}
	for _, name := range tables {
		f.tables[name] = f.s.NewTable(64)
	}
	return f
}

// root inserts a root capability to obj named name in table tb.
func (f *forest) root(t testing.TB, name, tb string, obj caps.Object) {
	t.Helper()
	h := mustInsert(t, f.tables[tb], obj, rAll, 0)
	f.add(name, f.tables[tb], h)
}

// grant derives name, in table tb, from parent.
func (f *forest) grant(t testing.TB, name, parent, tb string, rights ipc.Rights) {
	t.Helper()
	p := f.handles[parent]
	h := mustGrant(t, p.tb, p.h, f.tables[tb], rights)
	f.add(name, f.tables[tb], h)
}

func (f *forest) add(name string, tb *caps.Table, h ipc.Handle) {
	f.handles[name] = handleIn{tb, h}
	f.order = append(f.order, name)
}

// alive lists, in creation order, the names whose handles still resolve.
func (f *forest) alive() []string {
	var out []string
	for _, name := range f.order {
		x := f.handles[name]
		if _, err := x.tb.Info(x.h); err == nil {
			out = append(out, name)
		}
	}
	return out
}

func (f *forest) close(t testing.TB, name string) {
	t.Helper()
	x := f.handles[name]
	if _, err := x.tb.Close(x.h); err != nil {
		t.Fatalf("Close(%s): %v", name, err)
	}
}

func (f *forest) revoke(t testing.TB, name string) int {
	t.Helper()
	x := f.handles[name]
	n, err := x.tb.Revoke(x.h)
	if err != nil {
		t.Fatalf("Revoke(%s): %v", name, err)
	}
	return n
}

// cascade builds:
//
//	root (A)
//	 +- mid (B)
//	 |   +- leaf (C)
//	 |   |   +- back (A)
//	 |   +- midCopy (B)
//	 +- sib (A)
//	     +- sibChild (C)
func cascade(t testing.TB) *forest {
	f := newForest(t, "A", "B", "C")
	f.root(t, "root", "A", &object{"ep"})
	f.grant(t, "mid", "root", "B", rAll)
	f.grant(t, "leaf", "mid", "C", rR|rG|rMg)
	f.grant(t, "back", "leaf", "A", rR)
	f.grant(t, "midCopy", "mid", "B", rR|rW)
	f.grant(t, "sib", "root", "A", rAll)
	f.grant(t, "sibChild", "sib", "C", rR)
	return f
}

// TestRevokeCascade revokes at each level of a tree that spans three
// tables: every descendant goes, wherever it is; siblings and ancestors
// stay; the revoker keeps its own capability.
func TestRevokeCascade(t *testing.T) {
	tests := []struct {
		revoke string
		n      int
		alive  []string
	}{
		{"root", 6, []string{"root"}},
		{"mid", 3, []string{"root", "mid", "sib", "sibChild"}},
		{"leaf", 1, []string{"root", "mid", "leaf", "midCopy", "sib", "sibChild"}},
		{"sib", 1, []string{"root", "mid", "leaf", "back", "midCopy", "sib"}},
	}
	for _, tt := range tests {
		t.Run(tt.revoke, func(t *testing.T) {
			f := cascade(t)
			if n := f.revoke(t, tt.revoke); n != tt.n {
				t.Errorf("Revoke(%s) removed %d, want %d", tt.revoke, n, tt.n)
			}
			if diff := cmp.Diff(tt.alive, f.alive()); diff != "" {
				t.Errorf("alive after Revoke(%s) (-want +got):\n%s", tt.revoke, diff)
			}
			mustCheck(t, f.s)
			if n := f.revoke(t, tt.revoke); n != 0 {
				t.Errorf("a second Revoke(%s) removed %d", tt.revoke, n)
			}
		})
	}
}

// TestCloseReparents closes capabilities in the middle of the tree and
// then revokes an ancestor: the closed capabilities' descendants must not
// have escaped.
func TestCloseReparents(t *testing.T) {
	tests := []struct {
		name   string
		close  []string
		revoke string
		n      int
		alive  []string
	}{
		{"grandchild reached through a closed parent", []string{"mid"}, "root", 5, []string{"root"}},
		{"closed chain", []string{"leaf", "mid"}, "root", 4, []string{"root"}},
		{"closed chain, other order", []string{"mid", "leaf"}, "root", 4, []string{"root"}},
		{"re-parented to mid", []string{"leaf"}, "mid", 2, []string{"root", "mid", "sib", "sibChild"}},
		{"root closed: children become roots", []string{"root"}, "mid", 3, []string{"mid", "sib", "sibChild"}},
		{"siblings untouched", []string{"leaf"}, "sib", 1, []string{"root", "mid", "back", "midCopy", "sib"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := cascade(t)
			for _, name := range tt.close {
				f.close(t, name)
				mustCheck(t, f.s)
			}
			if n := f.revoke(t, tt.revoke); n != tt.n {
				t.Errorf("Revoke(%s) removed %d, want %d", tt.revoke, n, tt.n)
			}
			if diff := cmp.Diff(tt.alive, f.alive()); diff != "" {
				t.Errorf("alive (-want +got):\n%s", diff)
			}
			mustCheck(t, f.s)
		})
	}
}

// TestMoveKeepsTreePlace moves a capability with children to another
// table: its ancestors' revoke still reaches it and its children.
func TestMoveKeepsTreePlace(t *testing.T) {
	f := cascade(t)
	mid := f.handles["mid"]
	h, err := mid.tb.Move(mid.h, f.tables["C"])
	if err != nil {
		t.Fatal(err)
	}
	f.handles["mid"] = handleIn{f.tables["C"], h}
	if n := f.revoke(t, "mid"); n != 3 {
		t.Errorf("Revoke of the moved mid removed %d, want 3", n)
	}
	if n := f.revoke(t, "root"); n != 3 {
		t.Errorf("Revoke(root) removed %d, want 3 (mid, sib, sibChild)", n)
	}
	if diff := cmp.Diff([]string{"root"}, f.alive()); diff != "" {
		t.Errorf("alive (-want +got):\n%s", diff)
	}
	mustCheck(t, f.s)
}

// TestDestroy kills a process: its capabilities go as if closed, the
// objects left without any capability are returned in slot order, and the
// table refuses everything afterwards.
func TestDestroy(t *testing.T) {
	f := newForest(t, "A", "B", "C")
	only, shared, foreign, last := &object{"only"}, &object{"shared"}, &object{"foreign"}, &object{"last"}
	f.root(t, "only", "A", only)
	f.grant(t, "onlyCopy", "only", "A", rR)
	f.root(t, "shared", "B", shared)
	f.grant(t, "sharedInA", "shared", "A", rAll)
	f.grant(t, "sharedInC", "sharedInA", "C", rR) // re-parented to shared
	f.root(t, "foreign", "A", foreign)
	f.grant(t, "foreignInB", "foreign", "B", rAll) // becomes a root
	f.root(t, "last", "A", last)

	a := f.tables["A"]
	got := a.Destroy()
	if diff := cmp.Diff([]caps.Object{only, last}, got); diff != "" {
		t.Errorf("Destroy orphans (-want +got):\n%s", diff)
	}
	mustCheck(t, f.s)
	if diff := cmp.Diff([]string{"shared", "sharedInC", "foreignInB"}, f.alive()); diff != "" {
		t.Errorf("alive (-want +got):\n%s", diff)
	}
	holders := []int{f.s.Holders(only), f.s.Holders(shared), f.s.Holders(foreign), f.s.Holders(last)}
	if diff := cmp.Diff([]int{0, 2, 1, 0}, holders); diff != "" {
		t.Errorf("Holders (-want +got):\n%s", diff)
	}
	if n := f.revoke(t, "shared"); n != 1 {
		t.Errorf("Revoke(shared) removed %d, want 1 (sharedInC, re-parented)", n)
	}

	// The dead table refuses everything; a second Destroy is a no-op.
	if a.Len() != 0 {
		t.Errorf("Len of a destroyed table = %d", a.Len())
	}
	if got := a.Destroy(); got != nil {
		t.Errorf("second Destroy returned %v", got)
	}
	_, err := a.Insert(only, rR, 0)
	checkErr(t, "Insert into a dead table", err, caps.ErrDead)
	_, err = a.Lookup(f.handles["only"].h, 0)
	checkErr(t, "Lookup in a dead table", err, caps.ErrDead)
	b := f.handles["foreignInB"]
	_, err = b.tb.Grant(b.h, a, rR)
	checkErr(t, "Grant into a dead table", err, caps.ErrDead)
	_, err = b.tb.Move(b.h, a)
	checkErr(t, "Move into a dead table", err, caps.ErrDead)
	mustCheck(t, f.s)
}

// TestRevokeObject tears an object down everywhere, leaving others alone.
func TestRevokeObject(t *testing.T) {
	f := cascade(t)
	ep := f.handles["root"]
	c, _ := ep.tb.Info(ep.h)
	other := &object{"other"}
	f.root(t, "other", "B", other)
	if got := f.s.Holders(c.Object); got != 7 {
		t.Errorf("Holders(ep) = %d, want 7", got)
	}
	if n := f.s.RevokeObject(c.Object); n != 7 {
		t.Errorf("RevokeObject removed %d, want 7", n)
	}
	if diff := cmp.Diff([]string{"other"}, f.alive()); diff != "" {
		t.Errorf("alive (-want +got):\n%s", diff)
	}
	lens := []int{f.tables["A"].Len(), f.tables["B"].Len(), f.tables["C"].Len()}
	if diff := cmp.Diff([]int{0, 1, 0}, lens); diff != "" {
		t.Errorf("table lengths (-want +got):\n%s", diff)
	}
	for _, obj := range []caps.Object{c.Object, nil, []int{1}} {
		if n := f.s.RevokeObject(obj); n != 0 || f.s.Holders(obj) != 0 {
			t.Errorf("RevokeObject(%v) again: %d removed, %d holders", obj, n, f.s.Holders(obj))
		}
	}
	mustCheck(t, f.s)
	if !slices.Equal(f.alive(), []string{"other"}) || f.s.Holders(other) != 1 {
		t.Error("RevokeObject touched another object")
	}
}
