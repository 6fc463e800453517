package stack

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"net/netip"
	"sort"
	"strings"
	"time"

	"valence.dev/servers/net/clock"
	"valence.dev/servers/net/ipv4"
	"valence.dev/servers/net/socket"
	"valence.dev/servers/net/tcp"
)

// tcpHost adapts the stack to tcp.Host.
type tcpHost struct{ s *Stack }

func (h tcpHost) Now() time.Duration       { return h.s.clk.Now() }
func (h tcpHost) Timers() *clock.Queue     { return &h.s.timers }
func (h tcpHost) Changed(so socket.Socket) { h.s.changed(so) }
func (h tcpHost) Stats() *tcp.Stats        { return &h.s.stats.TCP.Stats }
func (h tcpHost) Closed(c *tcp.Conn)       { h.s.forgetConn(c) }
func (h tcpHost) Output(id tcp.ID, hd *tcp.Header, payload ...[]byte) {
	h.s.outputTCP(id, hd, payload...)
}

func (s *Stack) outputTCP(id tcp.ID, h *tcp.Header, payload ...[]byte) {
	n := h.Len()
	for _, p := range payload {
		n += len(p)
	}
	seg := s.transportBuf(n)
	off := h.Len()
	for _, p := range payload {
		off += copy(seg[off:], p)
	}
	h.Encode(seg, id.Local.Addr().As4(), id.Remote.Addr().As4(), seg[h.Len():])
	s.sendIPv4From(id.Local.Addr(), id.Remote.Addr(), ipv4.ProtoTCP, n)
}

func (s *Stack) handleTCP(ih *ipv4.Header, b []byte) {
	h, payload, err := tcp.Parse(b, ih.Src, ih.Dst)
	switch {
	case errors.Is(err, tcp.ErrChecksum):
		s.stats.TCP.BadChecksum++
		return
	case err != nil:
		s.stats.TCP.Malformed++
		return
	}
	id := tcp.ID{Local: netip.AddrPortFrom(ih.DstAddr(), h.DstPort), Remote: netip.AddrPortFrom(ih.SrcAddr(), h.SrcPort)}
	if c := s.tcpConns[id]; c != nil {
		if !c.ReopenableBy(&h) {
			c.HandleSegment(&h, payload)
			return
		}
		c.EndTimeWait() // and let the listener take the new SYN
	}
	if l := s.tcpListeners[h.DstPort]; l != nil && (s.addr.IsValid() || s.isLocal(id.Local.Addr())) {
		if c := l.HandleSegment(id, &h, payload); c != nil {
			s.tcpConns[id] = c
			s.tcpPorts[h.DstPort]++
		}
		return
	}
	// No connection: RFC 9293 section 3.10.7.1.
	s.stats.TCP.SegmentsIn++
	if r, ok := tcp.ResetFor(&h, len(payload)); ok {
		s.stats.TCP.NoConnection++
		s.stats.TCP.ResetsOut++
		s.outputTCP(id, &r)
	}
}

func (s *Stack) forgetConn(c *tcp.Conn) {
	id := c.ID()
	if s.tcpConns[id] != c {
		return
	}
	delete(s.tcpConns, id)
	if s.tcpPorts[id.Local.Port()]--; s.tcpPorts[id.Local.Port()] <= 0 {
		delete(s.tcpPorts, id.Local.Port())
	}
}

// isn chooses an initial sequence number as RFC 6528 section 3 describes:
// a clock ticking every 4 microseconds plus a keyed hash of the
// four-tuple, so numbers differ per connection and cannot be predicted by
// an off-path attacker, yet grow for successive incarnations of the same
// four-tuple.
func (s *Stack) isn(id tcp.ID) tcp.Seq {
	const k = len(s.isnKey)
	var b [k + 12]byte
	copy(b[:k], s.isnKey[:])
	l, r := id.Local.Addr().As4(), id.Remote.Addr().As4()
	copy(b[k:], l[:])
	copy(b[k+4:], r[:])
	binary.BigEndian.PutUint16(b[k+8:], id.Local.Port())
	binary.BigEndian.PutUint16(b[k+10:], id.Remote.Port())
	sum := sha256.Sum256(b[:])
	return tcp.Seq(binary.BigEndian.Uint32(sum[:4]) + uint32(s.clk.Now()/(4*time.Microsecond)))
}

