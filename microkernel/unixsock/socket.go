package unixsock

import (
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile"
)

// Buffer sizes: SO_SNDBUF bounds the bytes a socket's sends hold in its
// peers' queues (Linux's sk_wmem_alloc against sk_sndbuf). Linux's
// defaults and bounds (wmem_default, SOCK_MIN_SNDBUF, twice wmem_max),
// and setsockopt doubles the value asked for, as Linux does, to leave
// room for its bookkeeping.
const (
	defaultBuf = 212992
	minBuf     = 4608
	maxBuf     = 2 * 212992
)

// msgOverhead is what each queued message costs besides its bytes (the
// message and its slices in the kernel heap): an empty datagram is not
// free, so a flood of them is bounded by SO_SNDBUF as bytes are.
const msgOverhead = 256

// minBuffered is what a socket's sends may always hold, however short of
// memory the kernel is or however much its owner's sockets hold (Quota):
// a page and a message, so that data always moves.
const minBuffered = 4096 + msgOverhead

// Quota bounds the bytes the sockets of one owner hold in kernel
// buffers in all before each of them holds at most minBuffered (as
// pipes are bounded, package pipe).
const Quota = 16 << 20

// maxDgramQueue is how many datagrams a socket's receive queue holds
// before senders wait (Linux's net.unix.max_dgram_qlen default).
const maxDgramQueue = 10

// maxBacklog bounds listen(2)'s backlog (Linux's somaxconn).
const maxBacklog = 4096

// state of a connection-oriented socket.
type state uint8

const (
	unconnected state = iota
	listening
	connected
)

// Shutdown bits, each socket's own view as Linux keeps it: rcvShut
// means nothing more will arrive (it shut reading, or its peer shut
// writing or went), sndShut that nothing more may be sent.
const (
	rcvShut = 1
	sndShut = 2
)

// Socket is an AF_UNIX socket, a kfile.File. All its state is guarded by
// its domain's lock, d.mu; ev is signalled (with d.mu released) at every
// change a reader, a writer, an acceptor or a poller may wait for.
type Socket struct {
	d     *Domain
	typ   linux.SockType
	ino   uint64
	ev    *kfile.Event
	owner Owner // who its sends and descriptors in flight are charged to
	cred  Cred  // its creator: the peer's SO_PEERCRED

	state    state
	name     Addr    // bound name; "" unbound
	key      *Key    // the node of a pathname binding
	peer     *Socket // connected peer; a datagram socket's default peer
	peerCred Cred    // SO_PEERCRED
	hasPeer  bool    // peerCred is set (connected at some point)

	pending  []*Socket // a listener's connections not yet accepted
	backlog  int
	listener *Socket // a connection still in its listener's pending list

	queue    []*message // received, not yet read
	queued   int        // bytes of queue's messages, charge included
	sent     int        // bytes this socket's sends hold in queues (sk_wmem_alloc)
	sndbuf   int
	rcvbuf   int
	shut     uint8
	err      errno.Errno // SO_ERROR, pending
	passcred bool
	inFlight int  // how many of its descriptions are queued in messages
	released bool // its last descriptor went
}

// Type returns SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET.
func (s *Socket) Type() linux.SockType { return s.typ }

// Ino is the socket's inode number (fstat, /proc/<pid>/fd's socket:[ino]).
func (s *Socket) Ino() uint64 { return s.ino }

func (s *Socket) connectionOriented() bool { return s.typ != linux.SOCK_DGRAM }

// Read is recv(2) with no flags.
func (s *Socket) Read(c kfile.Caller, b []byte, _ int64, nonblock bool) (int, errno.Errno) {
	r, e := s.Recv(c, len(b), 0, nonblock)
	if e != 0 {
		return 0, e
	}
	r.DropRights() // a plain read takes no descriptors: they are closed
	return copy(b, r.Data), 0
}

// Write is send(2) with no flags.
func (s *Socket) Write(c kfile.Caller, b []byte, _ int64, nonblock bool) (int, errno.Errno) {
	return s.Send(c, Message{Data: b}, nil, 0, nonblock)
}

func (s *Socket) Seekable() bool { return false }

// Stat describes the socket as Linux's sockfs does: S_IFSOCK, its own
// inode number.
func (s *Socket) Stat() linux.Stat {
	return linux.Stat{Dev: 3, Ino: s.ino, Mode: linux.S_IFSOCK | 0o777, Nlink: 1, Blksize: 4096}
}

