package virtiotest

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// netHdrLen is struct virtio_net_hdr with VIRTIO_F_VERSION_1 (§5.1.6).
const netHdrLen = 12

// NetConfig returns a virtio-net device configuration (§5.1.4): mac,
// status, max_virtqueue_pairs 1, mtu 1500.
func NetConfig(mac [6]byte, status uint16) []byte {
	b := make([]byte, 12)
	copy(b, mac[:])
	binary.LittleEndian.PutUint16(b[6:], status)
	binary.LittleEndian.PutUint16(b[8:], 1)
	binary.LittleEndian.PutUint16(b[10:], 1500)
	return b
}

// Net is a virtio-net backend (§5.1): receiveq1 is queue 0, transmitq1
// queue 1. Transmitted frames are recorded and, with Loopback, received
// back. Frames arriving when the driver has no receive buffer wait.
type Net struct {
	Loopback bool

	dev     *Device
	rx      []*Chain // receive buffers taken from the driver
	pending [][]byte // frames waiting for a receive buffer
	sent    [][]byte
}

func (n *Net) attach(d *Device) { n.dev = d }

// Process implements Backend.
func (n *Net) Process(d *Device, q int) {
	switch q {
	case 0:
		for c := d.Pop(0); c != nil; c = d.Pop(0) {
			if len(c.Readable) > 0 {
				d.violate("net: receive buffer with device-readable descriptors")
			}
			n.rx = append(n.rx, c)
		}
	case 1:
		for c := d.Pop(1); c != nil; c = d.Pop(1) {
			n.transmit(d, c)
		}
	}
	n.deliver(d)
}

func (n *Net) transmit(d *Device, c *Chain) {
	pkt := c.Gather()
	if len(pkt) < netHdrLen {
		d.violate("net: transmit of %d bytes, shorter than virtio_net_hdr", len(pkt))
	} else {
		// §5.1.6.2: no offloads negotiated, so flags and gso_type are 0;
		// the driver sets num_buffers to 0.
		if !bytes.Equal(pkt[:netHdrLen], make([]byte, netHdrLen)) {
			d.violate("net: transmit header % x is not all zero", pkt[:netHdrLen])
		}
		frame := pkt[netHdrLen:]
		n.sent = append(n.sent, frame)
		if n.Loopback {
			n.pending = append(n.pending, frame)
		}
	}
	d.Push(c, 0)
}

// deliver puts pending frames into receive buffers (§5.1.6.4): the header
// with num_buffers 1, then the frame, in one buffer (no MRG_RXBUF).
func (n *Net) deliver(d *Device) {
	for len(n.pending) > 0 && len(n.rx) > 0 && d.live() {
		frame, c := n.pending[0], n.rx[0]
		n.pending, n.rx = n.pending[1:], n.rx[1:]
		pkt := make([]byte, netHdrLen+len(frame))
		binary.LittleEndian.PutUint16(pkt[10:], 1)
		copy(pkt[netHdrLen:], frame)
		if c.WritableLen() < len(pkt) {
			d.violate("net: receive buffer of %d bytes for a %d-byte frame", c.WritableLen(), len(frame))
			d.Push(c, 0)
			continue
		}
		d.Push(c, uint32(c.Scatter(pkt)))
	}
}

// Reset implements Backend.
func (n *Net) Reset() { n.rx, n.pending = nil, nil }

// Deliver makes frame arrive from the wire.
func (n *Net) Deliver(frame []byte) {
	n.dev.mu.Lock()
	defer n.dev.mu.Unlock()
	n.pending = append(n.pending, bytes.Clone(frame))
	n.deliver(n.dev)
}

// Sent returns copies of the frames transmitted so far.
func (n *Net) Sent() [][]byte {
	n.dev.mu.Lock()
	defer n.dev.mu.Unlock()
	out := make([][]byte, len(n.sent))
	for i, f := range n.sent {
		out[i] = bytes.Clone(f)
	}
	return out
}

// RxBuffers returns the number of receive buffers the device holds.
func (n *Net) RxBuffers() int {
	n.dev.mu.Lock()
	defer n.dev.mu.Unlock()
	return len(n.rx)
}

func (n *Net) String() string { return fmt.Sprintf("net(loopback=%v)", n.Loopback) }
