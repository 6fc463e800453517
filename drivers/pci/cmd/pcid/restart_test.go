package main

import (
	"testing"
	"time"
)

func TestRestartAfter(t *testing.T) {
	m := &manager{}
	t0 := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	var got []time.Duration
	for k := 0; k < maxRestarts; k++ {
		d, ok := m.restartAfter(3, t0.Add(time.Duration(k)*time.Second))
		if !ok {
			t.Fatalf("restart %d refused", k+1)
		}
		got = append(got, d)
	}
	want := []time.Duration{250 * time.Millisecond, 500 * time.Millisecond, time.Second, 2 * time.Second, 4 * time.Second}
	for k := range want {
		if got[k] != want[k] {
			t.Errorf("restart %d after %v, want %v", k+1, got[k], want[k])
		}
	}
	if _, ok := m.restartAfter(3, t0.Add(10*time.Second)); ok {
		t.Error("a sixth restart within a minute was allowed")
	}
	if _, ok := m.restartAfter(4, t0.Add(10*time.Second)); !ok {
		t.Error("another function's driver was refused a restart")
	}
	// A minute after the first restarts, the window has room again: the
	// restarts at 3 s and 4 s are still in it, so the delay is the third's.
	d, ok := m.restartAfter(3, t0.Add(restartWindow+2500*time.Millisecond))
	if !ok || d != time.Second {
		t.Errorf("restart after the window: %v, %v; want 1s, true", d, ok)
	}
}
