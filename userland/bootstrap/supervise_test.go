package main

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRestartBudget(t *testing.T) {
	t0 := time.Unix(1_000_000, 0)
	type step struct {
		At    time.Duration // since t0
		Delay time.Duration
		OK    bool
	}
	ms := time.Millisecond
	tests := []struct {
		name  string
		at    []time.Duration
		steps []step
	}{
		{"five allowed, doubling, then stopped",
			[]time.Duration{0, time.Second, 2 * time.Second, 3 * time.Second, 4 * time.Second, 5 * time.Second},
			[]step{{0, 250 * ms, true}, {time.Second, 500 * ms, true}, {2 * time.Second, time.Second, true},
				{3 * time.Second, 2 * time.Second, true}, {4 * time.Second, 4 * time.Second, true}, {5 * time.Second, 0, false}}},
		{"old restarts age out of the window",
			[]time.Duration{0, 10 * time.Second, 20 * time.Second, 30 * time.Second, 40 * time.Second, 61 * time.Second},
			[]step{{0, 250 * ms, true}, {10 * time.Second, 500 * ms, true}, {20 * time.Second, time.Second, true},
				{30 * time.Second, 2 * time.Second, true}, {40 * time.Second, 4 * time.Second, true},
				{61 * time.Second, 4 * time.Second, true}}}, // the one at 0 is over a minute old
		{"a quiet spell resets the delay",
			[]time.Duration{0, time.Second, 5 * time.Minute},
			[]step{{0, 250 * ms, true}, {time.Second, 500 * ms, true}, {5 * time.Minute, 250 * ms, true}}},
		{"exactly a minute later counts as outside",
			[]time.Duration{0, time.Minute},
			[]step{{0, 250 * ms, true}, {time.Minute, 250 * ms, true}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b restartBudget
			var got []step
			for _, at := range tc.at {
				d, ok := b.next(t0.Add(at))
				got = append(got, step{at, d, ok})
			}
			if diff := cmp.Diff(tc.steps, got); diff != "" {
				t.Errorf("restarts (-want +got):\n%s", diff)
			}
		})
	}
}

// A refused restart is not recorded, so it does not push the budget's
// window further out: the next death after the window opens is allowed.
func TestRestartBudgetRefusalNotRecorded(t *testing.T) {
	t0 := time.Unix(0, 0)
	var b restartBudget
	for i := range maxRestarts {
		if _, ok := b.next(t0.Add(time.Duration(i) * time.Second)); !ok {
			t.Fatalf("restart %d refused", i+1)
		}
	}
	for i := range 10 {
		if _, ok := b.next(t0.Add(10*time.Second + time.Duration(i)*time.Second)); ok {
			t.Fatalf("restart beyond the budget allowed at +%ds", 10+i)
		}
	}
	if _, ok := b.next(t0.Add(restartWindow)); !ok {
		t.Errorf("restart a minute after the first refused; the first has left the window")
	}
}
