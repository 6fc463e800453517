package unixsock

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"
)

func le16(v uint16) []byte { return []byte{byte(v), byte(v >> 8)} }

// TestDecodeAddr covers the sockaddr_un forms bind and connect take.
func TestDecodeAddr(t *testing.T) {
	fam := le16(linux.AF_UNIX)
	cat := func(parts ...[]byte) []byte {
		var b []byte
		for _, p := range parts {
			b = append(b, p...)
		}
		return b
	}
	tests := []struct {
		name string
		in   []byte
		want Addr
		e    errno.Errno
	}{
		{"family only: autobind", fam, "", 0},
		{"path", cat(fam, []byte("/tmp/s")), "/tmp/s", 0},
		{"path with its NUL and junk after", cat(fam, []byte("/tmp/s\x00xyz")), "/tmp/s", 0},
		{"abstract keeps every byte", cat(fam, []byte("\x00ab\x00c")), "\x00ab\x00c", 0},
		{"too short", []byte{1}, "", errno.EINVAL},
		{"too long", cat(fam, make([]byte, 109)), "", errno.EINVAL},
		{"other family", cat(le16(linux.AF_INET), []byte("/x")), "", errno.EINVAL},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, e := DecodeAddr(tc.in)
			if got != tc.want || e != tc.e {
				t.Errorf("DecodeAddr = %q, %v; want %q, %v", got, e, tc.want, tc.e)
			}
		})
	}
}

// TestEncodeAddr: the lengths getsockname reports, as Linux.
func TestEncodeAddr(t *testing.T) {
	tests := []struct {
		a    Addr
		want int
	}{{"", 2}, {"/tmp/s", 2 + 6 + 1}, {"\x00abc", 2 + 4}, {autobindName(0x12345), 2 + 6}}
	for _, tc := range tests {
		if got := len(tc.a.Encode()); got != tc.want {
			t.Errorf("len(Encode(%q)) = %d, want %d", tc.a, got, tc.want)
		}
	}
	if got := autobindName(0xabc); got != "\x0000abc" {
		t.Errorf("autobind name %q, want NUL and five hex digits", got)
	}
}

