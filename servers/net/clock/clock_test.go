package clock

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestQueueOrder(t *testing.T) {
	var q Queue
	var fired []string
	mk := func(name string) *Timer { return q.NewTimer(func() { fired = append(fired, name) }) }
	a, b, c, d := mk("a"), mk("b"), mk("c"), mk("d")
	a.Set(3)
	b.Set(1)
	c.Set(3) // same deadline as a, armed later: fires after a
	d.Set(2)
	d.Stop()
	b.Set(4) // re-arming moves b
	if next, ok := q.Next(); !ok || next != 3 {
		t.Errorf("Next = %v, %v; want 3", next, ok)
	}
	if n := q.Run(3); n != 2 {
		t.Errorf("Run(3) fired %d", n)
	}
	q.Run(10)
	if diff := cmp.Diff([]string{"a", "c", "b"}, fired); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
	if a.Armed() || q.Len() != 0 {
		t.Error("timers still armed after Run")
	}
}

func TestRearmFromCallback(t *testing.T) {
	var q Queue
	count := 0
	var tm *Timer
	tm = q.NewTimer(func() {
		count++
		if count < 3 {
			tm.Set(tm.When() + 1)
		}
	})
	tm.Set(0)
	q.Run(100)
	if count != 3 {
		t.Errorf("fired %d times, want 3", count)
	}
}

func TestFake(t *testing.T) {
	var f Fake
	f.Advance(time.Second)
	f.Set(time.Millisecond) // never backwards
	if f.Now() != time.Second {
		t.Errorf("Now = %v", f.Now())
	}
}
