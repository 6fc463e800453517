package sock

import (
	"context"
	"sync"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile"
	"valence.dev/servers/net/sockproto"
)

// Socket is an open socket of the network server: a kfile.File (read,
// write, poll, close) with the socket calls besides. Every call to the
// server is non-blocking; a blocking call waits here, on the socket's
// event, for the readiness the poller reports, and tries again.
type Socket struct {
	n      *Net
	id     uint32
	family uint16
	typ    uint16
	ev     *kfile.Event

	mu     sync.Mutex
	events uint32 // as the server last reported
	known  bool   // events has been reported at least once
	dead   bool   // the server died
	// What the kernel knows of the socket's state, for readyFor: an
	// established stream socket (accepted, connected, and not shut down
	// since), or a listener; shut once shutdown(2) was called, after which
	// the server answers every call.
	connected, listening, shut bool
}

func newSocket(n *Net, id uint32, family, typ uint16) *Socket {
	return &Socket{n: n, id: id, family: family, typ: typ, ev: kfile.NewEvent()}
}

// Family is AF_INET or AF_INET6.
func (s *Socket) Family() uint16 { return s.family }

// Type is SOCK_STREAM, SOCK_DGRAM or SOCK_RAW. Every type but
// SOCK_STREAM moves whole datagrams.
func (s *Socket) Type() uint16 { return s.typ }

func (s *Socket) setEvents(ev uint32) {
	s.mu.Lock()
	if !s.dead {
		s.events = ev
		s.known = true
	}
	s.mu.Unlock()
	s.ev.Signal()
}

func (s *Socket) serverGone() {
	s.mu.Lock()
	s.dead = true
	s.events = eventsDead
	s.mu.Unlock()
	s.ev.Signal()
}

// readyOp is what callReady attempts: opAccept on a listener, opData a
// read or write of an established stream socket (or anything, opAny).
type readyOp int

const (
	opAny readyOp = iota
	opAccept
	opData
)

// readyFor reports whether operation op, which needs one of the events
// in need, may proceed, as far as the kernel knows: false only for an
// established stream socket (opData) or a listener (opAccept) whose last
// report has none of need, and no error or hang-up.
func (s *Socket) readyFor(op readyOp, need uint32) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.known || s.dead || s.shut {
		return true
	}
	if op == opAccept && !s.listening || op == opData && !s.connected {
		// An accept of a socket that is not listening is EINVAL, a read
		// of a listener ENOTCONN: the server's answers.
		return true
	}
	return s.events&(need|linux.EPOLLERR|linux.EPOLLHUP|linux.EPOLLRDHUP) != 0
}

// setState records what a call's success says about the socket.
func (s *Socket) setState(connected, listening bool) {
	s.mu.Lock()
	s.connected, s.listening = connected, listening
	s.mu.Unlock()
}

func (s *Socket) isDead() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dead
}

// call runs one non-blocking call to the server, blocking (unless
// nonblock) while it says EAGAIN: the attempt is made after the event's
// channel is taken, so readiness reported in between is not missed.
func (s *Socket) call(c kfile.Caller, nonblock bool, f func(cl sockproto.Client) errno.Errno) errno.Errno {
	return s.callReady(c, nonblock, opAny, 0, f)
}

// callReady is call for an operation that can only proceed when the
// socket reports one of the events in need (0: always ask): when the
// last report says it cannot, the attempt is EAGAIN without a round trip
// to the server. That is safe because the server reports every change
// of readiness (sockproto's Wait): a report that would make the call
// succeed is either applied already, or on its way, and it signals the
// socket's event, waking the sleeper or the program's epoll. Only states
// whose errnos are known qualify (readyFor): an unconnected socket's read
// is ENOTCONN, not EAGAIN, and needs the server.
func (s *Socket) callReady(c kfile.Caller, nonblock bool, op readyOp, need uint32, f func(cl sockproto.Client) errno.Errno) errno.Errno {
	_, e := kfile.WaitUntil(c, s.ev, nonblock, func() (int, errno.Errno, bool) {
		if s.isDead() {
			return 0, errno.ECONNRESET, true
		}
		if op != opAny && !s.readyFor(op, need) {
			return 0, 0, false
		}
		e := f(s.n.client(c))
		if e == errno.EAGAIN {
			return 0, 0, false
		}
		return 0, e, true
	})
	return e
}

// bg is the context of calls to the server: the transport decides how a
// call ends (the caller's death, or the kernel's own timeout).
var bg = context.Background()

// Read implements kfile.File: recv(2) without flags.
func (s *Socket) Read(c kfile.Caller, b []byte, _ int64, nonblock bool) (int, errno.Errno) {
	n, _, _, e := s.RecvFrom(c, b, 0, nonblock)
	return n, e
}

// Write implements kfile.File: send(2) without flags.
func (s *Socket) Write(c kfile.Caller, b []byte, _ int64, nonblock bool) (int, errno.Errno) {
	return s.SendTo(c, b, 0, sockproto.Addr{}, nonblock)
}

