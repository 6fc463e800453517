package netd

import (
	"context"
	"net/netip"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"valence.dev/servers/net/sim"
	"valence.dev/servers/net/sockproto"
)

// TestErrors: each refusal with its errno.
func TestErrors(t *testing.T) {
	r := newRig(t, Options{})
	c := r.ca
	tcpS := tcpSocket(t, c)
	udpS := udpSocket(t, c)
	lis := listen(t, c, 90)
	bound := tcpSocket(t, c)
	must(t, c.Bind(ctx, bound, inet(any4, 91)))
	var other uint32 // a number client 2 has and client 1 does not
	for other <= bound {
		other = tcpSocket(t, r.onA(2))
	}
	big, err := c.Attach(ctx, 70000)
	must(t, err)
	stream := uint16(sockproto.SOCK_STREAM)
	tests := []struct {
		name string
		call func() error
		want syscall.Errno
	}{
		{"bad sock", func() error { return c.Close(ctx, 999) }, syscall.EBADF},
		{"sock 0", func() error { _, err := c.Name(ctx, 0, false); return err }, syscall.EBADF},
		{"another client's sock", func() error { _, err := c.Recv(ctx, sockproto.RecvRequest{Sock: other}); return err }, syscall.EBADF},
		{"IPv6", func() error { _, err := c.Socket(ctx, uint16(sockproto.AF_INET6), stream, 0); return err }, syscall.EAFNOSUPPORT},
		{"raw", func() error { _, err := c.Socket(ctx, uint16(sockproto.AF_INET), 3, 1); return err }, syscall.EPERM},
		{"stream UDP", func() error { _, err := c.Socket(ctx, uint16(sockproto.AF_INET), stream, 17); return err }, syscall.EPROTONOSUPPORT},
		{"seqpacket", func() error { _, err := c.Socket(ctx, uint16(sockproto.AF_INET), 5, 0); return err }, syscall.ESOCKTNOSUPPORT},
		{"bind twice", func() error { return c.Bind(ctx, bound, inet(any4, 92)) }, syscall.EINVAL},
		{"bind in use", func() error { return c.Bind(ctx, tcpS, inet(any4, 91)) }, syscall.EADDRINUSE},
		{"bind on a listener's port", func() error { return c.Bind(ctx, tcpS, inet(any4, 90)) }, syscall.EADDRINUSE},
		{"bind elsewhere", func() error { return c.Bind(ctx, tcpS, inet(sim.AddrB, 1)) }, syscall.EADDRNOTAVAIL},
		{"bind IPv6", func() error {
			return c.Bind(ctx, tcpS, sockproto.Addr{Family: uint16(sockproto.AF_INET6), IP: make([]byte, 16)})
		}, syscall.EAFNOSUPPORT},
		{"bind short address", func() error {
			return c.Bind(ctx, tcpS, sockproto.Addr{Family: uint16(sockproto.AF_INET), IP: []byte{1}})
		}, syscall.EINVAL},
		{"listen UDP", func() error { return c.Listen(ctx, udpS, 1) }, syscall.EOPNOTSUPP},
		{"accept not listening", func() error { _, err := c.Accept(ctx, tcpS); return err }, syscall.EINVAL},
		{"accept nothing", func() error { _, err := c.Accept(ctx, lis); return err }, syscall.EAGAIN},
		{"recv unconnected", func() error { _, err := c.Recv(ctx, sockproto.RecvRequest{Sock: tcpS, Len: 1}); return err }, syscall.ENOTCONN},
		{"send unconnected", func() error { _, err := c.Send(ctx, sockproto.SendRequest{Sock: tcpS, Data: []byte("x")}); return err }, syscall.EPIPE},
		{"recv UDP unbound", func() error { _, err := c.Recv(ctx, sockproto.RecvRequest{Sock: udpS, Len: 1}); return err }, syscall.EAGAIN},
		{"send UDP nowhere", func() error { _, err := c.Send(ctx, sockproto.SendRequest{Sock: udpS, Data: []byte("x")}); return err }, syscall.EDESTADDRREQ},
		{"send UDP too big", func() error {
			_, err := c.Send(ctx, sockproto.SendRequest{Sock: udpS, To: inet(sim.AddrB, 9), Buf: big.ID, Len: 70000})
			return err
		}, syscall.EMSGSIZE},
		{"MSG_OOB", func() error { _, err := c.Recv(ctx, sockproto.RecvRequest{Sock: tcpS, Flags: 1}); return err }, syscall.EINVAL},
		{"getpeername", func() error { _, err := c.Name(ctx, tcpS, true); return err }, syscall.ENOTCONN},
		{"shutdown how", func() error { return c.Shutdown(ctx, tcpS, 3) }, syscall.EINVAL},
		{"shutdown unconnected", func() error { return c.Shutdown(ctx, tcpS, 1) }, syscall.ENOTCONN},
		{"unknown option", func() error { return c.SetOpt(ctx, tcpS, 1, 9999, make([]byte, 4)) }, syscall.ENOPROTOOPT},
		{"short option", func() error { return c.SetOpt(ctx, tcpS, 1, 2, []byte{1}) }, syscall.EINVAL},
		{"TCP option on UDP", func() error { return c.SetOpt(ctx, udpS, 6, 1, make([]byte, 4)) }, syscall.ENOPROTOOPT},
		{"keepidle 0", func() error { return c.SetOpt(ctx, tcpS, 6, 4, make([]byte, 4)) }, syscall.EINVAL},
		{"connect no route", func() error { return c.Connect(ctx, tcpS, inet(netip.MustParseAddr("192.0.2.1"), 80)) }, syscall.ENETUNREACH},
		{"connect on a listener", func() error { return c.Connect(ctx, lis, inet(sim.AddrB, 80)) }, syscall.EISCONN},
		{"detach unknown", func() error { return c.Detach(ctx, 77) }, syscall.EFAULT},
		{"attach 0 bytes", func() error { _, err := c.Attach(ctx, 0); return err }, syscall.EINVAL},
		{"unknown buffer", func() error { _, err := c.Recv(ctx, sockproto.RecvRequest{Sock: udpS, Buf: 9, Len: 1}); return err }, syscall.EFAULT},
	}
	for _, tc := range tests {
		if got := code(tc.call()); got != tc.want {
			t.Errorf("%s: errno %d (%v), want %d (%v)", tc.name, got, got, tc.want, tc.want)
		}
	}
}

