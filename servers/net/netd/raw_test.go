package netd

import (
	"encoding/binary"
	"net/netip"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"valence.dev/servers/net/icmp"
	"valence.dev/servers/net/ipv4"
	"valence.dev/servers/net/sim"
	"valence.dev/servers/net/sockproto"
	"valence.dev/servers/net/stack"
)

const (
	sockRaw  = uint16(sockproto.SOCK_RAW)
	solRaw   = int32(sockproto.SOL_RAW)
	solIP    = int32(0)
	protoICM = uint16(sockproto.IPPROTO_ICMP)
)

func rawSocket(t testing.TB, c sockproto.Client) uint32 {
	t.Helper()
	so, err := c.Open(ctx, sockproto.SocketRequest{Family: uint16(sockproto.AF_INET), Type: sockRaw, Protocol: protoICM, NetRaw: true})
	must(t, err)
	return so
}

func echoMsg(typ uint8, id, seq uint16, data []byte) []byte {
	m := icmp.Echo(typ, id, seq, data)
	b := make([]byte, m.Len())
	m.Encode(b)
	return b
}

// TestRawSocketRefusals: socket(2)'s errnos in Linux's order: the
// family, the protocol, then the privilege.
func TestRawSocketRefusals(t *testing.T) {
	r := newRig(t, Options{})
	tests := []struct {
		name string
		req  sockproto.SocketRequest
		want syscall.Errno
	}{
		{"no CAP_NET_RAW", sockproto.SocketRequest{Family: 2, Type: sockRaw, Protocol: 1}, syscall.EPERM},
		{"protocol 0 without the capability", sockproto.SocketRequest{Family: 2, Type: sockRaw}, syscall.EPROTONOSUPPORT},
		{"protocol 0", sockproto.SocketRequest{Family: 2, Type: sockRaw, NetRaw: true}, syscall.EPROTONOSUPPORT},
		{"raw UDP", sockproto.SocketRequest{Family: 2, Type: sockRaw, Protocol: 17, NetRaw: true}, syscall.EPROTONOSUPPORT},
		{"raw UDP without the capability", sockproto.SocketRequest{Family: 2, Type: sockRaw, Protocol: 17}, syscall.EPERM},
		{"IPv6", sockproto.SocketRequest{Family: 10, Type: sockRaw, Protocol: 58, NetRaw: true}, syscall.EAFNOSUPPORT},
		{"IPv6 without the capability", sockproto.SocketRequest{Family: 10, Type: sockRaw, Protocol: 58}, syscall.EAFNOSUPPORT},
		{"raw ICMP", sockproto.SocketRequest{Family: 2, Type: sockRaw, Protocol: 1, NetRaw: true}, 0},
	}
	for _, tc := range tests {
		so, err := r.ca.Open(ctx, tc.req)
		if code(err) != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
		if err == nil {
			must(t, r.ca.Close(ctx, so))
		}
	}
}

// TestRawEcho: a raw socket's echo request to the other stack, and the
// reply read back with its IP header; the other stack's raw socket saw
// the request.
func TestRawEcho(t *testing.T) {
	r := newRig(t, Options{})
	wa, wb := &waiter{c: r.ca}, &waiter{c: r.cb}
	a, b := rawSocket(t, r.ca), rawSocket(t, r.cb)
	req := echoMsg(icmp.TypeEchoRequest, 0x4242, 7, []byte("hello, raw"))
	n, err := r.ca.Send(ctx, sockproto.SendRequest{Sock: a, To: inet(sim.AddrB, 0), Data: req})
	if err != nil || n != uint32(len(req)) {
		t.Fatalf("sendto: %d, %v", n, err)
	}
	for _, side := range []struct {
		w    *waiter
		c    sockproto.Client
		so   uint32
		from netip.Addr
		typ  uint8
	}{{wa, r.ca, a, sim.AddrB, icmp.TypeEchoReply}, {wb, r.cb, b, sim.AddrA, icmp.TypeEchoRequest}} {
		side.w.until(t, side.so, sockproto.EPOLLIN)
		got, err := side.c.Recv(ctx, sockproto.RecvRequest{Sock: side.so, Len: 100})
		must(t, err)
		if got.N != uint32(ipv4.HeaderLen+len(req)) || got.Full != got.N || !cmp.Equal(got.From, inet(side.from, 0)) {
			t.Errorf("received %d of %d bytes from %+v", got.N, got.Full, got.From)
		}
		h, p, err := ipv4.Parse(got.Data)
		if err != nil || h.Protocol != 1 || h.SrcAddr() != side.from || len(p) != len(req) || p[0] != side.typ ||
			binary.BigEndian.Uint16(p[4:]) != 0x4242 || binary.BigEndian.Uint16(p[6:]) != 7 {
			t.Errorf("datagram %+v % x: %v", h, p, err)
		}
	}
	// A short read is cut, and says how long the datagram was.
	if _, err := r.ca.Send(ctx, sockproto.SendRequest{Sock: a, To: inet(sim.AddrB, 0), Data: req}); err != nil {
		t.Fatal(err)
	}
	wa.until(t, a, sockproto.EPOLLIN)
	got, err := r.ca.Recv(ctx, sockproto.RecvRequest{Sock: a, Len: 10})
	if err != nil || got.N != 10 || got.Full != uint32(ipv4.HeaderLen+len(req)) {
		t.Errorf("short read: %d of %d, %v", got.N, got.Full, err)
	}
	if _, err := r.ca.Recv(ctx, sockproto.RecvRequest{Sock: a, Len: 100}); code(err) != syscall.EAGAIN {
		t.Errorf("empty queue: %v, want EAGAIN", err)
	}
}

