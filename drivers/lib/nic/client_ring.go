package nic

import "fmt"

// ClientRing is the client's end of the rings: it produces into the
// transmit ring and consumes the receive ring. It is not safe for
// concurrent use (Conn serialises it). It checks what the driver writes
// as the driver checks the client, so a broken driver costs an error,
// never an out-of-range access.
type ClientRing struct {
	sh     shared
	notify func()
	txHead uint32 // the client's own indices, copied out for the driver
	rxTail uint32
	err    error // sticky ErrProtocol
}

// NewClientRing returns the client's end of rings of slots slots in mem,
// which the driver initialised (AttachReply.Slots; the memory of
// AttachReply.Mem, mapped). notify signals the driver's TxReady.
func NewClientRing(mem []byte, slots uint32, notify func()) (*ClientRing, error) {
	sh, err := newShared(mem, slots)
	if err != nil {
		return nil, err
	}
	if got := sh.load(OffSlots); got != slots {
		return nil, fmt.Errorf("%w: ring memory says %d slots, the reply %d", ErrProtocol, got, slots)
	}
	if notify == nil {
		notify = func() {}
	}
	return &ClientRing{sh: sh, notify: notify, txHead: sh.load(OffTxHead), rxTail: sh.load(OffRxTail)}, nil
}

// Detached reports whether the driver has stopped serving these rings.
func (c *ClientRing) Detached() bool { return c.sh.load(OffFlags)&FlagDetached != 0 }

func (c *ClientRing) broken(format string, args ...any) error {
	c.err = fmt.Errorf("%w: driver: "+format, append([]any{ErrProtocol}, args...)...)
	return c.err
}

// Send copies frame into the transmit ring and signals the driver. It
// returns ErrFull when all Slots are in use, ErrDetached once the driver
// has detached the client.
func (c *ClientRing) Send(frame []byte) error {
	if c.err != nil {
		return c.err
	}
	if !validLen(len(frame)) {
		return fmt.Errorf("nic: frame of %d bytes: %w", len(frame), ErrFrameSize)
	}
	if c.Detached() {
		return ErrDetached
	}
	tail := c.sh.load(OffTxTail)
	used := c.txHead - tail
	if used > c.sh.slots {
		return c.broken("transmit tail %d is not within %d frames behind head %d", tail, c.sh.slots, c.txHead)
	}
	if used == c.sh.slots {
		return ErrFull
	}
	putFrame(c.sh.txSlot(c.txHead), frame)
	c.txHead++
	c.sh.store(OffTxHead, c.txHead)
	c.notify()
	return nil
}

// Receive returns the next frame from the receive ring (a copy), or nil
// if there is none; after the last frame of a detached driver, it returns
// ErrDetached.
func (c *ClientRing) Receive() ([]byte, error) {
	if c.err != nil {
		return nil, c.err
	}
	head := c.sh.load(OffRxHead)
	avail := head - c.rxTail
	if avail > c.sh.slots {
		return nil, c.broken("receive head %d is %d frames ahead of tail %d", head, avail, c.rxTail)
	}
	if avail == 0 {
		if c.Detached() {
			return nil, ErrDetached
		}
		return nil, nil
	}
	slot := c.sh.rxSlot(c.rxTail)
	size := frameLen(slot)
	if !validLen(size) {
		return nil, c.broken("receive frame %d has length %d", c.rxTail, size)
	}
	frame := make([]byte, size)
	copy(frame, slot[SlotHeader:SlotHeader+size])
	c.rxTail++
	c.sh.store(OffRxTail, c.rxTail)
	return frame, nil
}
