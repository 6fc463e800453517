package nic

import (
	"fmt"
	"sync"
	"sync/atomic"
)

// DriverHooks connect a DriverRing to the world: Notify signals the
// client's RxReady notification; Detached is called exactly once, with
// the reason, when the ring stops serving the client (a protocol error,
// or Detach), after FlagDetached is set and before Notify wakes the
// client. Either may be nil.
type DriverHooks struct {
	Notify   func()
	Detached func(reason error)
}

// DriverRing is the driver's end of a client's rings: it consumes the
// transmit ring and produces into the receive ring. Drain is called by one
// goroutine and Deliver by one (possibly another); Detach and Err from
// any.
//
// Nothing read from the shared memory is trusted: the driver's own indices
// (transmit tail, receive head) live in Go memory and are only copied out
// for the client, and every client index and length is checked before it
// is used. A client that breaks the protocol detaches itself.
type DriverRing struct {
	sh    shared
	hooks DriverHooks

	txTail  uint32         // Drain's goroutine only
	scratch [MaxFrame]byte // Drain's copy of a frame, out of the client's reach
	rxHead  uint32         // Deliver's goroutine only

	dead atomic.Bool
	mu   sync.Mutex
	err  error // why the ring is dead; set once, under mu
}

// NewDriverRing initialises mem (MemSize(slots) bytes or more, zeroed or
// not) as empty rings of slots slots and returns the driver's end.
func NewDriverRing(mem []byte, slots uint32, hooks DriverHooks) (*DriverRing, error) {
	return newDriverRing(mem, slots, hooks, 0)
}

// newDriverRing starts every index at start (tests start near 2^32).
func newDriverRing(mem []byte, slots uint32, hooks DriverHooks, start uint32) (*DriverRing, error) {
	sh, err := newShared(mem, slots)
	if err != nil {
		return nil, err
	}
	for _, off := range []int{OffTxHead, OffTxTail, OffRxHead, OffRxTail} {
		sh.store(off, start)
	}
	sh.store(OffFlags, 0)
	sh.store(OffSlots, slots)
	return &DriverRing{sh: sh, hooks: hooks, txTail: start, rxHead: start}, nil
}

// Slots returns the number of slots per ring.
func (r *DriverRing) Slots() uint32 { return r.sh.slots }

// Err returns why the ring was detached, or nil while it serves.
func (r *DriverRing) Err() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.err
}

// Detach stops serving the client: FlagDetached is set, the Detached hook
// called and the client notified. Later calls return reason (the first
// one given). Detach of a detached ring does nothing.
func (r *DriverRing) Detach(reason error) {
	r.mu.Lock()
	if r.err != nil {
		r.mu.Unlock()
		return
	}
	r.err = reason
	r.dead.Store(true)
	r.mu.Unlock()
	r.sh.store(OffFlags, FlagDetached)
	if r.hooks.Detached != nil {
		r.hooks.Detached(reason)
	}
	r.notify()
}

func (r *DriverRing) notify() {
	if r.hooks.Notify != nil {
		r.hooks.Notify()
	}
}

func (r *DriverRing) violation(format string, args ...any) error {
	err := fmt.Errorf("%w: "+format, append([]any{ErrProtocol}, args...)...)
	r.Detach(err)
	return r.Err()
}

// Drain consumes the frames the client has put in the transmit ring,
// calling send with each, in order. The frame is a copy the driver owns,
// valid only during the call. A frame's slot is given back to the client
// once send returns, whatever it returned; an error from send stops
// Drain, which returns it. Drain returns the number of frames consumed.
//
// A transmit head more than Slots ahead of the tail, or a frame length
// outside MinFrame-MaxFrame, detaches the client: Drain returns an error
// wrapping ErrProtocol, the offending frame and any after it are dropped.
func (r *DriverRing) Drain(send func(frame []byte) error) (int, error) {
	n := 0
	for {
		if r.dead.Load() {
			return n, r.Err()
		}
		head := r.sh.load(OffTxHead)
		pending := head - r.txTail
		if pending > r.sh.slots {
			return n, r.violation("transmit head %d is %d frames ahead of tail %d (ring of %d)", head, pending, r.txTail, r.sh.slots)
		}
		if pending == 0 {
			return n, nil
		}
		for ; pending > 0; pending-- {
			slot := r.sh.txSlot(r.txTail)
			size := frameLen(slot)
			if !validLen(size) {
				return n, r.violation("transmit frame %d has length %d", r.txTail, size)
			}
			frame := r.scratch[:size]
			copy(frame, slot[SlotHeader:SlotHeader+size])
			err := send(frame)
			r.txTail++
			n++
			r.sh.store(OffTxTail, r.txTail)
			if err != nil {
				return n, err
			}
		}
	}
}

// Deliver puts a received frame in the client's receive ring and
// notifies it. A full ring drops the frame (ErrFull); a detached ring
// returns why it was detached; a receive tail that has run past the head
// or fallen more than Slots behind it is a protocol error, which detaches
// the client.
func (r *DriverRing) Deliver(frame []byte) error {
	if r.dead.Load() {
		return r.Err()
	}
	if !validLen(len(frame)) {
		return fmt.Errorf("nic: received frame of %d bytes: %w", len(frame), ErrFrameSize)
	}
	tail := r.sh.load(OffRxTail)
	used := r.rxHead - tail
	if used > r.sh.slots {
		return r.violation("receive tail %d is not within %d frames behind head %d", tail, r.sh.slots, r.rxHead)
	}
	if used == r.sh.slots {
		return ErrFull
	}
	putFrame(r.sh.rxSlot(r.rxHead), frame)
	r.rxHead++
	r.sh.store(OffRxHead, r.rxHead)
	r.notify()
	return nil
}
