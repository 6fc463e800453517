package netd

import (
	"context"
	"net/netip"
	"syscall"

	"gvisor.dev/gvisor/pkg/abi/linux"

	"valence.dev/servers/net/socket"
	"valence.dev/servers/net/sockproto"
	"valence.dev/servers/net/stack"
	"valence.dev/servers/net/tcp"
)

// Socket implements sockproto.Handler: socket(2).
func (s *Server) Socket(ctx context.Context, badge uint64, req sockproto.SocketRequest) (sockproto.SockReply, error) {
	k, err := kindOf(req)
	if err != nil {
		return sockproto.SockReply{}, err
	}
	var rep sockproto.SockReply
	err = s.do(func(st *stack.Stack) error {
		c, err := s.clientFor(badge, true)
		if err != nil {
			return err
		}
		defer s.dropIfIdle(badge)
		so := &sock{kind: k, opts: defaultOptions(st)}
		if k == kindRaw {
			if err := openRaw(st, so); err != nil {
				return err
			}
		}
		if err := s.admit(st, c, so); err != nil {
			if so.raw != nil {
				so.raw.Close()
			}
			return err
		}
		rep.Sock = so.id
		return nil
	})
	return rep, err
}

// kindOf checks socket(2)'s arguments as inet_create does: the family,
// then the protocol (a raw socket of protocol 0 is EPROTONOSUPPORT),
// then the privilege a raw socket needs (EPERM without CAP_NET_RAW). Of
// the raw sockets Linux has, only ICMP's is offered: another protocol is
// EPROTONOSUPPORT, as from a Linux built without it.
func kindOf(req sockproto.SocketRequest) (kind, error) {
	if req.Family != uint16(sockproto.AF_INET) {
		return 0, errno(syscall.EAFNOSUPPORT, "address family %d (only AF_INET: the stack is IPv4 only)", req.Family)
	}
	switch {
	case req.Type == uint16(linux.SOCK_RAW) && req.Protocol == 0:
		return 0, errno(syscall.EPROTONOSUPPORT, "raw socket of protocol 0")
	case req.Type == uint16(linux.SOCK_RAW) && !req.NetRaw:
		return 0, errno(syscall.EPERM, "a raw socket needs CAP_NET_RAW")
	case req.Type == uint16(linux.SOCK_RAW) && req.Protocol == linux.IPPROTO_ICMP:
		return kindRaw, nil
	case req.Type == uint16(linux.SOCK_RAW):
		return 0, errno(syscall.EPROTONOSUPPORT, "raw sockets of protocol %d are not offered (only ICMP)", req.Protocol)
	case req.Type == uint16(sockproto.SOCK_STREAM) && (req.Protocol == 0 || req.Protocol == linux.IPPROTO_TCP):
		return kindTCP, nil
	case req.Type == uint16(sockproto.SOCK_DGRAM) && (req.Protocol == 0 || req.Protocol == linux.IPPROTO_UDP):
		return kindUDP, nil
	case req.Type == uint16(sockproto.SOCK_DGRAM) && req.Protocol == linux.IPPROTO_ICMP:
		return kindPing, nil
	case req.Type == uint16(sockproto.SOCK_STREAM) || req.Type == uint16(sockproto.SOCK_DGRAM):
		return 0, errno(syscall.EPROTONOSUPPORT, "protocol %d for socket type %d", req.Protocol, req.Type)
	}
	return 0, errno(syscall.ESOCKTNOSUPPORT, "socket type %d", req.Type)
}

// charge is what a socket of kind k counts against the client's buffer
// limit: the buffers the stack gives it.
func charge(st *stack.Stack, k kind) int64 {
	switch k {
	case kindTCP:
		cfg := st.TCPConfig()
		return int64(cfg.SendBuffer + cfg.RecvBuffer)
	case kindUDP:
		return int64(st.UDPQueueBytes())
	case kindRaw:
		return stack.RawQueueBytes
	}
	return 64 << 10 // ping: 64 replies of up to 1 KiB
}

// checkLimits says whether c may hold one more socket of kind k.
func (s *Server) checkLimits(st *stack.Stack, c *client, k kind) error {
	switch {
	case len(c.socks) >= s.opts.MaxSocketsPerClient:
		return errno(syscall.EMFILE, "%d sockets already", len(c.socks))
	case s.nsocks >= s.opts.MaxSockets:
		return errno(syscall.ENFILE, "%d sockets in all", s.nsocks)
	case c.bytes+charge(st, k) > s.opts.MaxBufferBytesPerClient:
		return errno(syscall.ENOMEM, "socket buffers of %d bytes already", c.bytes)
	}
	return nil
}

