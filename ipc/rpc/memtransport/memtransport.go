package memtransport

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"syscall"

	"valence.dev/ipc"
	"valence.dev/ipc/rpc"
)

// ErrClosed is what the server end's own operations return after Close.
var ErrClosed = errors.New("memtransport: endpoint closed")

// Server is the receiving end of an in-memory endpoint. It implements
// rpc.ServerTransport.
type Server struct {
	calls  chan *call    // unbuffered: a send is a handover to a receiver
	notify chan struct{} // buffered 1: bits are pending
	closed chan struct{} // closed by Close
	close  sync.Once

	mu      sync.Mutex
	waiting map[rpc.ReplyTo]*call // received calls awaiting a reply
	next    rpc.ReplyTo           // last token issued; 0 is never issued
	bits    uint64                // notification bits not yet received
}

// Client is a calling end of an in-memory endpoint. It implements
// rpc.Transport.
type Client struct {
	s     *Server
	badge uint64
}

// call is one call from its handover to its reply.
type call struct {
	badge uint64
	done  chan struct{} // closed when rep holds the reply

	mu       sync.Mutex
	req, rep *ipc.Message // the caller's; only while !gone
	gone     bool         // the caller stopped waiting
	replied  bool
}

// New returns a connected pair: a server end and a client end with
// badge 0. Server.Client makes more client ends.
func New() (*Client, *Server) {
	s := &Server{
		calls:   make(chan *call),
		notify:  make(chan struct{}, 1),
		closed:  make(chan struct{}),
		waiting: make(map[rpc.ReplyTo]*call),
	}
	return s.Client(0), s
}

// Client returns another client end of s whose calls carry badge, as
// a capability minted with that badge would.
func (s *Server) Client(badge uint64) *Client {
	return &Client{s: s, badge: badge}
}

// Call sends req and waits for the reply in rep. It fails with
// syscall.EOWNERDEAD if the server end is or gets closed before it
// replies, with ctx.Err() if ctx ends first, and with syscall.EMSGSIZE
// if req is over the limits.
func (c *Client) Call(ctx context.Context, req, rep *ipc.Message) error {
	if err := checkLimits(req); err != nil {
		return err
	}
	s := c.s
	// Checked first so that a ready receiver does not win the select
	// below: a dead server takes no calls, nor does a done context.
	select {
	case <-s.closed:
		return syscall.EOWNERDEAD
	default:
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	cl := &call{badge: c.badge, done: make(chan struct{}), req: req, rep: rep}
	select {
	case s.calls <- cl:
	case <-ctx.Done():
		return ctx.Err()
	case <-s.closed:
		return syscall.EOWNERDEAD
	}
	select {
	case <-cl.done:
		return nil
	case <-ctx.Done():
		return cl.abandon(ctx.Err())
	case <-s.closed:
		return cl.abandon(syscall.EOWNERDEAD)
	}
}

// abandon stops waiting for the reply and returns err, unless the reply
// arrived meanwhile, in which case the call succeeded.
func (cl *call) abandon(err error) error {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if cl.replied {
		return nil
	}
	cl.gone = true
	cl.req, cl.rep = nil, nil
	return err
}

// Receive blocks for the next call or notification and copies it into m.
// After Close it fails with ErrClosed.
func (s *Server) Receive(ctx context.Context, m *ipc.Message) (rpc.ReplyTo, error) {
	for {
		select {
		case <-s.closed:
			return 0, ErrClosed
		default:
		}
		select {
		case cl := <-s.calls:
			if to, ok := s.accept(cl, m); ok {
				return to, nil
			}
		case <-s.notify:
			if bits := s.takeBits(); bits != 0 {
				m.Header = ipc.Header{Label: bits, Flags: ipc.MsgNotification}
				return 0, nil
			}
		case <-ctx.Done():
			return 0, ctx.Err()
		case <-s.closed:
			return 0, ErrClosed
		}
	}
}

// accept copies a handed-over call into m and records it as awaiting a
// reply. It reports false if the caller already gave up.
func (s *Server) accept(cl *call, m *ipc.Message) (rpc.ReplyTo, bool) {
	cl.mu.Lock()
	if cl.gone {
		cl.mu.Unlock()
		return 0, false
	}
	copyMessage(m, cl.req)
	cl.mu.Unlock()
	m.Badge = cl.badge
	m.Flags = 0

	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	s.waiting[s.next] = cl
	return s.next, true
}

// Reply copies m to the caller named by to and wakes it. It fails with
// syscall.EOWNERDEAD if that caller stopped waiting, syscall.EINVAL if to
// names no caller awaiting a reply (never issued, or already answered),
// syscall.EMSGSIZE if m is over the limits (the caller keeps waiting),
// and ErrClosed after Close.
func (s *Server) Reply(to rpc.ReplyTo, m *ipc.Message) error {
	if err := checkLimits(m); err != nil {
		return err
	}
	s.mu.Lock()
	cl, ok := s.waiting[to]
	delete(s.waiting, to)
	s.mu.Unlock()
	select {
	case <-s.closed:
		return ErrClosed
	default:
	}
	if !ok {
		return fmt.Errorf("memtransport: reply to %d: no such caller: %w", to, syscall.EINVAL)
	}
	cl.mu.Lock()
	defer cl.mu.Unlock()
	if cl.gone {
		return syscall.EOWNERDEAD
	}
	copyMessage(cl.rep, m)
	cl.replied = true
	close(cl.done)
	return nil
}

// Notify signals the endpoint's bound notification with bits: they are
// ORed into the pending bits, which the next Receive returns.
func (s *Server) Notify(bits uint64) {
	s.mu.Lock()
	s.bits |= bits
	s.mu.Unlock()
	select {
	case s.notify <- struct{}{}:
	default: // a wake-up is already pending; it will see these bits
	}
}

func (s *Server) takeBits() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	bits := s.bits
	s.bits = 0
	return bits
}

// Close kills the server end: callers blocked now or later fail with
// syscall.EOWNERDEAD, and Receive and Reply fail with ErrClosed. Closing
// twice is harmless.
func (s *Server) Close() error {
	s.close.Do(func() {
		close(s.closed)
		s.mu.Lock()
		clear(s.waiting)
		s.mu.Unlock()
	})
	return nil
}

// checkLimits rejects a message the kernel would refuse to copy.
func checkLimits(m *ipc.Message) error {
	if m.DataLen > ipc.MaxData || m.NHandles > ipc.MaxHandles {
		return syscall.EMSGSIZE
	}
	return nil
}

// copyMessage copies what the kernel would: the header and the valid
// data bytes.
func copyMessage(dst, src *ipc.Message) {
	dst.Header = src.Header
	copy(dst.Data[:src.DataLen], src.Data[:src.DataLen])
}
