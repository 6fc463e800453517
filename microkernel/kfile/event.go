package kfile

import "sync"

// Event is a broadcast condition for goroutines: Wait returns a channel
// that is closed at the next Signal. A waiter takes the channel, checks its
// condition, and then blocks on the channel, so no Signal between the check
// and the block is lost.
type Event struct {
	mu  sync.Mutex
	ch  chan struct{}
	seq uint64 // number of Signals so far: edge-triggered epoll compares it
}

// NewEvent returns an event nobody has signalled yet.
func NewEvent() *Event { return &Event{ch: make(chan struct{})} }

// Wait returns the channel the next Signal closes.
func (e *Event) Wait() <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.ch
}

// Signal wakes every current waiter.
func (e *Event) Signal() {
	e.mu.Lock()
	close(e.ch)
	e.ch = make(chan struct{})
	e.seq++
	e.mu.Unlock()
}

// Seq returns how many times the event was signalled.
func (e *Event) Seq() uint64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.seq
}