// admit enters so among c's sockets, within the limits, and records it
// as changed so that the client learns its first readiness from Wait.
func (s *Server) admit(st *stack.Stack, c *client, so *sock) error {
	if err := s.checkLimits(st, c, so.kind); err != nil {
		return err
	}
	c.nextSock++
	for c.nextSock == 0 || c.socks[c.nextSock] != nil {
		c.nextSock++
	}
	so.id = c.nextSock
	so.charged = charge(st, so.kind)
	c.bytes += so.charged
	c.socks[so.id] = so
	s.socks[so] = c
	s.nsocks++
	if ss := so.stackSocket(); ss != nil {
		s.watch(c, so)
	}
	so.lastEv = so.events()
	c.record(so)
	return nil
}

// watch sends so's stack notifications to c's readiness record.
func (s *Server) watch(c *client, so *sock) {
	so.stackSocket().SetNotify(func(socket.Events) { c.notified(so) })
}

// Close implements sockproto.Handler: close(2) of the last reference.
func (s *Server) Close(ctx context.Context, badge uint64, req sockproto.SockRequest) (sockproto.Empty, error) {
	return sockproto.Empty{}, s.withSock(badge, req.Sock, func(st *stack.Stack, c *client, so *sock) error {
		s.closeSock(st, c, so)
		s.dropIfIdle(badge)
		return nil
	})
}

// closeSock closes so and forgets it. A connection finishes sending in
// the background (or is reset, with SO_LINGER 0 or unread data, as in
// Linux); a listener resets the connections nobody accepted.
func (s *Server) closeSock(st *stack.Stack, c *client, so *sock) {
	so.closed = true
	if ss := so.stackSocket(); ss != nil {
		ss.SetNotify(nil)
	}
	switch {
	case so.conn != nil && so.opts.lingerOn && so.opts.linger == 0:
		so.conn.Abort()
		so.conn.Close()
	case so.conn != nil:
		so.conn.Close()
	case so.lis != nil:
		st.CloseListener(so.lis)
	case so.udp != nil:
		so.udp.Close()
	case so.ping != nil:
		so.ping.Close()
	case so.raw != nil:
		so.raw.Close()
	}
	s.release(so)
	delete(c.socks, so.id)
	delete(c.changed, so.id)
	delete(s.socks, so)
	s.nsocks--
	c.bytes -= so.charged
}

// release gives back the TCP port so holds, if any.
func (s *Server) release(so *sock) {
	if so.holds && s.tcpBound[so.bound.Port()] == so {
		delete(s.tcpBound, so.bound.Port())
	}
	so.holds = false
}

// tcpPortFree reports whether a TCP socket may bind port: no other socket
// holds it and nothing listens on it; connections using it (TIME-WAIT
// ones included) stand in the way unless SO_REUSEADDR is set.
func (s *Server) tcpPortFree(st *stack.Stack, port uint16, reuse bool) bool {
	return port != 0 && s.tcpBound[port] == nil && !st.TCPPortListening(port) &&
		(reuse || st.TCPPortConnections(port) == 0)
}

// holdTCP makes so hold TCP port (0: an ephemeral one) on ip.
func (s *Server) holdTCP(st *stack.Stack, so *sock, ip netip.Addr, port uint16) error {
	free := func(p uint16) bool { return s.tcpPortFree(st, p, so.opts.reuseAddr) }
	if port == 0 {
		var ok bool
		if port, ok = st.EphemeralPort(free); !ok {
			return errno(syscall.EADDRINUSE, "no free ephemeral port")
		}
	} else if !free(port) {
		return errno(syscall.EADDRINUSE, "TCP port %d is in use", port)
	}
	s.tcpBound[port] = so
	so.holds = true
	so.bound = netip.AddrPortFrom(ip, port)
	return nil
}

// bindUDP opens so's UDP socket on port (0: an ephemeral one).
func (s *Server) bindUDP(st *stack.Stack, c *client, so *sock, ip netip.Addr, port uint16) error {
	u, err := st.ListenUDP(port)
	if err != nil {
		return stackErr("bind", err)
	}
	so.udp = u
	so.bound = netip.AddrPortFrom(ip, u.LocalPort())
	s.watch(c, so)
	return nil
}

// Bind implements sockproto.Handler: bind(2). Any port may be bound,
// those below 1024 included (there is no privilege check yet). The
// address must be 0.0.0.0 or one of the stack's; a socket bound to one
// address still receives on the others (the stack demultiplexes by port).
func (s *Server) Bind(ctx context.Context, badge uint64, req sockproto.AddrRequest) (sockproto.Empty, error) {
	addr, err := inetAddr(req.Addr)
	if err != nil {
		return sockproto.Empty{}, err
	}
	return sockproto.Empty{}, s.withSock(badge, req.Sock, func(st *stack.Stack, c *client, so *sock) error {
		if so.kind == kindRaw {
			return bindRaw(st, so, addr)
		}
		if so.bound.IsValid() || so.conn != nil || so.lis != nil || so.udp != nil || so.ping != nil {
			return errno(syscall.EINVAL, "socket already bound")
		}
		ip := addr.Addr()
		if !ip.IsUnspecified() && !isLocal(st, ip) {
			return errno(syscall.EADDRNOTAVAIL, "%v is not an address of this host", ip)
		}
		switch so.kind {
		case kindTCP:
			return s.holdTCP(st, so, ip, addr.Port())
		case kindUDP:
			return s.bindUDP(st, c, so, ip, addr.Port())
		}
		so.bound = addr // ping: the identifier is the stack's choice
		return nil
	})
}

