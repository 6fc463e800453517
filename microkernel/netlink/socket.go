package netlink

import (
	"sync"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile"
)

// Buffer sizes. SO_RCVBUF bounds the answers queued for reading (Linux's
// sk_rmem_alloc against sk_rcvbuf), SO_SNDBUF the size of one send (less
// 32 bytes, as netlink_sendmsg). Linux's defaults and bounds (rmem and
// wmem_default, SOCK_MIN_RCVBUF, twice rmem_max), doubled by setsockopt
// as Linux does.
const (
	defaultBuf = 212992
	minBuf     = 4608
	maxBuf     = 2 * 212992
)

// msgOverhead is what each queued datagram costs besides its bytes (the
// kernel's bookkeeping for it), so that a flood of small answers is
// bounded as bytes are.
const msgOverhead = 256

// minBuffered is what a socket may always hold, however short of memory
// the kernel or its owner's quota is: one batch, so that answers flow.
const minBuffered = goodSize + msgOverhead

// ownerQuota bounds what the sockets of one process hold in all (the
// same counter and figure as AF_UNIX sockets, unixsock.Quota) before
// each holds at most minBuffered.
const ownerQuota = 16 << 20

// Batch sizes: a dump is sent as datagrams of whole messages, each at
// most NLMSG_GOODSIZE (a page less the sk_buff's shared info, 3776 bytes
// on x86-64), or the largest read seen so far up to 32 KiB less that
// overhead, as Linux's netlink_dump sizes them from max_recvmsg_len. A
// read shorter than a datagram truncates it (MSG_TRUNC); the rest of the
// dump comes in the next datagrams.
const (
	goodSize = 4096 - 320
	maxBatch = 32768 - 320
)

// Socket is a NETLINK_ROUTE socket, a kfile.File. A send is handled at
// once: its requests are answered in order, each answer queued as one
// datagram (a dump's first part too); a dump's remaining messages wait
// in dump, and each read that leaves the queue at most half full queues
// the next part. See doc.go for the invariants.
type Socket struct {
	ports *Ports
	cfg   Config
	ino   uint64
	ev    *kfile.Event

	// sendMu orders sends: the answers of one send are queued together
	// and in order, while netd is asked with mu released.
	sendMu sync.Mutex

	mu       sync.Mutex
	port     uint32
	bound    bool
	queue    [][]byte // answers, one datagram each
	queued   int      // bytes charged for queue (msgOverhead each)
	dump     [][]byte // a running dump's messages not yet queued
	pending  int      // bytes charged for dump
	err      errno.Errno
	rcvbuf   int
	sndbuf   int
	maxRecv  int // the largest read so far, for the batch size
	opts     options
	noNoBufs bool // NETLINK_NO_ENOBUFS: drop answers without ENOBUFS
	released bool
}

// NewSocket makes an unbound socket. Types other than SOCK_RAW and
// SOCK_DGRAM are ESOCKTNOSUPPORT, as Linux's netlink_create.
func (p *Ports) NewSocket(cfg Config) (*Socket, errno.Errno) {
	if cfg.Type != linux.SOCK_RAW && cfg.Type != linux.SOCK_DGRAM {
		return nil, errno.ESOCKTNOSUPPORT
	}
	var ino uint64
	if p.nextIno != nil {
		ino = p.nextIno()
	}
	return &Socket{ports: p, cfg: cfg, ino: ino, ev: kfile.NewEvent(), rcvbuf: defaultBuf, sndbuf: defaultBuf}, 0
}

// Type returns SOCK_RAW or SOCK_DGRAM.
func (s *Socket) Type() linux.SockType { return s.cfg.Type }

// Ino is the socket's inode number (fstat, /proc/<pid>/fd's socket:[ino]).
func (s *Socket) Ino() uint64 { return s.ino }

// Bind implements bind(2) with port nl_pid: 0 binds the process's ID or
// a free negative one (autobind); another port binds that one
// (EADDRINUSE if taken). A bound socket may only be bound again to its
// own port (EINVAL otherwise, 0 included), as Linux's netlink_bind.
func (s *Socket) Bind(pid int, port uint32) errno.Errno {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bound {
		if port != s.port {
			return errno.EINVAL
		}
		return 0
	}
	return s.bindLocked(pid, port)
}

