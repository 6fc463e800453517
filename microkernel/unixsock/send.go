package unixsock

import (
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile"
)

// Send implements send(2), sendto(2) and sendmsg(2) on s: to is the
// datagram socket the address names (nil: the default peer). flags may
// hold MSG_DONTWAIT and MSG_NOSIGNAL; the others are ignored, as Linux's
// unix sockets ignore most. It returns the bytes sent; m.Rights are
// kept (queued) when it sends anything, and left to the caller
// otherwise.
func (s *Socket) Send(c kfile.Caller, m Message, to *Socket, flags uint32, nonblock bool) (int, errno.Errno) {
	nonblock = nonblock || flags&linux.MSG_DONTWAIT != 0
	if len(m.Rights) > linux.SCM_MAX_FD {
		return 0, errno.EINVAL
	}
	cred := s.owner.Cred
	if m.Cred != nil {
		cred = *m.Cred
	}
	if s.typ == linux.SOCK_STREAM {
		n, e := s.sendStream(c, m, cred, nonblock)
		if e == errno.EPIPE && flags&linux.MSG_NOSIGNAL == 0 && c != nil {
			c.Raise(linux.SIGPIPE)
		}
		return n, e
	}
	return s.sendMessage(c, m, cred, to, nonblock)
}

// sendStream queues m's bytes at the peer in pieces as room allows,
// the rights with the first piece, until all is sent: a blocking send
// is whole unless a signal ends it, which returns what was sent.
func (s *Socket) sendStream(c kfile.Caller, m Message, cred Cred, nonblock bool) (int, errno.Errno) {
	d := s.d
	done := 0
	rights := m.Rights
	var peer *Socket
	_, e := waitOn(c, s.ev, nil, nonblock, func() (int, errno.Errno, bool) {
		d.mu.Lock()
		switch {
		case s.state != connected:
			d.mu.Unlock()
			return 0, errno.ENOTCONN, true
		case s.shut&sndShut != 0 || s.peer == nil || s.peer.released:
			d.mu.Unlock()
			return 0, errno.EPIPE, true
		}
		peer = s.peer
		if e := s.admitRightsLocked(peer, rights); e != 0 {
			d.mu.Unlock()
			return 0, e, true
		}
		progress := false
		for done < len(m.Data) {
			// A piece at most half the buffer, as Linux's (so that a
			// reader draining the other half lets the writer go on).
			n := min(len(m.Data)-done, s.sndbuf/2-msgOverhead, s.roomLocked()-msgOverhead)
			if n <= 0 {
				break
			}
			s.enqueueLocked(peer, m.Data[done:done+n], rights, cred)
			rights = nil
			done += n
			progress = true
		}
		d.mu.Unlock()
		if progress {
			peer.ev.Signal()
		}
		return 0, 0, done == len(m.Data)
	})
	if e != 0 && done > 0 {
		return done, 0 // a signal or O_NONBLOCK after a part: the part
	}
	if e != 0 {
		return 0, e
	}
	return done, 0
}

// sendMessage queues m whole at its receiver (a datagram's to, or the
// peer), waiting for room unless nonblock.
func (s *Socket) sendMessage(c kfile.Caller, m Message, cred Cred, to *Socket, nonblock bool) (int, errno.Errno) {
	d := s.d
	size := len(m.Data) + msgOverhead
	if size > s.sndbufNow() {
		return 0, errno.EMSGSIZE
	}
	var target *Socket
	var targetEv *kfile.Event
	if to != nil && s.typ == linux.SOCK_DGRAM {
		targetEv = to.ev
	} else if p := s.peerNow(); p != nil {
		targetEv = p.ev
	}
	_, e := waitOn(c, s.ev, targetEv, nonblock, func() (int, errno.Errno, bool) {
		d.mu.Lock()
		defer d.mu.Unlock()
		r, e := s.receiverLocked(to)
		if e != 0 {
			return 0, e, true
		}
		if e := s.admitRightsLocked(r, m.Rights); e != 0 {
			return 0, e, true
		}
		if size > s.roomLocked() {
			return 0, 0, false // a datagram goes whole or waits
		}
		if r.typ == linux.SOCK_DGRAM && r != s && r.peer != s && r.dgramQueueFull() {
			return 0, 0, false
		}
		s.enqueueLocked(r, m.Data, m.Rights, cred)
		target = r
		return 0, 0, true
	})
	if e != 0 {
		return 0, e
	}
	target.ev.Signal()
	return len(m.Data), 0
}

// receiverLocked returns whom a datagram or seqpacket send goes to.
func (s *Socket) receiverLocked(to *Socket) (*Socket, errno.Errno) {
	if s.typ == linux.SOCK_SEQPACKET {
		switch {
		case s.state != connected:
			return nil, errno.ENOTCONN
		case s.shut&sndShut != 0 || s.peer == nil || s.peer.released:
			return nil, errno.EPIPE
		}
		return s.peer, 0
	}
	if s.shut&sndShut != 0 {
		return nil, errno.EPIPE
	}
	r := to
	if r == nil {
		r = s.peer
		if r == nil {
			return nil, errno.ENOTCONN
		}
		if r.released {
			// The default peer is gone: forget it, as Linux's
			// unix_dgram_disconnected.
			s.peer = nil
			return nil, errno.ECONNREFUSED
		}
	}
	switch {
	case r.released:
		return nil, errno.ECONNREFUSED
	case r.typ != s.typ:
		return nil, errno.EPROTOTYPE
	case r.peer != nil && r.peer != s && r != s:
		return nil, errno.EPERM // connected to another, it takes only its peer's
	case r.shut&rcvShut != 0:
		return nil, errno.EPIPE
	}
	return r, 0
}

func (s *Socket) sndbufNow() int {
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	return s.sndbuf
}

func (s *Socket) peerNow() *Socket {
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	return s.peer
}