// TestForget: a client's sockets close when it is forgotten: its
// numbers are gone, its port is free, its peer reads the end.
func TestForget(t *testing.T) {
	r := newRig(t, Options{})
	c2 := r.onA(2)
	w2, wb := &waiter{c: c2}, &waiter{c: r.cb}
	blis := listen(t, r.cb, 80)
	a, b := r.connectTCP(t, w2, wb, blis, 80)
	l2 := listen(t, c2, 7000)
	u2 := udpSocket(t, c2)
	must(t, c2.Bind(ctx, u2, inet(any4, 7001)))
	if _, err := c2.Attach(ctx, 4096); err != nil {
		t.Fatal(err)
	}
	must(t, c2.Forget(ctx))
	for _, so := range []uint32{a, l2, u2} {
		if _, err := c2.Name(ctx, so, false); code(err) != syscall.EBADF {
			t.Errorf("socket %d after Forget: %v, want EBADF", so, err)
		}
	}
	wb.until(t, b, sockproto.EPOLLRDHUP)
	if rep, err := r.cb.Recv(ctx, sockproto.RecvRequest{Sock: b, Len: 10}); err != nil || rep.N != 0 {
		t.Errorf("peer of a forgotten connection: %+v, %v; want the end", rep, err)
	}
	l := tcpSocket(t, r.ca)
	must(t, r.ca.Bind(ctx, l, inet(any4, 7000)))
	u := udpSocket(t, r.ca)
	must(t, r.ca.Bind(ctx, u, inet(any4, 7001)))
	if n := r.mem.count(); n != 0 {
		t.Errorf("%d shared buffers left", n)
	}
}

