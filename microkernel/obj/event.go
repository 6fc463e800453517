package obj

import (
	"sync"
	"sync/atomic"
)

var lastID atomic.Uint64

// NewID returns a kernel-wide object ID (never 0, never reused).
func NewID() uint64 { return lastID.Add(1) }

// event is a broadcast wake-up: Wait returns a channel closed by the next
// Signal. Take the channel, check the condition, then block on it.
type event struct {
	mu sync.Mutex
	ch chan struct{}
}

func (e *event) Wait() <-chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.ch == nil {
		e.ch = make(chan struct{})
	}
	return e.ch
}

func (e *event) Signal() {
	e.mu.Lock()
	if e.ch != nil {
		close(e.ch)
		e.ch = nil
	}
	e.mu.Unlock()
}
