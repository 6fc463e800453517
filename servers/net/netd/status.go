package netd

import (
	"context"
	"net/netip"
	"sort"
	"strings"

	"gvisor.dev/gvisor/pkg/abi/linux"

	"valence.dev/servers/net/sockproto"
	"valence.dev/servers/net/stack"
)

// Status implements sockproto.Handler: the interfaces (lo, and the link
// under Options.Interface), the default gateway, the DNS servers, and
// the sockets of every client from the req.From'th (ordered by client,
// then socket number), for ip, ifconfig and netstat.
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
		all := s.sortedSocks()
		if int(req.From) < len(all) {
			page := all[req.From:]
			rep.More = len(page) > sockproto.MaxConns
			for _, so := range page[:min(len(page), sockproto.MaxConns)] {
				rep.Conns = append(rep.Conns, so.describe())
			}
		}
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
	}
	mac := st.MAC()
	eth := sockproto.Interface{
		Name:   s.opts.Interface,
		MAC:    mac[:],
		MTU:    uint32(st.MTU()),
		Flags:  linux.IFF_UP | linux.IFF_BROADCAST,
		RxPkts: stats.Link.FramesIn,
		TxPkts: stats.Link.FramesOut,
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

// describe is so for netstat: states named as netstat names them.
func (so *sock) describe() sockproto.Conn {
	c := sockproto.Conn{Type: so.typ(), Local: protoAddr(so.bound)}
	switch {
	case so.conn != nil:
		id := so.conn.ID()
		c.Local, c.Peer = protoAddr(id.Local), protoAddr(id.Remote)
		c.State = strings.ReplaceAll(so.conn.State().String(), "-", "_")
	case so.lis != nil:
		c.State = "LISTEN"
	case so.kind == kindTCP:
		c.State = "CLOSE"
	case so.peer.IsValid():
		c.Peer, c.State = protoAddr(so.peer), "ESTABLISHED"
	default:
		c.State = "UNCONN"
	}
	if so.ping != nil {
		c.Local = protoAddr(netip.AddrPortFrom(so.bound.Addr(), so.ping.ID()))
	}
	return c
}
