package netconn

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"valence.dev/servers/net/socket"
	"valence.dev/servers/net/stack"
	"valence.dev/servers/net/tcp"
)

// Conn is a TCP connection used from ordinary goroutines.
type Conn struct {
	loop      *stack.Loop
	c         *tcp.Conn
	readable  chan struct{}
	writable  chan struct{}
	closed    chan struct{}
	closeOnce sync.Once

	mu            sync.Mutex
	readDeadline  time.Time
	writeDeadline time.Time
}

func newConn(loop *stack.Loop, c *tcp.Conn) *Conn {
	nc := &Conn{loop: loop, c: c, readable: make(chan struct{}, 1), writable: make(chan struct{}, 1),
		closed: make(chan struct{})}
	c.SetNotify(func(socket.Events) {
		signal(nc.readable)
		signal(nc.writable)
	})
	return nc
}

func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// Dial connects to addr and waits for the handshake to finish.
func Dial(ctx context.Context, loop *stack.Loop, addr netip.AddrPort) (*Conn, error) {
	var nc *Conn
	var err error
	if e := loop.Do(func(s *stack.Stack) {
		var c *tcp.Conn
		if c, err = s.DialTCP(addr); err == nil {
			nc = newConn(loop, c)
		}
	}); e != nil {
		return nil, e
	}
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: "tcp", Addr: net.TCPAddrFromAddrPort(addr), Err: err}
	}
	for {
		var st tcp.State
		loop.Do(func(*stack.Stack) { st, err = nc.c.State(), nc.c.Err() })
		switch {
		case err != nil:
			nc.Close()
			return nil, &net.OpError{Op: "dial", Net: "tcp", Addr: net.TCPAddrFromAddrPort(addr), Err: err}
		case st == tcp.Established || st == tcp.CloseWait:
			return nc, nil
		}
		select {
		case <-nc.writable:
		case <-ctx.Done():
			nc.Close()
			return nil, ctx.Err()
		}
	}
}

// TCP returns the underlying connection; use it only inside loop.Do.
func (nc *Conn) TCP() *tcp.Conn { return nc.c }

// Read implements net.Conn.
func (nc *Conn) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	for {
		var n int
		var err error
		if e := nc.loop.Do(func(*stack.Stack) { n, err = nc.c.Read(b) }); e != nil {
			return 0, e
		}
		if !errors.Is(err, socket.ErrWouldBlock) {
			return n, err
		}
		if err := nc.wait(nc.readable, nc.deadline(&nc.readDeadline)); err != nil {
			return 0, err
		}
	}
}

// Write implements net.Conn: it returns when all of b is queued.
func (nc *Conn) Write(b []byte) (int, error) {
	total := 0
	for total < len(b) {
		var n int
		var err error
		if e := nc.loop.Do(func(*stack.Stack) { n, err = nc.c.Write(b[total:]) }); e != nil {
			return total, e
		}
		total += n
		if err == nil {
			continue
		}
		if !errors.Is(err, socket.ErrWouldBlock) {
			return total, err
		}
		if err := nc.wait(nc.writable, nc.deadline(&nc.writeDeadline)); err != nil {
			return total, err
		}
	}
	return total, nil
}

func (nc *Conn) deadline(d *time.Time) time.Time {
	nc.mu.Lock()
	defer nc.mu.Unlock()
	return *d
}

// wait blocks until ch has a token, the deadline passes or the Conn is
// closed.
func (nc *Conn) wait(ch chan struct{}, deadline time.Time) error {
	var timeout <-chan time.Time
	if !deadline.IsZero() {
		d := time.Until(deadline)
		if d <= 0 {
			return os.ErrDeadlineExceeded
		}
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-ch:
		return nil
	case <-timeout:
		return os.ErrDeadlineExceeded
	case <-nc.closed:
		return net.ErrClosed
	case <-nc.loop.Done():
		return stack.ErrLoopStopped
	}
}

// Close implements net.Conn: the connection closes in the background.
func (nc *Conn) Close() error {
	nc.closeOnce.Do(func() {
		close(nc.closed)
		nc.loop.Do(func(*stack.Stack) { nc.c.Close() })
	})
	return nil
}

// CloseWrite sends a FIN after the queued data.
func (nc *Conn) CloseWrite() error {
	var err error
	nc.loop.Do(func(*stack.Stack) { err = nc.c.CloseWrite() })
	return err
}

// Abort resets the connection.
func (nc *Conn) Abort() {
	nc.closeOnce.Do(func() {
		close(nc.closed)
		nc.loop.Do(func(*stack.Stack) { nc.c.Abort(); nc.c.Close() })
	})
}

// LocalAddr implements net.Conn.
func (nc *Conn) LocalAddr() net.Addr { return net.TCPAddrFromAddrPort(nc.c.ID().Local) }

// RemoteAddr implements net.Conn.
func (nc *Conn) RemoteAddr() net.Addr { return net.TCPAddrFromAddrPort(nc.c.ID().Remote) }

// SetDeadline implements net.Conn.
func (nc *Conn) SetDeadline(t time.Time) error {
	nc.SetReadDeadline(t)
	return nc.SetWriteDeadline(t)
}

// SetReadDeadline implements net.Conn.
func (nc *Conn) SetReadDeadline(t time.Time) error {
	nc.mu.Lock()
	nc.readDeadline = t
	nc.mu.Unlock()
	signal(nc.readable) // let a waiting Read see the new deadline
	return nil
}

// SetWriteDeadline implements net.Conn.
func (nc *Conn) SetWriteDeadline(t time.Time) error {
	nc.mu.Lock()
	nc.writeDeadline = t
	nc.mu.Unlock()
	signal(nc.writable)
	return nil
}

// Listener accepts TCP connections on a port.
type Listener struct {
	loop      *stack.Loop
	l         *tcp.Listener
	ready     chan struct{}
	closed    chan struct{}
	closeOnce sync.Once
}

// Listen listens on port.
func Listen(loop *stack.Loop, port uint16, backlog int) (*Listener, error) {
	nl := &Listener{loop: loop, ready: make(chan struct{}, 1), closed: make(chan struct{})}
	var err error
	if e := loop.Do(func(s *stack.Stack) {
		if nl.l, err = s.ListenTCP(port, backlog); err == nil {
			nl.l.SetNotify(func(socket.Events) { signal(nl.ready) })
		}
	}); e != nil {
		return nil, e
	}
	if err != nil {
		return nil, err
	}
	return nl, nil
}

// Accept implements net.Listener.
func (nl *Listener) Accept() (net.Conn, error) {
	for {
		var c *tcp.Conn
		var err error
		var nc *Conn
		if e := nl.loop.Do(func(*stack.Stack) {
			if c, err = nl.l.Accept(); err == nil {
				nc = newConn(nl.loop, c)
			}
		}); e != nil {
			return nil, e
		}
		if err == nil {
			return nc, nil
		}
		if !errors.Is(err, socket.ErrWouldBlock) {
			return nil, err
		}
		select {
		case <-nl.ready:
		case <-nl.closed:
			return nil, net.ErrClosed
		case <-nl.loop.Done():
			return nil, stack.ErrLoopStopped
		}
	}
}

// Close implements net.Listener.
func (nl *Listener) Close() error {
	nl.closeOnce.Do(func() {
		close(nl.closed)
		nl.loop.Do(func(s *stack.Stack) { s.CloseListener(nl.l) })
	})
	return nil
}

// Addr implements net.Listener.
func (nl *Listener) Addr() net.Addr { return net.TCPAddrFromAddrPort(nl.l.Addr()) }
