package proc

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"valence.dev/microkernel/procfs"
	"valence.dev/servers/net/sockproto"
)

func TestNetOf(t *testing.T) {
	a4 := func(s string, port uint16) sockproto.Addr {
		ip := netip.MustParseAddr(s)
		if ip.Is4() {
			b := ip.As4()
			return sockproto.Addr{Family: 2, Port: port, IP: b[:]}
		}
		b := ip.As16()
		return sockproto.Addr{Family: 10, Port: port, IP: b[:]}
	}
	st := sockproto.StatusReply{
		Interfaces: []sockproto.Interface{
			{Name: "lo", MTU: 65536, Flags: 0x49, Addrs: []sockproto.Prefix{{Addr: a4("127.0.0.1", 0), Bits: 8}}, RxPkts: 3, TxPkts: 3, RxBytes: 300, TxBytes: 300},
			{Name: "eth0 :/\n" + "longer than fifteen", MTU: 1500, Addrs: []sockproto.Prefix{
				{Addr: a4("fe80::1", 0), Bits: 64}, {Addr: a4("10.0.2.15", 0), Bits: 99}, {Addr: a4("10.9.9.9", 0), Bits: 8}}},
		},
		Gateway: a4("10.0.2.2", 0),
		Conns: []sockproto.Conn{
			{Type: 1, Local: a4("0.0.0.0", 80), Peer: sockproto.Addr{}, Sock: 4, Protocol: 6, TCPState: 10, RTO: 1000},
			{Type: 3, Local: a4("10.0.2.15", 1), Peer: a4("10.0.2.2", 0), Sock: 5, Protocol: 1, TCPState: 1, RxQueue: 84, Drops: 2},
			{Type: 2, Local: sockproto.Addr{Family: 2, IP: []byte{1, 2, 3}}, Sock: 6}, // malformed: dropped
		},
		SNMP: sockproto.SNMP{DefaultTTL: 64, IP: sockproto.IPMIB{InReceives: 7}, ICMPMsg: []sockproto.ICMPMsg{{Type: 8, Out: 2}},
			TCP: sockproto.TCPMIB{RtoMin: 200}},
	}
	want := procfs.Net{
		Up:      true,
		Gateway: netip.MustParseAddr("10.0.2.2"),
		Interfaces: []procfs.NetInterface{
			{Name: "lo", MTU: 65536, Flags: 0x49, Addr: netip.MustParsePrefix("127.0.0.1/8"), RxPackets: 3, TxPackets: 3, RxBytes: 300, TxBytes: 300},
			{Name: "eth0????longer?", MTU: 1500, Addr: netip.PrefixFrom(netip.MustParseAddr("10.0.2.15"), 32)},
		},
		Sockets: []procfs.InetSocket{
			{Protocol: 6, Local: netip.MustParseAddrPort("0.0.0.0:80"), Remote: netip.MustParseAddrPort("0.0.0.0:0"), State: 10, Inode: 4, RTO: time.Second},
			{Protocol: 1, Raw: true, Local: netip.MustParseAddrPort("10.0.2.15:1"), Remote: netip.MustParseAddrPort("10.0.2.2:0"), State: 1, RxQueue: 84, Inode: 5, Drops: 2},
		},
		SNMP: procfs.SNMP{DefaultTTL: 64, IP: procfs.IPMIB{InReceives: 7}, ICMPMsg: []procfs.ICMPMsg{{Type: 8, Out: 2}},
			TCP: procfs.TCPMIB{RtoMin: 200}},
	}
	// Prefix and Addr have unexported fields; compare them by value.
	opts := cmp.Options{cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
		cmp.Comparer(func(a, b netip.Prefix) bool { return a == b }),
		cmp.Comparer(func(a, b netip.AddrPort) bool { return a == b })}
	if diff := cmp.Diff(want, netOf(st), opts); diff != "" {
		t.Errorf("netOf (-want +got):\n%s", diff)
	}
}
