package unixsock

import (
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile"
)

// Recv implements recv(2), recvfrom(2) and recvmsg(2) on s: at most n
// bytes. flags may hold MSG_PEEK, MSG_WAITALL (a stream read waits for
// all n), MSG_DONTWAIT and MSG_TRUNC (the caller reports Full for a
// datagram); a datagram or seqpacket read takes one whole message, cut
// to n. The rights returned are the caller's to install or drop.
func (s *Socket) Recv(c kfile.Caller, n int, flags uint32, nonblock bool) (Received, errno.Errno) {
	nonblock = nonblock || flags&linux.MSG_DONTWAIT != 0
	if s.typ == linux.SOCK_STREAM {
		return s.recvStream(c, n, flags, nonblock)
	}
	return s.recvMessage(c, n, flags, nonblock)
}

func (s *Socket) recvMessage(c kfile.Caller, n int, flags uint32, nonblock bool) (Received, errno.Errno) {
	d := s.d
	var r Received
	var from *Socket
	_, e := kfile.WaitUntil(c, s.ev, nonblock, func() (int, errno.Errno, bool) {
		d.mu.Lock()
		defer d.mu.Unlock()
		if len(s.queue) == 0 {
			switch {
			case s.typ == linux.SOCK_SEQPACKET && s.state != connected:
				return 0, errno.ENOTCONN, true
			case s.err != 0:
				e := s.err
				s.err = 0
				return 0, e, true
			case s.shut&rcvShut != 0:
				return 0, 0, true // end of file
			}
			return 0, 0, false
		}
		m := s.queue[0]
		r = Received{Data: append([]byte(nil), m.data[:min(n, len(m.data))]...), Full: len(m.data), From: m.fromName}
		if s.passcred {
			cr := m.cred
			r.Cred = &cr
		}
		if flags&linux.MSG_PEEK != 0 {
			r.Rights = retainAll(m.rights)
			return 0, 0, true
		}
		s.queue = s.queue[1:]
		r.Rights = d.dequeueLocked(s, m)
		from = m.from
		return 0, 0, true
	})
	if e != 0 {
		return Received{}, e
	}
	signalAll(from) // room for the sender
	return r, 0
}

// recvStream reads bytes across messages: up to n, or with MSG_WAITALL
// all n unless the stream ends, a signal comes or an error is pending.
// It stops before a message with rights once it has read something, so
// that rights arrive with the bytes they were sent with, and, with
// SO_PASSCRED, before a message from other credentials (Linux does not
// glue those either).
func (s *Socket) recvStream(c kfile.Caller, n int, flags uint32, nonblock bool) (Received, errno.Errno) {
	d := s.d
	var r Received
	peek := flags&linux.MSG_PEEK != 0
	want := 1
	if flags&linux.MSG_WAITALL != 0 && !peek {
		want = n
	}
	if n == 0 {
		want = 0
	}
	var woke []*Socket
	_, e := kfile.WaitUntil(c, s.ev, nonblock, func() (int, errno.Errno, bool) {
		d.mu.Lock()
		defer d.mu.Unlock()
		if s.state != connected && len(s.queue) == 0 {
			if s.state == listening || !s.hasPeer {
				return 0, errno.EINVAL, true
			}
		}
		stop := false
		for len(s.queue) > 0 && len(r.Data) < n && !stop {
			m := s.queue[0]
			if len(r.Data) > 0 && (len(m.rights) > 0 || (s.passcred && r.Cred != nil && *r.Cred != m.cred)) {
				break
			}
			if len(r.Data) == 0 {
				r.From = m.fromName
				if s.passcred {
					cr := m.cred
					r.Cred = &cr
				}
			}
			k := min(n-len(r.Data), len(m.data))
			r.Data = append(r.Data, m.data[:k]...)
			if peek {
				r.Rights = append(r.Rights, retainAll(m.rights)...)
				stop = len(m.rights) > 0
				break // peek reads the first message only
			}
			r.Rights = append(r.Rights, d.takeRightsLocked(m)...)
			woke = append(woke, m.from)
			if k < len(m.data) {
				d.consumeLocked(s, m, k)
				break
			}
			s.queue = s.queue[1:]
			d.dequeueLocked(s, m)
			stop = len(r.Rights) > 0
		}
		switch {
		case len(r.Data) >= want && len(r.Data) > 0:
			return 0, 0, true
		case len(r.Rights) > 0:
			return 0, 0, true
		case s.err != 0:
			e := s.err
			if len(r.Data) == 0 {
				s.err = 0
				return 0, e, true
			}
			return 0, 0, true
		case s.shut&rcvShut != 0 || want == 0:
			return 0, 0, true // end of file: what was read, maybe nothing
		}
		return 0, 0, false
	})
	signalAll(woke...)
	if e != 0 && len(r.Data) > 0 {
		return r, 0 // a signal after a part of MSG_WAITALL
	}
	if e != 0 {
		r.DropRights()
		return Received{}, e
	}
	r.Full = len(r.Data)
	return r, 0
}

// takeRightsLocked takes m's rights out of flight (they go with the
// first byte of m that is read).
func (d *Domain) takeRightsLocked(m *message) []*kfile.OpenFile {
	rights := m.rights
	m.rights = nil
	if m.owner.InFlight != nil && len(rights) > 0 {
		m.owner.InFlight.Add(-int64(len(rights)))
	}
	for _, of := range rights {
		if x, isSock := of.File.(*Socket); isSock {
			x.inFlight--
		}
	}
	return rights
}

// consumeLocked drops the first k bytes of m, still at the head of r's
// queue, and their charge.
func (d *Domain) consumeLocked(r *Socket, m *message, k int) {
	m.data = m.data[k:]
	m.size -= k
	m.from.sent -= k
	r.queued -= k
	if m.owner.Bytes != nil {
		m.owner.Bytes.Add(-int64(k))
	}
}

func retainAll(ofs []*kfile.OpenFile) []*kfile.OpenFile {
	out := make([]*kfile.OpenFile, len(ofs))
	for i, of := range ofs {
		out[i] = of.Retain()
	}
	return out
}
