package caps_test

import (
	"testing"

	"valence.dev/caps"
	"valence.dev/ipc"
)

func BenchmarkLookup(b *testing.B) {
	s := caps.NewSystem()
	tb := s.NewTable(1024)
	obj := &object{"ep"}
	hs := make([]ipc.Handle, 1000)
	for i := range hs {
		hs[i] = mustInsert(b, tb, obj, rAll, 0)
	}
	i := 0
	for b.Loop() {
		if _, err := tb.Lookup(hs[i], rR|rW); err != nil {
			b.Fatal(err)
		}
		i = (i + 1) % len(hs)
	}
}

func BenchmarkDuplicate(b *testing.B) {
	s := caps.NewSystem()
	tb := s.NewTable(1024)
	root := mustInsert(b, tb, &object{"ep"}, rAll, 0)
	made := 0
	for b.Loop() {
		if made == 1000 {
			b.StopTimer()
			if _, err := tb.Revoke(root); err != nil {
				b.Fatal(err)
			}
			made = 0
			b.StartTimer()
		}
		if _, err := tb.Duplicate(root, rR|rW, 0); err != nil {
			b.Fatal(err)
		}
		made++
	}
}

// BenchmarkRevoke1000 revokes a 1000-capability subtree spread over three
// tables: a fan of grants, each the head of a short chain of duplicates.
func BenchmarkRevoke1000(b *testing.B) {
	s := caps.NewSystem()
	tables := []*caps.Table{s.NewTable(1024), s.NewTable(1024), s.NewTable(1024)}
	root := mustInsert(b, tables[0], &object{"ep"}, rAll, 0)
	build := func() {
		made := 0
		for i := 0; made < 1000; i++ {
			dst := tables[i%3]
			h := mustGrant(b, tables[0], root, dst, rAll)
			made++
			for j := 0; j < 4 && made < 1000; j++ {
				h = mustDuplicate(b, dst, h, rAll, 0)
				made++
			}
		}
	}
	for b.Loop() {
		b.StopTimer()
		build()
		b.StartTimer()
		n, err := tables[0].Revoke(root)
		if err != nil || n != 1000 {
			b.Fatalf("Revoke = %d, %v", n, err)
		}
	}
}