// TestListenConnectAccept: the backlog, the names each side sees, and
// the errors of connecting where nobody listens.
func TestListenConnectAccept(t *testing.T) {
	d := newTestDomain()
	var o testOwner
	l, _ := d.NewSocket(linux.SOCK_STREAM, o.owner(10, 10))
	if e := l.Listen(1); e != errno.EINVAL {
		t.Errorf("Listen unbound = %v, want EINVAL", e)
	}
	if e := l.BindAbstract("\x00srv"); e != 0 {
		t.Fatal(e)
	}
	if e := l.BindAbstract("\x00again"); e != errno.EINVAL {
		t.Errorf("second bind = %v, want EINVAL", e)
	}
	other, _ := d.NewSocket(linux.SOCK_STREAM, o.owner(10, 10))
	if e := other.BindAbstract("\x00srv"); e != errno.EADDRINUSE {
		t.Errorf("bind to a taken name = %v, want EADDRINUSE", e)
	}
	if e := l.Listen(1); e != 0 {
		t.Fatal(e)
	}
	target, e := d.LookupAbstract("\x00srv")
	if e != 0 || target != l {
		t.Fatalf("LookupAbstract = %v, %v", target, e)
	}
	// Backlog 1 takes two connections (Linux's > test), then EAGAIN.
	var got []errno.Errno
	var clients []*Socket
	for range 3 {
		c, _ := d.NewSocket(linux.SOCK_STREAM, o.owner(20, 10))
		clients = append(clients, c)
		got = append(got, c.Connect(caller(), l, true))
	}
	if diff := cmp.Diff([]errno.Errno{0, 0, errno.EAGAIN}, got); diff != "" {
		t.Errorf("connects (-want +got):\n%s", diff)
	}
	send(t, clients[0], "early") // before accept: the connection exists
	s, e := l.Accept(caller(), true, o.owner(10, 10))
	if e != 0 {
		t.Fatal(e)
	}
	if got, _ := recv(s, 10, 0); got != "early" {
		t.Errorf("accepted socket read %q, want \"early\"", got)
	}
	peer, _ := clients[0].PeerName()
	cpeer, _ := s.PeerName()
	if peer != "\x00srv" || s.Name() != "\x00srv" || cpeer != "" {
		t.Errorf("names: client's peer %q, server's own %q and peer %q", peer, s.Name(), cpeer)
	}
	cred, _ := clients[0].GetOpt(linux.SOL_SOCKET, linux.SO_PEERCRED)
	if diff := cmp.Diff([]byte{10, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, cred); diff != "" {
		t.Errorf("client's SO_PEERCRED (-want +got):\n%s", diff)
	}
	// Refusals.
	plain, _ := d.NewSocket(linux.SOCK_STREAM, Owner{})
	dg, _ := d.NewSocket(linux.SOCK_DGRAM, Owner{})
	for _, tc := range []struct {
		name   string
		target *Socket
		want   errno.Errno
	}{
		{"not listening", plain, errno.ECONNREFUSED},
		{"wrong type", dg, errno.EPROTOTYPE},
	} {
		c, _ := d.NewSocket(linux.SOCK_STREAM, Owner{})
		if e := c.Connect(caller(), tc.target, true); e != tc.want {
			t.Errorf("connect %s = %v, want %v", tc.name, e, tc.want)
		}
	}
	if e := clients[0].Connect(caller(), l, true); e != errno.EISCONN {
		t.Errorf("second connect = %v, want EISCONN", e)
	}
	// Closing the listener resets the connection it had not accepted.
	l.Release()
	if _, e := recv(clients[1], 10, 0); e != errno.ECONNRESET {
		t.Errorf("read on a connection the listener dropped = %v, want ECONNRESET", e)
	}
	if _, e := d.LookupAbstract("\x00srv"); e != errno.ECONNREFUSED {
		t.Errorf("the closed listener's name is still bound (%v)", e)
	}
}

// TestDatagram covers sendto, default peers and autobind names.
func TestDatagram(t *testing.T) {
	d := newTestDomain()
	srv, _ := d.NewSocket(linux.SOCK_DGRAM, Owner{})
	if e := srv.BindPath("/tmp/srv", Key{Dev: 9, Ino: 42}); e != 0 {
		t.Fatal(e)
	}
	cl, _ := d.NewSocket(linux.SOCK_DGRAM, Owner{})
	if _, e := cl.Send(caller(), Message{Data: []byte("x")}, nil, 0, true); e != errno.ENOTCONN {
		t.Errorf("send with no peer = %v, want ENOTCONN", e)
	}
	if e := cl.BindAbstract(""); e != 0 {
		t.Fatal(e)
	}
	target, e := d.LookupPath(Key{Dev: 9, Ino: 42})
	if e != 0 {
		t.Fatal(e)
	}
	if _, e := cl.Send(caller(), Message{Data: []byte("ping")}, target, 0, true); e != 0 {
		t.Fatal(e)
	}
	r, e := srv.Recv(caller(), 10, 0, true)
	if e != 0 || string(r.Data) != "ping" || r.From != cl.Name() || !r.From.Abstract() || len(r.From) != 6 {
		t.Errorf("received %q from %q, %v; want \"ping\" from the autobind name %q", r.Data, r.From, e, cl.Name())
	}
	// A socket connected to another takes nothing from a third.
	third, _ := d.NewSocket(linux.SOCK_DGRAM, Owner{})
	if e := srv.Connect(caller(), cl, true); e != 0 {
		t.Fatal(e)
	}
	if _, e := third.Send(caller(), Message{Data: []byte("x")}, srv, 0, true); e != errno.EPERM {
		t.Errorf("send to a socket connected elsewhere = %v, want EPERM", e)
	}
	// The receive queue bound: a sender it is not connected to waits.
	srv.Connect(caller(), nil, true)
	var last errno.Errno
	for range maxDgramQueue + 1 {
		_, last = third.Send(caller(), Message{Data: []byte("x")}, srv, 0, true)
	}
	if last != errno.EAGAIN {
		t.Errorf("send past the queue bound = %v, want EAGAIN", last)
	}
	srv.Release()
	if _, e := third.Send(caller(), Message{Data: []byte("x")}, srv, 0, true); e != errno.ECONNREFUSED {
		t.Errorf("send to a closed socket = %v, want ECONNREFUSED", e)
	}
	if _, e := d.LookupPath(Key{Dev: 9, Ino: 42}); e != errno.ECONNREFUSED {
		t.Errorf("LookupPath after close = %v, want ECONNREFUSED", e)
	}
}

// TestPoll: readiness as Linux reports it for unix sockets.
func TestPoll(t *testing.T) {
	const (
		in  = linux.EPOLLIN | linux.EPOLLRDNORM
		out = linux.EPOLLOUT | linux.EPOLLWRNORM | linux.EPOLLWRBAND
		hup = linux.EPOLLHUP
		rd  = linux.EPOLLRDHUP | in
	)
	tests := []struct {
		name string
		make func(d *Domain) *Socket
		want uint32
	}{
		{"fresh stream", func(d *Domain) *Socket { s, _ := d.NewSocket(linux.SOCK_STREAM, Owner{}); return s }, out | hup},
		{"fresh datagram", func(d *Domain) *Socket { s, _ := d.NewSocket(linux.SOCK_DGRAM, Owner{}); return s }, out},
		{"connected, idle", func(d *Domain) *Socket { a, _, _ := d.Pair(linux.SOCK_STREAM, Owner{}); return a }, out},
		{"data waiting", func(d *Domain) *Socket {
			a, b, _ := d.Pair(linux.SOCK_STREAM, Owner{})
			b.Send(caller(), Message{Data: []byte("x")}, nil, 0, true)
			return a
		}, in | out},
		{"peer shut writing", func(d *Domain) *Socket {
			a, b, _ := d.Pair(linux.SOCK_STREAM, Owner{})
			b.Shutdown(linux.SHUT_WR)
			return a
		}, rd | out},
		{"peer closed with data unread", func(d *Domain) *Socket {
			a, b, _ := d.Pair(linux.SOCK_STREAM, Owner{})
			a.Send(caller(), Message{Data: []byte("x")}, nil, 0, true)
			b.Release()
			return a
		}, linux.EPOLLERR | hup | rd | out},
		{"listener with a connection", func(d *Domain) *Socket {
			l, _ := d.NewSocket(linux.SOCK_STREAM, Owner{})
			l.BindAbstract("")
			l.Listen(5)
			c, _ := d.NewSocket(linux.SOCK_STREAM, Owner{})
			c.Connect(caller(), l, true)
			return l
		}, in},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ev := tc.make(newTestDomain()).Poll()
			if got != tc.want || ev == nil {
				t.Errorf("Poll = %#x, want %#x", got, tc.want)
			}
		})
	}
}
