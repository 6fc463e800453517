package netd

import (
	"context"
	"net/netip"
	"sync"
	"syscall"

	"valence.dev/ipc"
	"valence.dev/ipc/rpc"
	"valence.dev/servers/net/sockproto"
	"valence.dev/servers/net/stack"
)

// Loop runs functions on the goroutine that owns a stack: stack.Loop in
// the OS, a simulation driver in tests. Do runs fn, delivers the
// notifications it caused (Stack.Flush) and returns; it fails only when
// the loop has stopped.
type Loop interface {
	Do(fn func(*stack.Stack)) error
}

// SharedMemory allocates the buffers clients attach: memory the server
// uses as bytes and shares through a handle. In Valence it is a kernel
// memory object (package osmem); hosted tests fake it.
type SharedMemory interface {
	Alloc(size uint64) (*Shared, error)
	Free(s *Shared)
}

// Shared is one shared buffer.
type Shared struct {
	Bytes  []byte
	Handle ipc.Handle
}

// Options bound what clients may hold and name the interface. Zero values
// take the defaults.
type Options struct {
	Interface           string // the link's name in Status (default "eth0")
	MaxClients          int    // badges holding sockets or buffers: ENFILE beyond (default 1024)
	MaxSocketsPerClient int    // EMFILE beyond (default 4096)
	MaxSockets          int    // sockets of all clients: ENFILE beyond (default 16384)
	// MaxBufferBytesPerClient bounds the socket buffers a client's
	// sockets hold (a TCP socket counts its send and receive buffers, a
	// UDP socket its receive queue): ENOMEM beyond (default 1 GiB).
	MaxBufferBytesPerClient int64
	MaxSharedBytes          uint64 // bytes of all shared buffers: ENOMEM beyond (default 256 MiB)
	MaxBacklog              int    // listen(2) backlogs are cut to this (default 128)
	// Memory allocates shared buffers; without it Attach fails with
	// EOPNOTSUPP and data travels inline only.
	Memory SharedMemory
}

func (o Options) withDefaults() Options {
	if o.Interface == "" {
		o.Interface = "eth0"
	}
	if o.MaxClients <= 0 {
		o.MaxClients = 1024
	}
	if o.MaxSocketsPerClient <= 0 {
		o.MaxSocketsPerClient = 4096
	}
	if o.MaxSockets <= 0 {
		o.MaxSockets = 16384
	}
	if o.MaxBufferBytesPerClient <= 0 {
		o.MaxBufferBytesPerClient = 1 << 30
	}
	if o.MaxSharedBytes == 0 {
		o.MaxSharedBytes = 256 << 20
	}
	if o.MaxBacklog <= 0 {
		o.MaxBacklog = 128
	}
	return o
}

// Server serves the socket protocol on one stack. It implements
// sockproto.Handler. Every field below loop is owned by the loop
// goroutine: handlers reach it only through do.
type Server struct {
	loop Loop
	opts Options

	mu  sync.Mutex // guards dns and linkUp, set from outside the loop
	dns []netip.Addr
	up  bool

	// Owned by the loop.
	clients  map[uint64]*client
	nsocks   int               // sockets of all clients
	shared   uint64            // bytes of all shared buffers
	tcpBound map[uint16]*sock  // TCP ports held by a bind, listen or bound connect
	stopped  bool              // Stop ran: everything refused
	socks    map[*sock]*client // every socket, for Status
}

var _ sockproto.Handler = (*Server)(nil)

// New returns a server for the stack that loop runs.
func New(loop Loop, o Options) *Server {
	return &Server{
		loop:     loop,
		opts:     o.withDefaults(),
		up:       true,
		clients:  make(map[uint64]*client),
		tcpBound: make(map[uint16]*sock),
		socks:    make(map[*sock]*client),
	}
}

// RPC returns the rpc.Server to Serve on netd's endpoint.
func (s *Server) RPC() *rpc.Server { return sockproto.NewServer(s) }

// SetDNS records the DNS servers that Status reports (from DHCP or the
// static configuration). Safe from any goroutine, the loop's included.
func (s *Server) SetDNS(dns []netip.Addr) {
	s.mu.Lock()
	s.dns = append([]netip.Addr(nil), dns...)
	s.mu.Unlock()
}

// SetLinkUp records the link state that Status reports (IFF_RUNNING).
func (s *Server) SetLinkUp(up bool) {
	s.mu.Lock()
	s.up = up
	s.mu.Unlock()
}

// Stop closes every client's sockets and frees the buffers; later
// calls fail with ENETDOWN and waiting Waits end.
func (s *Server) Stop() {
	_ = s.loop.Do(func(st *stack.Stack) {
		for badge := range s.clients {
			s.forget(st, badge)
		}
		s.stopped = true
	})
}

// errStopped answers calls after Stop or once the loop has ended.
var errStopped = &rpc.Error{Code: int32(syscall.ENETDOWN), Msg: "netd: stopped"}

// do runs fn on the loop and returns its error.
func (s *Server) do(fn func(st *stack.Stack) error) error {
	var err error
	if e := s.loop.Do(func(st *stack.Stack) {
		if s.stopped {
			err = errStopped
			return
		}
		err = fn(st)
	}); e != nil {
		return errStopped
	}
	return err
}