// TestRawCalls: bind, connect, getsockname and getpeername, sendto's
// refusals, and the options of a raw socket, as Linux answers them.
func TestRawCalls(t *testing.T) {
	r := newRig(t, Options{})
	so := rawSocket(t, r.ca)
	lo := netip.MustParseAddr("127.0.0.1")
	name := func() sockproto.Addr {
		a, err := r.ca.Name(ctx, so, false)
		must(t, err)
		return a
	}
	if got := name(); !cmp.Equal(got, inet(any4, 1)) {
		t.Errorf("getsockname of a new socket: %+v, want 0.0.0.0 port 1 (the protocol)", got)
	}
	if err := r.ca.Bind(ctx, so, inet(netip.MustParseAddr("192.0.2.1"), 0)); code(err) != syscall.EADDRNOTAVAIL {
		t.Errorf("bind to another host's address: %v", err)
	}
	must(t, r.ca.Bind(ctx, so, inet(lo, 99)))
	must(t, r.ca.Bind(ctx, so, inet(sim.AddrA, 0))) // again: raw sockets may
	if got := name(); !cmp.Equal(got, inet(sim.AddrA, 1)) {
		t.Errorf("getsockname after bind: %+v", got)
	}
	if _, err := r.ca.Name(ctx, so, true); code(err) != syscall.ENOTCONN {
		t.Errorf("getpeername unconnected: %v", err)
	}
	must(t, r.ca.Connect(ctx, so, inet(sim.AddrB, 0)))
	if _, err := r.ca.Name(ctx, so, true); code(err) != syscall.ENOTCONN {
		t.Errorf("getpeername connected to port 0: %v, want ENOTCONN (Linux's inet_getname)", err)
	}
	if err := r.ca.Bind(ctx, so, inet(any4, 0)); code(err) != syscall.EINVAL {
		t.Errorf("bind when connected: %v, want EINVAL", err)
	}
	must(t, r.ca.Connect(ctx, so, sockproto.Addr{Family: 0}))
	must(t, r.ca.Connect(ctx, so, inet(sim.AddrB, 5)))
	if got, err := r.ca.Name(ctx, so, true); err != nil || !cmp.Equal(got, inet(sim.AddrB, 5)) {
		t.Errorf("getpeername connected to port 5: %+v, %v", got, err)
	}

	fresh := rawSocket(t, r.ca)
	sends := []struct {
		name string
		sock uint32
		to   sockproto.Addr
		data []byte
		want syscall.Errno
	}{
		{"no destination", fresh, sockproto.Addr{}, []byte{8, 0, 0, 0}, syscall.EDESTADDRREQ},
		{"one byte", fresh, inet(lo, 0), []byte{8}, syscall.EFAULT},
		{"nothing", fresh, inet(lo, 0), nil, syscall.EFAULT},
		{"broadcast", fresh, inet(netip.MustParseAddr("255.255.255.255"), 0), []byte{8, 0}, syscall.EACCES},
		{"IPv6 address", fresh, sockproto.Addr{Family: 10, IP: make([]byte, 16)}, []byte{8, 0}, syscall.EAFNOSUPPORT},
		{"garbage", fresh, inet(lo, 0), []byte{0xde, 0xad, 0xbe, 0xef}, 0},
		{"connected", so, sockproto.Addr{}, echoMsg(8, 1, 1, nil), 0},
	}
	for _, tc := range sends {
		_, err := r.ca.Send(ctx, sockproto.SendRequest{Sock: tc.sock, To: tc.to, Data: tc.data})
		if code(err) != tc.want {
			t.Errorf("send %s: %v, want %v", tc.name, err, tc.want)
		}
	}
	// Longer than raw_sendmsg takes: through a shared buffer.
	buf, err := r.ca.Attach(ctx, 1<<17)
	must(t, err)
	for _, c := range []struct {
		n    uint32
		want syscall.Errno
	}{{65535, syscall.EMSGSIZE}, {65536, syscall.EMSGSIZE}, {65515, 0}} {
		_, err := r.ca.Send(ctx, sockproto.SendRequest{Sock: fresh, To: inet(sim.AddrB, 0), Buf: buf.ID, Len: c.n})
		if code(err) != c.want {
			t.Errorf("send of %d bytes: %v, want %v", c.n, err, c.want)
		}
	}

	opts := []struct {
		name        string
		sock        uint32
		level, opt  int32
		set         []byte
		want        []byte
		setErr, err syscall.Errno
	}{
		{"ICMP_FILTER", fresh, solRaw, 1, nil, []byte{0, 0, 0, 0}, 0, 0},
		{"ICMP_FILTER set", fresh, solRaw, 1, []byte{1, 1, 0, 0, 9, 9}, []byte{1, 1, 0, 0}, 0, 0},
		{"ICMP_FILTER short", fresh, solRaw, 1, []byte{0xff}, []byte{0xff, 1, 0, 0}, 0, 0},
		{"other SOL_RAW", fresh, solRaw, 2, nil, nil, 0, syscall.ENOPROTOOPT},
		{"IP_HDRINCL", fresh, solIP, 3, []byte{1, 0, 0, 0}, nil, syscall.ENOPROTOOPT, syscall.ENOPROTOOPT},
		{"SO_PROTOCOL", fresh, 1, 38, nil, []byte{1, 0, 0, 0}, 0, 0},
		{"SO_TYPE", fresh, 1, 3, nil, []byte{3, 0, 0, 0}, 0, 0},
		{"SOL_RAW on UDP", udpSocket(t, r.ca), solRaw, 1, nil, nil, 0, syscall.EOPNOTSUPP},
	}
	for _, tc := range opts {
		if tc.set != nil {
			if err := r.ca.SetOpt(ctx, tc.sock, tc.level, tc.opt, tc.set); code(err) != tc.setErr {
				t.Errorf("%s: set: %v, want %v", tc.name, err, tc.setErr)
			}
		}
		got, err := r.ca.GetOpt(ctx, tc.sock, tc.level, tc.opt, 16)
		if code(err) != tc.err || err == nil && !cmp.Equal(got, tc.want) {
			t.Errorf("%s: get %v, %v; want %v, %v", tc.name, got, err, tc.want, tc.err)
		}
	}
}

