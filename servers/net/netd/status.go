package netd

import (
	"context"
	"net/netip"
	"sort"
	"strings"

	"gvisor.dev/gvisor/pkg/abi/linux"

	"valence.dev/servers/net/sockproto"
	"valence.dev/servers/net/stack"
	"valence.dev/servers/net/tcp"
)

// Status implements sockproto.Handler: the interfaces (lo, and the link
// under Options.Interface), the default gateway, the DNS servers, the
// sockets of every client from the req.From'th (ordered by client, then
// socket number, then the TCP connections no socket holds, by address),
// and the stack's counters, for ip, ifconfig, netstat and /proc/net.
func (s *Server) Status(ctx context.Context, badge uint64, req sockproto.StatusRequest) (sockproto.StatusReply, error) {
	s.mu.Lock()
	dns := append([]netip.Addr(nil), s.dns...)
	up := s.up
	s.mu.Unlock()
	var rep sockproto.StatusReply
	err := s.do(func(st *stack.Stack) error {
		rep.Interfaces = s.interfaces(st, up)
		if gw := st.Gateway(); gw.IsValid() {
			rep.Gateway = protoAddr(netip.AddrPortFrom(gw, 0))
		}
		for _, a := range dns[:min(len(dns), sockproto.MaxDNS)] {
			rep.DNS = append(rep.DNS, protoAddr(netip.AddrPortFrom(a, 53)))
		}
		all := s.conns(st)
		if int(req.From) < len(all) {
			page := all[req.From:]
			rep.More = len(page) > sockproto.MaxConns
			rep.Conns = page[:min(len(page), sockproto.MaxConns)]
		}
		rep.SNMP = snmp(st, all)
		return nil
	})
	return rep, err
}

func (s *Server) interfaces(st *stack.Stack, up bool) []sockproto.Interface {
	stats := st.Stats()
	lo := sockproto.Interface{
		Name:   "lo",
		MTU:    65536,
		Flags:  linux.IFF_UP | linux.IFF_LOOPBACK | linux.IFF_RUNNING,
		Addrs:  []sockproto.Prefix{{Addr: protoAddr(netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), 0)), Bits: 8}},
		RxPkts: stats.IPv4.Local,
		TxPkts: stats.IPv4.Local,
		// Linux's loopback counts each packet with the 14-byte
		// Ethernet header it gives it.
		RxBytes: stats.IPv4.LocalBytes + 14*stats.IPv4.Local,
		TxBytes: stats.IPv4.LocalBytes + 14*stats.IPv4.Local,
	}
	mac := st.MAC()
	eth := sockproto.Interface{
		Name:    s.opts.Interface,
		MAC:     mac[:],
		MTU:     uint32(st.MTU()),
		Flags:   linux.IFF_UP | linux.IFF_BROADCAST,
		RxPkts:  stats.Link.FramesIn,
		TxPkts:  stats.Link.FramesOut,
		RxBytes: stats.Link.BytesIn,
		TxBytes: stats.Link.BytesOut,
		RxErrs:  stats.Ethernet.Malformed,
		TxErrs:  stats.Link.WriteErrors,
	}
	if up {
		eth.Flags |= linux.IFF_RUNNING
	}
	if p := st.Address(); p.IsValid() {
		eth.Addrs = []sockproto.Prefix{{Addr: protoAddr(netip.AddrPortFrom(p.Addr(), 0)), Bits: uint8(p.Bits())}}
	}
	return []sockproto.Interface{lo, eth}
}

// sortedSocks lists every client's sockets by badge, then number.
func (s *Server) sortedSocks() []*sock {
	badges := make([]uint64, 0, len(s.clients))
	for b := range s.clients {
		badges = append(badges, b)
	}
	sort.Slice(badges, func(i, j int) bool { return badges[i] < badges[j] })
	var all []*sock
	for _, b := range badges {
		c := s.clients[b]
		ids := make([]uint32, 0, len(c.socks))
		for id := range c.socks {
			ids = append(ids, id)
		}
		sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
		for _, id := range ids {
			all = append(all, c.socks[id])
		}
	}
	return all
}