// withSock runs fn on the loop with badge's socket id, or fails with
// EBADF. After fn, a change of the socket's readiness that fn caused is
// recorded for Wait.
func (s *Server) withSock(badge uint64, id uint32, fn func(st *stack.Stack, c *client, so *sock) error) error {
	return s.do(func(st *stack.Stack) error {
		c := s.clients[badge]
		if c == nil {
			return sockproto.ErrBadSock
		}
		so := c.socks[id]
		if so == nil {
			return sockproto.ErrBadSock
		}
		err := fn(st, c, so)
		if !so.closed {
			c.recheck(so)
		}
		return err
	})
}

// clientFor returns badge's client, making it if create is set.
func (s *Server) clientFor(badge uint64, create bool) (*client, error) {
	if c := s.clients[badge]; c != nil || !create {
		return c, nil
	}
	if len(s.clients) >= s.opts.MaxClients {
		return nil, errno(syscall.ENFILE, "too many clients")
	}
	c := newClient()
	s.clients[badge] = c
	return c, nil
}

// dropIfIdle forgets a client that holds nothing and waits for nothing,
// so that clients that come and go do not accumulate.
func (s *Server) dropIfIdle(badge uint64) {
	if c := s.clients[badge]; c != nil && len(c.socks) == 0 && len(c.bufs) == 0 && c.waiting == 0 {
		delete(s.clients, badge)
	}
}

// Forget implements sockproto.Handler: the client is gone. Its sockets
// close as close(2) would close them (connections finish sending and
// end with a FIN, or a reset if unread data is dropped), its buffers are
// freed, and a Wait it left behind returns.
func (s *Server) Forget(ctx context.Context, badge uint64, _ sockproto.Empty) (sockproto.Empty, error) {
	return sockproto.Empty{}, s.do(func(st *stack.Stack) error {
		s.forget(st, badge)
		return nil
	})
}

func (s *Server) forget(st *stack.Stack, badge uint64) {
	c := s.clients[badge]
	if c == nil {
		return
	}
	for _, so := range c.socks {
		s.closeSock(st, c, so)
	}
	for id, b := range c.bufs {
		s.shared -= uint64(len(b.Bytes))
		s.opts.Memory.Free(b)
		delete(c.bufs, id)
	}
	c.gone = true
	c.wake()
	delete(s.clients, badge)
}

// Attach implements sockproto.Handler.
func (s *Server) Attach(ctx context.Context, badge uint64, req sockproto.AttachRequest) (sockproto.AttachReply, error) {
	if s.opts.Memory == nil {
		return sockproto.AttachReply{}, errno(syscall.EOPNOTSUPP, "no shared memory")
	}
	if req.Size == 0 || req.Size > sockproto.MaxBuffer {
		return sockproto.AttachReply{}, errno(syscall.EINVAL, "buffer of %d bytes (1 to %d)", req.Size, sockproto.MaxBuffer)
	}
	var rep sockproto.AttachReply
	err := s.do(func(*stack.Stack) error {
		c, err := s.clientFor(badge, true)
		if err != nil {
			return err
		}
		defer s.dropIfIdle(badge)
		if len(c.bufs) >= sockproto.MaxBuffers {
			return errno(syscall.ENOMEM, "%d buffers already", len(c.bufs))
		}
		if s.shared+req.Size > s.opts.MaxSharedBytes {
			return errno(syscall.ENOMEM, "shared buffers exhausted")
		}
		b, err := s.opts.Memory.Alloc(req.Size)
		if err != nil {
			return errno(syscall.ENOMEM, "allocate buffer: %v", err)
		}
		c.nextBuf++
		for c.nextBuf == 0 || c.bufs[c.nextBuf] != nil {
			c.nextBuf++
		}
		c.bufs[c.nextBuf] = b
		s.shared += uint64(len(b.Bytes))
		rep = sockproto.AttachReply{ID: c.nextBuf, Size: uint64(len(b.Bytes)), Mem: b.Handle}
		return nil
	})
	return rep, err
}

// Detach implements sockproto.Handler.
func (s *Server) Detach(ctx context.Context, badge uint64, req sockproto.DetachRequest) (sockproto.Empty, error) {
	return sockproto.Empty{}, s.do(func(*stack.Stack) error {
		c := s.clients[badge]
		if c == nil || c.bufs[req.ID] == nil {
			return sockproto.ErrBuffer
		}
		b := c.bufs[req.ID]
		delete(c.bufs, req.ID)
		s.shared -= uint64(len(b.Bytes))
		s.opts.Memory.Free(b)
		s.dropIfIdle(badge)
		return nil
	})
}

// buffer returns bytes [off, off+n) of c's buffer id, or EFAULT.
func (c *client) buffer(id uint32, off uint64, n uint32) ([]byte, error) {
	b := c.bufs[id]
	if b == nil {
		return nil, sockproto.ErrBuffer
	}
	if off > uint64(len(b.Bytes)) || uint64(n) > uint64(len(b.Bytes))-off {
		return nil, sockproto.ErrBuffer
	}
	return b.Bytes[off : off+uint64(n)], nil
}

// DNS returns the DNS servers set with SetDNS.
func (s *Server) DNS() []netip.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]netip.Addr(nil), s.dns...)
}
