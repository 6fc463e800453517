package netlink

import (
	"encoding/binary"
	"net/netip"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"
)

// The messages the kernel answers with, laid out as Linux's
// rtnl_fill_ifinfo, inet_fill_ifaddr and fib_dump_info lay them out
// (attribute order included: Go's net takes the first address attribute
// of an RTM_NEWADDR that is not IFA_ADDRESS for the address, so IFA_LOCAL
// must come before IFA_LABEL).

// reply says whom a message answers: the request's sequence number and
// the requesting socket's port, and NLM_F_MULTI for a dump's parts.
type reply struct {
	seq, port uint32
	flags     uint16
}

// linkMessage is RTM_NEWLINK for l.
func linkMessage(l *Link, r reply) []byte {
	m := newMessage(linux.RTM_NEWLINK, r.flags, r.seq, r.port)
	ifi := linux.InterfaceInfoMessage{Family: linux.AF_UNSPEC, Type: l.Type, Index: l.Index, Flags: l.Flags}
	b := make([]byte, linux.InterfaceInfoMessageSize)
	ifi.MarshalBytes(b)
	m.put(b)
	m.str(linux.IFLA_IFNAME, l.Name)
	m.u8(linux.IFLA_OPERSTATE, operState(l))
	m.u8(linux.IFLA_LINKMODE, 0)
	m.u32(linux.IFLA_MTU, l.MTU)
	m.u32(linux.IFLA_GROUP, 0)
	m.u32(linux.IFLA_PROMISCUITY, 0)
	m.u8(linux.IFLA_CARRIER, boolByte(l.Flags&linux.IFF_LOWER_UP != 0))
	if len(l.MAC) > 0 {
		m.attr(linux.IFLA_ADDRESS, l.MAC)
		m.attr(linux.IFLA_BROADCAST, broadcastHW(l))
	}
	// netd counts packets, not bytes or errors: those fields are 0, as
	// for a driver that does not count them.
	m.attr(linux.IFLA_STATS64, u64s(linkStats64Size, l.RxPkts, l.TxPkts))
	m.attr(linux.IFLA_STATS, u32s(linkStatsSize, uint32(l.RxPkts), uint32(l.TxPkts)))
	return m.bytes()
}

// operState is RFC 2863's state as Linux reports it: the loopback has no
// carrier to speak of (UNKNOWN, as Linux's lo), others are UP with
// carrier and DOWN without.
func operState(l *Link) uint8 {
	switch {
	case l.Flags&linux.IFF_LOOPBACK != 0:
		return ifOperUnknown
	case l.Flags&linux.IFF_LOWER_UP != 0:
		return ifOperUp
	}
	return ifOperDown
}

// broadcastHW is the link-layer broadcast address: all ones on Ethernet,
// zeros on the loopback (as Linux's lo).
func broadcastHW(l *Link) []byte {
	b := make([]byte, len(l.MAC))
	if l.Type == linux.ARPHRD_ETHER {
		for i := range b {
			b[i] = 0xff
		}
	}
	return b
}

func boolByte(v bool) uint8 {
	if v {
		return 1
	}
	return 0
}

