package stack

import (
	"net/netip"
	"slices"

	"valence.dev/servers/net/icmp"
	"valence.dev/servers/net/ipv4"
	"valence.dev/servers/net/socket"
)

// Raw IP sockets, as ip(7) and raw(7) describe Linux's without
// IP_HDRINCL: a raw socket of protocol P receives a copy of every IPv4
// datagram of protocol P that reaches the host, IP header included, and
// sends datagrams whose payload its owner builds whole (for ICMP: the
// message with its checksum); the stack adds the IP header. The stack
// still handles every datagram itself (an echo request is answered
// whether or not a raw socket saw it), as Linux does.
//
// Only ICMP is offered (OpenRaw): a raw socket of another protocol would
// need the stack to stop answering what the socket's owner means to
// answer (a TCP port it listens on by hand), which it does not do.

// RawQueueBytes is the receive queue of a raw socket, in bytes charged:
// each datagram costs its length plus rawOverhead, so a flood of small
// messages is bounded as a flood of large ones is. It holds an echo
// request to the host itself and its reply at IP's largest (Linux's
// default 212 KiB of buffer memory holds them too).
const RawQueueBytes = 256 << 10

// rawOverhead is what one queued datagram costs besides its bytes.
const rawOverhead = 256

// RawDatagram is a datagram a raw socket received: the IPv4 header and
// payload as they arrived (a reassembled datagram carries its first
// fragment's header, with the fragment fields cleared and the total
// length and checksum of the whole, as Linux delivers it).
type RawDatagram struct {
	From netip.Addr
	Data []byte
}

// RawSocket is a raw IPv4 socket of one protocol.
type RawSocket struct {
	socket.Notifier
	s      *Stack
	proto  uint8
	local  netip.Addr // if set: receives only datagrams to it, and sends from it
	remote netip.Addr // if set: receives only datagrams from it
	filter uint32     // ICMP types (below 32) not to deliver: ICMP_FILTER
	queue  []RawDatagram
	bytes  int // charged bytes of queue
	limit  int
	drops  uint64
	closed bool
}

// OpenRaw returns a raw socket of protocol proto: only ipv4.ProtoICMP is
// offered (socket.ErrInvalid otherwise).
func (s *Stack) OpenRaw(proto uint8) (*RawSocket, error) {
	if proto != ipv4.ProtoICMP {
		return nil, socket.ErrInvalid
	}
	r := &RawSocket{s: s, proto: proto, limit: RawQueueBytes}
	s.raws = append(s.raws, r)
	return r, nil
}

// Protocol returns the socket's IP protocol.
func (r *RawSocket) Protocol() uint8 { return r.proto }

// Bind restricts the socket to datagrams addressed to local, which is
// also the source of what it sends; the unspecified address (or the zero
// Addr) removes the restriction. The caller checks that local is one of
// the host's addresses.
func (r *RawSocket) Bind(local netip.Addr) {
	if local.IsUnspecified() {
		local = netip.Addr{}
	}
	r.local = local
}

// Local returns the bound address, invalid if none.
func (r *RawSocket) Local() netip.Addr { return r.local }

// Connect restricts the socket to datagrams from remote (the zero Addr
// removes the restriction).
func (r *RawSocket) Connect(remote netip.Addr) { r.remote = remote }

// Remote returns the connected peer, invalid if none.
func (r *RawSocket) Remote() netip.Addr { return r.remote }

// SetFilter sets the ICMP types not delivered: bit t of mask, for t
// below 32 (raw(7), ICMP_FILTER). Types from 32 up are always delivered.
func (r *RawSocket) SetFilter(mask uint32) { r.filter = mask }

// Filter returns the ICMP filter mask.
func (r *RawSocket) Filter() uint32 { return r.filter }

// Queued returns the bytes of the datagrams waiting to be received.
func (r *RawSocket) Queued() int {
	n := 0
	for _, d := range r.queue {
		n += len(d.Data)
	}
	return n
}

// Drops returns how many datagrams were dropped because the queue was
// full.
func (r *RawSocket) Drops() uint64 { return r.drops }

// SendTo sends payload as the whole payload of an IPv4 datagram of the
// socket's protocol to dst, from the bound address or else the stack's
// source for dst. The stack neither checks nor completes the payload:
// an ICMP message goes as given, checksum included (raw(7)).
func (r *RawSocket) SendTo(payload []byte, dst netip.Addr) (int, error) {
	s := r.s
	switch {
	case r.closed:
		return 0, socket.ErrClosed
	case !dst.Is4():
		return 0, socket.ErrInvalid
	case ipv4.HeaderLen+len(payload) > ipv4.MaxDatagram:
		return 0, socket.ErrMessageSize
	}
	if _, _, err := s.route(dst); err != nil {
		s.stats.IPv4.NoRoute++
		return 0, err
	}
	src := s.sourceFor(dst)
	if r.local.IsValid() {
		src = r.local
	}
	copy(s.transportBuf(len(payload)), payload)
	if r.proto == ipv4.ProtoICMP && len(payload) > 0 {
		// Linux counts a raw socket's ICMP output (icmp_out_count).
		s.stats.ICMP.Out++
		s.stats.ICMP.OutTypes[payload[0]]++
	}
	s.stats.Raw.Out++
	if err := s.sendIPv4From(src, dst, r.proto, len(payload)); err != nil {
		return 0, err
	}
	return len(payload), nil
}

