package netlink

import (
	"encoding/binary"
	"net"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gvisor.dev/gvisor/pkg/abi/linux"
)

// linkView is what programs read from an RTM_NEWLINK.
type linkView struct {
	Index     int32
	Type      uint16
	Flags     uint32
	Name      string
	MTU       uint32
	OperState uint8
	Carrier   uint8
	HW, Brd   string
	RxPkts    uint64
	TxPkts    uint64
	Rx32      uint32
}

func viewLink(t *testing.T, m syscall.NetlinkMessage) linkView {
	t.Helper()
	ifi := linux.InterfaceInfoMessage{}
	ifi.UnmarshalBytes(m.Data)
	v := linkView{Index: ifi.Index, Type: ifi.Type, Flags: ifi.Flags}
	attrs, err := syscall.ParseNetlinkRouteAttr(&m)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range attrs {
		switch a.Attr.Type {
		case linux.IFLA_IFNAME:
			if a.Value[len(a.Value)-1] != 0 {
				t.Errorf("IFLA_IFNAME %q not NUL-terminated", a.Value)
			}
			v.Name = string(a.Value[:len(a.Value)-1])
		case linux.IFLA_MTU:
			v.MTU = binary.NativeEndian.Uint32(a.Value)
		case linux.IFLA_OPERSTATE:
			v.OperState = a.Value[0]
		case linux.IFLA_CARRIER:
			v.Carrier = a.Value[0]
		case linux.IFLA_ADDRESS:
			v.HW = net.HardwareAddr(a.Value).String()
		case linux.IFLA_BROADCAST:
			v.Brd = net.HardwareAddr(a.Value).String()
		case linux.IFLA_STATS64:
			if len(a.Value) != linkStats64Size {
				t.Errorf("IFLA_STATS64 of %d bytes", len(a.Value))
			}
			v.RxPkts, v.TxPkts = binary.NativeEndian.Uint64(a.Value), binary.NativeEndian.Uint64(a.Value[8:])
		case linux.IFLA_STATS:
			v.Rx32 = binary.NativeEndian.Uint32(a.Value)
		}
	}
	return v
}

// addrView is what programs read from an RTM_NEWADDR.
type addrView struct {
	Family, PrefixLen, Flags, Scope uint8
	Index                           uint32
	Address, Local, Broadcast       string
	Label                           string
	Valid                           uint32
}

func viewAddr(t *testing.T, m syscall.NetlinkMessage) addrView {
	t.Helper()
	var ifa linux.InterfaceAddrMessage
	ifa.UnmarshalBytes(m.Data)
	v := addrView{Family: ifa.Family, PrefixLen: ifa.PrefixLen, Flags: ifa.Flags, Scope: ifa.Scope, Index: ifa.Index}
	attrs, err := syscall.ParseNetlinkRouteAttr(&m)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range attrs {
		switch a.Attr.Type {
		case linux.IFA_ADDRESS:
			v.Address = net.IP(a.Value).String()
		case linux.IFA_LOCAL:
			v.Local = net.IP(a.Value).String()
		case linux.IFA_BROADCAST:
			v.Broadcast = net.IP(a.Value).String()
		case linux.IFA_LABEL:
			v.Label = string(a.Value[:len(a.Value)-1])
		case linux.IFA_CACHEINFO:
			v.Valid = binary.NativeEndian.Uint32(a.Value[4:])
		}
	}
	// Go's net takes the first attribute other than IFA_ADDRESS for the
	// address when IFA_LOCAL is there: it must be IFA_LOCAL.
	for _, a := range attrs {
		if a.Attr.Type != linux.IFA_ADDRESS {
			if a.Attr.Type != linux.IFA_LOCAL && v.Local != "" {
				t.Errorf("attribute %d before IFA_LOCAL", a.Attr.Type)
			}
			break
		}
	}
	return v
}

// routeView is what programs read from an RTM_NEWROUTE.
type routeView struct {
	DstLen, Table, Protocol, Scope, Type uint8
	Dst, Src, Gateway                    string
	OIF, TableAttr                       uint32
}

