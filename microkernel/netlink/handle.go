package netlink

import (
	"net/netip"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"
)

// options are a socket's settings that shape its answers.
type options struct {
	extAck bool // NETLINK_EXT_ACK: explain errors in NLMSGERR_ATTR_MSG
	strict bool // NETLINK_GET_STRICT_CHK: check dump requests' headers
	capAck bool // NETLINK_CAP_ACK: do not echo a failed request's payload
}

// answer is what one request asks of its socket: datagrams to queue in
// order, or a dump to start (its messages, NLMSG_DONE last), which the
// socket refuses with EBUSY while another of its dumps runs (the error
// built by busy).
type answer struct {
	datagrams [][]byte
	dump      [][]byte
	busy      func() []byte
}

// Messages to explain refusals with, under NETLINK_EXT_ACK.
const (
	whyNotChange  = "Valence: interfaces, addresses and routes are netd's configuration (DHCP or /etc/net.toml) and cannot be changed over netlink"
	whyNotServed  = "Valence: this rtnetlink request is not served (links, addresses and routes are)"
	whyNoIndex    = "Valence: no interface has this index or name"
	whyBadHeader  = "Valence: request too short for its header"
	whyRouteAttrs = "Valence: route lookups take RTA_DST only, and answer the route (not RTM_F_FIB_MATCH)"
)

// handler answers the requests of one send. table is called at most
// once, by the first request that needs netd's state, so that a send
// of many requests asks netd once and every answer agrees.
type handler struct {
	port  uint32
	opts  options
	admin bool // the sender may change the network (CAP_NET_ADMIN)
	table func() (Table, errno.Errno)

	snap    Table
	snapErr errno.Errno
	snapped bool
}

func (h *handler) state() (*Table, errno.Errno) {
	if !h.snapped {
		h.snap, h.snapErr = h.table()
		h.snapped = true
	}
	return &h.snap, h.snapErr
}

// handle answers req as Linux's netlink_rcv_skb and rtnetlink_rcv_msg
// do, in their order of checks.
func (h *handler) handle(req Request) answer {
	hd := req.Header
	ack := hd.Flags&linux.NLM_F_ACK != 0
	// Only requests are handled, and control messages are skipped; both
	// are acknowledged when asked.
	if hd.Flags&linux.NLM_F_REQUEST == 0 || hd.Type < linux.NLMSG_MIN_TYPE {
		return h.ackIf(req, ack)
	}
	if hd.Type > rtmMax {
		return h.fail(req, errno.EOPNOTSUPP, whyNotServed)
	}
	// Every rtnetlink message has at least its family byte; a shorter
	// one is ignored (acknowledged when asked), as Linux.
	if len(req.Payload) < 1 {
		return h.ackIf(req, ack)
	}
	kind := (hd.Type - linux.RTM_NEWLINK) & 3
	if kind != kindGet {
		if !h.admin {
			return h.fail(req, errno.EPERM, "")
		}
		return h.fail(req, errno.EOPNOTSUPP, whyNotChange)
	}
	if hd.Flags&linux.NLM_F_DUMP != 0 {
		return h.dump(req)
	}
	switch hd.Type {
	case linux.RTM_GETLINK:
		return h.getLink(req, ack)
	case linux.RTM_GETROUTE:
		return h.getRoute(req, ack)
	}
	return h.fail(req, errno.EOPNOTSUPP, whyNotServed)
}

func (h *handler) ackIf(req Request, ack bool) answer {
	if !ack {
		return answer{}
	}
	return answer{datagrams: [][]byte{errorMessage(req, 0, h.port, &h.opts, "")}}
}

func (h *handler) fail(req Request, e errno.Errno, why string) answer {
	return answer{datagrams: [][]byte{errorMessage(req, e, h.port, &h.opts, why)}}
}

// dump answers RTM_GETLINK, RTM_GETADDR and RTM_GETROUTE with
// NLM_F_DUMP: every object as an NLM_F_MULTI message, then NLMSG_DONE.
// The family (the payload's first byte, in rtgenmsg, ifinfomsg, ifaddrmsg
// or rtmsg alike) selects addresses and routes: AF_INET, AF_INET6, or
// anything else for all, as Linux's rtnl_dump_all; for links, AF_BRIDGE
// selects bridge ports, of which there are none. With
// NETLINK_GET_STRICT_CHK, a request shorter than its family's header is
// EINVAL and RTM_GETADDR's ifa_index selects an interface.
func (h *handler) dump(req Request) answer {
	hd := req.Header
	family := req.Payload[0]
	fixed := map[uint16]int{linux.RTM_GETLINK: linux.InterfaceInfoMessageSize,
		linux.RTM_GETADDR: linux.InterfaceAddrMessageSize, linux.RTM_GETROUTE: linux.SizeOfRouteMessage}
	size, served := fixed[hd.Type]
	if !served {
		return h.fail(req, errno.EOPNOTSUPP, whyNotServed)
	}
	if h.opts.strict && len(req.Payload) < size {
		return h.fail(req, errno.EINVAL, whyBadHeader)
	}
	t, e := h.state()
	if e != 0 {
		return h.fail(req, e, "")
	}
	r := reply{seq: hd.Seq, port: h.port, flags: linux.NLM_F_MULTI}
	var msgs [][]byte
	switch hd.Type {
	case linux.RTM_GETLINK:
		// AF_BRIDGE asks for bridge ports (Linux's rtnl_bridge_getlink):
		// there are none.
		for i := range t.Links {
			if family != linux.AF_BRIDGE {
				msgs = append(msgs, linkMessage(&t.Links[i], r))
			}
		}
	case linux.RTM_GETADDR:
		index := uint32(0)
		if h.opts.strict {
			var ifa linux.InterfaceAddrMessage
			ifa.UnmarshalBytes(req.Payload)
			index = ifa.Index
		}
		// Linux dumps family by family (AF_INET before AF_INET6).
		for _, v4 := range []bool{true, false} {
			if !familyWants(family, v4) {
				continue
			}
			for i := range t.Links {
				l := &t.Links[i]
				if index != 0 && uint32(l.Index) != index {
					continue
				}
				for _, p := range l.Addrs {
					if p.Addr().Is4() == v4 {
						msgs = append(msgs, addrMessage(l, p, r))
					}
				}
			}
		}
	case linux.RTM_GETROUTE:
		if familyWants(family, true) {
			for _, rt := range t.Routes() {
				msgs = append(msgs, routeMessage(rt, r))
			}
		}
	}
	msgs = append(msgs, doneMessage(r))
	busy := func() []byte { return errorMessage(req, errno.EBUSY, h.port, &h.opts, "") }
	return answer{dump: msgs, busy: busy}
}