// Recv moves the next datagram into b, truncating it if b is short, and
// returns its whole length and its source; Peek leaves it queued.
func (r *RawSocket) Recv(b []byte) (int, netip.Addr, error) { return r.take(b, false) }

// Peek is Recv without taking the datagram (MSG_PEEK).
func (r *RawSocket) Peek(b []byte) (int, netip.Addr, error) { return r.take(b, true) }

func (r *RawSocket) take(b []byte, peek bool) (int, netip.Addr, error) {
	if len(r.queue) == 0 {
		if r.closed {
			return 0, netip.Addr{}, socket.ErrClosed
		}
		return 0, netip.Addr{}, socket.ErrWouldBlock
	}
	d := r.queue[0]
	copy(b, d.Data)
	if !peek {
		r.queue[0] = RawDatagram{}
		r.queue = r.queue[1:]
		r.bytes -= len(d.Data) + rawOverhead
	}
	return len(d.Data), d.From, nil
}

// Events implements socket.Socket.
func (r *RawSocket) Events() socket.Events {
	var ev socket.Events
	if !r.closed {
		ev |= socket.Writable
	}
	if len(r.queue) > 0 || r.closed {
		ev |= socket.Readable
	}
	return ev
}

// Close removes the socket; what it had queued is dropped.
func (r *RawSocket) Close() {
	if r.closed {
		return
	}
	r.closed = true
	r.queue, r.bytes = nil, 0
	r.s.raws = slices.DeleteFunc(r.s.raws, func(o *RawSocket) bool { return o == r })
}

// wants reports whether r takes a datagram of header h and payload p, as
// Linux's raw_v4_input and icmp_filter decide: the protocol, the bound
// and connected addresses, and for ICMP the filter. An ICMP message
// shorter than its 8-byte header is never delivered.
func (r *RawSocket) wants(h *ipv4.Header, p []byte) bool {
	switch {
	case r.proto != h.Protocol:
		return false
	case r.local.IsValid() && r.local != h.DstAddr():
		return false
	case r.remote.IsValid() && r.remote != h.SrcAddr():
		return false
	case r.proto != ipv4.ProtoICMP:
		return true
	case len(p) < icmp.HeaderLen:
		return false
	}
	return p[0] >= 32 || r.filter&(1<<p[0]) == 0
}

// deliverRaw gives every raw socket that wants it a copy of the datagram
// (header h, payload p; orig is the packet as received when it was not
// reassembled). A socket whose queue is full drops it and counts the drop
// (Linux's sk_drops, /proc/net/raw).
func (s *Stack) deliverRaw(h *ipv4.Header, p, orig []byte, reassembled bool) {
	var dgram []byte
	for _, r := range s.raws {
		if !r.wants(h, p) {
			continue
		}
		if dgram == nil {
			dgram = rawCopy(h, p, orig, reassembled)
		}
		cost := len(dgram) + rawOverhead
		if r.bytes+cost > r.limit {
			r.drops++
			s.stats.Raw.QueueFull++
			continue
		}
		// Each socket gets its own copy: a reader may keep what it got.
		r.queue = append(r.queue, RawDatagram{From: h.SrcAddr(), Data: slices.Clone(dgram)})
		r.bytes += cost
		s.stats.Raw.Delivered++
		s.changed(r)
	}
}

// rawCopy is the datagram as a raw socket sees it.
func rawCopy(h *ipv4.Header, p, orig []byte, reassembled bool) []byte {
	if !reassembled {
		return orig[:h.TotalLen]
	}
	b := make([]byte, h.Len()+len(p))
	hh := *h
	hh.TotalLen = len(b)
	hh.Encode(b)
	copy(b[hh.Len():], p)
	return b
}

// SourceFor returns the address the stack sends to dst from: dst itself
// when it is one of the host's, else the interface address (0.0.0.0
// before one is configured). A datagram socket that connects takes it as
// its own address, as Linux's ip4_datagram_connect does.
func (s *Stack) SourceFor(dst netip.Addr) netip.Addr { return s.sourceFor(dst) }

// RawSockets returns how many raw sockets are open.
func (s *Stack) RawSockets() int { return len(s.raws) }
