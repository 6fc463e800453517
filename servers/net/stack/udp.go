package stack

import (
	"errors"
	"net/netip"

	"valence.dev/servers/net/icmp"
	"valence.dev/servers/net/ipv4"
	"valence.dev/servers/net/socket"
	"valence.dev/servers/net/udp"
)

// Datagram is a received UDP datagram.
type Datagram struct {
	From netip.AddrPort
	Data []byte
}

// UDPSocket is a UDP socket bound to a local port on every address.
type UDPSocket struct {
	socket.Notifier
	s      *Stack
	port   uint16
	remote netip.AddrPort // set by Connect: the only peer accepted
	queue  []Datagram
	bytes  int
	err    error // from an ICMP error, reported once
	drops  uint64
	closed bool
}

// ListenUDP opens a UDP socket on port, or on an ephemeral port if port
// is 0.
func (s *Stack) ListenUDP(port uint16) (*UDPSocket, error) {
	if port == 0 {
		var ok bool
		if port, ok = s.ephemeralPort(func(p uint16) bool { return s.udp[p] == nil }); !ok {
			return nil, socket.ErrAddrInUse
		}
	} else if s.udp[port] != nil {
		return nil, socket.ErrAddrInUse
	}
	u := &UDPSocket{s: s, port: port}
	s.udp[port] = u
	return u, nil
}

// LocalPort returns the bound port.
func (u *UDPSocket) LocalPort() uint16 { return u.port }

// Queued returns the bytes of the datagrams waiting to be received.
func (u *UDPSocket) Queued() int { return u.bytes }

// Drops returns how many datagrams were dropped because the queue was
// full (Linux's sk_drops, /proc/net/udp).
func (u *UDPSocket) Drops() uint64 { return u.drops }

// Connect restricts the socket to one peer: it receives only from remote,
// and ICMP errors about datagrams to remote are reported by the next call.
func (u *UDPSocket) Connect(remote netip.AddrPort) { u.remote = remote }

// SendTo sends b as one datagram to dst. A datagram larger than the MTU is
// fragmented.
func (u *UDPSocket) SendTo(b []byte, dst netip.AddrPort) (int, error) {
	if u.closed {
		return 0, socket.ErrClosed
	}
	if !dst.Addr().Is4() || dst.Port() == 0 {
		return 0, socket.ErrInvalid
	}
	s := u.s
	n := udp.HeaderLen + len(b)
	if ipv4.HeaderLen+n > ipv4.MaxDatagram {
		return 0, socket.ErrMessageSize
	}
	if _, _, err := s.route(dst.Addr()); err != nil {
		return 0, err
	}
	seg := s.transportBuf(n)
	copy(seg[udp.HeaderLen:], b)
	udp.Encode(seg, u.port, dst.Port(), s.sourceFor(dst.Addr()).As4(), dst.Addr().As4(), seg[udp.HeaderLen:])
	s.stats.UDP.Out++
	if err := s.sendIPv4(dst.Addr(), ipv4.ProtoUDP, n); err != nil {
		return 0, err
	}
	return len(b), nil
}

// Send sends b to the connected peer.
func (u *UDPSocket) Send(b []byte) (int, error) {
	if !u.remote.IsValid() {
		return 0, socket.ErrNotConnected
	}
	return u.SendTo(b, u.remote)
}

// Remote returns the peer set by Connect, invalid if none.
func (u *UDPSocket) Remote() netip.AddrPort { return u.remote }

// TakeError returns the pending ICMP error, if any, and clears it
// (SO_ERROR).
func (u *UDPSocket) TakeError() error {
	err := u.err
	u.err = nil
	return err
}