// TestLimits: sockets per client (EMFILE, and an accept at the limit
// leaves the connection queued), socket buffer bytes (ENOMEM), shared
// buffers (ENOMEM).
func TestLimits(t *testing.T) {
	r := newRig(t, Options{MaxSocketsPerClient: 3})
	wa, wb := &waiter{c: r.ca}, &waiter{c: r.cb}
	lis := listen(t, r.cb, 80)
	r.connectTCP(t, wa, wb, lis, 80) // B: lis and one accepted
	extra := tcpSocket(t, r.cb)      // B: 3
	if _, err := r.cb.Socket(ctx, uint16(sockproto.AF_INET), uint16(sockproto.SOCK_STREAM), 0); code(err) != syscall.EMFILE {
		t.Errorf("4th socket: %v, want EMFILE", err)
	}
	c2 := tcpSocket(t, r.ca)
	if err := r.ca.Connect(ctx, c2, inet(sim.AddrB, 80)); code(err) != syscall.EINPROGRESS {
		t.Fatal(err)
	}
	wa.until(t, c2, sockproto.EPOLLOUT)
	wb.until(t, lis, sockproto.EPOLLIN)
	if _, err := r.cb.Accept(ctx, lis); code(err) != syscall.EMFILE {
		t.Errorf("accept at the limit: %v, want EMFILE", err)
	}
	must(t, r.cb.Close(ctx, extra))
	if _, err := r.cb.Accept(ctx, lis); err != nil {
		t.Errorf("accept after a close: %v", err)
	}
	for i := 0; i < sockproto.MaxBuffers; i++ {
		if _, err := r.ca.Attach(ctx, 4096); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.ca.Attach(ctx, 4096); code(err) != syscall.ENOMEM {
		t.Errorf("buffer %d: %v, want ENOMEM", sockproto.MaxBuffers+1, err)
	}

	r2 := newRig(t, Options{MaxBufferBytesPerClient: 600 << 10})
	tcpSocket(t, r2.ca) // 512 KiB of TCP buffers
	if _, err := r2.ca.Socket(ctx, uint16(sockproto.AF_INET), uint16(sockproto.SOCK_DGRAM), 0); code(err) != syscall.ENOMEM {
		t.Errorf("socket over the buffer limit: %v, want ENOMEM", err)
	}
}

// TestWait: a Wait is held until something changes, answers with the
// changes after its Seq, and a newer Wait of the same client ends an
// older one with an empty reply.
func TestWait(t *testing.T) {
	r := newRig(t, Options{})
	u := udpSocket(t, r.cb)
	must(t, r.cb.Bind(ctx, u, inet(any4, 53)))
	first, err := r.cb.Wait(ctx, 0)
	must(t, err)
	if diff := cmp.Diff([]sockproto.Ready{{Sock: u, Events: sockproto.EPOLLOUT}}, first.Ready); diff != "" {
		t.Fatalf("first Wait (-want +got):\n%s", diff)
	}
	held := make(chan sockproto.WaitReply, 1)
	go func() {
		rep, err := r.cb.Wait(ctx, first.Seq)
		if err != nil {
			t.Error(err)
		}
		held <- rep
	}()
	select {
	case rep := <-held:
		t.Fatalf("Wait answered with nothing changed: %+v", rep)
	case <-time.After(50 * time.Millisecond):
	}
	// A second Wait ends the first with nothing.
	go func() {
		rep, err := r.cb.Wait(ctx, first.Seq)
		if err != nil {
			t.Error(err)
		}
		held <- rep
	}()
	if rep := <-held; len(rep.Ready) != 0 || rep.Seq != first.Seq {
		t.Errorf("superseded Wait: %+v, want empty at seq %d", rep, first.Seq)
	}
	a := udpSocket(t, r.ca)
	if _, err := r.ca.Send(ctx, sockproto.SendRequest{Sock: a, To: inet(sim.AddrB, 53), Data: []byte("q")}); err != nil {
		t.Fatal(err)
	}
	rep := <-held
	if diff := cmp.Diff([]sockproto.Ready{{Sock: u, Events: sockproto.EPOLLOUT | sockproto.EPOLLIN}}, rep.Ready); diff != "" {
		t.Errorf("Wait after a datagram (-want +got):\n%s", diff)
	}
	// Draining the socket is a change too: EPOLLIN goes.
	if _, err := r.cb.Recv(ctx, sockproto.RecvRequest{Sock: u, Len: 10}); err != nil {
		t.Fatal(err)
	}
	rep2, err := r.cb.Wait(ctx, rep.Seq)
	must(t, err)
	if diff := cmp.Diff([]sockproto.Ready{{Sock: u, Events: sockproto.EPOLLOUT}}, rep2.Ready); diff != "" {
		t.Errorf("Wait after the read (-want +got):\n%s", diff)
	}
	// The context ends a held Wait.
	cctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	if _, err := r.cb.Wait(cctx, rep2.Seq); err == nil {
		t.Errorf("Wait with nothing to say returned before its context ended")
	}
}

// TestOptions: what setsockopt stores, getsockopt reports.
func TestOptions(t *testing.T) {
	r := newRig(t, Options{})
	s := tcpSocket(t, r.ca)
	u := udpSocket(t, r.ca)
	one, zero := []byte{1, 0, 0, 0}, []byte{0, 0, 0, 0}
	tests := []struct {
		name       string
		sock       uint32
		level, opt int32
		set, want  []byte
	}{
		{"SO_REUSEADDR", s, 1, 2, one, one},
		{"SO_KEEPALIVE", s, 1, 9, one, one},
		{"TCP_NODELAY off", s, 6, 1, zero, zero},
		{"TCP_KEEPIDLE", s, 6, 4, []byte{15, 0, 0, 0}, []byte{15, 0, 0, 0}},
		{"TCP_KEEPINTVL", s, 6, 5, []byte{15, 0, 0, 0}, []byte{15, 0, 0, 0}},
		{"TCP_KEEPCNT", s, 6, 6, []byte{9, 0, 0, 0}, []byte{9, 0, 0, 0}},
		{"SO_BROADCAST", u, 1, 6, one, one},
		{"SO_TYPE", s, 1, 3, nil, []byte{1, 0, 0, 0}},
		{"SO_TYPE udp", u, 1, 3, nil, []byte{2, 0, 0, 0}},
		{"SO_DOMAIN", s, 1, 39, nil, []byte{2, 0, 0, 0}},
		{"SO_PROTOCOL", u, 1, 38, nil, []byte{17, 0, 0, 0}},
		{"SO_ERROR", s, 1, 4, nil, zero},
		{"SO_ACCEPTCONN", s, 1, 30, nil, zero},
		{"IPV6_V6ONLY", s, 41, 26, one, one},
		{"SO_LINGER", s, 1, 13, []byte{1, 0, 0, 0, 0, 0, 0, 0}, []byte{1, 0, 0, 0, 0, 0, 0, 0}},
	}
	for _, tc := range tests {
		if tc.set != nil {
			if err := r.ca.SetOpt(ctx, tc.sock, tc.level, tc.opt, tc.set); err != nil {
				t.Errorf("%s: set: %v", tc.name, err)
				continue
			}
		}
		got, err := r.ca.GetOpt(ctx, tc.sock, tc.level, tc.opt, 16)
		if err != nil || !cmp.Equal(got, tc.want) {
			t.Errorf("%s: get %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
	if got, err := r.ca.GetOpt(ctx, s, 1, 3, 2); err != nil || len(got) != 2 {
		t.Errorf("SO_TYPE into 2 bytes: %v, %v", got, err)
	}
}

// TestStatus: interfaces, gateway, DNS and the sockets, in pages.
func TestStatus(t *testing.T) {
	r := newRig(t, Options{Interface: "eth0"})
	r.a.SetDNS([]netip.Addr{netip.MustParseAddr("10.0.0.3")})
	var socks []uint32
	for i := 0; i < sockproto.MaxConns+2; i++ {
		u := udpSocket(t, r.ca)
		must(t, r.ca.Bind(ctx, u, inet(any4, uint16(2000+i))))
		socks = append(socks, u)
	}
	lis := listen(t, r.ca, 22)
	st, err := r.ca.Status(ctx, 0)
	must(t, err)
	if len(st.Interfaces) != 2 || st.Interfaces[1].Name != "eth0" || !cmp.Equal(st.Interfaces[1].MAC, sim.MACA[:]) ||
		st.Interfaces[1].MTU != 1500 || len(st.Interfaces[1].Addrs) != 1 || st.Interfaces[1].Addrs[0].Bits != 24 ||
		!cmp.Equal(st.Interfaces[1].Addrs[0].Addr.IP, sim.AddrA.AsSlice()) || st.Interfaces[0].Name != "lo" {
		t.Errorf("interfaces %+v", st.Interfaces)
	}
	if !cmp.Equal(st.DNS, []sockproto.Addr{inet(netip.MustParseAddr("10.0.0.3"), 53)}) {
		t.Errorf("DNS %+v", st.DNS)
	}
	if len(st.Conns) != sockproto.MaxConns || !st.More {
		t.Fatalf("first page: %d sockets, more %v", len(st.Conns), st.More)
	}
	if want := (sockproto.Conn{Type: 2, Local: inet(any4, 2000), Peer: sockproto.Addr{}, State: "UNCONN",
		Sock: socks[0], Protocol: 17, TCPState: 7}); !cmp.Equal(st.Conns[0], want) {
		t.Errorf("first socket %+v, want %+v", st.Conns[0], want)
	}
	st2, err := r.ca.Status(ctx, sockproto.MaxConns)
	must(t, err)
	if len(st2.Conns) != 3 || st2.More || st2.Conns[2].State != "LISTEN" || st2.Conns[2].Local.Port != 22 {
		t.Errorf("second page %+v", st2.Conns)
	}
	_ = lis
	_ = socks
}
