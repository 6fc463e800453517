package sock

import (
	"encoding/binary"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/servers/net/sockproto"
)

var testIfaces = []sockproto.Interface{
	{Name: "lo", MTU: 65536, Flags: linux.IFF_UP | linux.IFF_LOOPBACK | linux.IFF_RUNNING,
		Addrs: []sockproto.Prefix{{Addr: sockproto.Addr{Family: linux.AF_INET, IP: []byte{127, 0, 0, 1}}, Bits: 8}}},
	{Name: "eth0", MTU: 1500, Flags: linux.IFF_UP | linux.IFF_BROADCAST | linux.IFF_RUNNING, MAC: []byte{0x52, 0x54, 0, 0x12, 0x34, 0x56},
		Addrs: []sockproto.Prefix{{Addr: sockproto.Addr{Family: linux.AF_INET, IP: []byte{10, 0, 2, 15}}, Bits: 24}}},
	{Name: "down0", MTU: 1500},
}

func ifreq(name string, data ...byte) [IfReqSize]byte {
	var r [IfReqSize]byte
	copy(r[:], name)
	copy(r[linux.IFNAMSIZ:], data)
	return r
}

func sin(a, b, c, d byte) []byte { return []byte{2, 0, 0, 0, a, b, c, d, 0, 0, 0, 0, 0, 0, 0, 0} }

func TestIfReq(t *testing.T) {
	le32 := func(v uint32) []byte { return binary.LittleEndian.AppendUint32(nil, v) }
	tests := []struct {
		name string
		cmd  uint32
		req  [IfReqSize]byte
		want [IfReqSize]byte
		e    errno.Errno
		ok   bool
	}{
		{"flags", linux.SIOCGIFFLAGS, ifreq("eth0", 0xff, 0xff, 0xff), ifreq("eth0", 0x43, 0), 0, true},
		{"lo flags", linux.SIOCGIFFLAGS, ifreq("lo"), ifreq("lo", 0x49, 0), 0, true},
		{"mtu", linux.SIOCGIFMTU, ifreq("lo"), ifreq("lo", le32(65536)...), 0, true},
		{"index", linux.SIOCGIFINDEX, ifreq("eth0"), ifreq("eth0", 2), 0, true},
		{"name", linux.SIOCGIFNAME, ifreq("junk", le32(2)...), ifreq("eth0", le32(2)...), 0, true},
		{"name of index 0", linux.SIOCGIFNAME, ifreq("", 0), ifreq(""), errno.ENODEV, true},
		{"name of index 4", linux.SIOCGIFNAME, ifreq("", 4), ifreq("", 4), errno.ENODEV, true},
		{"addr", linux.SIOCGIFADDR, ifreq("eth0"), ifreq("eth0", sin(10, 0, 2, 15)...), 0, true},
		{"netmask", linux.SIOCGIFNETMASK, ifreq("eth0"), ifreq("eth0", sin(255, 255, 255, 0)...), 0, true},
		{"broadcast", linux.SIOCGIFBRDADDR, ifreq("eth0"), ifreq("eth0", sin(10, 0, 2, 255)...), 0, true},
		{"lo has no broadcast", linux.SIOCGIFBRDADDR, ifreq("lo"), ifreq("lo"), errno.EADDRNOTAVAIL, true},
		{"no address", linux.SIOCGIFADDR, ifreq("down0"), ifreq("down0"), errno.EADDRNOTAVAIL, true},
		{"hwaddr", linux.SIOCGIFHWADDR, ifreq("eth0"), ifreq("eth0", 1, 0, 0x52, 0x54, 0, 0x12, 0x34, 0x56), 0, true},
		{"lo hwaddr", linux.SIOCGIFHWADDR, ifreq("lo"), ifreq("lo", 0x04, 0x03), 0, true},
		{"no such", linux.SIOCGIFMTU, ifreq("eth1"), ifreq("eth1"), errno.ENODEV, true},
		{"unterminated name", linux.SIOCGIFMTU, ifreq("eth0eth0eth0eth0"), ifreq("eth0eth0eth0eth0"), errno.ENODEV, true},
		{"not answered", linux.SIOCGIFMETRIC, ifreq("eth0"), ifreq("eth0"), 0, false},
	}
	for _, tc := range tests {
		got, e, ok := IfReq(tc.cmd, tc.req, testIfaces)
		if e != tc.e || ok != tc.ok {
			t.Errorf("%s: %v, %v; want %v, %v", tc.name, e, ok, tc.e, tc.ok)
		}
		if e == 0 && ok {
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s (-want +got):\n%s", tc.name, diff)
			}
		}
	}
	want := [][IfReqSize]byte{ifreq("lo", sin(127, 0, 0, 1)...), ifreq("eth0", sin(10, 0, 2, 15)...)}
	if diff := cmp.Diff(want, IfConf(testIfaces)); diff != "" {
		t.Errorf("IfConf (-want +got):\n%s", diff)
	}
}

// FuzzIfReq: any request on any struct ifreq is answered without a
// panic, and a struct that names no interface is ENODEV or not answered.
func FuzzIfReq(f *testing.F) {
	f.Add(uint32(linux.SIOCGIFFLAGS), []byte("eth0"))
	f.Add(uint32(linux.SIOCGIFNAME), []byte("\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02"))
	f.Fuzz(func(t *testing.T, cmd uint32, b []byte) {
		var req [IfReqSize]byte
		copy(req[:], b)
		_, e, ok := IfReq(cmd&0xff|0x8900, req, testIfaces)
		if ok && e != 0 && e != errno.ENODEV && e != errno.EADDRNOTAVAIL {
			t.Errorf("errno %v", e)
		}
	})
}
