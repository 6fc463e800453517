package stack

import (
	"encoding/binary"
	"errors"
	"net/netip"

	"valence.dev/servers/net/icmp"
	"valence.dev/servers/net/ipv4"
	"valence.dev/servers/net/socket"
	"valence.dev/servers/net/tcp"
)

func (s *Stack) handleICMP(h *ipv4.Header, b []byte, bcast bool) {
	s.stats.ICMP.In++
	m, err := icmp.Parse(b)
	switch {
	case errors.Is(err, icmp.ErrChecksum):
		s.stats.ICMP.BadChecksum++
		return
	case err != nil:
		s.stats.ICMP.Malformed++
		return
	}
	s.stats.ICMP.InTypes[m.Type]++
	switch m.Type {
	case icmp.TypeEchoRequest:
		s.stats.ICMP.EchoRequests++
		if bcast {
			return // RFC 1122 section 3.2.2.6 lets us ignore broadcast pings
		}
		reply := icmp.Echo(icmp.TypeEchoReply, m.ID(), m.Seq(), m.Data)
		s.sendICMP(h.SrcAddr(), &reply)
	case icmp.TypeEchoReply:
		s.stats.ICMP.EchoReplies++
		if p := s.pings[m.ID()]; p != nil {
			p.deliver(h.SrcAddr(), m.Seq(), m.Data, s.clk.Now())
			s.changed(p)
		}
	case icmp.TypeUnreachable:
		s.stats.ICMP.Unreachables++
		s.handleUnreachable(&m)
	}
}

// handleUnreachable passes a destination-unreachable error to the socket
// that sent the datagram it quotes (RFC 1122 sections 3.2.2.1, 4.1.3.3,
// 4.2.3.9).
func (s *Stack) handleUnreachable(m *icmp.Message) {
	inner, rest, err := ipv4.Parse(m.Data)
	if err != nil && len(m.Data) >= ipv4.HeaderLen {
		// The quoted datagram is usually truncated, so its total length
		// does not match; decode just the header.
		ihl := int(m.Data[0]&0x0f) * 4
		if ihl < ipv4.HeaderLen || len(m.Data) < ihl+8 {
			s.stats.ICMP.Malformed++
			return
		}
		copy(inner.Src[:], m.Data[12:16])
		copy(inner.Dst[:], m.Data[16:20])
		inner.Protocol = m.Data[9]
		rest = m.Data[ihl:]
	} else if err != nil || len(rest) < 8 {
		s.stats.ICMP.Malformed++
		return
	}
	srcPort := binary.BigEndian.Uint16(rest[0:2])
	dstPort := binary.BigEndian.Uint16(rest[2:4])
	remote := netip.AddrPortFrom(inner.DstAddr(), dstPort)
	// Codes 2 to 4 are hard errors; 0, 1 and 5 may be transient.
	hard := m.Code >= icmp.CodeProtoUnreachable && m.Code <= icmp.CodeFragNeeded
	errv := socket.ErrUnreachable
	if m.Code == icmp.CodePortUnreachable || m.Code == icmp.CodeProtoUnreachable {
		errv = socket.ErrConnRefused
	}
	switch inner.Protocol {
	case ipv4.ProtoUDP:
		if u := s.udp[srcPort]; u != nil && u.remote == remote {
			u.err = errv
			s.changed(u)
		}
	case ipv4.ProtoTCP:
		id := tcp.ID{Local: netip.AddrPortFrom(inner.SrcAddr(), srcPort), Remote: remote}
		if c := s.tcpConns[id]; c != nil && hard && m.Code != icmp.CodeFragNeeded {
			c.ICMPError(errv)
		}
	}
}

// sendICMP sends m to dst.
func (s *Stack) sendICMP(dst netip.Addr, m *icmp.Message) error {
	n := m.Len()
	if ipv4.HeaderLen+n > ipv4.MaxDatagram {
		return socket.ErrMessageSize
	}
	m.Encode(s.transportBuf(n))
	s.stats.ICMP.Out++
	s.stats.ICMP.OutTypes[m.Type]++
	return s.sendIPv4(dst, ipv4.ProtoICMP, n)
}

// sendICMPError sends an error about the datagram orig (header h),
// quoting its header and first 8 bytes of data, unless RFC 1122 section
// 3.2.2 forbids it or the rate limit says no.
func (s *Stack) sendICMPError(typ, code uint8, h *ipv4.Header, orig []byte) {
	src := h.SrcAddr()
	if src.IsUnspecified() || src.IsMulticast() || s.isBroadcast(src) || h.FragOffset != 0 {
		return
	}
	if h.Protocol == ipv4.ProtoICMP {
		ihl := h.Len()
		if len(orig) > ihl {
			if t := orig[ihl]; t != icmp.TypeEchoRequest && t != icmp.TypeEchoReply {
				return // never an error about an error
			}
		}
	}
	if !s.icmpAllowed() {
		s.stats.ICMP.ErrorsLimited++
		return
	}
	quote := orig[:min(len(orig), h.Len()+8)]
	// Quote a copy: orig may alias the scratch buffer we encode into.
	m := icmp.Message{Type: typ, Code: code, Data: append([]byte(nil), quote...)}
	s.sendICMP(src, &m)
}

// icmpAllowed is a token bucket of ICMPRate errors per second, with a
// burst of the same size (RFC 1812 section 4.3.2.8 asks for a limit).
func (s *Stack) icmpAllowed() bool {
	now := s.clk.Now()
	rate := float64(s.cfg.ICMPRate)
	s.icmpTokens = min(rate, s.icmpTokens+rate*(now-s.icmpRefilled).Seconds())
	s.icmpRefilled = now
	if s.icmpTokens < 1 {
		return false
	}
	s.icmpTokens--
	return true
}
