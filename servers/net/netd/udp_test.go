package netd

import (
	"net/netip"
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"

	"valence.dev/servers/net/sim"
	"valence.dev/servers/net/sockproto"
)

// TestUDPEcho: a datagram from an unbound socket (bound implicitly) to a
// bound one, which answers to From; MSG_PEEK and truncation with Full.
func TestUDPEcho(t *testing.T) {
	r := newRig(t, Options{})
	wa, wb := &waiter{c: r.ca}, &waiter{c: r.cb}
	srv := udpSocket(t, r.cb)
	must(t, r.cb.Bind(ctx, srv, inet(any4, 7)))
	cli := udpSocket(t, r.ca)
	if n, err := r.ca.Send(ctx, sockproto.SendRequest{Sock: cli, To: inet(sim.AddrB, 7), Data: []byte("ping!")}); err != nil || n != 5 {
		t.Fatalf("sendto: %d, %v", n, err)
	}
	cliName, err := r.ca.Name(ctx, cli, false)
	must(t, err)
	if cliName.Port == 0 {
		t.Fatalf("the client was not bound by sendto: %+v", cliName)
	}
	wb.until(t, srv, sockproto.EPOLLIN)
	const peek, trunc = 0x2, 0x20
	tests := []struct {
		name  string
		req   sockproto.RecvRequest
		want  sockproto.RecvReply
		codes syscall.Errno
	}{
		{"peek", sockproto.RecvRequest{Sock: srv, Len: 100, Flags: peek}, sockproto.RecvReply{N: 5, Full: 5, Data: []byte("ping!"), From: inet(sim.AddrA, cliName.Port)}, 0},
		{"short", sockproto.RecvRequest{Sock: srv, Len: 2, Flags: trunc}, sockproto.RecvReply{N: 2, Full: 5, Data: []byte("pi"), From: inet(sim.AddrA, cliName.Port)}, 0},
		{"empty", sockproto.RecvRequest{Sock: srv, Len: 100}, sockproto.RecvReply{}, syscall.EAGAIN},
	}
	for _, tc := range tests {
		got, err := r.cb.Recv(ctx, tc.req)
		if code(err) != tc.codes {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.codes)
		}
		if err == nil {
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("%s: reply (-want +got):\n%s", tc.name, diff)
			}
		}
	}
	// Echo to From.
	if _, err := r.cb.Send(ctx, sockproto.SendRequest{Sock: srv, To: inet(sim.AddrA, cliName.Port), Data: []byte("pong")}); err != nil {
		t.Fatal(err)
	}
	wa.until(t, cli, sockproto.EPOLLIN)
	got, err := r.ca.Recv(ctx, sockproto.RecvRequest{Sock: cli, Len: 100})
	want := sockproto.RecvReply{N: 4, Full: 4, Data: []byte("pong"), From: inet(sim.AddrB, 7)}
	if err != nil || !cmp.Equal(got, want) {
		t.Errorf("echo: %+v, %v; want %+v", got, err, want)
	}

	// Connected: send without To; getpeername; AF_UNSPEC forgets the peer.
	must(t, r.ca.Connect(ctx, cli, inet(sim.AddrB, 7)))
	if peer, err := r.ca.Name(ctx, cli, true); err != nil || !cmp.Equal(peer, inet(sim.AddrB, 7)) {
		t.Errorf("getpeername: %+v, %v", peer, err)
	}
	if _, err := r.ca.Send(ctx, sockproto.SendRequest{Sock: cli, Data: []byte("again")}); err != nil {
		t.Errorf("send on a connected socket: %v", err)
	}
	must(t, r.ca.Connect(ctx, cli, sockproto.Addr{}))
	if _, err := r.ca.Send(ctx, sockproto.SendRequest{Sock: cli, Data: []byte("x")}); code(err) != syscall.EDESTADDRREQ {
		t.Errorf("send after disconnecting: %v, want EDESTADDRREQ", err)
	}
	if _, err := r.ca.Send(ctx, sockproto.SendRequest{Sock: cli, To: inet(netip.MustParseAddr("255.255.255.255"), 7), Data: []byte("x")}); code(err) != syscall.EACCES {
		t.Errorf("broadcast without SO_BROADCAST: %v, want EACCES", err)
	}
}

// TestPing: an ICMP datagram socket sends an echo request to B and
// reads the reply as an ICMP message with its own identifier.
func TestPing(t *testing.T) {
	r := newRig(t, Options{})
	w := &waiter{c: r.ca}
	p := newSock(t, r.ca, uint16(sockproto.SOCK_DGRAM), 1) // IPPROTO_ICMP
	req := []byte{8, 0, 0, 0, 0, 0, 0, 7, 'h', 'i'}
	if _, err := r.ca.Send(ctx, sockproto.SendRequest{Sock: p, To: inet(sim.AddrB, 0), Data: req}); err != nil {
		t.Fatal(err)
	}
	w.until(t, p, sockproto.EPOLLIN)
	rep, err := r.ca.Recv(ctx, sockproto.RecvRequest{Sock: p, Len: 100})
	must(t, err)
	name, err := r.ca.Name(ctx, p, false)
	must(t, err)
	if len(rep.Data) != 10 || rep.Data[0] != 0 || rep.Data[7] != 7 || string(rep.Data[8:]) != "hi" ||
		uint16(rep.Data[4])<<8|uint16(rep.Data[5]) != name.Port || !cmp.Equal(rep.From, inet(sim.AddrB, 0)) {
		t.Errorf("reply %v from %+v (identifier %d)", rep.Data, rep.From, name.Port)
	}
	if _, err := r.ca.Send(ctx, sockproto.SendRequest{Sock: p, To: inet(sim.AddrB, 0), Data: []byte{0, 0, 0, 0}}); code(err) != syscall.EINVAL {
		t.Errorf("a short message: %v, want EINVAL", err)
	}
}
