package netlink

import (
	"encoding/binary"
	"net/netip"
	"sync/atomic"
	"syscall"
	"testing"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile"
	"valence.dev/microkernel/kfile/kfiletest"
	"valence.dev/servers/net/sockproto"
)

// qemuStatus is what netd reports on QEMU's user network: lo, then eth0
// with its DHCP lease.
func qemuStatus() sockproto.StatusReply {
	v4 := func(a, b, c, d byte) sockproto.Addr {
		return sockproto.Addr{Family: linux.AF_INET, IP: []byte{a, b, c, d}}
	}
	return sockproto.StatusReply{
		Interfaces: []sockproto.Interface{
			{Name: "lo", MTU: 65536, Flags: linux.IFF_UP | linux.IFF_LOOPBACK | linux.IFF_RUNNING,
				Addrs: []sockproto.Prefix{{Addr: v4(127, 0, 0, 1), Bits: 8}}, RxPkts: 7, TxPkts: 7},
			{Name: "eth0", MAC: []byte{0x52, 0x54, 0, 0x12, 0x34, 0x56}, MTU: 1500,
				Flags: linux.IFF_UP | linux.IFF_BROADCAST | linux.IFF_RUNNING,
				Addrs: []sockproto.Prefix{{Addr: v4(10, 0, 2, 15), Bits: 24}}, RxPkts: 100, TxPkts: 90},
		},
		Gateway: v4(10, 0, 2, 2),
		DNS:     []sockproto.Addr{v4(10, 0, 2, 3)},
	}
}

// fixture is a socket over a fixed table, with a charge counter.
type fixture struct {
	t      *testing.T
	ports  *Ports
	s      *Socket
	c      *kfiletest.Caller
	charge *atomic.Int64
	table  Table
	err    errno.Errno
	calls  int
	admin  bool
}

func newFixture(t *testing.T, table Table) *fixture {
	f := &fixture{t: t, ports: NewPorts(nil, nil), c: kfiletest.NewCaller(42), charge: new(atomic.Int64), table: table}
	f.s = f.socket()
	return f
}

func (f *fixture) socket() *Socket {
	s, e := f.ports.NewSocket(Config{Type: linux.SOCK_RAW, Charge: f.charge,
		Table: func(kfile.Caller) (Table, errno.Errno) { f.calls++; return f.table, f.err },
		Admin: func(kfile.Caller) bool { return f.admin }})
	if e != 0 {
		f.t.Fatalf("NewSocket: %v", e)
	}
	return s
}

func (f *fixture) send(b []byte) {
	f.t.Helper()
	if n, e := f.s.Send(f.c, f.c.Pid, b); e != 0 || n != len(b) {
		f.t.Fatalf("Send(%d bytes) = %d, %v", len(b), n, e)
	}
}

// recvAll reads datagrams until none is left (nonblocking), n bytes at
// most each.
func (f *fixture) recvAll(n int) [][]byte {
	f.t.Helper()
	var out [][]byte
	for {
		d, _, e := f.s.Recv(f.c, n, 0, true)
		if e == errno.EAGAIN {
			return out
		}
		if e != 0 {
			f.t.Fatalf("Recv: %v", e)
		}
		out = append(out, d)
	}
}

// messages parses datagrams with Go's own parser, as net does.
func messages(t *testing.T, datagrams [][]byte) []syscall.NetlinkMessage {
	t.Helper()
	var all []syscall.NetlinkMessage
	for _, d := range datagrams {
		ms, err := syscall.ParseNetlinkMessage(d)
		if err != nil {
			t.Fatalf("ParseNetlinkMessage(% x): %v", d, err)
		}
		all = append(all, ms...)
	}
	return all
}

// request encodes one netlink message.
func request(typ, flags uint16, seq uint32, payload ...[]byte) []byte {
	var p []byte
	for _, b := range payload {
		p = append(p, b...)
		for len(p)%4 != 0 {
			p = append(p, 0)
		}
	}
	h := linux.NetlinkMessageHeader{Length: uint32(16 + len(p)), Type: typ, Flags: flags, Seq: seq}
	b := make([]byte, 16)
	h.MarshalBytes(b)
	return append(b, p...)
}

func ifinfomsg(index int32) []byte {
	m := linux.InterfaceInfoMessage{Index: index}
	b := make([]byte, linux.InterfaceInfoMessageSize)
	m.MarshalBytes(b)
	return b
}

func ifaddrmsg(family uint8, index uint32) []byte {
	m := linux.InterfaceAddrMessage{Family: family, Index: index}
	b := make([]byte, linux.InterfaceAddrMessageSize)
	m.MarshalBytes(b)
	return b
}

func rtmsg(family uint8) []byte {
	m := linux.RouteMessage{Family: family}
	b := make([]byte, linux.SizeOfRouteMessage)
	m.MarshalBytes(b)
	return b
}

func rtattr(typ uint16, v []byte) []byte {
	b := binary.NativeEndian.AppendUint16(nil, uint16(4+len(v)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	return append(b, v...)
}

// errnoOf reads an NLMSG_ERROR's error (as a positive errno).
func errnoOf(t *testing.T, m syscall.NetlinkMessage) errno.Errno {
	t.Helper()
	if m.Header.Type != syscall.NLMSG_ERROR || len(m.Data) < 4 {
		t.Fatalf("not an error message: %+v", m.Header)
	}
	return errno.Errno(-int32(binary.NativeEndian.Uint32(m.Data)))
}

func pfx(s string) netip.Prefix { return netip.MustParsePrefix(s) }
