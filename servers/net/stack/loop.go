package stack

import (
	"context"
	"errors"
	"sync"
	"time"

	"valence.dev/servers/net/ethernet"
	"valence.dev/servers/net/link"
)

// Loop drives a Stack in real time on a link.Device: it is the event loop.
// One goroutine (Run) owns the stack and waits for the next event — a frame
// from the device, a request from another goroutine, or the next timer —
// and handles it to completion before taking the next. A second goroutine
// only reads frames from the device, because a device read blocks.
//
// Other goroutines reach the stack only through Do, which runs a function
// on the loop and waits for it. Socket calls made inside Do never block;
// whoever wants blocking behaviour waits outside the loop for a readiness
// notification (package netconn does exactly that).
type Loop struct {
	s      *Stack
	dev    link.Device
	reqs   chan *request
	frames chan []byte
	free   chan []byte
	stop   chan struct{}
	once   sync.Once
	done   chan struct{}
	err    error
	pool   sync.Pool
	async  *asyncLink
}

type request struct {
	fn   func(*Stack)
	done chan struct{}
}

// ErrLoopStopped is returned by Do after the loop has ended.
var ErrLoopStopped = errors.New("stack: event loop stopped")

// NewLoop returns a loop for s on dev; s must send through dev.
func NewLoop(s *Stack, dev link.Device) *Loop {
	l := &Loop{
		s:      s,
		dev:    dev,
		reqs:   make(chan *request, 64),
		frames: make(chan []byte, 512),
		free:   make(chan []byte, 1024),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	l.pool.New = func() any { return &request{done: make(chan struct{}, 1)} }
	if s.link == link.Endpoint(dev) {
		l.async = newAsyncLink(dev)
		s.link = l.async
	}
	return l
}

// Stack returns the stack; use it only inside Do.
func (l *Loop) Stack() *Stack { return l.s }

// Run runs the loop until ctx ends, Stop is called, or the device fails.
// It closes the device on the way out.
func (l *Loop) Run(ctx context.Context) error {
	defer close(l.done)
	if l.async != nil {
		go l.async.run()
		defer close(l.async.q)
	}
	readErr := make(chan error, 1)
	go l.read(readErr)
	defer l.dev.Close()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	armed := time.Duration(-1)
	for {
		if next, ok := l.s.NextTimer(); ok && next != armed {
			timer.Reset(max(next-l.s.Now(), 0))
			armed = next
		}
		select {
		case f := <-l.frames:
			l.handle(f)
			// Drain what else is waiting before looking at timers again.
		drain:
			for i := 0; i < 64; i++ {
				select {
				case f := <-l.frames:
					l.handle(f)
				default:
					break drain
				}
			}
			l.s.Flush()
		case r := <-l.reqs:
			r.fn(l.s)
			l.s.Flush()
			r.done <- struct{}{}
		case <-timer.C:
			armed = -1
			l.s.RunTimers()
		case err := <-readErr:
			l.err = err
			return err
		case <-l.stop:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (l *Loop) handle(f []byte) {
	l.s.handleFrame(f)
	select {
	case l.free <- f[:cap(f)]:
	default:
	}
}

// read is the device reader goroutine.
func (l *Loop) read(errc chan<- error) {
	size := ethernet.HeaderLen + l.dev.MTU() + 64
	for {
		var b []byte
		select {
		case b = <-l.free:
		default:
			b = make([]byte, size)
		}
		n, err := l.dev.ReadFrame(b)
		if err != nil {
			select {
			case <-l.stop:
			default:
				errc <- err
			}
			return
		}
		select {
		case l.frames <- b[:n]:
		case <-l.stop:
			return
		case <-l.done:
			return
		}
	}
}

// Stop ends Run.
func (l *Loop) Stop() {
	l.once.Do(func() { close(l.stop) })
	<-l.done
}

// Done is closed when Run has returned.
func (l *Loop) Done() <-chan struct{} { return l.done }

// Do runs fn on the loop goroutine with the stack and waits for it to
// finish. Notifications that fn causes are delivered before Do returns.
func (l *Loop) Do(fn func(*Stack)) error {
	r := l.pool.Get().(*request)
	r.fn = fn
	select {
	case l.reqs <- r:
	case <-l.done:
		return ErrLoopStopped
	}
	select {
	case <-r.done:
		r.fn = nil
		l.pool.Put(r)
		return nil
	case <-l.done:
		return ErrLoopStopped
	}
}