// PeekFrom is RecvFrom without taking the datagram (MSG_PEEK). A pending
// error is not cleared either.
func (u *UDPSocket) PeekFrom(b []byte) (int, netip.AddrPort, error) {
	switch {
	case u.err != nil:
		return 0, netip.AddrPort{}, u.err
	case len(u.queue) == 0 && u.closed:
		return 0, netip.AddrPort{}, socket.ErrClosed
	case len(u.queue) == 0:
		return 0, netip.AddrPort{}, socket.ErrWouldBlock
	}
	d := u.queue[0]
	copy(b, d.Data)
	return len(d.Data), d.From, nil
}

// RecvFrom moves the next datagram into b, truncating it if b is short,
// and returns its full length and sender.
func (u *UDPSocket) RecvFrom(b []byte) (int, netip.AddrPort, error) {
	if u.err != nil {
		err := u.err
		u.err = nil
		return 0, netip.AddrPort{}, err
	}
	if len(u.queue) == 0 {
		if u.closed {
			return 0, netip.AddrPort{}, socket.ErrClosed
		}
		return 0, netip.AddrPort{}, socket.ErrWouldBlock
	}
	d := u.queue[0]
	u.queue[0] = Datagram{}
	u.queue = u.queue[1:]
	u.bytes -= len(d.Data)
	copy(b, d.Data)
	return len(d.Data), d.From, nil
}

// Events implements socket.Socket.
func (u *UDPSocket) Events() socket.Events {
	ev := socket.Events(0)
	if !u.closed {
		ev |= socket.Writable
	}
	if len(u.queue) > 0 || u.err != nil || u.closed {
		ev |= socket.Readable
	}
	if u.err != nil {
		ev |= socket.Error
	}
	return ev
}

// Close releases the port.
func (u *UDPSocket) Close() {
	if u.closed {
		return
	}
	u.closed = true
	u.queue = nil
	if u.s.udp[u.port] == u {
		delete(u.s.udp, u.port)
	}
}

func (s *Stack) handleUDP(h *ipv4.Header, b, orig []byte, bcast bool) {
	s.stats.UDP.In++
	uh, payload, err := udp.Parse(b, h.Src, h.Dst)
	switch {
	case errors.Is(err, udp.ErrChecksum):
		s.stats.UDP.BadChecksum++
		return
	case err != nil:
		s.stats.UDP.Malformed++
		return
	}
	u := s.udp[uh.DstPort]
	from := netip.AddrPortFrom(h.SrcAddr(), uh.SrcPort)
	if u == nil || (u.remote.IsValid() && u.remote != from) {
		s.stats.UDP.NoPort++
		if !bcast && u == nil {
			// RFC 1122 section 4.1.3.1: port unreachable.
			s.sendICMPError(icmp.TypeUnreachable, icmp.CodePortUnreachable, h, orig)
		}
		return
	}
	if u.bytes+len(payload) > s.cfg.UDPQueueBytes {
		s.stats.UDP.QueueFull++
		u.drops++
		return
	}
	u.queue = append(u.queue, Datagram{From: from, Data: append([]byte(nil), payload...)})
	u.bytes += len(payload)
	s.stats.UDP.Delivered++
	s.changed(u)
}

// EphemeralPort picks a random port for which free is true, for a socket
// layer above the stack that reserves ports itself (bind(2) with port 0).
func (s *Stack) EphemeralPort(free func(uint16) bool) (uint16, bool) {
	return s.ephemeralPort(free)
}

// UDPPortBound reports whether a UDP socket is bound to port.
func (s *Stack) UDPPortBound(port uint16) bool { return s.udp[port] != nil }

// ephemeralPort picks a random free port in the dynamic range of RFC 6335
// section 6 (49152-65535), as RFC 6056 section 3.3.1 suggests.
func (s *Stack) ephemeralPort(free func(uint16) bool) (uint16, bool) {
	const lo, n = 49152, 16384
	start := s.rnd.Intn(n)
	for i := 0; i < n; i++ {
		p := uint16(lo + (start+i)%n)
		if free(p) {
			return p, true
		}
	}
	return 0, false
}
