package caps

import (
	"strings"
	"testing"

	"valence.dev/ipc"
)

// TestCheckDetects corrupts a valid System in one way at a time and
// expects Check to report it, so that a passing Check in the other tests
// means something.
func TestCheckDetects(t *testing.T) {
	type world struct {
		s                     *System
		a, b                  *Table
		root, child, grandkid *node
		sibling               *node
	}
	build := func(t *testing.T) world {
		s := NewSystem()
		a, b := s.NewTable(4), s.NewTable(4)
		obj := new(int)
		hr, _ := a.Insert(obj, ipc.RightsAll, 0)
		hc, _ := a.Grant(hr, b, ipc.RightsAll&^ipc.RightWrite)
		hg, _ := b.Duplicate(hc, ipc.RightRead|ipc.RightDuplicate, 3)
		hs, _ := a.Duplicate(hr, ipc.RightRead, 0)
		a.Insert(new(int), ipc.RightRead, 0)
		h, _ := a.Insert(obj, 0, 0)
		a.Close(h) // leaves a free slot
		w := world{s: s, a: a, b: b}
		for _, x := range []struct {
			t *Table
			h ipc.Handle
			n **node
		}{{a, hr, &w.root}, {b, hc, &w.child}, {b, hg, &w.grandkid}, {a, hs, &w.sibling}} {
			n, err := x.t.resolve(x.h)
			if err != nil {
				t.Fatal(err)
			}
			*x.n = n
		}
		if err := s.Check(); err != nil {
			t.Fatalf("Check of the uncorrupted system: %v", err)
		}
		return w
	}
	tests := []struct {
		name    string
		corrupt func(w world)
		want    string
	}{
		{"rights grew", func(w world) { w.grandkid.rights |= ipc.RightWrite }, "rights"},
		{"badge changed", func(w world) { w.child.badge = 9 }, "badge"},
		{"other object", func(w world) { w.child.obj = w.sibling }, "holder list has a capability"},
		{"holder count", func(w world) { w.s.holders[w.root.obj].count++ }, "count"},
		{"holder back link", func(w world) { w.child.prevHolder = w.root }, "back link"},
		{"table live count", func(w world) { w.a.live-- }, "live"},
		{"over the limit", func(w world) { w.a.limit = 2 }, "limit"},
		{"free slot lost", func(w world) { w.a.free = w.a.free[:0] }, "free"},
		{"free list repeats", func(w world) { w.a.free = append(w.a.free, w.a.free[0]) }, "repeated"},
		{"retired slot on the free list", func(w world) { w.a.slots[w.a.free[0]-1].retired = true }, "retired"},
		{"slot names another", func(w world) { w.child.index = 2 }, "another slot"},
		{"node in no slot", func(w world) {
			w.b.slots[w.grandkid.index-1].node = nil
			w.b.live--
			w.b.free = append(w.b.free, w.grandkid.index)
		}, "in table slots"},
		{"cycle", func(w world) { detach(w.root); adopt(w.grandkid, w.root) }, "reachable"},
		{"parent link", func(w world) { w.grandkid.parent = w.root }, "links disagree"},
		{"sibling link", func(w world) { w.sibling.prevSib = w.sibling }, "links disagree"},
		{"root with a sibling", func(w world) { w.root.nextSib = w.sibling }, "siblings"},
		{"removed child", func(w world) { w.a.Close(handleOf(w.sibling)); w.root.firstChild = w.sibling }, "removed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := build(t)
			tt.corrupt(w)
			err := w.s.Check()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Check = %v, want a report mentioning %q", err, tt.want)
			}
		})
	}
}
