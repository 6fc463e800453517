package link

import (
	"errors"
	"sync"
)

// Pipe is one end of an in-memory, real-time link: a Device whose frames
// go to the other end through a buffered channel. It lets two stacks, each
// on its own stack.Loop, talk inside one process without root (the
// netconn tests use it). A full channel drops the frame, as a full NIC
// ring would.
type Pipe struct {
	mtu    int
	out    chan<- []byte
	in     <-chan []byte
	closed chan struct{}
	once   sync.Once
	peer   *Pipe
}

// NewPipe returns the two ends of a link with the given MTU.
func NewPipe(mtu int) (*Pipe, *Pipe) {
	ab, ba := make(chan []byte, 1024), make(chan []byte, 1024)
	a := &Pipe{mtu: mtu, out: ab, in: ba, closed: make(chan struct{})}
	b := &Pipe{mtu: mtu, out: ba, in: ab, closed: make(chan struct{})}
	a.peer, b.peer = b, a
	return a, b
}

// ErrPipeClosed is returned after Close.
var ErrPipeClosed = errors.New("link: pipe closed")

// MTU implements Endpoint.
func (p *Pipe) MTU() int { return p.mtu }

// WriteFrame implements Endpoint.
func (p *Pipe) WriteFrame(frame []byte) error {
	select {
	case <-p.closed:
		return ErrPipeClosed
	case <-p.peer.closed:
		return nil // the cable is unplugged at the far end
	default:
	}
	select {
	case p.out <- append([]byte(nil), frame...):
	default: // full: drop
	}
	return nil
}

// ReadFrame implements Device.
func (p *Pipe) ReadFrame(b []byte) (int, error) {
	select {
	case f := <-p.in:
		return copy(b, f), nil
	case <-p.closed:
		return 0, ErrPipeClosed
	}
}

// Close implements Device.
func (p *Pipe) Close() error {
	p.once.Do(func() { close(p.closed) })
	return nil
}
