package netd

import (
	"context"
	"encoding/binary"
	"syscall"
	"time"

	"gvisor.dev/gvisor/pkg/abi/linux"

	"valence.dev/servers/net/ipv4"
	"valence.dev/servers/net/sockproto"
	"valence.dev/servers/net/stack"
)

// Socket options. Those Go's net package sets are all accepted; what each
// does here:
//
//	SO_REUSEADDR          bind may take a port that connections (TIME-WAIT
//	                      ones included) use; never one a socket holds
//	SO_REUSEPORT          kept and reported; no effect (no port sharing)
//	SO_KEEPALIVE          keep-alive probes (RFC 1122 4.2.3.6), with
//	TCP_KEEPIDLE/INTVL/CNT  their timing
//	TCP_NODELAY           Nagle's algorithm off
//	SO_BROADCAST          sendto 255.255.255.255 allowed (else EACCES)
//	SO_LINGER             {1, 0} makes close reset the connection; other
//	                      values are kept (close never blocks here)
//	SO_ERROR, SO_TYPE, SO_DOMAIN, SO_PROTOCOL, SO_ACCEPTCONN  read only
//	SO_RCVBUF, SO_SNDBUF  kept; reads give the stack's real buffer sizes,
//	                      which do not change
//	IP_TOS, IP_TTL        kept and reported; no effect
//	IPV6_V6ONLY           kept and reported; no effect (IPv4 only)
//	TCP_MAXSEG            reads the segment size; writes have no effect
//	ICMP_FILTER (SOL_RAW) a raw ICMP socket's filter of types (raw.go)
//
// Anything else is ENOPROTOOPT. Timeouts (SO_RCVTIMEO, SO_SNDTIMEO) are
// the kernel's, which does the blocking.

// defaultOptions are a new socket's options: the stack's defaults.
func defaultOptions(st *stack.Stack) options {
	cfg := st.TCPConfig()
	return options{
		noDelay:   !cfg.Nagle,
		keepIdle:  cfg.KeepIdle,
		keepIntvl: cfg.KeepInterval,
		keepCnt:   int32(cfg.KeepCount),
		ttl:       64,
	}
}

// applyTCP gives so's connection the options that act on it.
func (so *sock) applyTCP() {
	if so.conn == nil {
		return
	}
	so.conn.SetNoDelay(so.opts.noDelay)
	so.conn.SetKeepAlive(so.opts.keepAlive, so.opts.keepIdle, so.opts.keepIntvl, int(so.opts.keepCnt))
}

var errNoOpt = errno(syscall.ENOPROTOOPT, "unknown socket option")

// SetOpt implements sockproto.Handler: setsockopt(2).
func (s *Server) SetOpt(ctx context.Context, badge uint64, req sockproto.OptRequest) (sockproto.Empty, error) {
	return sockproto.Empty{}, s.withSock(badge, req.Sock, func(st *stack.Stack, c *client, so *sock) error {
		if req.Level == linux.SOL_RAW {
			return setRawOpt(so, req.Name, req.Value)
		}
		if req.Level == linux.SOL_SOCKET && req.Name == linux.SO_LINGER {
			if len(req.Value) < 8 {
				return errno(syscall.EINVAL, "SO_LINGER of %d bytes", len(req.Value))
			}
			so.opts.lingerOn = binary.LittleEndian.Uint32(req.Value) != 0
			so.opts.linger = int32(binary.LittleEndian.Uint32(req.Value[4:]))
			return nil
		}
		if len(req.Value) < 4 {
			return errno(syscall.EINVAL, "option value of %d bytes", len(req.Value))
		}
		v := int32(binary.LittleEndian.Uint32(req.Value))
		return so.setOpt(req.Level, req.Name, v)
	})
}

func (so *sock) setOpt(level, name, v int32) error {
	on := v != 0
	o := &so.opts
	switch level {
	case linux.SOL_SOCKET:
		switch name {
		case linux.SO_REUSEADDR:
			o.reuseAddr = on
		case linux.SO_REUSEPORT:
			o.reusePort = on
		case linux.SO_KEEPALIVE:
			o.keepAlive = on
			so.applyTCP()
		case linux.SO_BROADCAST:
			o.broadcast = on
		case linux.SO_RCVBUF:
			o.rcvBuf = v
		case linux.SO_SNDBUF:
			o.sndBuf = v
		default:
			return errNoOpt
		}
		return nil
	case linux.SOL_TCP:
		if so.kind != kindTCP {
			return errNoOpt
		}
		switch name {
		case linux.TCP_NODELAY:
			o.noDelay = on
		case linux.TCP_KEEPIDLE, linux.TCP_KEEPINTVL:
			if v < 1 || v > linux.MAX_TCP_KEEPIDLE {
				return errno(syscall.EINVAL, "keep-alive time %d s", v)
			}
			if name == linux.TCP_KEEPIDLE {
				o.keepIdle = time.Duration(v) * time.Second
			} else {
				o.keepIntvl = time.Duration(v) * time.Second
			}
		case linux.TCP_KEEPCNT:
			if v < 1 || v > linux.MAX_TCP_KEEPCNT {
				return errno(syscall.EINVAL, "keep-alive count %d", v)
			}
			o.keepCnt = v
		case linux.TCP_MAXSEG:
		default:
			return errNoOpt
		}
		so.applyTCP()
		return nil
	case linux.SOL_IP:
		switch name {
		case linux.IP_TOS:
			o.tos = v
		case linux.IP_TTL:
			if v < -1 || v == 0 || v > 255 {
				return errno(syscall.EINVAL, "TTL %d", v)
			}
			o.ttl = v
		default:
			return errNoOpt
		}
		return nil
	case linux.SOL_IPV6:
		if name == linux.IPV6_V6ONLY {
			o.v6only = on
			return nil
		}
	}
	return errNoOpt
}

