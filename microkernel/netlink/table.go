package netlink

import (
	"net/netip"
	"slices"
	"strings"

	"gvisor.dev/gvisor/pkg/abi/linux"

	"valence.dev/servers/net/sockproto"
)

// Link is one network interface as NETLINK_ROUTE reports it.
type Link struct {
	Index  int32  // ifindex: 1 for the loopback, then netd's order
	Name   string // at most IFNAMSIZ-1 bytes, no NUL
	Type   uint16 // ARPHRD_LOOPBACK, ARPHRD_ETHER or ARPHRD_NONE
	Flags  uint32 // IFF_* as netd reports them, IFF_LOWER_UP added with IFF_RUNNING
	MTU    uint32
	MAC    []byte // the hardware address (6 bytes for Ethernet); nil: none
	RxPkts uint64
	TxPkts uint64
	Addrs  []netip.Prefix
}

// Table is the state a dump reports: netd's interfaces and its default
// gateway, taken in one Status call so that a dump is consistent.
type Table struct {
	Links   []Link
	Gateway netip.Addr // IPv4 default router; the zero Addr: none
}

// Bounds on what FromStatus keeps of netd's answer: netd is a program,
// and what it says is checked like any input.
const (
	maxLinks    = 16
	maxAddrs    = 16
	maxHWAddr   = 32 // MAX_ADDR_LEN
	ethAddrSize = 6
)

// FromStatus makes the Table of netd's status. Interfaces are numbered
// as Linux numbers them at boot, so that the numbers are stable across
// calls and netd restarts: the loopback first (index 1), then the others
// in netd's order (the NIC is 2). An interface whose name is empty, too
// long for IFNAMSIZ or holds a NUL is left out; so are addresses that
// are not IPv4 or IPv6 prefixes.
func FromStatus(st sockproto.StatusReply) Table {
	var t Table
	ifaces := slices.Clone(st.Interfaces)
	slices.SortStableFunc(ifaces, func(a, b sockproto.Interface) int {
		return loopbackRank(a) - loopbackRank(b)
	})
	for _, in := range ifaces {
		if len(t.Links) == maxLinks {
			break
		}
		if in.Name == "" || len(in.Name) >= ifNameSize || strings.IndexByte(in.Name, 0) >= 0 {
			continue
		}
		l := Link{
			Index:  int32(len(t.Links) + 1),
			Name:   in.Name,
			Flags:  in.Flags,
			MTU:    in.MTU,
			RxPkts: in.RxPkts,
			TxPkts: in.TxPkts,
		}
		switch {
		case in.Flags&linux.IFF_LOOPBACK != 0:
			l.Type = linux.ARPHRD_LOOPBACK
			l.MAC = make([]byte, ethAddrSize) // Linux's lo has six zero bytes
		case len(in.MAC) == ethAddrSize:
			l.Type = linux.ARPHRD_ETHER
			l.MAC = slices.Clone(in.MAC)
		default:
			l.Type = linux.ARPHRD_NONE
			if len(in.MAC) > 0 && len(in.MAC) <= maxHWAddr {
				l.MAC = slices.Clone(in.MAC)
			}
		}
		if l.Flags&linux.IFF_RUNNING != 0 {
			l.Flags |= linux.IFF_LOWER_UP // carrier: dev_get_flags reports both
		}
		for _, p := range in.Addrs {
			if pf, ok := prefixOf(p); ok && len(l.Addrs) < maxAddrs {
				l.Addrs = append(l.Addrs, pf)
			}
		}
		t.Links = append(t.Links, l)
	}
	if gw, ok := addrOf(st.Gateway); ok && gw.Is4() && !gw.IsUnspecified() {
		t.Gateway = gw
	}
	return t
}

func loopbackRank(in sockproto.Interface) int {
	if in.Flags&linux.IFF_LOOPBACK != 0 {
		return 0
	}
	return 1
}

func addrOf(a sockproto.Addr) (netip.Addr, bool) {
	switch {
	case a.Family == linux.AF_INET && len(a.IP) == 4:
		return netip.AddrFrom4([4]byte(a.IP)), true
	case a.Family == linux.AF_INET6 && len(a.IP) == 16:
		return netip.AddrFrom16([16]byte(a.IP)), true
	}
	return netip.Addr{}, false
}

func prefixOf(p sockproto.Prefix) (netip.Prefix, bool) {
	a, ok := addrOf(p.Addr)
	if !ok || int(p.Bits) > a.BitLen() {
		return netip.Prefix{}, false
	}
	return netip.PrefixFrom(a, int(p.Bits)), true
}

// byIndex returns the link numbered i.
func (t *Table) byIndex(i int32) (*Link, bool) {
	for k := range t.Links {
		if t.Links[k].Index == i {
			return &t.Links[k], true
		}
	}
	return nil, false
}

// byName returns the link called name.
func (t *Table) byName(name string) (*Link, bool) {
	for k := range t.Links {
		if t.Links[k].Name == name {
			return &t.Links[k], true
		}
	}
	return nil, false
}
