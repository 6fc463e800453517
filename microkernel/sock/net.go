package sock

import (
	"context"
	"errors"
	"sync"
	"syscall"
	"time"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/ipc/rpc"
	"valence.dev/microkernel/kfile"
	"valence.dev/servers/net/sockproto"
)

// Dialer gives a transport to the network server for a call made by c
// (nil: the kernel's own call, which must not wait forever).
type Dialer func(c kfile.Caller) rpc.Transport

// Net is the kernel's connection to one network server (a netd): the
// sockets made through it, and the poller that keeps their readiness.
// When the server dies, every socket of it fails (ECONNRESET, and
// EPOLLERR|EPOLLHUP for its watchers); a restarted netd is a new Net.
type Net struct {
	dial Dialer
	bufs *bufPool

	mu      sync.Mutex
	socks   map[uint32]*Socket
	early   map[uint32]uint32 // readiness of sockets not yet in socks (bounded)
	dead    bool
	stopped chan struct{}
}

// maxEarly bounds readiness kept for sockets whose creation has not
// returned yet.
const maxEarly = 1024

// waitRetry is how long the poller rests after a failed Wait that did
// not kill the connection, so that a misbehaving server cannot make it
// spin.
const waitRetry = 100 * time.Millisecond

// Start connects to a network server and starts the poller: one
// goroutine that keeps one Wait outstanding and turns its answers into
// readiness and wake-ups. attach gets shared buffers for bulk data (nil:
// data moves inline only).
func Start(dial Dialer, attach Attacher) *Net {
	n := &Net{dial: dial, bufs: newBufPool(attach), socks: map[uint32]*Socket{}, early: map[uint32]uint32{}, stopped: make(chan struct{})}
	go n.poll()
	return n
}

func (n *Net) client(c kfile.Caller) sockproto.Client { return sockproto.Client{T: n.dial(c)} }

// Dead reports whether the server is gone.
func (n *Net) Dead() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.dead
}

// Stop ends the connection as if the server had died (a new netd was
// registered in its place).
func (n *Net) Stop() { n.kill() }

// Stopped is closed once the connection is dead and every socket told.
func (n *Net) Stopped() <-chan struct{} { return n.stopped }

// poll is the poller's loop.
func (n *Net) poll() {
	var seq uint64
	for !n.Dead() {
		rep, err := n.client(nil).Wait(context.Background(), seq)
		switch {
		case err == nil:
			seq = rep.Seq
			n.ready(rep.Ready)
		case gone(err):
			n.kill()
			return
		default:
			// A Wait that timed out (the kernel's own calls are bounded)
			// or that the server refused: ask again.
			time.Sleep(waitRetry)
		}
	}
}

// gone reports whether err says the server is dead.
func gone(err error) bool { return errors.Is(err, syscall.EOWNERDEAD) }

// ready records readiness reported by the server.
func (n *Net) ready(rs []sockproto.Ready) {
	for _, r := range rs {
		n.mu.Lock()
		s := n.socks[r.Sock]
		if s == nil && len(n.early) < maxEarly {
			n.early[r.Sock] = r.Events
		}
		n.mu.Unlock()
		if s != nil {
			s.setEvents(r.Events)
		}
	}
}

// kill marks the server dead and fails every socket.
func (n *Net) kill() {
	n.mu.Lock()
	if n.dead {
		n.mu.Unlock()
		return
	}
	n.dead = true
	socks := n.socks
	n.socks = map[uint32]*Socket{}
	n.mu.Unlock()
	n.releaseBufs()
	for _, s := range socks {
		s.serverGone()
	}
	close(n.stopped)
}

// add registers a socket the server made.
func (n *Net) add(s *Socket) {
	n.mu.Lock()
	n.socks[s.id] = s
	ev, early := n.early[s.id]
	delete(n.early, s.id)
	dead := n.dead
	n.mu.Unlock()
	if dead {
		s.serverGone()
	} else if early {
		s.setEvents(ev)
	}
}

// remove forgets a closed socket.
func (n *Net) remove(s *Socket) {
	n.mu.Lock()
	if n.socks[s.id] == s {
		delete(n.socks, s.id)
	}
	delete(n.early, s.id)
	n.mu.Unlock()
}

// errnoOf is the errno for a failed call: the server's own, ECONNRESET
// when the server died (its sockets are gone), EIO otherwise.
func errnoOf(err error) errno.Errno {
	if err == nil {
		return 0
	}
	var re *rpc.Error
	if errors.As(err, &re) && re.Code > 0 && re.Code < 4096 {
		return errno.Errno(re.Code)
	}
	if gone(err) {
		return errno.ECONNRESET
	}
	return errno.EIO
}

// NewSocket makes a socket: socket(2) less its flags, which are the
// descriptor's. It is Open without CAP_NET_RAW.
func (n *Net) NewSocket(c kfile.Caller, family, typ, protocol uint16) (*Socket, errno.Errno) {
	return n.Open(c, sockproto.SocketRequest{Family: family, Type: typ, Protocol: protocol})
}

// Open makes a socket from socket(2)'s arguments less its flags, and
// whether the program has CAP_NET_RAW (req.NetRaw), which a SOCK_RAW
// socket needs: netd refuses one without it (EPERM), in Linux's order.
func (n *Net) Open(c kfile.Caller, req sockproto.SocketRequest) (*Socket, errno.Errno) {
	if n.Dead() {
		return nil, errno.ENETDOWN
	}
	family, typ := req.Family, req.Type
	id, err := n.client(c).Open(context.Background(), req)
	if err != nil {
		if gone(err) {
			n.kill()
			return nil, errno.ENETDOWN
		}
		return nil, errnoOf(err)
	}
	s := newSocket(n, id, family, typ)
	n.add(s)
	return s, 0
}

// eventsDead is what a socket of a dead server reports.
const eventsDead = linux.EPOLLERR | linux.EPOLLHUP | linux.EPOLLIN | linux.EPOLLOUT
