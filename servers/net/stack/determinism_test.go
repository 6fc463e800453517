package stack_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"valence.dev/servers/net/link"
	"valence.dev/servers/net/sim"
	"valence.dev/servers/net/stack"
)

// TestDeterministicReplay runs the same faulty transfer twice: every
// segment, its timing, and every counter must be identical, or failures
// in the other tests could not be replayed.
func TestDeterministicReplay(t *testing.T) {
	run := func() ([]sim.Segment, stack.Stats, stack.Stats) {
		n := sim.New(sim.Options{Seed: 99, Faults: link.Faults{Loss: 0.05, Duplicate: 0.02, Reorder: 0.05, Delay: time.Millisecond, Jitter: time.Millisecond}})
		tr := n.TraceTCP()
		a, b := connect(t, n, 80)
		sim.WriteAll(a, randomData(1, 256<<10), true)
		sink := sim.ReadAll(b)
		n.RunUntil(func() bool { return sink.EOF }, time.Minute)
		return tr.Segments, n.A.Stats(), n.B.Stats()
	}
	segs1, a1, b1 := run()
	segs2, a2, b2 := run()
	if diff := cmp.Diff(segs1, segs2); diff != "" {
		t.Errorf("segments differ between runs:\n%s", diff)
	}
	if diff := cmp.Diff([]stack.Stats{a1, b1}, []stack.Stats{a2, b2}); diff != "" {
		t.Errorf("stats differ between runs:\n%s", diff)
	}
	if len(segs1) < 100 {
		t.Errorf("only %d segments", len(segs1))
	}
}
