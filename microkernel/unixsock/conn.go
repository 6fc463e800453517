package unixsock

import (
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile"
)

// Bound reports whether s has a name (bind refuses a second one).
func (s *Socket) Bound() bool {
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	return s.name != ""
}

// BindAbstract binds s to abstract name a, or to an autobind name when
// a is empty. EINVAL if s already has a name, EADDRINUSE if a is taken.
func (s *Socket) BindAbstract(a Addr) errno.Errno {
	d := s.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if s.name != "" || s.released {
		return errno.EINVAL
	}
	if a == "" {
		return s.autobindLocked()
	}
	if _, taken := d.abstract[a]; taken {
		return errno.EADDRINUSE
	}
	d.abstract[a] = s
	s.name = a
	return 0
}

// autobindLocked gives s the next free autobind name (Linux's
// unix_autobind); d.mu held. EADDRINUSE when all 2^20 are taken.
func (s *Socket) autobindLocked() errno.Errno {
	d := s.d
	for range 1 << 20 {
		a := autobindName(d.autobind)
		d.autobind++
		if _, taken := d.abstract[a]; !taken {
			d.abstract[a] = s
			s.name = a
			return 0
		}
	}
	return errno.EADDRINUSE
}

// BindPath binds s to pathname a, whose socket node the caller made and
// k identifies. EINVAL if s already has a name (the caller removes the
// node it made), EADDRINUSE if k is bound (a node made and not yet
// removed by a socket that raced us cannot be).
func (s *Socket) BindPath(a Addr, k Key) errno.Errno {
	d := s.d
	d.mu.Lock()
	defer d.mu.Unlock()
	if s.name != "" || s.released {
		return errno.EINVAL
	}
	if _, taken := d.paths[k]; taken {
		return errno.EADDRINUSE
	}
	d.paths[k] = s
	s.name, s.key = a, &k
	return 0
}

// Listen makes a bound stream or seqpacket socket a listener, or
// changes its backlog (Linux's unix_listen).
func (s *Socket) Listen(backlog int) errno.Errno {
	d := s.d
	d.mu.Lock()
	defer d.mu.Unlock()
	switch {
	case !s.connectionOriented():
		return errno.EOPNOTSUPP
	case s.name == "" || s.state == connected:
		return errno.EINVAL
	}
	s.backlog = min(max(backlog, 0), maxBacklog)
	s.state = listening
	s.cred = s.owner.Cred // what connecting sockets see as SO_PEERCRED
	return 0
}

// Connect connects s to target: for a stream or seqpacket socket, a new
// connection in target's pending list (waiting for room there unless
// nonblock, EAGAIN then); for a datagram socket, target becomes the
// default peer. target nil disconnects a datagram socket (AF_UNSPEC).
func (s *Socket) Connect(c kfile.Caller, target *Socket, nonblock bool) errno.Errno {
	if s.typ == linux.SOCK_DGRAM {
		return s.connectDgram(target)
	}
	if target == nil {
		return errno.EINVAL
	}
	d := s.d
	var peer *Socket
	_, e := kfile.WaitUntil(c, target.ev, nonblock, func() (int, errno.Errno, bool) {
		d.mu.Lock()
		defer d.mu.Unlock()
		switch {
		case s.state == listening:
			return 0, errno.EINVAL, true
		case s.state == connected || s.peer != nil:
			return 0, errno.EISCONN, true
		case target.typ != s.typ:
			return 0, errno.EPROTOTYPE, true
		case target.released || target.state != listening:
			return 0, errno.ECONNREFUSED, true
		case len(target.pending) > target.backlog:
			return 0, 0, false // wait for the listener to accept
		}
		peer = d.newSocket(s.typ, target.owner)
		peer.name, peer.cred = target.name, target.cred
		peer.sndbuf = target.sndbuf
		peer.passcred = target.passcred
		peer.state, s.state = connected, connected
		peer.peer, s.peer = s, peer
		peer.peerCred, peer.hasPeer = s.owner.Cred, true
		s.peerCred, s.hasPeer = target.cred, true
		peer.listener = target
		target.pending = append(target.pending, peer)
		return 0, 0, true
	})
	if e == errno.EAGAIN {
		return errno.EAGAIN
	}
	if peer != nil {
		signalAll(target, s)
	}
	return e
}

func (s *Socket) connectDgram(target *Socket) errno.Errno {
	d := s.d
	d.mu.Lock()
	if target == nil {
		old := s.peer
		s.peer, s.hasPeer = nil, false
		d.mu.Unlock()
		signalAll(old)
		return 0
	}
	if target.released {
		d.mu.Unlock()
		return errno.ECONNREFUSED
	}
	if target.typ != s.typ {
		d.mu.Unlock()
		return errno.EPROTOTYPE
	}
	if target.peer != nil && target.peer != s && target != s {
		d.mu.Unlock()
		return errno.EPERM // it is connected to another: it takes only its peer's
	}
	old := s.peer
	s.peer = target
	s.peerCred, s.hasPeer = target.cred, true
	d.mu.Unlock()
	signalAll(old, s)
	return 0
}

// Accept takes the oldest pending connection of a listener, waiting for
// one unless nonblock (EAGAIN). The new socket is charged to o from now
// on.
func (s *Socket) Accept(c kfile.Caller, nonblock bool, o Owner) (*Socket, errno.Errno) {
	d := s.d
	var got *Socket
	_, e := kfile.WaitUntil(c, s.ev, nonblock, func() (int, errno.Errno, bool) {
		d.mu.Lock()
		defer d.mu.Unlock()
		if !s.connectionOriented() {
			return 0, errno.EOPNOTSUPP, true
		}
		if s.state != listening {
			return 0, errno.EINVAL, true
		}
		if len(s.pending) == 0 {
			return 0, 0, false
		}
		got = s.pending[0]
		s.pending = s.pending[1:]
		got.listener = nil
		got.owner = o
		return 0, 0, true
	})
	if e != 0 {
		return nil, e
	}
	signalAll(s) // a connect waiting for room
	return got, 0
}

// Shutdown implements shutdown(2): SHUT_RD, SHUT_WR or SHUT_RDWR, for s
// and, on a connection, the matching half for its peer.
func (s *Socket) Shutdown(how int32) errno.Errno {
	var bits uint8
	switch how {
	case linux.SHUT_RD:
		bits = rcvShut
	case linux.SHUT_WR:
		bits = sndShut
	case linux.SHUT_RDWR:
		bits = rcvShut | sndShut
	default:
		return errno.EINVAL
	}
	d := s.d
	d.mu.Lock()
	if s.connectionOriented() && s.state != connected {
		d.mu.Unlock()
		return errno.ENOTCONN
	}
	s.shut |= bits
	p := s.peer
	if p != nil && s.connectionOriented() {
		// The peer's view is the mirror: what s no longer sends, p no
		// longer receives.
		if bits&rcvShut != 0 {
			p.shut |= sndShut
		}
		if bits&sndShut != 0 {
			p.shut |= rcvShut
		}
	}
	d.mu.Unlock()
	signalAll(s, p)
	return 0
}

// Name returns s's own address (getsockname).
func (s *Socket) Name() Addr {
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	return s.name
}

// PeerName returns the connected peer's address (getpeername):
// ENOTCONN without one.
func (s *Socket) PeerName() (Addr, errno.Errno) {
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	if s.peer == nil || (s.connectionOriented() && s.state != connected) {
		return "", errno.ENOTCONN
	}
	return s.peer.name, 0
}
