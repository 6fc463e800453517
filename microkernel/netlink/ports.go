package netlink

import (
	"math"
	"sync"
	"sync/atomic"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile"
)

// Ports holds the system's NETLINK_ROUTE sockets by port ID (nl_pid):
// one namespace, as Valence has one network. A port is unique among
// bound sockets; the kernel's own is 0.
type Ports struct {
	nextIno func() uint64
	canGrow func(bytes uint64) bool

	mu    sync.Mutex
	bound map[uint32]*Socket
	rover int32 // the next negative port ID autobind tries
}

// firstRover is where autobind looks for a port once a process's own
// ID is taken: Linux's netlink_autobind hands out negative IDs from
// -4097 down, so they never meet process IDs.
const firstRover = -4097

// NewPorts returns an empty registry. nextIno numbers the sockets (their
// fstat inode, socket:[ino] in /proc); canGrow reports whether the
// kernel heap can take bytes more (nil: always), which bounds queued
// answers when memory is short.
func NewPorts(nextIno func() uint64, canGrow func(bytes uint64) bool) *Ports {
	if canGrow == nil {
		canGrow = func(uint64) bool { return true }
	}
	return &Ports{nextIno: nextIno, canGrow: canGrow, bound: map[uint32]*Socket{}, rover: firstRover}
}

// insert binds s to port; EADDRINUSE if another socket has it.
func (p *Ports) insert(port uint32, s *Socket) errno.Errno {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, taken := p.bound[port]; taken || port == 0 {
		return errno.EADDRINUSE
	}
	p.bound[port] = s
	return 0
}

// autobind binds s to a free port: the process's ID if free, as Linux,
// else the next free negative ID.
func (p *Ports) autobind(pid int, s *Socket) (uint32, errno.Errno) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if port := uint32(pid); pid > 0 && p.bound[port] == nil {
		p.bound[port] = s
		return port, 0
	}
	for range len(p.bound) + 1 {
		port := uint32(p.rover)
		if p.rover == math.MinInt32 {
			p.rover = firstRover
		} else {
			p.rover--
		}
		if p.bound[port] == nil {
			p.bound[port] = s
			return port, 0
		}
	}
	return 0, errno.EADDRINUSE // every candidate taken: cannot happen with fewer than 2^31 sockets
}

func (p *Ports) remove(port uint32, s *Socket) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.bound[port] == s {
		delete(p.bound, port)
	}
}

// Config is what a new socket needs from its creator (package proc).
type Config struct {
	// Type is SOCK_RAW or SOCK_DGRAM (the same thing for netlink).
	Type linux.SockType
	// Charge counts the bytes the socket holds for its owner (the
	// process's socket charge, which the out-of-memory killer reads);
	// nil counts nothing.
	Charge *atomic.Int64
	// Table takes netd's state for the caller; an error fails the
	// request it was taken for.
	Table func(kfile.Caller) (Table, errno.Errno)
	// Admin reports whether the caller may change the network
	// (CAP_NET_ADMIN): without it, changes are EPERM, with it
	// EOPNOTSUPP.
	Admin func(kfile.Caller) bool
}
