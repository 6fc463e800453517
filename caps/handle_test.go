package caps_test

import (
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"
	"valence.dev/caps"
	"valence.dev/ipc"
)

// TestHandleEncoding pins the handle layout: slot index (from 1) in the
// low 32 bits, generation in the high 32, and a slot's generation going up
// by one each time it is freed.
func TestHandleEncoding(t *testing.T) {
	s := caps.NewSystem()
	tb := s.NewTable(8)
	obj := &object{"o"}
	var got []ipc.Handle
	h1 := mustInsert(t, tb, obj, rAll, 0)
	h2 := mustInsert(t, tb, obj, rAll, 0)
	got = append(got, h1, h2)
	if _, err := tb.Close(h1); err != nil {
		t.Fatal(err)
	}
	got = append(got, mustInsert(t, tb, obj, rAll, 0)) // reuses slot 1
	got = append(got, mustInsert(t, tb, obj, rAll, 0)) // a fresh slot 3
	want := []ipc.Handle{1, 2, 1<<32 | 1, 3}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("handle values (-want +got):\n%s", diff)
	}
	mustCheck(t, s)
}

// TestHandleGenerations resolves values that name nothing: each must fail
// with the right error, and a closed handle's value must never name the
// capability that reuses its slot.
func TestHandleGenerations(t *testing.T) {
	s := caps.NewSystem()
	tb := s.NewTable(8)
	other := s.NewTable(8)
	old, newer := &object{"old"}, &object{"newer"}

	closed := mustInsert(t, tb, old, rAll, 0)   // slot 1, gen 0
	if _, err := tb.Close(closed); err != nil { // slot 1 free at gen 1
		t.Fatal(err)
	}
	reused := mustInsert(t, tb, newer, rR, 0) // slot 1, gen 1
	live := mustInsert(t, tb, old, rAll, 5)   // slot 2, gen 0
	freed := mustInsert(t, tb, old, rAll, 0)  // slot 3, gen 0, then closed
	if _, err := tb.Close(freed); err != nil {
		t.Fatal(err)
	}
	foreign := mustInsert(t, other, old, rAll, 0) // slot 1 of another table

	tests := []struct {
		name string
		h    ipc.Handle
		want caps.Cap
		err  error
	}{
		{"live", live, caps.Cap{Object: old, Rights: rAll, Badge: 5}, nil},
		{"reused slot", reused, caps.Cap{Object: newer, Rights: rR}, nil},
		{"zero", 0, caps.Cap{}, caps.ErrBadHandle},
		{"slot zero with a generation", 1 << 32, caps.Cap{}, caps.ErrBadHandle},
		{"slot out of range", 4, caps.Cap{}, caps.ErrBadHandle},
		{"slot far out of range", math.MaxUint32, caps.Cap{}, caps.ErrBadHandle},
		{"all ones", math.MaxUint64, caps.Cap{}, caps.ErrBadHandle},
		{"closed, slot reused", closed, caps.Cap{}, caps.ErrStale},
		{"closed, slot free", freed, caps.Cap{}, caps.ErrBadHandle},
		{"free slot at its next generation", caps.MakeHandle(3, 1), caps.Cap{}, caps.ErrBadHandle},
		{"future generation of a live slot", caps.MakeHandle(2, 1), caps.Cap{}, caps.ErrBadHandle},
		{"far future generation", caps.MakeHandle(2, math.MaxUint32), caps.Cap{}, caps.ErrBadHandle},
		{"another table's value", foreign + 7, caps.Cap{}, caps.ErrBadHandle},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tb.Info(tt.h)
			checkErr(t, "Info", err, tt.err)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Info(%#x) (-want +got):\n%s", tt.h, diff)
			}
			// Every operation resolves handles the same way.
			_, err = tb.Lookup(tt.h, 0)
			checkErr(t, "Lookup", err, tt.err)
		})
	}
	mustCheck(t, s)
}

// TestNeverReused closes and reopens handles many times, in a pattern
// that cycles through few slots, and checks that no value repeats.
func TestNeverReused(t *testing.T) {
	s := caps.NewSystem()
	tb := s.NewTable(3)
	obj := &object{"o"}
	seen := map[ipc.Handle]bool{}
	var open []ipc.Handle
	for i := range 3000 {
		if len(open) == 3 || (i%5 == 4 && len(open) > 0) {
			k := i % len(open)
			if _, err := tb.Close(open[k]); err != nil {
				t.Fatal(err)
			}
			open = append(open[:k], open[k+1:]...)
			continue
		}
		h := mustInsert(t, tb, obj, rAll, 0)
		if seen[h] {
			t.Fatalf("step %d: handle %#x issued twice", i, h)
		}
		seen[h] = true
		open = append(open, h)
	}
	mustCheck(t, s)
}

// TestGenerationWrapRetires fast-forwards a slot to its last generation:
// the handle issued there works, and once it is closed the slot is retired
// for good instead of wrapping to generation 0.
func TestGenerationWrapRetires(t *testing.T) {
	s := caps.NewSystem()
	tb := s.NewTable(2)
	obj := &object{"o"}
	first := mustInsert(t, tb, obj, rAll, 0)
	if _, err := tb.Close(first); err != nil {
		t.Fatal(err)
	}
	if !caps.FastForward(tb, 1, math.MaxUint32-1) {
		t.Fatal("FastForward refused a free slot")
	}
	if caps.FastForward(tb, 1, 5) {
		t.Fatal("FastForward moved a generation backwards")
	}

	var last []ipc.Handle
	for range 2 { // generations 2^32-2 and 2^32-1 of slot 1
		h := mustInsert(t, tb, obj, rAll, 0)
		last = append(last, h)
		if _, err := tb.Close(h); err != nil {
			t.Fatal(err)
		}
	}
	want := []ipc.Handle{caps.MakeHandle(1, math.MaxUint32-1), caps.MakeHandle(1, math.MaxUint32)}
	if diff := cmp.Diff(want, last); diff != "" {
		t.Fatalf("handles at the end of slot 1 (-want +got):\n%s", diff)
	}
	if caps.FastForward(tb, 1, math.MaxUint32) {
		t.Error("FastForward accepted a retired slot")
	}

	// Slot 1 is retired: new capabilities go elsewhere, and no value of
	// slot 1 resolves, generation 0 included.
	var got []ipc.Handle
	for range 4 {
		h := mustInsert(t, tb, obj, rAll, 0)
		got = append(got, h)
		if _, err := tb.Close(h); err != nil {
			t.Fatal(err)
		}
	}
	for _, h := range got {
		if uint32(h) == 1 {
			t.Errorf("retired slot 1 reused: %#x", h)
		}
	}
	for _, h := range append(last, first, caps.MakeHandle(1, 0)) {
		_, err := tb.Info(h)
		checkErr(t, "Info of a retired slot's handle", err, caps.ErrBadHandle)
	}
	mustCheck(t, s)
}