// DialTCP starts connecting to raddr from an ephemeral port. The returned
// connection becomes writable when established; failures show as an
// error event.
func (s *Stack) DialTCP(raddr netip.AddrPort) (*tcp.Conn, error) {
	if !raddr.Addr().Is4() || raddr.Port() == 0 || raddr.Addr().IsUnspecified() || s.isBroadcast(raddr.Addr()) {
		return nil, socket.ErrInvalid
	}
	if !s.addr.IsValid() && !s.isLocal(raddr.Addr()) {
		return nil, socket.ErrNoRoute
	}
	if _, _, err := s.route(raddr.Addr()); err != nil {
		return nil, err
	}
	local := s.sourceFor(raddr.Addr())
	port, ok := s.ephemeralPort(func(p uint16) bool {
		_, conn := s.tcpConns[tcp.ID{Local: netip.AddrPortFrom(local, p), Remote: raddr}]
		return !conn && s.tcpListeners[p] == nil && s.tcpPorts[p] == 0
	})
	if !ok {
		return nil, socket.ErrAddrInUse
	}
	return s.dial(tcp.ID{Local: netip.AddrPortFrom(local, port), Remote: raddr})
}

// DialTCPFrom is DialTCP from a chosen local port. Only the four-tuple has
// to be unused, so two stacks can dial each other from the ports they
// dial to: a simultaneous open (RFC 9293 section 3.5, figure 8).
func (s *Stack) DialTCPFrom(port uint16, raddr netip.AddrPort) (*tcp.Conn, error) {
	if !raddr.Addr().Is4() || raddr.Port() == 0 || port == 0 || raddr.Addr().IsUnspecified() || s.isBroadcast(raddr.Addr()) {
		return nil, socket.ErrInvalid
	}
	if !s.addr.IsValid() && !s.isLocal(raddr.Addr()) {
		return nil, socket.ErrNoRoute
	}
	if _, _, err := s.route(raddr.Addr()); err != nil {
		return nil, err
	}
	id := tcp.ID{Local: netip.AddrPortFrom(s.sourceFor(raddr.Addr()), port), Remote: raddr}
	if s.tcpConns[id] != nil {
		return nil, socket.ErrAddrInUse
	}
	return s.dial(id)
}

func (s *Stack) dial(id tcp.ID) (*tcp.Conn, error) {
	port := id.Local.Port()
	c := tcp.Connect(tcpHost{s}, s.cfg.TCP, id, s.isn(id))
	if c.State() == tcp.Closed { // failed at once
		return c, c.Err()
	}
	s.tcpConns[id] = c
	s.tcpPorts[port]++
	return c, nil
}

// ListenTCP listens on port on every local address; port 0 picks a free
// ephemeral port (Listener.Addr tells which).
func (s *Stack) ListenTCP(port uint16, backlog int) (*tcp.Listener, error) {
	if port == 0 {
		var ok bool
		if port, ok = s.ephemeralPort(func(p uint16) bool { return !s.TCPPortListening(p) && s.tcpPorts[p] == 0 }); !ok {
			return nil, socket.ErrAddrInUse
		}
	}
	if l := s.tcpListeners[port]; l != nil && !l.Closed() {
		return nil, socket.ErrAddrInUse
	}
	l := tcp.NewListener(tcpHost{s}, s.cfg.TCP, netip.AddrPortFrom(netip.IPv4Unspecified(), port), backlog, s.isn)
	s.tcpListeners[port] = l
	return l, nil
}

// CloseListener stops a listener and frees its port.
func (s *Stack) CloseListener(l *tcp.Listener) {
	l.Close()
	if s.tcpListeners[l.Addr().Port()] == l {
		delete(s.tcpListeners, l.Addr().Port())
	}
}

// TCPPortListening reports whether a listener holds port.
func (s *Stack) TCPPortListening(port uint16) bool {
	l := s.tcpListeners[port]
	return l != nil && !l.Closed()
}

// TCPPortConnections returns how many connections (in any state,
// TIME-WAIT included) have port as their local port.
func (s *Stack) TCPPortConnections(port uint16) int { return s.tcpPorts[port] }

// TCPConfig returns the configuration new connections get.
func (s *Stack) TCPConfig() tcp.Config { return s.cfg.TCP }

// UDPQueueBytes returns the size of each UDP socket's receive queue.
func (s *Stack) UDPQueueBytes() int { return s.cfg.UDPQueueBytes }

// TCPConnections returns the number of connections the stack tracks, in
// any state (including TIME-WAIT).
func (s *Stack) TCPConnections() int { return len(s.tcpConns) }

// DescribeTCP describes every tracked connection, one per line, for
// diagnostics.
func (s *Stack) DescribeTCP() string {
	var lines []string
	for _, c := range s.tcpConns {
		lines = append(lines, c.String())
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// TCPConns returns every tracked connection, in any state (TIME-WAIT
// included, and connections their owner has closed that are still
// finishing), ordered by local then remote address, for status reports.
func (s *Stack) TCPConns() []*tcp.Conn {
	all := make([]*tcp.Conn, 0, len(s.tcpConns))
	for _, c := range s.tcpConns {
		all = append(all, c)
	}
	sort.Slice(all, func(i, j int) bool {
		a, b := all[i].ID(), all[j].ID()
		if c := a.Local.Compare(b.Local); c != 0 {
			return c < 0
		}
		return a.Remote.Compare(b.Remote) < 0
	})
	return all
}