func viewRoute(t *testing.T, m syscall.NetlinkMessage) routeView {
	t.Helper()
	var rt linux.RouteMessage
	rt.UnmarshalBytes(m.Data)
	v := routeView{DstLen: rt.DstLen, Table: rt.Table, Protocol: rt.Protocol, Scope: rt.Scope, Type: rt.Type}
	attrs, err := syscall.ParseNetlinkRouteAttr(&m)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range attrs {
		switch a.Attr.Type {
		case linux.RTA_DST:
			v.Dst = net.IP(a.Value).String()
		case linux.RTA_PREFSRC:
			v.Src = net.IP(a.Value).String()
		case linux.RTA_GATEWAY:
			v.Gateway = net.IP(a.Value).String()
		case linux.RTA_OIF:
			v.OIF = binary.NativeEndian.Uint32(a.Value)
		case linux.RTA_TABLE:
			v.TableAttr = binary.NativeEndian.Uint32(a.Value)
		}
	}
	return v
}

// dump sends a dump request as Go's syscall.NetlinkRIB does (an rtgenmsg
// of the family) and returns the messages before NLMSG_DONE, checking
// every header on the way.
func dump(t *testing.T, f *fixture, typ uint16, family uint8) []syscall.NetlinkMessage {
	t.Helper()
	f.send(request(typ, linux.NLM_F_REQUEST|linux.NLM_F_DUMP, 1, []byte{family}))
	ms := messages(t, f.recvAll(4096))
	if len(ms) == 0 || ms[len(ms)-1].Header.Type != linux.NLMSG_DONE {
		t.Fatalf("dump of %d did not end in NLMSG_DONE: %+v", typ, ms)
	}
	for _, m := range ms {
		if m.Header.Seq != 1 || m.Header.Pid != f.s.Port() || m.Header.Flags&linux.NLM_F_MULTI == 0 {
			t.Errorf("header %+v: want seq 1, pid %d, NLM_F_MULTI", m.Header, f.s.Port())
		}
	}
	return ms[:len(ms)-1]
}

func TestDumpLinks(t *testing.T) {
	f := newFixture(t, qemuTable)
	var got []linkView
	for _, m := range dump(t, f, linux.RTM_GETLINK, linux.AF_UNSPEC) {
		got = append(got, viewLink(t, m))
	}
	want := []linkView{
		{Index: 1, Type: linux.ARPHRD_LOOPBACK, Flags: linux.IFF_UP | linux.IFF_LOOPBACK | linux.IFF_RUNNING | linux.IFF_LOWER_UP,
			Name: "lo", MTU: 65536, OperState: ifOperUnknown, Carrier: 1, HW: "00:00:00:00:00:00", Brd: "00:00:00:00:00:00",
			RxPkts: 7, TxPkts: 7, Rx32: 7},
		{Index: 2, Type: linux.ARPHRD_ETHER, Flags: linux.IFF_UP | linux.IFF_BROADCAST | linux.IFF_RUNNING | linux.IFF_LOWER_UP,
			Name: "eth0", MTU: 1500, OperState: ifOperUp, Carrier: 1, HW: "52:54:00:12:34:56", Brd: "ff:ff:ff:ff:ff:ff",
			RxPkts: 100, TxPkts: 90, Rx32: 100},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("links (-want +got):\n%s", diff)
	}
	if f.calls != 1 {
		t.Errorf("netd asked %d times for one dump, want 1", f.calls)
	}
}