// Listen implements sockproto.Handler: listen(2). An unbound socket gets
// an ephemeral port, as in Linux. The backlog is cut to [1, MaxBacklog];
// listening again keeps the first backlog.
func (s *Server) Listen(ctx context.Context, badge uint64, req sockproto.ListenRequest) (sockproto.Empty, error) {
	return sockproto.Empty{}, s.withSock(badge, req.Sock, func(st *stack.Stack, c *client, so *sock) error {
		switch {
		case so.kind != kindTCP:
			return errno(syscall.EOPNOTSUPP, "listen on a datagram socket")
		case so.lis != nil:
			return nil
		case so.conn != nil:
			return errno(syscall.EINVAL, "listen on a connected socket")
		}
		if !so.holds {
			if err := s.holdTCP(st, so, netip.IPv4Unspecified(), 0); err != nil {
				return err
			}
		}
		backlog := int(req.Backlog)
		if backlog < 0 || backlog > s.opts.MaxBacklog {
			backlog = s.opts.MaxBacklog
		}
		l, err := st.ListenTCP(so.bound.Port(), max(backlog, 1))
		if err != nil {
			return stackErr("listen", err)
		}
		so.lis = l
		s.watch(c, so)
		return nil
	})
}

// Accept implements sockproto.Handler: accept4(2). The new socket
// inherits the listener's options. At a limit the connection stays
// queued (EMFILE, ENFILE, ENOMEM), as in Linux.
func (s *Server) Accept(ctx context.Context, badge uint64, req sockproto.SockRequest) (sockproto.AcceptReply, error) {
	var rep sockproto.AcceptReply
	err := s.withSock(badge, req.Sock, func(st *stack.Stack, c *client, so *sock) error {
		if so.lis == nil {
			return errno(syscall.EINVAL, "accept on a socket that is not listening")
		}
		if so.lis.Events()&socket.Readable == 0 {
			return errno(syscall.EAGAIN, "no connection to accept")
		}
		if err := s.checkLimits(st, c, kindTCP); err != nil {
			return err
		}
		conn, err := so.lis.Accept()
		if err != nil {
			return stackErr("accept", err)
		}
		ns := &sock{kind: kindTCP, conn: conn, bound: conn.ID().Local, opts: so.opts}
		ns.applyTCP()
		if err := s.admit(st, c, ns); err != nil {
			conn.Abort() // cannot happen: the limits were checked
			return err
		}
		rep = sockproto.AcceptReply{Sock: ns.id, Peer: protoAddr(conn.ID().Remote)}
		return nil
	})
	return rep, err
}

// Connect implements sockproto.Handler: connect(2). A TCP connect that
// has begun fails with EINPROGRESS; the socket becomes writable when it
// is established, or errored, and SO_ERROR tells which (the Linux model
// that Go's net package follows). A datagram socket just records its
// peer (AF_UNSPEC forgets it).
func (s *Server) Connect(ctx context.Context, badge uint64, req sockproto.AddrRequest) (sockproto.Empty, error) {
	unspec := req.Addr.Family == linux.AF_UNSPEC
	var raddr netip.AddrPort
	if !unspec {
		var err error
		if raddr, err = destination(req.Addr); err != nil {
			return sockproto.Empty{}, err
		}
	}
	return sockproto.Empty{}, s.withSock(badge, req.Sock, func(st *stack.Stack, c *client, so *sock) error {
		switch so.kind {
		case kindTCP:
			if unspec {
				return errno(syscall.EAFNOSUPPORT, "AF_UNSPEC connect on a TCP socket")
			}
			return s.connectTCP(st, c, so, raddr)
		case kindUDP:
			if unspec {
				if so.udp != nil {
					so.udp.Connect(netip.AddrPort{})
				}
				so.peer = netip.AddrPort{}
				if so.connAddr {
					so.bound = netip.AddrPortFrom(netip.IPv4Unspecified(), so.bound.Port())
					so.connAddr = false
				}
				return nil
			}
			if raddr.Port() == 0 {
				return errno(syscall.EINVAL, "connect to port 0")
			}
			if so.udp == nil {
				if err := s.bindUDP(st, c, so, netip.IPv4Unspecified(), 0); err != nil {
					return err
				}
			}
			so.udp.Connect(raddr)
			so.peer = raddr
			if so.bound.Addr().IsUnspecified() {
				// ip4_datagram_connect: the socket takes the source
				// its peer will see as its address (getsockname,
				// /proc/net/udp), until a disconnect.
				so.bound = netip.AddrPortFrom(st.SourceFor(raddr.Addr()), so.bound.Port())
				so.connAddr = true
			}
			return nil
		case kindRaw:
			return connectRaw(st, so, raddr, unspec)
		}
		if unspec {
			so.peer = netip.AddrPort{}
		} else {
			so.peer = netip.AddrPortFrom(raddr.Addr(), 0)
		}
		return nil
	})
}

