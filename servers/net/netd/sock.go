package netd

import (
	"net/netip"
	"time"

	"valence.dev/servers/net/socket"
	"valence.dev/servers/net/sockproto"
	"valence.dev/servers/net/stack"
	"valence.dev/servers/net/tcp"
)

// kind is what a socket is, from socket(2)'s type and protocol.
type kind uint8

const (
	kindTCP  kind = iota + 1 // SOCK_STREAM
	kindUDP                  // SOCK_DGRAM
	kindPing                 // SOCK_DGRAM, IPPROTO_ICMP
	kindRaw                  // SOCK_RAW, IPPROTO_ICMP (raw.go)
)

// sock is one socket of a client: the stack object behind it, which
// changes as the socket is bound, listens or connects, and what Linux
// keeps per socket that the stack does not.
type sock struct {
	id   uint32
	kind kind

	// At most one of these is set; a TCP socket has none until it
	// listens or connects, a UDP socket until it is bound (explicitly,
	// or implicitly by connect or sendto).
	conn *tcp.Conn
	lis  *tcp.Listener
	udp  *stack.UDPSocket
	ping *stack.PingSocket
	raw  *stack.RawSocket // from socket(2) on

	bound   netip.AddrPort // the address given to bind(2), or chosen for an implicit bind
	holds   bool           // holds bound's port in Server.tcpBound
	peer    netip.AddrPort // a connected UDP, ping or raw socket's peer
	errSeen bool           // conn's error has been reported (then: EOF, EPIPE)
	shutRd  bool
	shutWr  bool
	closed  bool
	charged int64 // buffer bytes charged to the client
	lastEv  uint32
	opts    options

	// rawBound: a raw socket's address was given to bind(2), not chosen
	// by connect(2) (which a disconnect forgets).
	rawBound bool
	// connAddr: a UDP socket's address was chosen by connect(2), not
	// given to bind(2) (a disconnect forgets it).
	connAddr bool
}

// options are the socket options that are kept (opts.go).
type options struct {
	reuseAddr, reusePort, keepAlive, broadcast bool
	noDelay                                    bool
	v6only                                     bool
	lingerOn                                   bool
	linger                                     int32
	rcvBuf, sndBuf                             int32
	keepIdle, keepIntvl                        time.Duration
	keepCnt                                    int32
	tos, ttl                                   int32
}

// typ is the socket's SOCK_ type.
func (so *sock) typ() uint16 {
	switch so.kind {
	case kindTCP:
		return uint16(sockproto.SOCK_STREAM)
	case kindRaw:
		return uint16(sockproto.SOCK_RAW)
	}
	return uint16(sockproto.SOCK_DGRAM)
}

// protocol is the socket's IP protocol (SO_PROTOCOL).
func (so *sock) protocol() uint16 {
	switch so.kind {
	case kindTCP:
		return sockproto.IPPROTO_TCP
	case kindUDP:
		return sockproto.IPPROTO_UDP
	}
	return sockproto.IPPROTO_ICMP
}

// stackSocket is the stack object, for SetNotify.
func (so *sock) stackSocket() interface{ SetNotify(func(socket.Events)) } {
	switch {
	case so.conn != nil:
		return so.conn
	case so.lis != nil:
		return so.lis
	case so.udp != nil:
		return so.udp
	case so.ping != nil:
		return so.ping
	case so.raw != nil:
		return so.raw
	}
	return nil
}

// pendingErr is the error SO_ERROR would report now.
func (so *sock) pendingErr() error {
	if so.conn != nil && !so.errSeen {
		return so.conn.Err()
	}
	return nil
}

// events is the socket's readiness as poll(2) on Linux reports it
// (tcp_poll, udp_poll).
func (so *sock) events() uint32 {
	const (
		in, out, hup, rdhup, errb = sockproto.EPOLLIN, sockproto.EPOLLOUT, sockproto.EPOLLHUP, sockproto.EPOLLRDHUP, sockproto.EPOLLERR
	)
	switch so.kind {
	case kindTCP:
		switch {
		case so.lis != nil:
			if so.lis.Events()&socket.Readable != 0 {
				return in
			}
			return 0
		case so.conn == nil:
			// A socket in CLOSE: Linux says POLLOUT|POLLHUP.
			return out | hup
		}
		c := so.conn
		var ev uint32
		st := c.State()
		if st == tcp.SynSent || st == tcp.SynReceived {
			return 0
		}
		e := c.Events()
		if e&socket.Readable != 0 {
			ev |= in
		}
		if e&socket.Writable != 0 {
			ev |= out
		}
		rdShut := c.PeerClosed() || so.shutRd || st == tcp.Closed
		wrShut := so.shutWr || st == tcp.Closed
		if rdShut {
			ev |= in | rdhup
		}
		if wrShut {
			ev |= out
		}
		if st == tcp.Closed || rdShut && wrShut {
			ev |= hup
		}
		if so.pendingErr() != nil {
			ev |= errb
		}
		return ev
	case kindUDP:
		ev := uint32(out)
		if so.udp != nil {
			e := so.udp.Events()
			if e&socket.Readable != 0 {
				ev |= in
			}
			if e&socket.Error != 0 {
				ev |= errb
			}
		}
		if so.shutRd {
			ev |= in | rdhup
		}
		if so.shutRd && so.shutWr {
			ev |= hup
		}
		return ev
	case kindPing:
		ev := uint32(out)
		if so.ping != nil && so.ping.Events()&socket.Readable != 0 {
			ev |= in
		}
		return ev
	case kindRaw:
		// datagram_poll, as for UDP.
		ev := uint32(out)
		if so.raw.Events()&socket.Readable != 0 {
			ev |= in
		}
		if so.shutRd {
			ev |= in | rdhup
		}
		if so.shutRd && so.shutWr {
			ev |= hup
		}
		return ev
	}
	return 0
}