func (s *Socket) bindLocked(pid int, port uint32) errno.Errno {
	if s.released {
		return errno.EBADF
	}
	var e errno.Errno
	if port == 0 {
		port, e = s.ports.autobind(pid, s)
	} else {
		e = s.ports.insert(port, s)
	}
	if e == 0 {
		s.port, s.bound = port, true
	}
	return e
}

// Autobind binds s as a send or connect does when it is unbound.
func (s *Socket) Autobind(pid int) errno.Errno {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.bound {
		return 0
	}
	return s.bindLocked(pid, 0)
}

// Port is the socket's port ID (getsockname's nl_pid): 0 until bound.
func (s *Socket) Port() uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.port
}

// MaxSend is the longest send the socket takes (EMSGSIZE beyond).
func (s *Socket) MaxSend() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sndbuf - 32
}

// Send handles the requests in b (one send(2)) for caller c of process
// pid, binding the socket first if it is not, and queues their answers.
// It never waits for room: an answer that finds the queue full is
// dropped and the next read reports ENOBUFS, as Linux's netlink_overrun.
func (s *Socket) Send(c kfile.Caller, pid int, b []byte) (int, errno.Errno) {
	if len(b) > s.MaxSend() {
		return 0, errno.EMSGSIZE
	}
	if e := s.Autobind(pid); e != 0 {
		return 0, e
	}
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	s.mu.Lock()
	h := handler{port: s.port, opts: s.opts, table: func() (Table, errno.Errno) { return s.cfg.Table(c) }}
	s.mu.Unlock()
	if s.cfg.Admin != nil {
		h.admin = s.cfg.Admin(c)
	}
	queued := false
	for _, req := range SplitRequests(b) {
		a := h.handle(req)
		s.mu.Lock()
		for _, d := range a.datagrams {
			s.enqueueLocked(d)
		}
		if a.dump != nil {
			if s.dump != nil {
				s.enqueueLocked(a.busy()) // one dump at a time, as Linux's netlink_dump_start
			} else {
				s.startDumpLocked(a.dump)
			}
		}
		queued = queued || len(a.datagrams) > 0 || a.dump != nil
		s.mu.Unlock()
	}
	if queued {
		s.ev.Signal()
	}
	return len(b), 0
}

// Recv implements recv(2): the next datagram, cut to n bytes, with its
// whole length; MSG_PEEK leaves it queued. A pending error (ENOBUFS after
// dropped answers) is reported first, once. With nothing queued it waits
// unless nonblock (or MSG_DONTWAIT): EAGAIN.
func (s *Socket) Recv(c kfile.Caller, n int, flags uint32, nonblock bool) (data []byte, full int, e errno.Errno) {
	if flags&linux.MSG_OOB != 0 {
		return nil, 0, errno.EOPNOTSUPP
	}
	nonblock = nonblock || flags&linux.MSG_DONTWAIT != 0
	more := false
	_, e = kfile.WaitUntil(c, s.ev, nonblock, func() (int, errno.Errno, bool) {
		s.mu.Lock()
		defer s.mu.Unlock()
		s.maxRecv = min(max(s.maxRecv, n), maxBatch)
		if s.err != 0 {
			e := s.err
			s.err = 0
			return 0, e, true
		}
		if len(s.queue) == 0 && s.dump != nil {
			s.fillLocked(true)
		}
		if len(s.queue) == 0 {
			if s.released {
				return 0, errno.EBADF, true
			}
			return 0, 0, false
		}
		d := s.queue[0]
		full = len(d)
		if flags&linux.MSG_PEEK != 0 {
			data = append([]byte(nil), d[:min(n, len(d))]...)
			return 0, 0, true
		}
		s.dequeueLocked()
		data = d[:min(n, len(d))]
		// The dump goes on while the queue is at most half full, as
		// Linux's netlink_recvmsg continues it.
		if s.dump != nil && s.queued <= s.rcvbuf/2 {
			more = s.fillLocked(false)
		}
		return 0, 0, true
	})
	if more {
		s.ev.Signal()
	}
	return data, full, e
}

// enqueueLocked queues answer d, or drops it when the queue is full: up
// to SO_RCVBUF, or minBuffered when the owner holds its quota or the
// kernel heap is short; an empty queue always takes one. A drop sets
// ENOBUFS for the next read unless NETLINK_NO_ENOBUFS.
func (s *Socket) enqueueLocked(d []byte) bool {
	if s.released {
		return false
	}
	size := len(d) + msgOverhead
	if len(s.queue) > 0 && s.queued+size > s.limitLocked(size) {
		if !s.noNoBufs {
			s.err = errno.ENOBUFS
		}
		return false
	}
	s.queue = append(s.queue, d)
	s.queued += size
	s.charge(size)
	return true
}

