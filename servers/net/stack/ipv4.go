package stack

import (
	"errors"
	"net/netip"

	"valence.dev/servers/net/ethernet"
	"valence.dev/servers/net/icmp"
	"valence.dev/servers/net/ipv4"
	"valence.dev/servers/net/socket"
)

var broadcast4 = netip.AddrFrom4([4]byte{255, 255, 255, 255})

// isBroadcast reports whether a is the limited broadcast address or our
// subnet's directed broadcast (RFC 1122 section 3.2.1.3).
func (s *Stack) isBroadcast(a netip.Addr) bool {
	if a == broadcast4 {
		return true
	}
	if !s.addr.IsValid() || s.addr.Bits() >= 31 {
		return false
	}
	return a == lastAddr(s.addr)
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	host := ^uint32(0) >> p.Bits()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]) | host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// handleIPv4 processes a datagram from the link, or one the stack sent to
// itself (local).
func (s *Stack) handleIPv4(b []byte, local bool) {
	s.stats.IPv4.PacketsIn++
	h, payload, err := ipv4.Parse(b)
	switch {
	case errors.Is(err, ipv4.ErrChecksum):
		s.stats.IPv4.BadChecksum++
		return
	case errors.Is(err, ipv4.ErrOptions):
		s.stats.IPv4.BadOptions++
		return
	case err != nil:
		s.stats.IPv4.Malformed++
		return
	}
	s.stats.IPv4.BytesIn += uint64(h.TotalLen)
	dst, src := h.DstAddr(), h.SrcAddr()
	bcast := s.isBroadcast(dst)
	switch {
	case local:
		// Sent by this stack to one of its own addresses (sendIPv4).
	case dst.IsLoopback() || src.IsLoopback():
		// RFC 1122 section 3.2.1.3 (g): 127/8 never appears on a wire.
		s.stats.IPv4.NotForUs++
		return
	case bcast:
	case !s.addr.IsValid():
		// Unconfigured (DHCP in progress): accept what was sent to our MAC.
	case dst != s.addr.Addr():
		s.stats.IPv4.NotForUs++
		return
	}
	if src.IsMulticast() || s.isBroadcast(src) || dst.IsMulticast() {
		s.stats.IPv4.NotForUs++ // RFC 1122 section 3.2.1.3: discard
		return
	}
	reassembled := false
	if h.IsFragment() {
		s.stats.IPv4.FragmentsIn++
		var done bool
		h, payload, done, err = s.reasm.Add(h, payload, s.clk.Now())
		if err != nil {
			s.stats.IPv4.FragmentDrops++
			return
		}
		s.armReassemblyTimer()
		if !done {
			return
		}
		s.stats.IPv4.Reassembled++
		reassembled = true
	}
	if len(s.raws) > 0 {
		// Raw sockets see the datagram before its protocol does, as
		// Linux's raw_local_deliver (raw.go).
		s.deliverRaw(&h, payload, b, reassembled)
	}
	switch h.Protocol {
	case ipv4.ProtoICMP:
		s.stats.IPv4.Delivered++
		s.handleICMP(&h, payload, bcast)
	case ipv4.ProtoUDP:
		s.stats.IPv4.Delivered++
		s.handleUDP(&h, payload, b, bcast)
	case ipv4.ProtoTCP:
		s.stats.IPv4.Delivered++
		if bcast {
			s.stats.IPv4.NotForUs++
			return
		}
		s.handleTCP(&h, payload)
	default:
		s.stats.IPv4.UnknownProtocol++
		if !bcast {
			s.sendICMPError(icmp.TypeUnreachable, icmp.CodeProtoUnreachable, &h, b)
		}
	}
}

func (s *Stack) armReassemblyTimer() {
	if next, ok := s.reasm.NextDeadline(); ok {
		s.reasmTimer.Set(next)
	} else {
		s.reasmTimer.Stop()
	}
}

func (s *Stack) onReassemblyTimer() {
	s.stats.IPv4.ReassemblyTimeouts += uint64(s.reasm.Expire(s.clk.Now()))
	s.armReassemblyTimer()
}

