package stack

import (
	"sync/atomic"

	"valence.dev/servers/net/ethernet"
	"valence.dev/servers/net/link"
)

// asyncLink moves device writes to a goroutine of their own, so the loop
// goroutine builds the next frame while the kernel takes the previous one
// (on a TAP the write system call is where Linux receives the packet, which
// is most of the cost of a frame). The queue is bounded: when it is full,
// WriteFrame waits, as a synchronous write would have.
type asyncLink struct {
	dev    link.Device
	q      chan []byte
	free   chan []byte
	errors atomic.Uint64
}

func newAsyncLink(dev link.Device) *asyncLink {
	return &asyncLink{dev: dev, q: make(chan []byte, 256), free: make(chan []byte, 256)}
}

func (a *asyncLink) MTU() int { return a.dev.MTU() }

func (a *asyncLink) WriteFrame(f []byte) error {
	var b []byte
	select {
	case b = <-a.free:
	default:
		b = make([]byte, 0, ethernet.HeaderLen+a.dev.MTU()+64)
	}
	a.q <- append(b[:0], f...)
	return nil
}

// run writes queued frames until the queue is closed.
func (a *asyncLink) run() {
	for b := range a.q {
		if err := a.dev.WriteFrame(b); err != nil {
			a.errors.Add(1)
		}
		select {
		case a.free <- b:
		default:
		}
	}
}
