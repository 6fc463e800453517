package main

import (
	"context"

	"valence.dev/drivers/lib/nic"
	"valence.dev/servers/net/link"
)

// nicDevice is the stack's link.Device over a NIC driver connection:
// frames move through the driver's shared rings.
type nicDevice struct {
	c      *nic.Conn
	ctx    context.Context
	cancel func()
	mtu    int
}

var _ link.Device = (*nicDevice)(nil)

func (d *nicDevice) MTU() int { return d.mtu }

// WriteFrame waits for room in the transmit ring (the loop's writer
// goroutine calls it, not the loop).
func (d *nicDevice) WriteFrame(f []byte) error { return d.c.SendWait(d.ctx, f) }

// Close ends a blocked ReadFrame.
func (d *nicDevice) Close() error { d.cancel(); return nil }

// ReadFrame blocks until the driver delivers a frame.
func (d *nicDevice) ReadFrame(b []byte) (int, error) {
	f, err := d.c.Receive(d.ctx)
	if err != nil {
		return 0, err
	}
	return copy(b, f), nil
}