func TestDumpAddrs(t *testing.T) {
	tb := qemuTable
	tb.Links = append([]Link(nil), qemuTable.Links...)
	tb.Links[1].Addrs = append(tb.Links[1].Addrs, pfx("fe80::5054:ff:fe12:3456/64"))
	lo := addrView{Family: linux.AF_INET, PrefixLen: 8, Flags: ifaFPermanent, Scope: linux.RT_SCOPE_HOST, Index: 1,
		Address: "127.0.0.1", Local: "127.0.0.1", Label: "lo", Valid: infinityLife}
	eth := addrView{Family: linux.AF_INET, PrefixLen: 24, Flags: ifaFPermanent, Index: 2,
		Address: "10.0.2.15", Local: "10.0.2.15", Broadcast: "10.0.2.255", Label: "eth0", Valid: infinityLife}
	v6 := addrView{Family: linux.AF_INET6, PrefixLen: 64, Flags: ifaFPermanent, Scope: linux.RT_SCOPE_LINK, Index: 2,
		Address: "fe80::5054:ff:fe12:3456", Valid: infinityLife}
	for _, tc := range []struct {
		family uint8
		want   []addrView
	}{
		{linux.AF_UNSPEC, []addrView{lo, eth, v6}},
		{linux.AF_INET, []addrView{lo, eth}},
		{linux.AF_INET6, []addrView{v6}},
		{linux.AF_PACKET, []addrView{lo, eth, v6}},
	} {
		f := newFixture(t, tb)
		var got []addrView
		for _, m := range dump(t, f, linux.RTM_GETADDR, tc.family) {
			got = append(got, viewAddr(t, m))
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("addresses of family %d (-want +got):\n%s", tc.family, diff)
		}
	}
}

func TestDumpRoutes(t *testing.T) {
	f := newFixture(t, qemuTable)
	var got []routeView
	for _, m := range dump(t, f, linux.RTM_GETROUTE, linux.AF_INET) {
		got = append(got, viewRoute(t, m))
	}
	main, local := uint32(linux.RT_TABLE_MAIN), uint32(linux.RT_TABLE_LOCAL)
	want := []routeView{
		{Table: linux.RT_TABLE_MAIN, Protocol: linux.RTPROT_BOOT, Type: linux.RTN_UNICAST, Gateway: "10.0.2.2", OIF: 2, TableAttr: main},
		{DstLen: 24, Table: linux.RT_TABLE_MAIN, Protocol: linux.RTPROT_KERNEL, Scope: linux.RT_SCOPE_LINK, Type: linux.RTN_UNICAST,
			Dst: "10.0.2.0", Src: "10.0.2.15", OIF: 2, TableAttr: main},
		{DstLen: 32, Table: linux.RT_TABLE_LOCAL, Protocol: linux.RTPROT_KERNEL, Scope: linux.RT_SCOPE_HOST, Type: linux.RTN_LOCAL,
			Dst: "10.0.2.15", Src: "10.0.2.15", OIF: 2, TableAttr: local},
		{DstLen: 32, Table: linux.RT_TABLE_LOCAL, Protocol: linux.RTPROT_KERNEL, Scope: linux.RT_SCOPE_LINK, Type: linux.RTN_BROADCAST,
			Dst: "10.0.2.255", Src: "10.0.2.15", OIF: 2, TableAttr: local},
		{DstLen: 8, Table: linux.RT_TABLE_LOCAL, Protocol: linux.RTPROT_KERNEL, Scope: linux.RT_SCOPE_HOST, Type: linux.RTN_LOCAL,
			Dst: "127.0.0.0", Src: "127.0.0.1", OIF: 1, TableAttr: local},
		{DstLen: 32, Table: linux.RT_TABLE_LOCAL, Protocol: linux.RTPROT_KERNEL, Scope: linux.RT_SCOPE_HOST, Type: linux.RTN_LOCAL,
			Dst: "127.0.0.1", Src: "127.0.0.1", OIF: 1, TableAttr: local},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("routes (-want +got):\n%s", diff)
	}
	f = newFixture(t, qemuTable)
	if ms := dump(t, f, linux.RTM_GETROUTE, linux.AF_INET6); len(ms) != 0 {
		t.Errorf("IPv6 routes: %d, want none (netd has no IPv6 routing)", len(ms))
	}
}

func TestDumpBridgePorts(t *testing.T) {
	f := newFixture(t, qemuTable)
	if ms := dump(t, f, linux.RTM_GETLINK, linux.AF_BRIDGE); len(ms) != 0 {
		t.Errorf("bridge ports: %d, want none", len(ms))
	}
}

func TestDumpEmptyTable(t *testing.T) {
	for _, typ := range []uint16{linux.RTM_GETLINK, linux.RTM_GETADDR, linux.RTM_GETROUTE} {
		f := newFixture(t, Table{})
		if ms := dump(t, f, typ, linux.AF_UNSPEC); len(ms) != 0 {
			t.Errorf("dump %d of no interfaces: %d messages", typ, len(ms))
		}
	}
}
