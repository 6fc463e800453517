package unixsock

import (
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile"
)

// Message is what a send carries: bytes, descriptions to pass
// (SCM_RIGHTS; held references, which a successful Send keeps and the
// caller drops otherwise) and the credentials to pass (SCM_CREDENTIALS,
// already checked against the caller; nil: the owner's).
type Message struct {
	Data   []byte
	Rights []*kfile.OpenFile
	Cred   *Cred
}

// message is a queued send.
type message struct {
	data     []byte
	rights   []*kfile.OpenFile
	cred     Cred
	from     *Socket // the sender, whose sent count it is in
	fromName Addr    // the sender's name when it sent
	size     int     // charged: len(data) + msgOverhead
	owner    Owner   // charged for size and for the rights in flight
}

// Received is what a receive returns.
type Received struct {
	Data   []byte
	Full   int  // the whole message's length (a datagram cut short)
	From   Addr // the sender's name
	Rights []*kfile.OpenFile
	Cred   *Cred // with SO_PASSCRED set: the sender's credentials
}

// DropRights closes the descriptions r carries (a receiver that takes
// none, or not all of them).
func (r *Received) DropRights() {
	dropAll(r.Rights)
	r.Rights = nil
}

// CheckAddressed says what a send with an address does on s: a
// connection-oriented stream socket refuses it (EISCONN when connected,
// EOPNOTSUPP otherwise, as Linux's unix_stream_sendmsg); seqpacket
// ignores it and a datagram socket sends there.
func (s *Socket) CheckAddressed() errno.Errno {
	if s.typ != linux.SOCK_STREAM {
		return 0
	}
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	if s.state == connected {
		return errno.EISCONN
	}
	return errno.EOPNOTSUPP
}

// waitOn is kfile.WaitUntil over two events (b may be nil): a sender
// waits for room in its own buffer and, on a datagram socket, in the
// receiver's queue.
func waitOn(c kfile.Caller, a, b *kfile.Event, nonblock bool, attempt func() (int, errno.Errno, bool)) (int, errno.Errno) {
	if b == nil || b == a {
		return kfile.WaitUntil(c, a, nonblock, attempt)
	}
	for {
		wa, wb := a.Wait(), b.Wait()
		if n, e, done := attempt(); done {
			return n, e
		}
		if nonblock {
			return 0, errno.EAGAIN
		}
		if !c.CanBlock() {
			return 0, errno.EINTR
		}
		select {
		case <-wa:
		case <-wb:
		case <-c.Interrupted():
			return 0, errno.EINTR
		}
	}
}

// roomLocked returns how many more bytes (charge included) s's sends
// may hold now: up to its send buffer, or, when its owner's sockets hold
// their Quota or the kernel heap cannot grow, up to minBuffered.
func (s *Socket) roomLocked() int {
	limit := s.sndbuf
	over := s.owner.Bytes != nil && s.owner.Bytes.Load() >= Quota
	if over || !s.d.canGrow(uint64(minBuffered)) {
		limit = minBuffered
	}
	return limit - s.sent
}

// admitRightsLocked checks the descriptions a message would carry to
// r: at most MaxInFlight in flight for the owner (ETOOMANYREFS, as
// Linux's too_many_unix_fds), and no reference cycle (see doc.go): a
// socket passed must hold no sockets in its queues and must not be the
// receiver, and a receiver that is itself in flight takes no sockets.
func (s *Socket) admitRightsLocked(r *Socket, rights []*kfile.OpenFile) errno.Errno {
	if len(rights) == 0 {
		return 0
	}
	if in := s.owner.InFlight; in != nil && in.Load()+int64(len(rights)) > s.owner.MaxInFlight {
		return errno.ETOOMANYREFS
	}
	for _, of := range rights {
		x, isSock := of.File.(*Socket)
		if !isSock {
			continue
		}
		if x == r || x == r.listener || r.inFlightLocked() || x.holdsSocketsLocked() {
			return errno.ETOOMANYREFS
		}
	}
	return 0
}

// inFlightLocked reports whether s is in flight, itself or as a
// connection its in-flight listener has not accepted.
func (s *Socket) inFlightLocked() bool {
	return s.inFlight > 0 || (s.listener != nil && s.listener.inFlight > 0)
}

// holdsSocketsLocked reports whether a message queued at s, or at one
// of its pending connections, carries a socket.
func (s *Socket) holdsSocketsLocked() bool {
	for _, m := range s.queue {
		for _, of := range m.rights {
			if _, isSock := of.File.(*Socket); isSock {
				return true
			}
		}
	}
	for _, p := range s.pending {
		if p.holdsSocketsLocked() {
			return true
		}
	}
	return false
}

// enqueueLocked queues m's bytes and rights at r, charging them.
func (s *Socket) enqueueLocked(r *Socket, data []byte, rights []*kfile.OpenFile, cred Cred) {
	m := &message{data: append([]byte(nil), data...), rights: rights, cred: cred,
		from: s, fromName: s.name, size: len(data) + msgOverhead, owner: s.owner}
	s.sent += m.size
	if m.owner.Bytes != nil {
		m.owner.Bytes.Add(int64(m.size))
	}
	if m.owner.InFlight != nil && len(rights) > 0 {
		m.owner.InFlight.Add(int64(len(rights)))
	}
	for _, of := range rights {
		if x, isSock := of.File.(*Socket); isSock {
			x.inFlight++
		}
	}
	r.queue = append(r.queue, m)
	r.queued += m.size
}

// dequeueLocked uncharges m, which has left r's queue, and returns the
// rights it still carried (the caller hands them on or drops them).
func (d *Domain) dequeueLocked(r *Socket, m *message) []*kfile.OpenFile {
	m.from.sent -= m.size
	r.queued -= m.size
	if m.owner.Bytes != nil {
		m.owner.Bytes.Add(-int64(m.size))
	}
	return d.takeRightsLocked(m)
}
