package netlink

import (
	"cmp"
	"net/netip"
	"slices"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"
)

// Route is one IPv4 route, in Linux's terms (rtmsg and its attributes).
type Route struct {
	Table    uint8 // RT_TABLE_MAIN or RT_TABLE_LOCAL
	Type     uint8 // RTN_UNICAST, RTN_LOCAL, RTN_BROADCAST
	Protocol uint8 // RTPROT_KERNEL, RTPROT_BOOT
	Scope    uint8 // RT_SCOPE_*
	Flags    uint32
	Dst      netip.Prefix // /0 for the default route
	Gateway  netip.Addr   // the zero Addr: on-link
	PrefSrc  netip.Addr
	OIF      int32
}

// Routes derives the routing tables netd's stack follows (servers/net
// stack.route) as Linux would list them after configuring the same
// addresses and gateway:
//
//   - main: a connected route per address of a non-loopback interface
//     (proto kernel, scope link, src the address), and the default route
//     through the gateway (proto boot: installed at start-up, by DHCP or
//     /etc/net.toml, which Status does not tell apart);
//   - local: a local route per address and for the loopback's prefix
//     (netd takes all of 127.0.0.0/8 as its own), and the subnet's
//     broadcast address of each non-loopback prefix shorter than /31.
//
// Both are in Linux's dump order: main before local, by destination.
// netd has no IPv6 routing, so IPv6 addresses get no routes.
func (t *Table) Routes() []Route {
	var main, local []Route
	for _, l := range t.Links {
		loop := l.Flags&linux.IFF_LOOPBACK != 0
		for _, p := range l.Addrs {
			if !p.Addr().Is4() {
				continue
			}
			a := p.Addr()
			local = append(local, Route{Table: linux.RT_TABLE_LOCAL, Type: linux.RTN_LOCAL, Protocol: linux.RTPROT_KERNEL,
				Scope: linux.RT_SCOPE_HOST, Dst: netip.PrefixFrom(a, 32), PrefSrc: a, OIF: l.Index})
			if loop {
				if p.Bits() < 32 {
					local = append(local, Route{Table: linux.RT_TABLE_LOCAL, Type: linux.RTN_LOCAL, Protocol: linux.RTPROT_KERNEL,
						Scope: linux.RT_SCOPE_HOST, Dst: p.Masked(), PrefSrc: a, OIF: l.Index})
				}
				continue
			}
			main = append(main, Route{Table: linux.RT_TABLE_MAIN, Type: linux.RTN_UNICAST, Protocol: linux.RTPROT_KERNEL,
				Scope: linux.RT_SCOPE_LINK, Dst: p.Masked(), PrefSrc: a, OIF: l.Index})
			if p.Bits() < 31 {
				local = append(local, Route{Table: linux.RT_TABLE_LOCAL, Type: linux.RTN_BROADCAST, Protocol: linux.RTPROT_KERNEL,
					Scope: linux.RT_SCOPE_LINK, Dst: netip.PrefixFrom(lastAddr(p), 32), PrefSrc: a, OIF: l.Index})
			}
		}
	}
	if gw := t.Gateway; gw.IsValid() {
		if oif := t.gatewayLink(gw); oif != 0 {
			main = append(main, Route{Table: linux.RT_TABLE_MAIN, Type: linux.RTN_UNICAST, Protocol: linux.RTPROT_BOOT,
				Scope: linux.RT_SCOPE_UNIVERSE, Dst: netip.PrefixFrom(netip.IPv4Unspecified(), 0), Gateway: gw, OIF: oif})
		}
	}
	byDst := func(a, b Route) int {
		if c := a.Dst.Addr().Compare(b.Dst.Addr()); c != 0 {
			return c
		}
		return cmp.Compare(a.Dst.Bits(), b.Dst.Bits())
	}
	slices.SortStableFunc(main, byDst)
	slices.SortStableFunc(local, byDst)
	return append(main, local...)
}

