package unixsock

import (
	"sync"
	"sync/atomic"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile"
)

// Domain is the AF_UNIX domain: the names sockets are bound to and the
// one lock over every socket's state. A connect or a send touches two
// sockets, a close of a socket carrying descriptors may release others;
// one lock makes each of them a single step with no lock order to get
// wrong, and the work done under it is bounded (a copy of at most a
// socket buffer).
type Domain struct {
	mu       sync.Mutex
	abstract map[Addr]*Socket // abstract names
	paths    map[Key]*Socket  // pathnames, by the socket node's identity
	autobind uint32           // the next autobind name to try
	nextIno  func() uint64
	canGrow  func(bytes uint64) bool
}

// Key identifies the filesystem node a socket is bound to: its device
// and inode, as stat reports them. The node is the name (a rename keeps
// it, unlink removes it); the key outlives neither the binding nor the
// socket.
type Key struct{ Dev, Ino uint64 }

// NewDomain returns an empty domain. nextIno numbers new sockets (their
// fstat inode, socket:[ino] in /proc); canGrow reports whether the kernel
// heap may grow by so many bytes (nil: always), and when it may not, a
// socket's sends hold at most minBuffered bytes.
func NewDomain(nextIno func() uint64, canGrow func(bytes uint64) bool) *Domain {
	if canGrow == nil {
		canGrow = func(uint64) bool { return true }
	}
	return &Domain{abstract: map[Addr]*Socket{}, paths: map[Key]*Socket{}, nextIno: nextIno, canGrow: canGrow}
}

// Cred is a process's credentials as SO_PEERCRED and SCM_CREDENTIALS
// carry them (struct ucred).
type Cred struct {
	PID      int32
	UID, GID uint32
}

// Owner is the process a socket is charged to: the bytes its sends hold
// in kernel buffers (Bytes, which the out-of-memory killer counts), and
// the descriptors its sends have in flight (InFlight, at most
// MaxInFlight: Linux's RLIMIT_NOFILE bound, ETOOMANYREFS beyond). The
// counters belong to the process and outlive its sockets.
type Owner struct {
	Cred        Cred
	Bytes       *atomic.Int64
	InFlight    *atomic.Int64
	MaxInFlight int64
}

// NewSocket makes an unbound, unconnected socket of type typ
// (SOCK_STREAM, SOCK_DGRAM or SOCK_SEQPACKET; ESOCKTNOSUPPORT otherwise).
func (d *Domain) NewSocket(typ linux.SockType, o Owner) (*Socket, errno.Errno) {
	switch typ {
	case linux.SOCK_STREAM, linux.SOCK_DGRAM, linux.SOCK_SEQPACKET:
	default:
		return nil, errno.ESOCKTNOSUPPORT
	}
	return d.newSocket(typ, o), 0
}

func (d *Domain) newSocket(typ linux.SockType, o Owner) *Socket {
	var ino uint64
	if d.nextIno != nil {
		ino = d.nextIno()
	}
	return &Socket{d: d, typ: typ, ino: ino, ev: kfile.NewEvent(), owner: o,
		sndbuf: defaultBuf, rcvbuf: defaultBuf, cred: o.Cred}
}

// Pair makes two sockets of type typ connected to each other
// (socketpair(2)); each one's SO_PEERCRED is the creator.
func (d *Domain) Pair(typ linux.SockType, o Owner) (*Socket, *Socket, errno.Errno) {
	a, e := d.NewSocket(typ, o)
	if e != 0 {
		return nil, nil, e
	}
	b := d.newSocket(typ, o)
	a.peer, b.peer = b, a
	a.peerCred, b.peerCred = o.Cred, o.Cred
	a.hasPeer, b.hasPeer = true, true
	if typ != linux.SOCK_DGRAM {
		a.state, b.state = connected, connected
	}
	return a, b, 0
}

// LookupAbstract returns the socket bound to abstract name a
// (ECONNREFUSED if none is).
func (d *Domain) LookupAbstract(a Addr) (*Socket, errno.Errno) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if s, ok := d.abstract[a]; ok {
		return s, 0
	}
	return nil, errno.ECONNREFUSED
}

// LookupPath returns the socket bound to the node k (ECONNREFUSED if
// none is: a socket node whose socket is gone, as after a reboot).
func (d *Domain) LookupPath(k Key) (*Socket, errno.Errno) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if s, ok := d.paths[k]; ok {
		return s, 0
	}
	return nil, errno.ECONNREFUSED
}

// signalAll signals the events of socks; called with d.mu released, as
// the waiters woken take it.
func signalAll(socks ...*Socket) {
	for _, s := range socks {
		if s != nil {
			s.ev.Signal()
		}
	}
}