func (s *Socket) limitLocked(size int) int {
	if c := s.cfg.Charge; c != nil && c.Load() >= ownerQuota || !s.ports.canGrow(uint64(size)) {
		return min(s.rcvbuf, minBuffered)
	}
	return s.rcvbuf
}

func (s *Socket) dequeueLocked() {
	size := len(s.queue[0]) + msgOverhead
	s.queue[0] = nil
	s.queue = s.queue[1:]
	s.queued -= size
	s.charge(-size)
}

func (s *Socket) charge(n int) {
	if c := s.cfg.Charge; c != nil {
		c.Add(int64(n))
	}
}

// startDumpLocked makes msgs the running dump and queues its first part.
func (s *Socket) startDumpLocked(msgs [][]byte) {
	if s.released {
		return
	}
	s.dump = msgs
	for _, m := range msgs {
		s.pending += len(m)
	}
	s.charge(s.pending)
	s.fillLocked(false)
}

// fillLocked queues the dump's next part: as many whole messages as fit
// in a batch (at least one). Unless force (the queue is empty and a
// reader waits), it does so only when the queue has room; it reports
// whether it queued.
func (s *Socket) fillLocked(force bool) bool {
	limit := max(goodSize, s.maxRecv)
	size, k := 0, 0
	for k < len(s.dump) && (k == 0 || size+len(s.dump[k]) <= limit) {
		size += len(s.dump[k])
		k++
	}
	if k == 0 {
		return false
	}
	if !force && len(s.queue) > 0 && s.queued+size+msgOverhead > s.limitLocked(size) {
		return false
	}
	batch := make([]byte, 0, size)
	for _, m := range s.dump[:k] {
		batch = append(batch, m...)
	}
	clear(s.dump[:k])
	s.dump = s.dump[k:]
	if len(s.dump) == 0 {
		s.dump = nil
	}
	s.pending -= size
	s.charge(-size)
	s.queue = append(s.queue, batch)
	s.queued += size + msgOverhead
	s.charge(size + msgOverhead)
	return true
}

// Read is recv(2) with no flags: a datagram cut to b.
func (s *Socket) Read(c kfile.Caller, b []byte, _ int64, nonblock bool) (int, errno.Errno) {
	data, _, e := s.Recv(c, len(b), 0, nonblock)
	if e != 0 {
		return 0, e
	}
	return copy(b, data), 0
}

// Write is send(2) with no flags, for a caller of the process that
// opened the socket (the port autobind picks is the opener's).
func (s *Socket) Write(c kfile.Caller, b []byte, _ int64, _ bool) (int, errno.Errno) {
	pid := 0
	if c != nil {
		pid = c.PID()
	}
	return s.Send(c, pid, b)
}

func (s *Socket) Seekable() bool { return false }

// Stat describes the socket as Linux's sockfs does: S_IFSOCK, its own
// inode number.
func (s *Socket) Stat() linux.Stat {
	return linux.Stat{Dev: 3, Ino: s.ino, Mode: linux.S_IFSOCK | 0o777, Nlink: 1, Blksize: 4096}
}

// Poll reports readiness as Linux's datagram_poll: readable with an
// answer queued (or a dump under way), an error with one pending, and
// always writable (a send never waits).
func (s *Socket) Poll() (uint32, *kfile.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ev := uint32(linux.EPOLLOUT | linux.EPOLLWRNORM | linux.EPOLLWRBAND)
	if len(s.queue) > 0 || s.dump != nil {
		ev |= linux.EPOLLIN | linux.EPOLLRDNORM
	}
	if s.err != 0 {
		ev |= linux.EPOLLERR
	}
	return ev, s.ev
}

// Release closes the socket with its last descriptor: its port is freed
// and its answers dropped, uncharged.
func (s *Socket) Release() {
	s.mu.Lock()
	s.released = true
	port, bound := s.port, s.bound
	s.charge(-(s.queued + s.pending))
	s.queue, s.queued, s.dump, s.pending = nil, 0, nil, 0
	s.mu.Unlock()
	if bound {
		s.ports.remove(port, s)
	}
	s.ev.Signal()
}