// TestRawFilterAndConnect: what a raw socket receives when it filters
// types or is connected to one peer.
func TestRawFilterAndConnect(t *testing.T) {
	r := newRig(t, Options{})
	w := &waiter{c: r.ca}
	lo := netip.MustParseAddr("127.0.0.1")
	filtered := rawSocket(t, r.ca)
	must(t, r.ca.SetOpt(ctx, filtered, solRaw, 1, []byte{1 << icmp.TypeEchoReply, 0, 0, 0}))
	elsewhere := rawSocket(t, r.ca)
	must(t, r.ca.Connect(ctx, elsewhere, inet(sim.AddrB, 0)))
	sender := rawSocket(t, r.ca)
	if _, err := r.ca.Send(ctx, sockproto.SendRequest{Sock: sender, To: inet(lo, 0), Data: echoMsg(8, 9, 9, nil)}); err != nil {
		t.Fatal(err)
	}
	// The sender sees its request and the reply; the filtered socket
	// only the request; the one connected to B neither.
	count := func(so uint32) int {
		n := 0
		for {
			if _, err := r.ca.Recv(ctx, sockproto.RecvRequest{Sock: so, Len: 100}); err != nil {
				return n
			}
			n++
		}
	}
	w.until(t, sender, sockproto.EPOLLIN)
	if got := []int{count(sender), count(filtered), count(elsewhere)}; !cmp.Equal(got, []int{2, 1, 0}) {
		t.Errorf("datagrams received by the sender, the filtered and the connected socket: %v, want [2 1 0]", got)
	}
}