// Seekable implements kfile.File.
func (s *Socket) Seekable() bool { return false }

// Stat implements kfile.File: a socket, as fstat reports one.
func (s *Socket) Stat() linux.Stat {
	return linux.Stat{Dev: 8, Ino: uint64(s.id), Mode: linux.S_IFSOCK | 0o777, Nlink: 1, Blksize: 4096}
}

// Poll implements kfile.File: the readiness the server last reported.
func (s *Socket) Poll() (uint32, *kfile.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.events, s.ev
}

// Release implements kfile.File: the last descriptor is gone.
func (s *Socket) Release() {
	s.n.remove(s)
	if !s.isDead() {
		_ = s.n.client(nil).Close(bg, s.id)
	}
}

// Bind implements bind(2).
func (s *Socket) Bind(c kfile.Caller, a sockproto.Addr) errno.Errno {
	return s.call(c, true, func(cl sockproto.Client) errno.Errno { return errnoOf(cl.Bind(bg, s.id, a)) })
}

// Listen implements listen(2).
func (s *Socket) Listen(c kfile.Caller, backlog int32) errno.Errno {
	e := s.call(c, true, func(cl sockproto.Client) errno.Errno { return errnoOf(cl.Listen(bg, s.id, backlog)) })
	if e == 0 && s.typ == sockStream {
		s.setState(false, true)
	}
	return e
}

// Accept implements accept4(2): a new socket and its peer.
func (s *Socket) Accept(c kfile.Caller, nonblock bool) (*Socket, sockproto.Addr, errno.Errno) {
	var rep sockproto.AcceptReply
	e := s.callReady(c, nonblock, opAccept, linux.EPOLLIN, func(cl sockproto.Client) errno.Errno {
		var err error
		rep, err = cl.Accept(bg, s.id)
		return errnoOf(err)
	})
	if e != 0 {
		return nil, sockproto.Addr{}, e
	}
	ns := newSocket(s.n, rep.Sock, s.family, s.typ)
	ns.connected = true
	s.n.add(ns)
	return ns, rep.Peer, 0
}

// Connect implements connect(2). A blocking connect of a stream socket
// waits for the connection to be made or refused (the server answers
// EINPROGRESS, then SO_ERROR tells the outcome); a non-blocking one
// returns EINPROGRESS, as on Linux.
func (s *Socket) Connect(c kfile.Caller, a sockproto.Addr, nonblock bool) errno.Errno {
	e := s.call(c, true, func(cl sockproto.Client) errno.Errno { return errnoOf(cl.Connect(bg, s.id, a)) })
	if e == 0 && s.typ == sockStream {
		s.setState(true, false)
	}
	if e != errno.EINPROGRESS || nonblock {
		return e
	}
	_, e = kfile.WaitUntil(c, s.ev, false, func() (int, errno.Errno, bool) {
		ev, _ := s.Poll()
		if ev&(linux.EPOLLOUT|linux.EPOLLERR|linux.EPOLLHUP) == 0 {
			return 0, 0, false
		}
		return 0, 0, true
	})
	if e != 0 {
		return e // EINTR: the connection goes on, as on Linux
	}
	v, e := s.GetOpt(c, linux.SOL_SOCKET, linux.SO_ERROR, 4)
	if e != 0 {
		return e
	}
	if len(v) == 4 {
		if e := errno.Errno(uint32(v[0]) | uint32(v[1])<<8 | uint32(v[2])<<16 | uint32(v[3])<<24); e != 0 {
			return e
		}
	}
	if s.typ == sockStream {
		s.setState(true, false)
	}
	return 0
}

// SendTo implements sendto(2) (to.Family 0: no address). A blocking send
// of a stream socket sends everything, in pieces as the server takes
// them, each through a shared buffer when one is free (buf.go); a
// datagram goes whole, through a buffer when longer than
// sockproto.MaxInline, and is EMSGSIZE beyond a buffer (netd refuses
// what IP cannot carry).
func (s *Socket) SendTo(c kfile.Caller, b []byte, flags uint32, to sockproto.Addr, nonblock bool) (int, errno.Errno) {
	dgram := s.typ != sockStream
	if dgram && len(b) > kernelBufferLen {
		return 0, errno.EMSGSIZE
	}
	done := 0
	for {
		rest := b[done:]
		var n int
		e := s.callReady(c, nonblock || done > 0 && dgram, opData, linux.EPOLLOUT, func(cl sockproto.Client) errno.Errno {
			// A buffer is held for this attempt only, not while the
			// thread sleeps until the socket is writable.
			var buf Buffer
			if len(rest) > sockproto.MaxInline {
				var e errno.Errno
				if buf, e = s.n.getBuf(c, dgram); e != 0 {
					return e
				}
				if buf == nil && dgram {
					return errno.EMSGSIZE // the server gives no buffers
				}
				defer s.n.putBuf(buf)
			}
			req := sockproto.SendRequest{Sock: s.id, Flags: flags, To: to}
			if buf != nil {
				piece := rest[:min(len(rest), kernelBufferLen)]
				buf.CopyIn(0, piece)
				req.Buf, req.Len = buf.ID(), uint32(len(piece))
			} else {
				req.Data = rest[:min(len(rest), sockproto.MaxInline)]
			}
			got, err := cl.Send(bg, req)
			n = min(int(got), len(rest)) // a server cannot claim more than it was given
			return errnoOf(err)
		})
		if e != 0 {
			if done > 0 {
				return done, 0
			}
			if e == errno.EPIPE && flags&linux.MSG_NOSIGNAL == 0 {
				c.Raise(linux.SIGPIPE)
			}
			return 0, e
		}
		done += n
		if done >= len(b) || nonblock || dgram {
			return done, 0
		}
	}
}

