package netd

import (
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net/netip"
	"syscall"

	"gvisor.dev/gvisor/pkg/abi/linux"

	"valence.dev/servers/net/icmp"
	"valence.dev/servers/net/socket"
	"valence.dev/servers/net/sockproto"
	"valence.dev/servers/net/stack"
	"valence.dev/servers/net/tcp"
)

// Send implements sockproto.Handler: sendto(2), sendmsg(2), write(2).
// Flags other than MSG_OOB (EOPNOTSUPP) are accepted and have no effect
// here: MSG_DONTWAIT and MSG_NOSIGNAL are the kernel's; MSG_MORE and
// MSG_EOR mean nothing to the stack.
func (s *Server) Send(ctx context.Context, badge uint64, req sockproto.SendRequest) (sockproto.SendReply, error) {
	if req.Flags&linux.MSG_OOB != 0 {
		return sockproto.SendReply{}, errno(syscall.EOPNOTSUPP, "MSG_OOB")
	}
	var to netip.AddrPort
	if req.To.Family != 0 {
		var err error
		if to, err = destination(req.To); err != nil {
			return sockproto.SendReply{}, err
		}
	}
	var rep sockproto.SendReply
	err := s.withSock(badge, req.Sock, func(st *stack.Stack, c *client, so *sock) error {
		data := req.Data
		if req.Buf != 0 {
			var err error
			if data, err = c.buffer(req.Buf, req.BufOff, req.Len); err != nil {
				return err
			}
		}
		var n int
		var err error
		switch so.kind {
		case kindTCP:
			n, err = so.sendTCP(data)
		case kindUDP:
			n, err = s.sendUDP(st, c, so, data, to)
		case kindPing:
			n, err = s.sendPing(st, so, data, to)
		case kindRaw:
			n, err = sendRaw(so, data, to)
		}
		rep.N = uint32(n)
		return err
	})
	return rep, err
}

// sendTCP is send(2) on a stream: it takes what fits in the send buffer.
func (so *sock) sendTCP(data []byte) (int, error) {
	switch {
	case so.conn == nil:
		// tcp_sendmsg on a socket never connected: EPIPE, as Linux.
		return 0, errno(syscall.EPIPE, "not connected")
	case so.shutWr:
		return 0, errno(syscall.EPIPE, "shut down for writing")
	}
	if err := so.pendingErr(); err != nil {
		so.errSeen = true
		return 0, stackErr("send", err)
	}
	if so.conn.Err() != nil {
		return 0, errno(syscall.EPIPE, "connection closed")
	}
	if len(data) == 0 {
		return 0, nil
	}
	n, err := so.conn.Write(data)
	if err != nil && n == 0 {
		if errors.Is(err, socket.ErrNotConnected) {
			return 0, errno(syscall.EPIPE, "connection closed")
		}
		return 0, stackErr("send", err)
	}
	return n, nil
}

// sendUDP is sendto(2) on a UDP socket: one datagram, whole or not at
// all. An unbound socket is bound to an ephemeral port first.
func (s *Server) sendUDP(st *stack.Stack, c *client, so *sock, data []byte, to netip.AddrPort) (int, error) {
	if so.shutWr {
		return 0, errno(syscall.EPIPE, "shut down for writing")
	}
	if !to.IsValid() {
		if !so.peer.IsValid() {
			return 0, errno(syscall.EDESTADDRREQ, "no destination")
		}
		to = so.peer
	}
	if to.Addr() == netip.AddrFrom4([4]byte{255, 255, 255, 255}) && !so.opts.broadcast {
		return 0, errno(syscall.EACCES, "broadcast without SO_BROADCAST")
	}
	if so.udp == nil {
		if err := s.bindUDP(st, c, so, netip.IPv4Unspecified(), 0); err != nil {
			return 0, err
		}
	}
	n, err := so.udp.SendTo(data, to)
	return n, stackErr("sendto", err)
}

// sendPing sends an ICMP echo request as Linux's ping sockets take it:
// data is the ICMP message, type 8 code 0, whose identifier the stack
// replaces with the socket's and whose checksum it computes.
func (s *Server) sendPing(st *stack.Stack, so *sock, data []byte, to netip.AddrPort) (int, error) {
	dst := to.Addr()
	if !to.IsValid() {
		if !so.peer.IsValid() {
			return 0, errno(syscall.EDESTADDRREQ, "no destination")
		}
		dst = so.peer.Addr()
	}
	if len(data) < 8 || data[0] != 8 || data[1] != 0 {
		return 0, errno(syscall.EINVAL, "not an ICMP echo request")
	}
	if so.ping == nil {
		p, err := st.OpenPing()
		if err != nil {
			return 0, stackErr("sendto", err)
		}
		so.ping = p
		s.watch(s.socks[so], so)
	}
	if err := so.ping.Send(dst, binary.BigEndian.Uint16(data[6:8]), data[8:]); err != nil {
		return 0, stackErr("sendto", err)
	}
	return len(data), nil
}

