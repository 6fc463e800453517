package netlink

import (
	"net/netip"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/servers/net/sockproto"
)

var qemuTable = Table{
	Links: []Link{
		{Index: 1, Name: "lo", Type: linux.ARPHRD_LOOPBACK, MTU: 65536, MAC: make([]byte, 6),
			Flags:  linux.IFF_UP | linux.IFF_LOOPBACK | linux.IFF_RUNNING | linux.IFF_LOWER_UP,
			RxPkts: 7, TxPkts: 7, Addrs: []netip.Prefix{pfx("127.0.0.1/8")}},
		{Index: 2, Name: "eth0", Type: linux.ARPHRD_ETHER, MTU: 1500, MAC: []byte{0x52, 0x54, 0, 0x12, 0x34, 0x56},
			Flags:  linux.IFF_UP | linux.IFF_BROADCAST | linux.IFF_RUNNING | linux.IFF_LOWER_UP,
			RxPkts: 100, TxPkts: 90, Addrs: []netip.Prefix{pfx("10.0.2.15/24")}},
	},
	Gateway: netip.MustParseAddr("10.0.2.2"),
}

func TestFromStatus(t *testing.T) {
	v4 := func(b ...byte) sockproto.Addr { return sockproto.Addr{Family: linux.AF_INET, IP: b} }
	lo := sockproto.Interface{Name: "lo", MTU: 65536, Flags: linux.IFF_UP | linux.IFF_LOOPBACK}
	eth := func(name string) sockproto.Interface {
		return sockproto.Interface{Name: name, MAC: []byte{2, 0, 0, 0, 0, 1}, MTU: 1500, Flags: linux.IFF_UP | linux.IFF_BROADCAST}
	}
	withAddrs := func(in sockproto.Interface, ps ...sockproto.Prefix) sockproto.Interface {
		in.Addrs = ps
		return in
	}
	tests := []struct {
		name string
		st   sockproto.StatusReply
		want Table
	}{
		{"qemu", qemuStatus(), qemuTable},
		{"empty", sockproto.StatusReply{}, Table{}},
		{"loopback first whatever netd's order", sockproto.StatusReply{Interfaces: []sockproto.Interface{eth("eth0"), lo}},
			Table{Links: []Link{
				{Index: 1, Name: "lo", Type: linux.ARPHRD_LOOPBACK, MTU: 65536, MAC: make([]byte, 6), Flags: linux.IFF_UP | linux.IFF_LOOPBACK},
				{Index: 2, Name: "eth0", Type: linux.ARPHRD_ETHER, MTU: 1500, MAC: []byte{2, 0, 0, 0, 0, 1}, Flags: linux.IFF_UP | linux.IFF_BROADCAST},
			}}},
		{"bad names left out", sockproto.StatusReply{Interfaces: []sockproto.Interface{
			eth(""), eth(strings.Repeat("x", 16)), eth("a\x00b"), eth(strings.Repeat("y", 15))}},
			Table{Links: []Link{{Index: 1, Name: strings.Repeat("y", 15), Type: linux.ARPHRD_ETHER, MTU: 1500,
				MAC: []byte{2, 0, 0, 0, 0, 1}, Flags: linux.IFF_UP | linux.IFF_BROADCAST}}}},
		{"bad addresses left out", sockproto.StatusReply{Interfaces: []sockproto.Interface{withAddrs(eth("e"),
			sockproto.Prefix{Addr: v4(10, 0, 0, 1), Bits: 33},
			sockproto.Prefix{Addr: v4(10, 0, 0), Bits: 8},
			sockproto.Prefix{Addr: sockproto.Addr{Family: 99, IP: []byte{1, 2, 3, 4}}, Bits: 8},
			sockproto.Prefix{Addr: sockproto.Addr{Family: linux.AF_INET6, IP: make([]byte, 16)}, Bits: 128},
			sockproto.Prefix{Addr: v4(10, 0, 0, 1), Bits: 32})},
			Gateway: v4(0, 0, 0, 0)},
			Table{Links: []Link{{Index: 1, Name: "e", Type: linux.ARPHRD_ETHER, MTU: 1500,
				MAC: []byte{2, 0, 0, 0, 0, 1}, Flags: linux.IFF_UP | linux.IFF_BROADCAST,
				Addrs: []netip.Prefix{pfx("::/128"), pfx("10.0.0.1/32")}}}}},
		{"odd hardware address", sockproto.StatusReply{Interfaces: []sockproto.Interface{{Name: "x", MAC: []byte{1, 2, 3}}}},
			Table{Links: []Link{{Index: 1, Name: "x", Type: linux.ARPHRD_NONE, MAC: []byte{1, 2, 3}}}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := FromStatus(tc.st)
			if diff := cmp.Diff(tc.want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
				cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
				t.Errorf("FromStatus (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFromStatusBounds(t *testing.T) {
	var st sockproto.StatusReply
	for range 100 {
		in := sockproto.Interface{Name: "e"}
		for range 100 {
			in.Addrs = append(in.Addrs, sockproto.Prefix{Addr: sockproto.Addr{Family: linux.AF_INET, IP: []byte{1, 2, 3, 4}}, Bits: 8})
		}
		st.Interfaces = append(st.Interfaces, in)
	}
	got := FromStatus(st)
	if len(got.Links) != maxLinks || len(got.Links[0].Addrs) != maxAddrs {
		t.Errorf("kept %d links with %d addresses, want at most %d and %d", len(got.Links), len(got.Links[0].Addrs), maxLinks, maxAddrs)
	}
}

var cmpAddrs = cmp.Options{cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
	cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })}

func TestRoutes(t *testing.T) {
	a := netip.MustParseAddr
	want := []Route{
		{Table: linux.RT_TABLE_MAIN, Type: linux.RTN_UNICAST, Protocol: linux.RTPROT_BOOT, Scope: linux.RT_SCOPE_UNIVERSE,
			Dst: pfx("0.0.0.0/0"), Gateway: a("10.0.2.2"), OIF: 2},
		{Table: linux.RT_TABLE_MAIN, Type: linux.RTN_UNICAST, Protocol: linux.RTPROT_KERNEL, Scope: linux.RT_SCOPE_LINK,
			Dst: pfx("10.0.2.0/24"), PrefSrc: a("10.0.2.15"), OIF: 2},
		{Table: linux.RT_TABLE_LOCAL, Type: linux.RTN_LOCAL, Protocol: linux.RTPROT_KERNEL, Scope: linux.RT_SCOPE_HOST,
			Dst: pfx("10.0.2.15/32"), PrefSrc: a("10.0.2.15"), OIF: 2},
		{Table: linux.RT_TABLE_LOCAL, Type: linux.RTN_BROADCAST, Protocol: linux.RTPROT_KERNEL, Scope: linux.RT_SCOPE_LINK,
			Dst: pfx("10.0.2.255/32"), PrefSrc: a("10.0.2.15"), OIF: 2},
		{Table: linux.RT_TABLE_LOCAL, Type: linux.RTN_LOCAL, Protocol: linux.RTPROT_KERNEL, Scope: linux.RT_SCOPE_HOST,
			Dst: pfx("127.0.0.0/8"), PrefSrc: a("127.0.0.1"), OIF: 1},
		{Table: linux.RT_TABLE_LOCAL, Type: linux.RTN_LOCAL, Protocol: linux.RTPROT_KERNEL, Scope: linux.RT_SCOPE_HOST,
			Dst: pfx("127.0.0.1/32"), PrefSrc: a("127.0.0.1"), OIF: 1},
	}
	tb := qemuTable
	if diff := cmp.Diff(want, tb.Routes(), cmpAddrs); diff != "" {
		t.Errorf("Routes (-want +got):\n%s", diff)
	}
	// Without a lease: only the loopback's local routes.
	noLease := Table{Links: []Link{qemuTable.Links[0], {Index: 2, Name: "eth0", Type: linux.ARPHRD_ETHER, Flags: linux.IFF_UP}}}
	if got := noLease.Routes(); len(got) != 2 || got[0].Table != linux.RT_TABLE_LOCAL {
		t.Errorf("Routes without a lease = %+v, want the loopback's two local routes", got)
	}
}

func TestLookup(t *testing.T) {
	a := netip.MustParseAddr
	host := func(s string) netip.Prefix { return netip.PrefixFrom(a(s), 32) }
	tests := []struct {
		dst  string
		want Route
		err  errno.Errno
	}{
		{"8.8.8.8", Route{Table: linux.RT_TABLE_MAIN, Type: linux.RTN_UNICAST, Flags: linux.RTM_F_CLONED,
			Dst: host("8.8.8.8"), Gateway: a("10.0.2.2"), PrefSrc: a("10.0.2.15"), OIF: 2}, 0},
		{"10.0.2.3", Route{Table: linux.RT_TABLE_MAIN, Type: linux.RTN_UNICAST, Flags: linux.RTM_F_CLONED,
			Dst: host("10.0.2.3"), PrefSrc: a("10.0.2.15"), OIF: 2}, 0},
		{"10.0.2.255", Route{Table: linux.RT_TABLE_MAIN, Type: linux.RTN_BROADCAST, Scope: linux.RT_SCOPE_LINK,
			Flags: linux.RTM_F_CLONED, Dst: host("10.0.2.255"), PrefSrc: a("10.0.2.15"), OIF: 2}, 0},
		{"10.0.2.15", Route{Table: linux.RT_TABLE_LOCAL, Type: linux.RTN_LOCAL, Scope: linux.RT_SCOPE_HOST,
			Flags: linux.RTM_F_CLONED, Dst: host("10.0.2.15"), PrefSrc: a("10.0.2.15"), OIF: 1}, 0},
		{"127.1.2.3", Route{Table: linux.RT_TABLE_LOCAL, Type: linux.RTN_LOCAL, Scope: linux.RT_SCOPE_HOST,
			Flags: linux.RTM_F_CLONED, Dst: host("127.1.2.3"), PrefSrc: a("127.1.2.3"), OIF: 1}, 0},
		{"::1", Route{}, errno.ENETUNREACH},
	}
	tb := qemuTable
	for _, tc := range tests {
		got, e := tb.Lookup(a(tc.dst))
		if e != tc.err {
			t.Errorf("Lookup(%s) errno %v, want %v", tc.dst, e, tc.err)
		}
		if diff := cmp.Diff(tc.want, got, cmpAddrs); diff != "" {
			t.Errorf("Lookup(%s) (-want +got):\n%s", tc.dst, diff)
		}
	}
	noGateway := qemuTable
	noGateway.Gateway = netip.Addr{}
	if _, e := noGateway.Lookup(a("8.8.8.8")); e != errno.ENETUNREACH {
		t.Errorf("Lookup off-link without a gateway: %v, want ENETUNREACH", e)
	}
}