// familyWants reports whether a dump for family includes IPv4 (v4) or
// IPv6 objects.
func familyWants(family uint8, v4 bool) bool {
	switch family {
	case linux.AF_INET:
		return v4
	case linux.AF_INET6:
		return !v4
	}
	return true
}

// getLink answers RTM_GETLINK for one interface (Linux's rtnl_getlink):
// by ifi_index when it is positive, else by IFLA_IFNAME or
// IFLA_ALT_IFNAME; neither is EINVAL, no such interface ENODEV. The
// answer is an RTM_NEWLINK of its own, then the acknowledgment if asked.
func (h *handler) getLink(req Request, ack bool) answer {
	if len(req.Payload) < linux.InterfaceInfoMessageSize {
		return h.fail(req, errno.EINVAL, whyBadHeader)
	}
	var ifi linux.InterfaceInfoMessage
	ifi.UnmarshalBytes(req.Payload)
	a := attrsAfter(req.Payload, linux.InterfaceInfoMessageSize)
	name, byName := "", false
	if v, ok := a[linux.IFLA_IFNAME]; ok {
		n, fits := ifname(v)
		if !fits {
			return h.fail(req, errno.ERANGE, "")
		}
		name, byName = n, true
	} else if v, ok := a[iflaAltIfname]; ok {
		name, byName = string(trimNUL(v)), true
	}
	if ifi.Index <= 0 && !byName {
		return h.fail(req, errno.EINVAL, "")
	}
	t, e := h.state()
	if e != 0 {
		return h.fail(req, e, "")
	}
	var l *Link
	var found bool
	if ifi.Index > 0 {
		l, found = t.byIndex(ifi.Index)
	} else {
		l, found = t.byName(name)
	}
	if !found {
		return h.fail(req, errno.ENODEV, whyNoIndex)
	}
	out := answer{datagrams: [][]byte{linkMessage(l, reply{seq: req.Header.Seq, port: h.port})}}
	if ack {
		out.datagrams = append(out.datagrams, errorMessage(req, 0, h.port, &h.opts, ""))
	}
	return out
}

func trimNUL(v []byte) []byte {
	if i := indexByte(v, 0); i >= 0 {
		return v[:i]
	}
	return v
}

// getRoute answers RTM_GETROUTE for one destination (`ip route get`,
// Linux's inet_rtm_getroute) with the route netd's stack would take: an
// RTM_NEWROUTE, then the acknowledgment if asked. Only AF_INET and
// RTA_DST are served: the other selectors (source, input or output
// interface, mark) and RTM_F_FIB_MATCH are EOPNOTSUPP rather than
// ignored, and IPv6, which netd does not route, is ENETUNREACH.
func (h *handler) getRoute(req Request, ack bool) answer {
	if len(req.Payload) < linux.SizeOfRouteMessage {
		return h.fail(req, errno.EINVAL, whyBadHeader)
	}
	family := req.Payload[0]
	switch family {
	case linux.AF_INET:
	case linux.AF_INET6:
		return h.fail(req, errno.ENETUNREACH, "")
	default:
		return h.fail(req, errno.EOPNOTSUPP, whyNotServed)
	}
	var rtm linux.RouteMessage
	rtm.UnmarshalBytes(req.Payload)
	if rtm.Flags&linux.RTM_F_FIB_MATCH != 0 {
		return h.fail(req, errno.EOPNOTSUPP, whyRouteAttrs)
	}
	a := attrsAfter(req.Payload, linux.SizeOfRouteMessage)
	for _, sel := range []uint16{linux.RTA_SRC, linux.RTA_IIF, linux.RTA_OIF, linux.RTA_MARK} {
		if _, ok := a[sel]; ok {
			return h.fail(req, errno.EOPNOTSUPP, whyRouteAttrs)
		}
	}
	v, ok := a[linux.RTA_DST]
	if !ok || len(v) != 4 {
		return h.fail(req, errno.EINVAL, whyRouteAttrs)
	}
	t, e := h.state()
	if e != 0 {
		return h.fail(req, e, "")
	}
	rt, e := t.Lookup(netip.AddrFrom4([4]byte(v)))
	if e != 0 {
		return h.fail(req, e, "")
	}
	out := answer{datagrams: [][]byte{routeMessage(rt, reply{seq: req.Header.Seq, port: h.port})}}
	if ack {
		out.datagrams = append(out.datagrams, errorMessage(req, 0, h.port, &h.opts, ""))
	}
	return out
}
