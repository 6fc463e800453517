package nic

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"valence.dev/ipc/rpc"
)

// cancelBit is what a Conn signals its own RxReady with when a Receive's
// context ends, probeBit when it is time to check that the driver lives;
// the driver signals only ReadyBit.
const (
	cancelBit = 1 << 63
	probeBit  = 1 << 62
)

// probeInterval is how long a Receive waits for a frame before asking
// the driver whether it is still there: a driver that died signals
// nothing, and on a quiet link its client would otherwise wait for ever.
// Asking (Info) fails at once with the transport's error when the
// driver's endpoint is gone.
const probeInterval = 2 * time.Second

// Conn is an attached client of a NIC driver: the rings and both
// notifications. Send and Receive may be called from different
// goroutines (each is serialised with itself).
type Conn struct {
	t     rpc.Transport
	k     Kernel
	rx    Notification // own RxReady
	tx    Notification // the driver's TxReady (signal only)
	unmap func()
	slots uint32

	txMu sync.Mutex
	rxMu sync.Mutex
	ring *ClientRing // its transmit half under txMu, receive half under rxMu

	closeOnce sync.Once
}

// Dial attaches to the NIC driver served over t (a devreg.Lookup of
// "net0", as a libos.Endpoint), replacing its current client.
func Dial(ctx context.Context, t rpc.Transport) (*Conn, error) {
	return DialKernel(ctx, t, LibOS{})
}

// DialKernel is Dial with the OS calls of k (tests use nictest's).
func DialKernel(ctx context.Context, t rpc.Transport, k Kernel) (*Conn, error) {
	rx, give, err := k.NewNotification()
	if err != nil {
		return nil, err
	}
	rep, err := rpc.Call(ctx, t, Attach, AttachRequest{RxReady: give})
	if err != nil {
		rx.Close()
		return nil, err
	}
	c := &Conn{t: t, k: k, rx: rx, slots: rep.Slots}
	mem, unmap, err := k.Map(rep.Mem)
	if err != nil {
		k.Close(rep.TxReady)
		rx.Close()
		return nil, err
	}
	c.unmap = unmap
	if c.tx, err = k.Adopt(rep.TxReady); err != nil {
		unmap()
		rx.Close()
		return nil, err
	}
	c.ring, err = NewClientRing(mem, rep.Slots, func() { c.tx.Signal(ReadyBit) })
	if err != nil {
		c.release()
		return nil, err
	}
	return c, nil
}

// Slots returns the number of slots in each ring.
func (c *Conn) Slots() uint32 { return c.slots }

// Info asks the driver for the MAC address, MTU and link state.
func (c *Conn) Info(ctx context.Context) (LinkInfo, error) {
	return rpc.Call(ctx, c.t, Info, Empty{})
}

// Stats asks the driver for its frame counters.
func (c *Conn) Stats(ctx context.Context) (Counters, error) {
	return rpc.Call(ctx, c.t, Stats, Empty{})
}

// Send queues one frame (MinFrame to MaxFrame bytes, no FCS) for
// transmission and returns at once: ErrFull if the transmit ring is full,
// ErrDetached if the driver no longer serves this Conn.
func (c *Conn) Send(frame []byte) error {
	c.txMu.Lock()
	defer c.txMu.Unlock()
	return c.ring.Send(frame)
}

// SendWait is Send, retrying while the ring is full until ctx is done.
func (c *Conn) SendWait(ctx context.Context, frame []byte) error {
	for wait := 50 * time.Microsecond; ; wait = min(2*wait, 10*time.Millisecond) {
		err := c.Send(frame)
		if !errors.Is(err, ErrFull) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// Receive returns the next frame received, waiting until one arrives, ctx
// is done, or the driver detaches this Conn (ErrDetached).
func (c *Conn) Receive(ctx context.Context) ([]byte, error) {
	c.rxMu.Lock()
	defer c.rxMu.Unlock()
	stop := context.AfterFunc(ctx, func() { c.rx.Signal(cancelBit) })
	defer stop()
	var probe *time.Timer // armed only once Receive has to wait, not per frame
	defer func() {
		if probe != nil {
			probe.Stop()
		}
	}()
	for {
		frame, err := c.ring.Receive()
		if frame != nil || err != nil {
			return frame, err
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if probe == nil {
			probe = time.AfterFunc(probeInterval, func() { c.rx.Signal(probeBit) })
		}
		bits, err := c.rx.Wait()
		if err != nil {
			return nil, err
		}
		if bits&probeBit != 0 {
			if _, err := c.Info(ctx); err != nil {
				if ctx.Err() != nil {
					return nil, ctx.Err()
				}
				return nil, fmt.Errorf("nic: the driver does not answer: %w", err)
			}
			probe.Reset(probeInterval)
		}
	}
}

// Close detaches from the driver (if still attached) and releases the
// rings and notifications. Send and Receive must not be running or be
// called afterwards.
func (c *Conn) Close(ctx context.Context) error {
	var err error
	c.closeOnce.Do(func() {
		if !c.ring.Detached() {
			_, err = rpc.Call(ctx, c.t, Detach, Empty{})
		}
		c.release()
	})
	return err
}

func (c *Conn) release() {
	c.unmap()
	c.rx.Close()
	c.tx.Close()
}