// RecvFrom implements recvfrom(2): the bytes received, the datagram's
// whole length (MSG_TRUNC), and the sender of a datagram. More than
// sockproto.MaxInline bytes come through a shared buffer: a stream
// socket's read takes one if one is free (else it returns what fits
// inline); a datagram socket's waits for one, so that a long datagram is
// not cut short.
func (s *Socket) RecvFrom(c kfile.Caller, b []byte, flags uint32, nonblock bool) (int, int, sockproto.Addr, errno.Errno) {
	dgram := s.typ != sockStream
	var n, full int
	var from sockproto.Addr
	op := opData
	if flags&^(linux.MSG_DONTWAIT|linux.MSG_PEEK|linux.MSG_TRUNC|linux.MSG_WAITALL|linux.MSG_NOSIGNAL) != 0 {
		op = opAny // MSG_OOB, MSG_ERRQUEUE, ...: the server's answer
	}
	e := s.callReady(c, nonblock || flags&linux.MSG_DONTWAIT != 0, op, linux.EPOLLIN, func(cl sockproto.Client) errno.Errno {
		var buf Buffer
		if len(b) > sockproto.MaxInline {
			var e errno.Errno
			if buf, e = s.n.getBuf(c, dgram); e != 0 {
				return e
			}
			defer s.n.putBuf(buf)
		}
		req := sockproto.RecvRequest{Sock: s.id, Flags: flags &^ (linux.MSG_DONTWAIT | linux.MSG_WAITALL)}
		if buf != nil {
			req.Buf, req.Len = buf.ID(), uint32(min(len(b), kernelBufferLen))
		} else {
			req.Len = uint32(min(len(b), sockproto.MaxInline))
		}
		rep, err := cl.Recv(bg, req)
		if err != nil {
			return errnoOf(err)
		}
		n = min(int(rep.N), int(req.Len))
		if buf != nil {
			buf.CopyOut(0, b[:n])
		} else {
			n = copy(b, rep.Data[:min(n, len(rep.Data))])
		}
		full, from = int(rep.Full), rep.From
		if full == 0 {
			full = n
		}
		return 0
	})
	if e != 0 {
		return 0, 0, sockproto.Addr{}, e
	}
	return n, full, from, 0
}

// Shutdown implements shutdown(2).
func (s *Socket) Shutdown(c kfile.Caller, how uint32) errno.Errno {
	// Shut down, the socket's calls fail (EPIPE) or end (EOF) rather
	// than wait: the server answers them.
	s.mu.Lock()
	s.shut = true
	s.mu.Unlock()
	return s.call(c, true, func(cl sockproto.Client) errno.Errno { return errnoOf(cl.Shutdown(bg, s.id, how)) })
}

// Name implements getsockname(2) (peer false) and getpeername(2).
func (s *Socket) Name(c kfile.Caller, peer bool) (sockproto.Addr, errno.Errno) {
	var a sockproto.Addr
	e := s.call(c, true, func(cl sockproto.Client) errno.Errno {
		var err error
		a, err = cl.Name(bg, s.id, peer)
		return errnoOf(err)
	})
	if e == 0 && peer && s.typ == sockStream {
		// A peer means a connection: how a program that connected
		// without blocking (Go's net) checks that it is done.
		s.setState(true, false)
	}
	return a, e
}

// SetOpt implements setsockopt(2).
func (s *Socket) SetOpt(c kfile.Caller, level, name int32, v []byte) errno.Errno {
	if len(v) > sockproto.MaxOptLen {
		return errno.EINVAL
	}
	return s.call(c, true, func(cl sockproto.Client) errno.Errno { return errnoOf(cl.SetOpt(bg, s.id, level, name, v)) })
}

// GetOpt implements getsockopt(2) with room for size bytes.
func (s *Socket) GetOpt(c kfile.Caller, level, name int32, size int) ([]byte, errno.Errno) {
	size = min(max(size, 0), sockproto.MaxOptLen)
	var v []byte
	e := s.call(c, true, func(cl sockproto.Client) errno.Errno {
		var err error
		v, err = cl.GetOpt(bg, s.id, level, name, size)
		return errnoOf(err)
	})
	return v, e
}

// Socket types as the protocol carries them.
const (
	sockStream = uint16(linux.SOCK_STREAM)
	sockDgram  = uint16(linux.SOCK_DGRAM)
)