// conns describes every socket, then the connections no socket holds.
func (s *Server) conns(st *stack.Stack) []sockproto.Conn {
	var all []sockproto.Conn
	held := map[*tcp.Conn]bool{}
	for _, so := range s.sortedSocks() {
		all = append(all, so.describe(st))
		if so.conn != nil {
			held[so.conn] = true
		}
	}
	for _, c := range st.TCPConns() {
		if !held[c] {
			// Closing, in TIME-WAIT, or not accepted yet (half-open
			// or queued on its listener): Linux lists them too, with
			// inode 0.
			all = append(all, describeTCP(c, 0, sockproto.Conn{Type: uint16(sockproto.SOCK_STREAM)}))
		}
	}
	return all
}

// describe is so for netstat: states named as netstat names them, and
// numbered as Linux numbers them.
func (so *sock) describe(st *stack.Stack) sockproto.Conn {
	c := sockproto.Conn{Type: so.typ(), Local: protoAddr(so.bound), Sock: so.id, Protocol: so.protocol(),
		TCPState: uint8(linux.TCP_CLOSE)}
	switch {
	case so.conn != nil:
		return describeTCP(so.conn, so.id, c)
	case so.lis != nil:
		c.State, c.TCPState = "LISTEN", uint8(linux.TCP_LISTEN)
		c.RxQueue = uint32(so.lis.Queued())
		cfg := st.TCPConfig()
		c.RTO, c.CWnd, c.SSThresh = uint32(cfg.InitialRTO.Milliseconds()), 0, 0
	case so.kind == kindTCP:
		c.State = "CLOSE"
		c.RTO = uint32(st.TCPConfig().InitialRTO.Milliseconds())
	case so.peer.IsValid():
		c.Peer, c.State, c.TCPState = protoAddr(so.peer), "ESTABLISHED", uint8(linux.TCP_ESTABLISHED)
	default:
		c.State = "UNCONN"
	}
	switch {
	case so.udp != nil:
		c.Local = protoAddr(netip.AddrPortFrom(so.bound.Addr(), so.udp.LocalPort()))
		c.RxQueue, c.Drops = uint32(so.udp.Queued()), uint32(so.udp.Drops())
	case so.ping != nil:
		c.Local = protoAddr(netip.AddrPortFrom(so.bound.Addr(), so.ping.ID()))
	case so.raw != nil:
		c.Local = rawName(so)
		if so.peer.IsValid() {
			c.Peer = protoAddr(netip.AddrPortFrom(so.peer.Addr(), 0))
		}
		c.RxQueue, c.Drops = uint32(so.raw.Queued()), uint32(so.raw.Drops())
	}
	return c
}

// linuxStates numbers tcp.State as Linux does (include/net/tcp_states.h).
var linuxStates = map[tcp.State]uint32{
	tcp.Closed: linux.TCP_CLOSE, tcp.Listen: linux.TCP_LISTEN, tcp.SynSent: linux.TCP_SYN_SENT,
	tcp.SynReceived: linux.TCP_SYN_RECV, tcp.Established: linux.TCP_ESTABLISHED,
	tcp.FinWait1: linux.TCP_FIN_WAIT1, tcp.FinWait2: linux.TCP_FIN_WAIT2, tcp.CloseWait: linux.TCP_CLOSE_WAIT,
	tcp.Closing: linux.TCP_CLOSING, tcp.LastAck: linux.TCP_LAST_ACK, tcp.TimeWait: linux.TCP_TIME_WAIT,
}

// describeTCP fills c from connection k (held by socket id, 0: none).
func describeTCP(k *tcp.Conn, id uint32, c sockproto.Conn) sockproto.Conn {
	kid := k.ID()
	c.Sock, c.Protocol = id, sockproto.IPPROTO_TCP
	c.Local, c.Peer = protoAddr(kid.Local), protoAddr(kid.Remote)
	c.State = strings.ReplaceAll(k.State().String(), "-", "_")
	c.TCPState = uint8(linuxStates[k.State()])
	c.TxQueue, c.RxQueue = uint32(k.SendQueued()), uint32(k.Buffered())
	_, rto := k.RTT()
	cwnd, ssthresh := k.CongestionWindow()
	mss, _, _ := k.Negotiated()
	mss = max(mss, 1)
	c.RTO, c.CWnd = uint32(rto.Milliseconds()), uint32(cwnd/mss)
	c.SSThresh = int32(min(ssthresh/mss, 1<<31-1))
	if ssthresh >= 1<<30 {
		c.SSThresh = -1 // still in the initial slow start, as Linux shows it
	}
	return c
}
