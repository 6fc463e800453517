package netd

import (
	"bytes"
	"math/rand"
	"net/netip"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"valence.dev/servers/net/sim"
	"valence.dev/servers/net/sockproto"
)

const (
	solSocket = 1
	soError   = 4
)

// TestTCP: listen, connect (EINPROGRESS, then EPOLLOUT and SO_ERROR 0),
// accept, names, data both ways inline and through shared buffers,
// half-close and close, with the readiness each step reports.
func TestTCP(t *testing.T) {
	r := newRig(t, Options{})
	wa, wb := &waiter{c: r.ca}, &waiter{c: r.cb}
	lis := listen(t, r.cb, 80)
	if got, err := r.cb.Name(ctx, lis, false); err != nil || !cmp.Equal(got, inet(any4, 80)) {
		t.Errorf("listener name %+v, %v; want 0.0.0.0:80", got, err)
	}
	a, b := r.connectTCP(t, wa, wb, lis, 80)

	aName, err := r.ca.Name(ctx, a, false)
	must(t, err)
	bPeer, err := r.cb.Name(ctx, b, true)
	must(t, err)
	aPeer, err := r.ca.Name(ctx, a, true)
	must(t, err)
	bName, err := r.cb.Name(ctx, b, false)
	must(t, err)
	if aName.Port == 0 || !cmp.Equal(aName, bPeer) || !cmp.Equal(aPeer, inet(sim.AddrB, 80)) || !cmp.Equal(bName, inet(sim.AddrB, 80)) {
		t.Errorf("names: A %+v peer %+v; B %+v peer %+v", aName, aPeer, bName, bPeer)
	}
	if !cmp.Equal(aName.IP, sim.AddrA.AsSlice()) {
		t.Errorf("A's address %v, want %v", aName.IP, sim.AddrA)
	}

	// Inline, A to B.
	n, err := r.ca.Send(ctx, sockproto.SendRequest{Sock: a, Data: []byte("hello")})
	if err != nil || n != 5 {
		t.Fatalf("send: %d, %v", n, err)
	}
	wb.until(t, b, sockproto.EPOLLIN)
	rep, err := r.cb.Recv(ctx, sockproto.RecvRequest{Sock: b, Len: 100, Flags: 0x2}) // MSG_PEEK
	if err != nil || string(rep.Data) != "hello" {
		t.Fatalf("peek: %q, %v", rep.Data, err)
	}
	rep, err = r.cb.Recv(ctx, sockproto.RecvRequest{Sock: b, Len: 100})
	if err != nil || string(rep.Data) != "hello" || rep.N != 5 {
		t.Fatalf("recv: %+v, %v", rep, err)
	}
	if _, err := r.cb.Recv(ctx, sockproto.RecvRequest{Sock: b, Len: 100}); code(err) != syscall.EAGAIN {
		t.Fatalf("recv with nothing there: %v, want EAGAIN", err)
	}

	// 1 MiB through shared buffers, B to A.
	data := make([]byte, 1<<20)
	rand.New(rand.NewSource(1)).Read(data)
	ba, err := r.cb.Attach(ctx, 64<<10)
	must(t, err)
	aa, err := r.ca.Attach(ctx, 64<<10)
	must(t, err)
	bbuf, abuf := r.mem.bytes(ba.Mem), r.mem.bytes(aa.Mem)
	var got []byte
	sent := 0
	for len(got) < len(data) {
		if sent < len(data) {
			k := copy(bbuf, data[sent:])
			n, err := r.cb.Send(ctx, sockproto.SendRequest{Sock: b, Buf: ba.ID, Len: uint32(k)})
			switch {
			case err == nil:
				sent += int(n)
			case code(err) != syscall.EAGAIN:
				t.Fatalf("send: %v", err)
			}
		}
		rep, err := r.ca.Recv(ctx, sockproto.RecvRequest{Sock: a, Buf: aa.ID, BufOff: 100, Len: 30000})
		switch {
		case err == nil:
			if rep.N == 0 {
				t.Fatalf("EOF after %d bytes", len(got))
			}
			got = append(got, abuf[100:100+rep.N]...)
		case code(err) == syscall.EAGAIN:
			wa.until(t, a, sockproto.EPOLLIN)
		default:
			t.Fatalf("recv: %v", err)
		}
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("received %d bytes that differ from the %d sent", len(got), len(data))
	}
	if _, err := r.ca.Recv(ctx, sockproto.RecvRequest{Sock: a, Buf: aa.ID, BufOff: 64<<10 - 10, Len: 11}); code(err) != syscall.EFAULT {
		t.Errorf("recv past the buffer: %v, want EFAULT", err)
	}

	// A half-closes: B reads the end, sees EPOLLRDHUP, can still send.
	must(t, r.ca.Shutdown(ctx, a, 1)) // SHUT_WR
	if _, err := r.ca.Send(ctx, sockproto.SendRequest{Sock: a, Data: []byte("x")}); code(err) != syscall.EPIPE {
		t.Errorf("send after SHUT_WR: %v, want EPIPE", err)
	}
	ev := wb.until(t, b, sockproto.EPOLLRDHUP)
	if ev&sockproto.EPOLLIN == 0 || ev&sockproto.EPOLLHUP != 0 {
		t.Errorf("B after A's FIN: events %#x, want EPOLLIN|EPOLLRDHUP without EPOLLHUP", ev)
	}
	rep, err = r.cb.Recv(ctx, sockproto.RecvRequest{Sock: b, Len: 10})
	if err != nil || rep.N != 0 {
		t.Errorf("recv at the end: %+v, %v; want 0 bytes", rep, err)
	}
	if n, err := r.cb.Send(ctx, sockproto.SendRequest{Sock: b, Data: []byte("bye")}); err != nil || n != 3 {
		t.Errorf("send after the peer's FIN: %d, %v", n, err)
	}
	wa.until(t, a, sockproto.EPOLLIN)
	rep, err = r.ca.Recv(ctx, sockproto.RecvRequest{Sock: a, Len: 10})
	if err != nil || string(rep.Data) != "bye" {
		t.Errorf("recv after SHUT_WR: %+v, %v", rep, err)
	}
	// B closes: A has both directions shut, EPOLLHUP.
	must(t, r.cb.Close(ctx, b))
	ev = wa.until(t, a, sockproto.EPOLLHUP)
	if ev&sockproto.EPOLLRDHUP == 0 {
		t.Errorf("A after B's close: events %#x, want EPOLLHUP|EPOLLRDHUP", ev)
	}
	must(t, r.ca.Close(ctx, a))
	if _, err := r.ca.Recv(ctx, sockproto.RecvRequest{Sock: a, Len: 10}); code(err) != syscall.EBADF {
		t.Errorf("recv on a closed socket: %v, want EBADF", err)
	}
}

