package sock

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/servers/net/sockproto"
)

func TestDecodeAddr(t *testing.T) {
	in4 := []byte{2, 0, 0x1f, 0x90, 10, 0, 2, 15, 0, 0, 0, 0, 0, 0, 0, 0}
	in6 := make([]byte, 28)
	in6[0], in6[2], in6[3], in6[23] = 10, 0, 80, 1
	cases := []struct {
		name string
		b    []byte
		want uint16
		addr sockproto.Addr
		e    errno.Errno
	}{
		{"inet", in4, inetFamily, sockproto.Addr{Family: 2, Port: 8080, IP: []byte{10, 0, 2, 15}}, 0},
		{"inet short", in4[:15], inetFamily, sockproto.Addr{}, errno.EINVAL},
		{"inet on an inet6 socket", in4, inet6Family, sockproto.Addr{}, errno.EAFNOSUPPORT},
		{"inet6", in6, inet6Family, sockproto.Addr{Family: 10, Port: 80, IP: in6[8:24]}, 0},
		{"inet6 of RFC 2133", in6[:24], inet6Family, sockproto.Addr{Family: 10, Port: 80, IP: in6[8:24]}, 0},
		{"inet6 short", in6[:23], inet6Family, sockproto.Addr{}, errno.EINVAL},
		{"unspec", []byte{0, 0}, inetFamily, sockproto.Addr{}, 0},
		{"no family", []byte{2}, inetFamily, sockproto.Addr{}, errno.EINVAL},
		{"unix", []byte{1, 0, '/', 0}, inetFamily, sockproto.Addr{}, errno.EAFNOSUPPORT},
		{"too long", make([]byte, 129), inetFamily, sockproto.Addr{}, errno.EINVAL},
	}
	for _, c := range cases {
		addr, e := DecodeAddr(c.b, c.want)
		if e != c.e || !cmp.Equal(addr, c.addr, cmp.Comparer(func(a, b []byte) bool { return string(a) == string(b) })) {
			t.Errorf("%s: got %+v, %v; want %+v, %v", c.name, addr, e, c.addr, c.e)
		}
		if e == 0 && addr.Family != 0 {
			back, e := DecodeAddr(EncodeAddr(addr), c.want)
			if e != 0 || !cmp.Equal(back, addr) {
				t.Errorf("%s: encoded and decoded again: %+v, %v", c.name, back, e)
			}
		}
	}
}

func TestDecodeMsgHdr(t *testing.T) {
	b := make([]byte, MsgHdrSize)
	for i := range b {
		b[i] = byte(i)
	}
	m, e := DecodeMsgHdr(b)
	if e != 0 || m.Name != 0x0706050403020100 || m.NameLen != 0x0b0a0908 || m.IovLen != 0x1f1e1d1c1b1a1918 || m.Flags != 0x33323130 {
		t.Errorf("DecodeMsgHdr: %+x, %v", m, e)
	}
	if _, e := DecodeMsgHdr(b[:MsgHdrSize-1]); e != errno.EFAULT {
		t.Errorf("short msghdr: %v, want EFAULT", e)
	}
}

// FuzzDecodeAddr checks that any bytes decode to an address or an errno,
// and that what decodes encodes back to the same address.
func FuzzDecodeAddr(f *testing.F) {
	f.Add([]byte{2, 0, 0x1f, 0x90, 10, 0, 2, 15, 0, 0, 0, 0, 0, 0, 0, 0}, uint16(inetFamily))
	f.Add(make([]byte, 28), uint16(inet6Family))
	f.Fuzz(func(t *testing.T, b []byte, want uint16) {
		addr, e := DecodeAddr(b, want)
		if e != 0 || addr.Family == 0 {
			return
		}
		back, e := DecodeAddr(EncodeAddr(addr), want)
		if e != 0 || !cmp.Equal(back, addr) {
			t.Fatalf("%x: %+v encodes to what decodes as %+v, %v", b, addr, back, e)
		}
	})
}

func TestDecodeBindAddr(t *testing.T) {
	unspecAny := []byte{0, 0, 0, 80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	unspecHost := []byte{0, 0, 0, 80, 10, 0, 2, 15, 0, 0, 0, 0, 0, 0, 0, 0}
	cases := []struct {
		name string
		b    []byte
		addr sockproto.Addr
		e    errno.Errno
	}{
		{"unspec any is inet", unspecAny, sockproto.Addr{Family: inetFamily, Port: 80, IP: []byte{0, 0, 0, 0}}, 0},
		{"unspec of a host", unspecHost, sockproto.Addr{}, errno.EAFNOSUPPORT},
		{"short unspec", []byte{0, 0}, sockproto.Addr{}, errno.EINVAL},
		{"short inet", []byte{2, 0, 0, 80}, sockproto.Addr{}, errno.EINVAL},
	}
	for _, c := range cases {
		addr, e := DecodeBindAddr(c.b, inetFamily)
		if e != c.e || !cmp.Equal(addr, c.addr) {
			t.Errorf("%s: %+v %v, want %+v %v", c.name, addr, e, c.addr, c.e)
		}
	}
}