func (s *Server) connectTCP(st *stack.Stack, c *client, so *sock, raddr netip.AddrPort) error {
	switch {
	case so.lis != nil:
		// A listener is not TCP_CLOSE: Linux's __inet_stream_connect
		// says EISCONN.
		return errno(syscall.EISCONN, "connect on a listening socket")
	case so.conn != nil:
		switch so.conn.State() {
		case tcp.SynSent, tcp.SynReceived:
			return errno(syscall.EALREADY, "connect in progress")
		case tcp.Closed:
			// A connection that failed: the next connect reports the
			// failure if nobody has, the one after starts again
			// (__inet_stream_connect).
			if err := so.pendingErr(); err != nil {
				so.errSeen = true
				return stackErr("connect", err)
			}
			so.conn = nil
			so.errSeen, so.shutRd, so.shutWr = false, false, false
		default:
			return errno(syscall.EISCONN, "already connected")
		}
	}
	var (
		conn *tcp.Conn
		err  error
	)
	if so.holds {
		conn, err = st.DialTCPFrom(so.bound.Port(), raddr)
	} else {
		conn, err = st.DialTCP(raddr)
	}
	if err != nil {
		if err == socket.ErrAddrInUse && !so.holds {
			return errno(syscall.EADDRNOTAVAIL, "no free ephemeral port")
		}
		return stackErr("connect", err)
	}
	so.conn = conn
	so.applyTCP()
	s.watch(c, so)
	return errno(syscall.EINPROGRESS, "connecting to %v", raddr)
}

// Shutdown implements sockproto.Handler: shutdown(2).
func (s *Server) Shutdown(ctx context.Context, badge uint64, req sockproto.ShutdownRequest) (sockproto.Empty, error) {
	if req.How > linux.SHUT_RDWR {
		return sockproto.Empty{}, errno(syscall.EINVAL, "shutdown how %d", req.How)
	}
	rd, wr := req.How != linux.SHUT_WR, req.How != linux.SHUT_RD
	return sockproto.Empty{}, s.withSock(badge, req.Sock, func(st *stack.Stack, c *client, so *sock) error {
		switch {
		case so.conn != nil:
			if st := so.conn.State(); st == tcp.SynSent || st == tcp.SynReceived {
				return errno(syscall.ENOTCONN, "shutdown while connecting")
			}
			if rd && !so.shutRd {
				so.conn.CloseRead()
			}
			if wr && !so.shutWr {
				so.conn.CloseWrite()
			}
		case so.peer.IsValid():
		default:
			return errno(syscall.ENOTCONN, "shutdown of a socket that is not connected")
		}
		so.shutRd = so.shutRd || rd
		so.shutWr = so.shutWr || wr
		return nil
	})
}

// Name implements sockproto.Handler: getsockname(2), getpeername(2).
// A connection has a peer from the end of its handshake until it closes
// (ENOTCONN while it connects: Go's connect checks that way).
func (s *Server) Name(ctx context.Context, badge uint64, req sockproto.NameRequest) (sockproto.Addr, error) {
	var rep sockproto.Addr
	err := s.withSock(badge, req.Sock, func(st *stack.Stack, c *client, so *sock) error {
		if req.Peer {
			switch {
			case so.conn != nil:
				if st := so.conn.State(); st == tcp.SynSent || st == tcp.SynReceived || st == tcp.Closed {
					return errno(syscall.ENOTCONN, "not connected")
				}
				rep = protoAddr(so.conn.ID().Remote)
			case so.kind == kindRaw:
				var err error
				rep, err = rawPeer(so)
				return err
			case so.peer.IsValid():
				rep = protoAddr(so.peer)
			default:
				return errno(syscall.ENOTCONN, "not connected")
			}
			return nil
		}
		switch {
		case so.kind == kindRaw:
			rep = rawName(so)
		case so.conn != nil:
			rep = protoAddr(so.conn.ID().Local)
		case so.ping != nil:
			rep = protoAddr(netip.AddrPortFrom(so.bound.Addr(), so.ping.ID()))
		default:
			rep = protoAddr(so.bound)
		}
		return nil
	})
	return rep, err
}