// Poll reports readiness as Linux's unix_poll and unix_dgram_poll do.
func (s *Socket) Poll() (uint32, *kfile.Event) {
	s.d.mu.Lock()
	defer s.d.mu.Unlock()
	var ev uint32
	if s.err != 0 {
		ev |= linux.EPOLLERR
	}
	if s.shut == rcvShut|sndShut {
		ev |= linux.EPOLLHUP
	}
	if s.shut&rcvShut != 0 {
		ev |= linux.EPOLLRDHUP | linux.EPOLLIN | linux.EPOLLRDNORM
	}
	if len(s.queue) > 0 || len(s.pending) > 0 {
		ev |= linux.EPOLLIN | linux.EPOLLRDNORM
	}
	if s.connectionOriented() && s.state == unconnected {
		ev |= linux.EPOLLHUP
	}
	if s.writableLocked() {
		ev |= linux.EPOLLOUT | linux.EPOLLWRNORM | linux.EPOLLWRBAND
	}
	return ev, s.ev
}

// writableLocked is Linux's unix_writable (a quarter of the send buffer
// in use at most), and for a datagram socket with a default peer that
// is not connected back, room in that peer's queue.
func (s *Socket) writableLocked() bool {
	if s.state == listening || s.sent*4 > s.sndbuf {
		return false
	}
	if s.typ == linux.SOCK_DGRAM && s.peer != nil && s.peer.peer != s && s.peer.dgramQueueFull() {
		return false
	}
	return true
}

func (s *Socket) dgramQueueFull() bool {
	return s.typ == linux.SOCK_DGRAM && len(s.queue) >= maxDgramQueue
}

// Release closes the socket with its last descriptor: its name goes,
// its peer sees the end of the connection (ECONNRESET if it left data
// unread, as Linux), its unread messages are dropped with the
// descriptors they carry, and so are the connections it had not
// accepted.
func (s *Socket) Release() {
	d := s.d
	d.mu.Lock()
	drop, wake := s.closeLocked(false)
	d.mu.Unlock()
	signalAll(wake...)
	dropAll(drop)
}

// closeLocked tears s down; d.mu held. embryo says s is a connection
// its listener never accepted, which resets its peer as unread data does.
// It returns the descriptions to
// drop and the sockets to wake once the lock is released (dropping one
// may release another socket, which takes the lock).
func (s *Socket) closeLocked(embryo bool) (drop []*kfile.OpenFile, wake []*Socket) {
	d := s.d
	s.released = true
	s.unbindLocked()
	wake = append(wake, s)
	if p := s.peer; p != nil {
		if s.connectionOriented() {
			p.shut = rcvShut | sndShut
			if len(s.queue) > 0 || len(s.pending) > 0 || embryo {
				p.err = errno.ECONNRESET
			}
			// p keeps s as its peer: getpeername still names it, as on
			// Linux; its shutdown bits end its reads and writes.
		}
		wake = append(wake, p)
		s.peer = nil
	}
	if l := s.listener; l != nil { // a connection closed before accept: leave the list
		for i, q := range l.pending {
			if q == s {
				l.pending = append(l.pending[:i], l.pending[i+1:]...)
				break
			}
		}
		s.listener = nil
		wake = append(wake, l)
	}
	for _, q := range s.pending {
		q.listener = nil
		dr, w := q.closeLocked(true)
		drop, wake = append(drop, dr...), append(wake, w...)
	}
	s.pending = nil
	for _, m := range s.queue {
		drop = append(drop, d.dequeueLocked(s, m)...)
		if m.from != nil {
			wake = append(wake, m.from)
		}
	}
	s.queue, s.queued = nil, 0
	s.state = unconnected
	s.shut = rcvShut | sndShut
	return drop, wake
}

// unbindLocked forgets s's name; d.mu held.
func (s *Socket) unbindLocked() {
	d := s.d
	switch {
	case s.key != nil:
		if d.paths[*s.key] == s {
			delete(d.paths, *s.key)
		}
	case s.name.Abstract():
		if d.abstract[s.name] == s {
			delete(d.abstract, s.name)
		}
	}
}

func dropAll(ofs []*kfile.OpenFile) {
	for _, of := range ofs {
		of.Drop()
	}
}
