package obj

import "sync"

// Notification is a word of event bits.
type Notification struct {
	ID uint64

	mu    sync.Mutex
	bits  uint64
	ev    event
	bound *Endpoint
}

// NewNotification makes a notification with no bits set.
func NewNotification() *Notification { return &Notification{ID: NewID()} }

// Signal ORs bits into the word and wakes waiters (and the receivers of a
// bound endpoint).
func (n *Notification) Signal(bits uint64) {
	if bits == 0 {
		return
	}
	n.mu.Lock()
	n.bits |= bits
	ep := n.bound
	n.mu.Unlock()
	n.ev.Signal()
	if ep != nil {
		ep.wake()
	}
}

func (n *Notification) take() uint64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	b := n.bits
	n.bits = 0
	return b
}

// Wait returns the bits and clears them, blocking while none are set.
func (n *Notification) Wait(intr <-chan struct{}, nonblock bool) (uint64, error) {
	for {
		wait := n.ev.Wait()
		if b := n.take(); b != 0 {
			return b, nil
		}
		if nonblock {
			return 0, ErrWouldBlock
		}
		select {
		case <-wait:
		case <-intr:
			return 0, ErrInterrupted
		}
	}
}

func (n *Notification) bind(e *Endpoint) {
	n.mu.Lock()
	n.bound = e
	n.mu.Unlock()
}

func (n *Notification) unbind(e *Endpoint) {
	n.mu.Lock()
	if n.bound == e {
		n.bound = nil
	}
	n.mu.Unlock()
}