// addrMessage is RTM_NEWADDR for address p of l. Addresses come from
// DHCP or /etc/net.toml and netd does not say which, so each is reported
// as configured for ever (IFA_F_PERMANENT, lifetimes 0xffffffff).
func addrMessage(l *Link, p netip.Prefix, r reply) []byte {
	m := newMessage(linux.RTM_NEWADDR, r.flags, r.seq, r.port)
	family := uint8(linux.AF_INET6)
	if p.Addr().Is4() {
		family = linux.AF_INET
	}
	ifa := linux.InterfaceAddrMessage{Family: family, PrefixLen: uint8(p.Bits()), Flags: ifaFPermanent,
		Scope: addrScope(p.Addr()), Index: uint32(l.Index)}
	b := make([]byte, linux.InterfaceAddrMessageSize)
	ifa.MarshalBytes(b)
	m.put(b)
	m.ip(linux.IFA_ADDRESS, p.Addr())
	if family == linux.AF_INET {
		// IPv4 sends the local address too (equal to IFA_ADDRESS unless
		// point-to-point), the broadcast address and the label.
		m.ip(linux.IFA_LOCAL, p.Addr())
		if l.Flags&linux.IFF_BROADCAST != 0 && p.Bits() < 31 {
			m.ip(linux.IFA_BROADCAST, lastAddr(p))
		}
		m.str(linux.IFA_LABEL, l.Name)
	}
	m.u32(linux.IFA_FLAGS, ifaFPermanent)
	m.attr(linux.IFA_CACHEINFO, u32s(ifaCacheinfoSize, infinityLife, infinityLife))
	return m.bytes()
}

// addrScope is the scope Linux gives an address: host for the loopback's,
// link for link-local ones, universe otherwise.
func addrScope(a netip.Addr) uint8 {
	switch {
	case a.IsLoopback():
		return linux.RT_SCOPE_HOST
	case a.IsLinkLocalUnicast():
		return linux.RT_SCOPE_LINK
	}
	return linux.RT_SCOPE_UNIVERSE
}

// routeMessage is RTM_NEWROUTE for rt.
func routeMessage(rt Route, r reply) []byte {
	m := newMessage(linux.RTM_NEWROUTE, r.flags, r.seq, r.port)
	rtm := linux.RouteMessage{Family: linux.AF_INET, DstLen: uint8(rt.Dst.Bits()), Table: rt.Table,
		Protocol: rt.Protocol, Scope: rt.Scope, Type: rt.Type, Flags: rt.Flags}
	b := make([]byte, linux.SizeOfRouteMessage)
	rtm.MarshalBytes(b)
	m.put(b)
	m.u32(linux.RTA_TABLE, uint32(rt.Table))
	if rt.Dst.Bits() > 0 {
		m.ip(linux.RTA_DST, rt.Dst.Addr())
	}
	if rt.PrefSrc.IsValid() {
		m.ip(linux.RTA_PREFSRC, rt.PrefSrc)
	}
	if rt.Gateway.IsValid() {
		m.ip(linux.RTA_GATEWAY, rt.Gateway)
	}
	m.u32(linux.RTA_OIF, uint32(rt.OIF))
	return m.bytes()
}

// doneMessage ends a dump: NLMSG_DONE with its int error (0).
func doneMessage(r reply) []byte {
	m := newMessage(linux.NLMSG_DONE, linux.NLM_F_MULTI, r.seq, r.port)
	m.put(make([]byte, 4))
	return m.bytes()
}

// errorMessage is NLMSG_ERROR for req (Linux's netlink_ack): the negated
// errno (0 for an acknowledgment), then the request's header and, for an
// error, its payload too unless the socket asked to cap it
// (NETLINK_CAP_ACK; NLM_F_CAPPED says it is cut). With NETLINK_EXT_ACK,
// msg is added as NLMSGERR_ATTR_MSG (NLM_F_ACK_TLVS).
func errorMessage(req Request, e errno.Errno, port uint32, o *options, msg string) []byte {
	flags := uint16(0)
	echo := req.Raw[:linux.NetlinkMessageHeaderSize]
	if e != 0 && !o.capAck {
		echo = req.Raw
	} else {
		flags |= nlmFCapped
	}
	if o.extAck && msg != "" {
		flags |= nlmFAckTLVs
	}
	m := newMessage(linux.NLMSG_ERROR, flags, req.Header.Seq, port)
	m.b = binary.NativeEndian.AppendUint32(m.b, uint32(-int32(e)))
	m.put(echo)
	if flags&nlmFAckTLVs != 0 {
		m.str(nlmsgerrAttrMsg, msg)
	}
	return m.bytes()
}
