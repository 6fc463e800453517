package clock

import (
	"container/heap"
	"time"
)

// Clock reads monotonic time since an epoch.
type Clock interface {
	Now() time.Duration
}

// Real is wall-clock monotonic time since it was created.
type Real struct{ start time.Time }

// NewReal returns a Real clock starting now.
func NewReal() *Real { return &Real{start: time.Now()} }

// Now returns the time elapsed since NewReal.
func (r *Real) Now() time.Duration { return time.Since(r.start) }

// Fake is a clock that only moves when told.
type Fake struct{ now time.Duration }

// Now returns the fake time.
func (f *Fake) Now() time.Duration { return f.now }

// Set moves the clock to t; it never moves backwards.
func (f *Fake) Set(t time.Duration) {
	if t > f.now {
		f.now = t
	}
}

// Advance moves the clock forward by d.
func (f *Fake) Advance(d time.Duration) { f.Set(f.now + d) }

// Timer is a callback armed for a deadline in a Queue. A Timer is reused:
// Set re-arms it, Stop disarms it.
type Timer struct {
	q     *Queue
	fn    func()
	when  time.Duration
	seq   uint64
	index int // in the heap, or -1 when not armed
}

// Set arms the timer to fire at when, replacing any earlier arming.
func (t *Timer) Set(when time.Duration) {
	q := t.q
	q.seq++
	t.when, t.seq = when, q.seq
	if t.index >= 0 {
		heap.Fix(&q.h, t.index)
		return
	}
	heap.Push(&q.h, t)
}

// Stop disarms the timer. It is safe on a timer that is not armed.
func (t *Timer) Stop() {
	if t.index >= 0 {
		heap.Remove(&t.q.h, t.index)
	}
}

// Armed reports whether the timer will fire.
func (t *Timer) Armed() bool { return t.index >= 0 }

// When returns the deadline of an armed timer.
func (t *Timer) When() time.Duration { return t.when }

// Queue holds armed timers. It is not safe for concurrent use.
type Queue struct {
	h   timerHeap
	seq uint64
}

// NewTimer returns an unarmed timer that calls fn when it fires.
func (q *Queue) NewTimer(fn func()) *Timer { return &Timer{q: q, fn: fn, index: -1} }

// Next returns the earliest deadline, or false if no timer is armed.
func (q *Queue) Next() (time.Duration, bool) {
	if len(q.h) == 0 {
		return 0, false
	}
	return q.h[0].when, true
}

// Len returns the number of armed timers.
func (q *Queue) Len() int { return len(q.h) }

// Run fires, in order, every timer due at or before now, including timers
// that callbacks arm for times already due. It returns how many fired.
func (q *Queue) Run(now time.Duration) int {
	n := 0
	for len(q.h) > 0 && q.h[0].when <= now {
		t := heap.Pop(&q.h).(*Timer)
		t.fn()
		n++
	}
	return n
}

type timerHeap []*Timer

func (h timerHeap) Len() int { return len(h) }
func (h timerHeap) Less(i, j int) bool {
	if h[i].when != h[j].when {
		return h[i].when < h[j].when
	}
	return h[i].seq < h[j].seq
}
func (h timerHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index, h[j].index = i, j
}
func (h *timerHeap) Push(x any) {
	t := x.(*Timer)
	t.index = len(*h)
	*h = append(*h, t)
}
func (h *timerHeap) Pop() any {
	old := *h
	t := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	t.index = -1
	return t
}
