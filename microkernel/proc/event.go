package proc

import "sync"

// event is a broadcast condition for goroutines: Wait returns a channel
// that is closed at the next Signal. A waiter takes the channel, checks its
// condition, and then blocks on the channel, so no Signal between the check
// and the block is lost.
type event struct {
	mu sync.Mutex
	ch chan struct{}
}

func newEvent() *event { return &event{ch: make(chan struct{})} }

// Wait returns the channel the next Signal closes.
func (e *event) Wait() <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.ch
}

// Signal wakes every current waiter.
func (e *event) Signal() {
	e.mu.Lock()
	close(e.ch)
	e.ch = make(chan struct{})
	e.mu.Unlock()
}