// TestConnectRefused: no listener, so the SYN is answered with a reset:
// EINPROGRESS, then EPOLLERR and SO_ERROR ECONNREFUSED, reported once.
func TestConnectRefused(t *testing.T) {
	r := newRig(t, Options{})
	wa := &waiter{c: r.ca}
	a := tcpSocket(t, r.ca)
	if err := r.ca.Connect(ctx, a, inet(sim.AddrB, 81)); code(err) != syscall.EINPROGRESS {
		t.Fatalf("connect: %v, want EINPROGRESS", err)
	}
	ev := wa.until(t, a, sockproto.EPOLLERR)
	if ev&sockproto.EPOLLOUT == 0 || ev&sockproto.EPOLLHUP == 0 {
		t.Errorf("events %#x, want EPOLLERR|EPOLLOUT|EPOLLHUP", ev)
	}
	if _, err := r.ca.Name(ctx, a, true); code(err) != syscall.ENOTCONN {
		t.Errorf("getpeername: %v, want ENOTCONN", err)
	}
	for i, want := range []syscall.Errno{syscall.ECONNREFUSED, 0} {
		v, err := r.ca.GetOpt(ctx, a, solSocket, soError, 4)
		if err != nil || len(v) != 4 || syscall.Errno(v[0]) != want {
			t.Errorf("SO_ERROR #%d: %v, %v; want %d", i, v, err, want)
		}
	}
	if _, err := r.ca.Send(ctx, sockproto.SendRequest{Sock: a, Data: []byte("x")}); code(err) != syscall.EPIPE {
		t.Errorf("send after the failure: %v, want EPIPE", err)
	}
}

// TestLoopback: a connection to the stack's own address and to
// 127.0.0.1, through netd on one stack.
func TestLoopback(t *testing.T) {
	r := newRig(t, Options{})
	w := &waiter{c: r.ca}
	lis := listen(t, r.ca, 8080)
	for _, ip := range []netip.Addr{sim.AddrA, netip.MustParseAddr("127.0.0.1"), any4} {
		c := tcpSocket(t, r.ca)
		if err := r.ca.Connect(ctx, c, inet(ip, 8080)); code(err) != syscall.EINPROGRESS {
			t.Fatalf("%v: connect: %v", ip, err)
		}
		w.until(t, c, sockproto.EPOLLOUT)
		w.until(t, lis, sockproto.EPOLLIN)
		acc, err := r.ca.Accept(ctx, lis)
		must(t, err)
		if _, err := r.ca.Send(ctx, sockproto.SendRequest{Sock: c, Data: []byte("loop")}); err != nil {
			t.Fatal(err)
		}
		w.until(t, acc.Sock, sockproto.EPOLLIN)
		rep, err := r.ca.Recv(ctx, sockproto.RecvRequest{Sock: acc.Sock, Len: 10})
		if err != nil || string(rep.Data) != "loop" {
			t.Errorf("%v: recv %q, %v", ip, rep.Data, err)
		}
		must(t, r.ca.Close(ctx, c))
		must(t, r.ca.Close(ctx, acc.Sock))
	}
}