// TestStatusDetails: what Status tells of a raw socket, a connection
// with bytes in both queues, one that was closed and is finishing, and
// the counters.
func TestStatusDetails(t *testing.T) {
	r := newRig(t, Options{})
	wa, wb := &waiter{c: r.ca}, &waiter{c: r.cb}
	raw := rawSocket(t, r.ca)
	lis := listen(t, r.cb, 80)
	cli, srv := r.connectTCP(t, wa, wb, lis, 80)
	if _, err := r.ca.Send(ctx, sockproto.SendRequest{Sock: cli, Data: []byte("0123456789")}); err != nil {
		t.Fatal(err)
	}
	wb.until(t, srv, sockproto.EPOLLIN)
	if _, err := r.ca.Send(ctx, sockproto.SendRequest{Sock: raw, To: inet(sim.AddrB, 0), Data: echoMsg(8, 1, 1, nil)}); err != nil {
		t.Fatal(err)
	}
	wa.until(t, raw, sockproto.EPOLLIN)

	st, err := r.ca.Status(ctx, 0)
	must(t, err)
	var gotRaw, gotCli *sockproto.Conn
	for i := range st.Conns {
		switch st.Conns[i].Sock {
		case raw:
			gotRaw = &st.Conns[i]
		case cli:
			gotCli = &st.Conns[i]
		}
	}
	wantRaw := sockproto.Conn{Type: 3, Local: inet(any4, 1), Peer: sockproto.Addr{}, State: "UNCONN", Sock: raw, Protocol: 1,
		TCPState: 7, RxQueue: ipv4.HeaderLen + icmp.HeaderLen}
	if gotRaw == nil || !cmp.Equal(*gotRaw, wantRaw) {
		t.Errorf("the raw socket: %+v, want %+v", gotRaw, wantRaw)
	}
	if gotCli == nil || gotCli.TCPState != 1 || gotCli.Protocol != 6 || gotCli.Peer.Port != 80 || gotCli.RTO == 0 || gotCli.CWnd == 0 {
		t.Errorf("the client connection: %+v", gotCli)
	}
	if st.SNMP.TCP.ActiveOpens != 1 || st.SNMP.TCP.CurrEstab != 1 || st.SNMP.DefaultTTL != 64 || st.SNMP.TCP.RtoMin != 200 {
		t.Errorf("A's TCP counters %+v", st.SNMP.TCP)
	}
	if want := []sockproto.ICMPMsg{{Type: 0, In: 1}, {Type: 8, Out: 1}}; !cmp.Equal(st.SNMP.ICMPMsg, want) {
		t.Errorf("A's IcmpMsg %+v, want %+v", st.SNMP.ICMPMsg, want)
	}

	// B: the server side holds 10 unread bytes.
	stb, err := r.cb.Status(ctx, 0)
	must(t, err)
	var gotSrv *sockproto.Conn
	for i := range stb.Conns {
		if stb.Conns[i].Sock == srv {
			gotSrv = &stb.Conns[i]
		}
	}
	if gotSrv == nil || gotSrv.RxQueue != 10 || gotSrv.TxQueue != 0 || gotSrv.TCPState != 1 {
		t.Errorf("the server connection: %+v", gotSrv)
	}
	// Closed by A, the connection lingers without a socket (FIN-WAIT,
	// then TIME-WAIT) and is still listed, with socket 0. Simulated time
	// runs ahead between calls, so the close and the listing happen in
	// one turn of the loop.
	var finishing []sockproto.Conn
	must(t, r.a.loop.Do(func(st *stack.Stack) {
		c := r.a.clients[1]
		r.a.closeSock(st, c, c.socks[cli])
		for _, k := range r.a.conns(st) {
			if k.Protocol == 6 {
				finishing = append(finishing, k)
			}
		}
	}))
	if len(finishing) != 1 || finishing[0].Sock != 0 || finishing[0].TCPState != 4 || finishing[0].Peer.Port != 80 {
		t.Errorf("the closed connection: %+v, want one in FIN_WAIT1 (4) with socket 0", finishing)
	}
}
