package link

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"valence.dev/servers/net/clock"
)

func run(t *testing.T, f Faults, frames int) (Stats, []byte) {
	t.Helper()
	var clk clock.Fake
	w := NewWire(&clk, 1500, f, 42)
	var got []byte
	w.B().SetReceiver(func(b []byte) { got = append(got, b[0]) })
	for i := 0; i < frames; i++ {
		w.A().WriteFrame([]byte{byte(i)})
		clk.Advance(time.Millisecond)
		w.Deliver(clk.Now())
	}
	clk.Advance(time.Second)
	w.Deliver(clk.Now())
	return w.A().Stats, got
}

func TestWireFaults(t *testing.T) {
	tests := []struct {
		name   string
		faults Faults
		check  func(s Stats, got []byte) bool
	}{
		{"clean", Faults{}, func(s Stats, got []byte) bool { return s.Delivered == 100 && len(got) == 100 }},
		{"loss", Faults{Loss: 0.3}, func(s Stats, got []byte) bool { return s.Lost > 10 && s.Lost < 60 && len(got) == 100-s.Lost }},
		{"dup", Faults{Duplicate: 0.3}, func(s Stats, got []byte) bool { return len(got) == 100+s.Duplicated && s.Duplicated > 10 }},
		{"reorder", Faults{Reorder: 0.5}, func(s Stats, got []byte) bool {
			for i := 1; i < len(got); i++ {
				if got[i] < got[i-1] {
					return len(got) == 100
				}
			}
			return false
		}},
		{"rate", Faults{Rate: 1, QueueLimit: 5}, func(s Stats, got []byte) bool { return s.QueueDrops > 0 }},
	}
	for _, tc := range tests {
		s, got := run(t, tc.faults, 100)
		if !tc.check(s, got) {
			t.Errorf("%s: stats %+v, %d frames", tc.name, s, len(got))
		}
	}
}

func TestWireDeterministic(t *testing.T) {
	f := Faults{Loss: 0.1, Duplicate: 0.1, Reorder: 0.2, Jitter: time.Millisecond}
	s1, g1 := run(t, f, 200)
	s2, g2 := run(t, f, 200)
	if diff := cmp.Diff(s1, s2); diff != "" {
		t.Errorf("stats differ between runs:\n%s", diff)
	}
	if diff := cmp.Diff(g1, g2); diff != "" {
		t.Errorf("frames differ between runs:\n%s", diff)
	}
}

func TestDropHook(t *testing.T) {
	var clk clock.Fake
	w := NewWire(&clk, 1500, Faults{}, 1)
	w.A().Drop = func(b []byte) bool { return b[0] == 2 }
	var got []byte
	w.B().SetReceiver(func(b []byte) { got = append(got, b[0]) })
	for i := byte(0); i < 4; i++ {
		w.A().WriteFrame([]byte{i})
	}
	w.Deliver(0)
	if diff := cmp.Diff([]byte{0, 1, 3}, got); diff != "" {
		t.Errorf("frames (-want +got):\n%s", diff)
	}
}
