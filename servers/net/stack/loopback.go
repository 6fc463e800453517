package stack

import "net/netip"

// Local delivery. A datagram the stack sends to one of its own addresses
// (the interface's, or any in 127.0.0.0/8, RFC 1122 section 3.2.1.3 (g))
// never reaches the link: sendIPv4From copies it to the local queue, and
// Flush hands it to handleIPv4 as if it had arrived, after the event that
// sent it has been processed completely, so protocol code is never
// re-entered (a TCP segment sent while its own connection is in the middle
// of input is taken in later, as a wire would). Flush takes at most
// localBudget datagrams per call; if more remain (two sockets that answer
// each other forever), a zero-delay timer brings the loop back for the
// rest, so frames and other timers are not starved.

// localBudget bounds the datagrams delivered locally in one Flush.
const localBudget = 256

// isLocal reports whether dst is one of the stack's own addresses.
func (s *Stack) isLocal(dst netip.Addr) bool {
	return dst.Is4() && (dst.IsLoopback() || s.addr.IsValid() && dst == s.addr.Addr())
}

// queueLocal queues a copy of the IPv4 datagram pkt for local delivery.
func (s *Stack) queueLocal(pkt []byte) {
	s.stats.IPv4.Local++
	s.stats.IPv4.LocalBytes += uint64(len(pkt))
	s.local = append(s.local, append([]byte(nil), pkt...))
}

// runLocal delivers queued local datagrams, up to the budget, and reports
// whether any are left.
func (s *Stack) runLocal(budget *int) bool {
	for len(s.local) > 0 {
		if *budget <= 0 {
			if !s.localTimer.Armed() {
				s.localTimer.Set(s.clk.Now())
			}
			return true
		}
		*budget--
		pkt := s.local[0]
		s.local[0] = nil
		s.local = s.local[1:]
		s.handleIPv4(pkt, true)
	}
	s.local = nil
	return false
}