// GetOpt implements sockproto.Handler: getsockopt(2). The value is cut
// to the room the caller has (len(req.Value)), as Linux does.
func (s *Server) GetOpt(ctx context.Context, badge uint64, req sockproto.OptRequest) (sockproto.OptReply, error) {
	var rep sockproto.OptReply
	err := s.withSock(badge, req.Sock, func(st *stack.Stack, c *client, so *sock) error {
		var b []byte
		if req.Level == linux.SOL_RAW {
			var err error
			if b, err = getRawOpt(so, req.Name); err != nil {
				return err
			}
		} else if req.Level == linux.SOL_SOCKET && req.Name == linux.SO_LINGER {
			b = make([]byte, 8)
			if so.opts.lingerOn {
				b[0] = 1
			}
			binary.LittleEndian.PutUint32(b[4:], uint32(so.opts.linger))
		} else {
			v, err := so.getOpt(st, req.Level, req.Name)
			if err != nil {
				return err
			}
			b = binary.LittleEndian.AppendUint32(nil, uint32(v))
		}
		rep.Value = b[:min(len(b), len(req.Value))]
		return nil
	})
	return rep, err
}

func (so *sock) getOpt(st *stack.Stack, level, name int32) (int32, error) {
	b := func(v bool) int32 {
		if v {
			return 1
		}
		return 0
	}
	o := &so.opts
	cfg := st.TCPConfig()
	switch level {
	case linux.SOL_SOCKET:
		switch name {
		case linux.SO_REUSEADDR:
			return b(o.reuseAddr), nil
		case linux.SO_REUSEPORT:
			return b(o.reusePort), nil
		case linux.SO_KEEPALIVE:
			return b(o.keepAlive), nil
		case linux.SO_BROADCAST:
			return b(o.broadcast), nil
		case linux.SO_ERROR:
			return int32(so.takeError()), nil
		case linux.SO_TYPE:
			return int32(so.typ()), nil
		case linux.SO_DOMAIN:
			return linux.AF_INET, nil
		case linux.SO_PROTOCOL:
			return int32(so.protocol()), nil
		case linux.SO_ACCEPTCONN:
			return b(so.lis != nil), nil
		case linux.SO_RCVBUF:
			switch so.kind {
			case kindTCP:
				return int32(cfg.RecvBuffer), nil
			case kindRaw:
				return stack.RawQueueBytes, nil
			}
			return int32(st.UDPQueueBytes()), nil
		case linux.SO_SNDBUF:
			if so.kind == kindTCP {
				return int32(cfg.SendBuffer), nil
			}
			return ipv4.MaxDatagram, nil
		}
	case linux.SOL_TCP:
		if so.kind != kindTCP {
			break
		}
		switch name {
		case linux.TCP_NODELAY:
			return b(o.noDelay), nil
		case linux.TCP_KEEPIDLE:
			return int32(o.keepIdle / time.Second), nil
		case linux.TCP_KEEPINTVL:
			return int32(o.keepIntvl / time.Second), nil
		case linux.TCP_KEEPCNT:
			return o.keepCnt, nil
		case linux.TCP_MAXSEG:
			if so.conn != nil {
				mss, _, _ := so.conn.Negotiated()
				return int32(mss), nil
			}
			return int32(cfg.MSS), nil
		}
	case linux.SOL_IP:
		switch name {
		case linux.IP_TOS:
			return o.tos, nil
		case linux.IP_TTL:
			if o.ttl < 0 {
				return 64, nil
			}
			return o.ttl, nil
		}
	case linux.SOL_IPV6:
		if name == linux.IPV6_V6ONLY {
			return b(o.v6only), nil
		}
	case linux.SOL_UDP:
	default:
		// A level no protocol of the socket has: Linux's getsockopt
		// ends in the protocol's fallback, which says EOPNOTSUPP
		// (setsockopt says ENOPROTOOPT).
		return 0, errno(syscall.EOPNOTSUPP, "unknown option level")
	}
	return 0, errNoOpt
}

// takeError is SO_ERROR: the pending error's errno, which it clears.
func (so *sock) takeError() syscall.Errno {
	switch {
	case so.conn != nil:
		if err := so.pendingErr(); err != nil {
			so.errSeen = true
			return errnoOf(err)
		}
	case so.udp != nil:
		if err := so.udp.TakeError(); err != nil {
			return errnoOf(err)
		}
	}
	return 0
}