// Recv implements sockproto.Handler: recvfrom(2), recvmsg(2), read(2).
// MSG_PEEK leaves the data; MSG_TRUNC on a stream discards it (Linux);
// on a datagram Full is always its whole length and the kernel applies
// MSG_TRUNC. MSG_WAITALL is the kernel's (it calls again); MSG_OOB is
// EINVAL (no urgent data is ever kept). An inline Len is cut to
// MaxInline.
func (s *Server) Recv(ctx context.Context, badge uint64, req sockproto.RecvRequest) (sockproto.RecvReply, error) {
	if req.Flags&linux.MSG_OOB != 0 {
		return sockproto.RecvReply{}, errno(syscall.EINVAL, "no out-of-band data")
	}
	var rep sockproto.RecvReply
	err := s.withSock(badge, req.Sock, func(st *stack.Stack, c *client, so *sock) error {
		var buf []byte
		if req.Buf != 0 {
			var err error
			if buf, err = c.buffer(req.Buf, req.BufOff, req.Len); err != nil {
				return err
			}
		} else {
			buf = make([]byte, min(req.Len, sockproto.MaxInline))
		}
		peek := req.Flags&linux.MSG_PEEK != 0
		var (
			n, full int
			from    netip.AddrPort
			err     error
		)
		switch so.kind {
		case kindTCP:
			n, err = so.recvTCP(buf, peek, req.Flags&linux.MSG_TRUNC != 0)
			full = n
		case kindUDP:
			n, full, from, err = so.recvUDP(buf, peek)
		case kindPing:
			n, full, from, err = so.recvPing(buf, peek)
		case kindRaw:
			n, full, from, err = recvRaw(so, buf, peek)
		}
		if err != nil {
			return err
		}
		rep.N, rep.Full = uint32(n), uint32(full)
		if req.Buf == 0 && !(so.kind == kindTCP && req.Flags&linux.MSG_TRUNC != 0) {
			rep.Data = buf[:n]
		}
		if from.IsValid() {
			rep.From = protoAddr(from)
		}
		return nil
	})
	return rep, err
}

// recvTCP reads from a stream. 0 bytes with no error is the end of the
// stream (the peer's FIN, shutdown(SHUT_RD), or a failure already
// reported).
func (so *sock) recvTCP(buf []byte, peek, discard bool) (int, error) {
	if so.conn == nil {
		return 0, errno(syscall.ENOTCONN, "not connected")
	}
	if so.shutRd {
		return 0, nil
	}
	if so.conn.Buffered() == 0 {
		// Data that arrived before a failure is read first (tcp_recvmsg).
		if err := so.pendingErr(); err != nil {
			so.errSeen = true
			return 0, stackErr("recv", err)
		}
		if so.errSeen {
			return 0, nil
		}
	}
	if len(buf) == 0 {
		return 0, nil
	}
	var (
		n   int
		err error
	)
	switch {
	case peek:
		n, err = so.conn.Peek(buf)
	case discard:
		n, err = so.conn.Read(buf) // into the scratch buffer; the caller sends nothing back
	default:
		n, err = so.conn.Read(buf)
	}
	switch {
	case err == io.EOF:
		return 0, nil
	case err != nil && n == 0:
		if so.conn.State() == tcp.Closed && so.conn.Err() == nil {
			return 0, nil // closed in order: EOF
		}
		return 0, stackErr("recv", err)
	}
	return n, nil
}

// recvUDP takes (or peeks at) the next datagram: n bytes copied of full.
// A pending ICMP error is reported first, once.
func (so *sock) recvUDP(buf []byte, peek bool) (n, full int, from netip.AddrPort, err error) {
	if so.udp == nil || so.shutRd {
		if so.shutRd {
			return 0, 0, from, nil
		}
		return 0, 0, from, errno(syscall.EAGAIN, "nothing received")
	}
	if peek {
		full, from, err = so.udp.PeekFrom(buf)
	} else {
		full, from, err = so.udp.RecvFrom(buf)
	}
	if err != nil {
		return 0, 0, from, stackErr("recvfrom", err)
	}
	return min(full, len(buf)), full, from, nil
}

// recvPing returns the next echo reply as an ICMP message (type 0), as
// Linux's ping sockets do.
func (so *sock) recvPing(buf []byte, peek bool) (n, full int, from netip.AddrPort, err error) {
	if so.ping == nil {
		return 0, 0, from, errno(syscall.EAGAIN, "nothing received")
	}
	recv := so.ping.Recv
	if peek {
		recv = so.ping.Peek
	}
	r, err := recv()
	if err != nil {
		return 0, 0, from, stackErr("recvfrom", err)
	}
	m := icmp.Echo(icmp.TypeEchoReply, so.ping.ID(), r.Seq, r.Data)
	msg := make([]byte, m.Len())
	m.Encode(msg)
	return copy(buf, msg), len(msg), netip.AddrPortFrom(r.From, 0), nil
}