// source returns the address we send from: ours, or 0.0.0.0 before one is
// configured (DHCP, RFC 2131 section 4.1).
func (s *Stack) source() netip.Addr {
	if s.addr.IsValid() {
		return s.addr.Addr()
	}
	return netip.IPv4Unspecified()
}

// sourceFor returns the address to send to dst from: dst itself when it
// is one of ours (local delivery), else source().
func (s *Stack) sourceFor(dst netip.Addr) netip.Addr {
	if s.isLocal(dst) {
		return dst
	}
	return s.source()
}

// route picks the next hop for dst: dst itself when on-link or local, the
// gateway otherwise. Broadcasts go to the broadcast MAC.
func (s *Stack) route(dst netip.Addr) (nextHop netip.Addr, bcast bool, err error) {
	if s.isLocal(dst) {
		return dst, false, nil
	}
	if s.isBroadcast(dst) {
		return dst, true, nil
	}
	if s.addr.IsValid() && s.addr.Contains(dst) {
		return dst, false, nil
	}
	if s.gateway.IsValid() {
		return s.gateway, false, nil
	}
	return netip.Addr{}, false, socket.ErrNoRoute
}

// transportBuf returns the space for a transport header and payload in the
// scratch frame, after the Ethernet and IPv4 headers.
func (s *Stack) transportBuf(n int) []byte {
	off := ethernet.HeaderLen + ipv4.HeaderLen
	return s.buf[off : off+n]
}

// sendIPv4 sends the n transport bytes already placed by transportBuf to
// dst from sourceFor(dst): see sendIPv4From.
func (s *Stack) sendIPv4(dst netip.Addr, proto uint8, n int) error {
	return s.sendIPv4From(s.sourceFor(dst), dst, proto, n)
}

// sendIPv4From sends the n transport bytes already placed by
// transportBuf from src to dst, fragmenting them if they do not fit in
// the MTU (RFC 791 section 3.2), or queues them for local delivery if dst
// is one of our addresses.
func (s *Stack) sendIPv4From(src, dst netip.Addr, proto uint8, n int) error {
	nextHop, bcast, err := s.route(dst)
	if err != nil {
		s.stats.IPv4.NoRoute++
		return err
	}
	if ipv4.HeaderLen+n > ipv4.MaxDatagram {
		return socket.ErrMessageSize
	}
	s.ipID++
	h := ipv4.Header{TotalLen: ipv4.HeaderLen + n, ID: s.ipID, TTL: s.cfg.TTL, Protocol: proto,
		Src: src.As4(), Dst: dst.As4()}
	s.stats.IPv4.PacketsOut++
	if s.isLocal(dst) || h.TotalLen <= s.mtu {
		s.stats.IPv4.BytesOut += uint64(h.TotalLen)
	}
	if s.isLocal(dst) {
		pkt := s.buf[ethernet.HeaderLen : ethernet.HeaderLen+h.TotalLen]
		h.Encode(pkt)
		s.queueLocal(pkt)
		return nil
	}
	if h.TotalLen <= s.mtu {
		frame := s.buf[:ethernet.HeaderLen+h.TotalLen]
		h.Encode(frame[ethernet.HeaderLen:])
		s.deliverFrame(frame, nextHop, bcast)
		return nil
	}
	data := s.transportBuf(n)
	s.stats.IPv4.Fragmented++
	chunk := (s.mtu - ipv4.HeaderLen) &^ 7
	for off := 0; off < n; off += chunk {
		k := min(chunk, n-off)
		f := h
		f.FragOffset, f.MoreFrags, f.TotalLen = off, off+k < n, ipv4.HeaderLen+k
		frame := s.fbuf[:ethernet.HeaderLen+f.TotalLen]
		f.Encode(frame[ethernet.HeaderLen:])
		copy(frame[ethernet.HeaderLen+ipv4.HeaderLen:], data[off:off+k])
		s.stats.IPv4.FragmentsOut++
		s.stats.IPv4.BytesOut += uint64(f.TotalLen)
		s.deliverFrame(frame, nextHop, bcast)
	}
	return nil
}

func (s *Stack) deliverFrame(frame []byte, nextHop netip.Addr, bcast bool) {
	if bcast {
		s.writeFrame(frame, ethernet.Broadcast, ethernet.TypeIPv4)
		return
	}
	s.resolve(nextHop, frame)
}