// gatewayLink is the interface the gateway is reached through: the one
// whose prefix holds it, else the first that is not the loopback (netd
// serves one interface, and sends everything off-link to its gateway).
func (t *Table) gatewayLink(gw netip.Addr) int32 {
	first := int32(0)
	for _, l := range t.Links {
		if l.Flags&linux.IFF_LOOPBACK != 0 {
			continue
		}
		if first == 0 {
			first = l.Index
		}
		for _, p := range l.Addrs {
			if p.Contains(gw) {
				return l.Index
			}
		}
	}
	return first
}

// lastAddr is p's highest address: its subnet broadcast.
func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	host := ^uint32(0) >> p.Bits()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]) | host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// Lookup is the route netd's stack takes to dst (RTM_GETROUTE without
// NLM_F_DUMP, `ip route get`), in the order of its stack.route: its own
// addresses and 127.0.0.0/8 are delivered locally through the loopback,
// a subnet's broadcast address and an on-link destination go out
// directly, anything else through the gateway; with no gateway it is
// ENETUNREACH, as netd's ErrNoRoute, and so is any IPv6 destination. The
// answer is a host route with RTM_F_CLONED set, as Linux's.
func (t *Table) Lookup(dst netip.Addr) (Route, errno.Errno) {
	if !dst.Is4() {
		return Route{}, errno.ENETUNREACH
	}
	r := Route{Table: linux.RT_TABLE_MAIN, Type: linux.RTN_UNICAST, Scope: linux.RT_SCOPE_UNIVERSE,
		Flags: linux.RTM_F_CLONED, Dst: netip.PrefixFrom(dst, 32)}
	if lo, src, ok := t.localTo(dst); ok {
		r.Table, r.Type, r.Scope, r.OIF, r.PrefSrc = linux.RT_TABLE_LOCAL, linux.RTN_LOCAL, linux.RT_SCOPE_HOST, lo, src
		return r, 0
	}
	for _, l := range t.Links {
		if l.Flags&linux.IFF_LOOPBACK != 0 {
			continue
		}
		for _, p := range l.Addrs {
			if !p.Addr().Is4() || !p.Contains(dst) {
				continue
			}
			r.OIF, r.PrefSrc = l.Index, p.Addr()
			if p.Bits() < 31 && dst == lastAddr(p) {
				r.Type, r.Scope = linux.RTN_BROADCAST, linux.RT_SCOPE_LINK
			}
			return r, 0
		}
	}
	gw := t.Gateway
	oif := int32(0)
	if gw.IsValid() {
		oif = t.gatewayLink(gw)
	}
	if oif == 0 {
		return Route{}, errno.ENETUNREACH
	}
	l, _ := t.byIndex(oif)
	r.OIF, r.Gateway = oif, gw
	if a, ok := firstV4(l); ok {
		r.PrefSrc = a
	}
	return r, 0
}

// localTo reports whether dst is one of the stack's own addresses (an
// interface's, or any in the loopback's prefix), with the loopback's
// index and the source address Linux names for it: dst itself.
func (t *Table) localTo(dst netip.Addr) (oif int32, src netip.Addr, ok bool) {
	lo := int32(0)
	for _, l := range t.Links {
		if l.Flags&linux.IFF_LOOPBACK != 0 {
			lo = l.Index
			break
		}
	}
	for _, l := range t.Links {
		loop := l.Flags&linux.IFF_LOOPBACK != 0
		for _, p := range l.Addrs {
			if p.Addr().Is4() && (p.Addr() == dst || loop && p.Contains(dst)) {
				if lo == 0 {
					lo = l.Index
				}
				return lo, dst, true
			}
		}
	}
	return 0, netip.Addr{}, false
}

func firstV4(l *Link) (netip.Addr, bool) {
	for _, p := range l.Addrs {
		if p.Addr().Is4() {
			return p.Addr(), true
		}
	}
	return netip.Addr{}, false
}
