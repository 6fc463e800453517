package stack

import (
	"net/netip"

	"valence.dev/servers/net/arp"
	"valence.dev/servers/net/ethernet"
)

// handleARP answers requests for our address and learns mappings, using
// the merge rule of RFC 826 (see package arp).
func (s *Stack) handleARP(b []byte) {
	p, err := arp.Parse(b)
	if err != nil {
		s.stats.ARP.Malformed++
		return
	}
	if p.Op == arp.OpRequest {
		s.stats.ARP.RequestsIn++
	} else {
		s.stats.ARP.RepliesIn++
	}
	sender := netip.AddrFrom4(p.SenderIP)
	if p.SenderMAC.IsMulticast() || sender.IsUnspecified() && p.Op == arp.OpReply {
		s.stats.ARP.Malformed++
		return
	}
	forUs := s.addr.IsValid() && p.TargetIP == s.addr.Addr().As4()
	if !sender.IsUnspecified() {
		for _, pkt := range s.arp.Update(sender, p.SenderMAC, forUs, s.clk.Now()) {
			s.sendResolved(pkt, p.SenderMAC)
		}
	}
	s.armARPTimer()
	if forUs && p.Op == arp.OpRequest {
		s.sendARP(arp.OpReply, p.SenderMAC, p.SenderMAC, p.SenderIP)
		s.stats.ARP.RepliesOut++
	}
}

// sendARP sends an ARP packet from us.
func (s *Stack) sendARP(op uint16, dst, targetMAC ethernet.Address, targetIP [4]byte) {
	var src [4]byte
	if s.addr.IsValid() {
		src = s.addr.Addr().As4()
	}
	// A buffer of its own: an ARP request can go out while s.buf holds a
	// datagram being fragmented.
	frame := s.abuf[:ethernet.HeaderLen+arp.PacketLen]
	arp.Packet{Op: op, SenderMAC: s.cfg.MAC, SenderIP: src, TargetMAC: targetMAC, TargetIP: targetIP}.
		Encode(frame[ethernet.HeaderLen:])
	s.writeFrame(frame, dst, ethernet.TypeARP)
}

// announce broadcasts a gratuitous ARP request for our own address, so
// that neighbours holding an old mapping update it (RFC 5227 section 3).
func (s *Stack) announce() {
	ip := s.addr.Addr().As4()
	s.sendARP(arp.OpRequest, ethernet.Broadcast, ethernet.Address{}, ip)
	s.stats.ARP.Announcements++
}

func (s *Stack) sendARPRequest(ip netip.Addr) {
	s.sendARP(arp.OpRequest, ethernet.Broadcast, ethernet.Address{}, ip.As4())
	s.stats.ARP.RequestsOut++
}

// resolve sends the IPv4 packet at s.buf[ethernet.HeaderLen:][:n] to the
// neighbour nextHop, or queues a copy of it until ARP answers.
func (s *Stack) resolve(nextHop netip.Addr, frame []byte) {
	now := s.clk.Now()
	if mac, ok := s.arp.Lookup(nextHop, now); ok {
		s.writeFrame(frame, mac, ethernet.TypeIPv4)
		return
	}
	pkt := append([]byte(nil), frame[ethernet.HeaderLen:]...)
	send, dropped := s.arp.Enqueue(nextHop, pkt, now)
	s.stats.ARP.QueueDrops += uint64(dropped)
	if send {
		s.sendARPRequest(nextHop)
	}
	s.armARPTimer()
}

// sendResolved sends a queued IPv4 packet now that its MAC is known.
func (s *Stack) sendResolved(pkt []byte, mac ethernet.Address) {
	frame := s.buf[:ethernet.HeaderLen+len(pkt)]
	copy(frame[ethernet.HeaderLen:], pkt)
	s.writeFrame(frame, mac, ethernet.TypeIPv4)
}

func (s *Stack) armARPTimer() {
	if next, ok := s.arp.NextDeadline(); ok {
		if !s.arpTimer.Armed() || next < s.arpTimer.When() {
			s.arpTimer.Set(next)
		}
	} else {
		s.arpTimer.Stop()
	}
}

func (s *Stack) onARPTimer() {
	retry, failed := s.arp.Expire(s.clk.Now())
	for _, ip := range retry {
		s.sendARPRequest(ip)
	}
	for _, f := range failed {
		s.stats.ARP.Failures += uint64(len(f.Pending))
		// RFC 1122 section 2.3.2.2 leaves it to the host; we tell the
		// sockets nothing and let their own timers notice.
	}
	s.armARPTimer()
}
