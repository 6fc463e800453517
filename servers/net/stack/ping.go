package stack

import (
	"net/netip"
	"time"

	"valence.dev/servers/net/icmp"
	"valence.dev/servers/net/socket"
)

// EchoReply is an ICMP echo reply received by a PingSocket.
type EchoReply struct {
	From netip.Addr
	Seq  uint16
	Data []byte
	At   time.Duration // stack time of arrival
}

// PingSocket sends ICMP echo requests with its own identifier and
// receives the replies that carry it, like Linux's ICMP datagram sockets.
type PingSocket struct {
	socket.Notifier
	s       *Stack
	id      uint16
	replies []EchoReply
	closed  bool
}

// OpenPing returns a ping socket with a free identifier.
func (s *Stack) OpenPing() (*PingSocket, error) {
	id, ok := s.ephemeralPort(func(p uint16) bool { return s.pings[p] == nil })
	if !ok {
		return nil, socket.ErrAddrInUse
	}
	p := &PingSocket{s: s, id: id}
	s.pings[id] = p
	return p, nil
}

// ID returns the echo identifier.
func (p *PingSocket) ID() uint16 { return p.id }

// Send sends an echo request.
func (p *PingSocket) Send(dst netip.Addr, seq uint16, data []byte) error {
	if p.closed {
		return socket.ErrClosed
	}
	m := icmp.Echo(icmp.TypeEchoRequest, p.id, seq, data)
	return p.s.sendICMP(dst, &m)
}

// Recv returns the next reply.
func (p *PingSocket) Recv() (EchoReply, error) {
	if len(p.replies) == 0 {
		return EchoReply{}, socket.ErrWouldBlock
	}
	r := p.replies[0]
	p.replies = p.replies[1:]
	return r, nil
}

// Peek returns the next reply without taking it.
func (p *PingSocket) Peek() (EchoReply, error) {
	if len(p.replies) == 0 {
		return EchoReply{}, socket.ErrWouldBlock
	}
	return p.replies[0], nil
}

// Events implements socket.Socket.
func (p *PingSocket) Events() socket.Events {
	ev := socket.Writable
	if len(p.replies) > 0 {
		ev |= socket.Readable
	}
	return ev
}

// Close releases the identifier.
func (p *PingSocket) Close() {
	p.closed = true
	delete(p.s.pings, p.id)
}

func (p *PingSocket) deliver(from netip.Addr, seq uint16, data []byte, at time.Duration) {
	if len(p.replies) >= 64 {
		return
	}
	p.replies = append(p.replies, EchoReply{From: from, Seq: seq, Data: append([]byte(nil), data...), At: at})
}
