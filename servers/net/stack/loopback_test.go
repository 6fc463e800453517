package stack_test

import (
	"bytes"
	"net/netip"
	"testing"
	"time"

	"valence.dev/servers/net/ethernet"
	"valence.dev/servers/net/ipv4"
	"valence.dev/servers/net/services"
	"valence.dev/servers/net/sim"
	"valence.dev/servers/net/socket"
	"valence.dev/servers/net/tcp"
)

var localhost = netip.MustParseAddr("127.0.0.1")

// TestLoopbackTCP runs the echo service on A and a client on A itself,
// to A's own address and to 127.0.0.1: every byte comes back, and no
// segment touches the wire.
func TestLoopbackTCP(t *testing.T) {
	data := randomData(7, 300<<10)
	for _, dst := range []netip.Addr{sim.AddrA, localhost, netip.MustParseAddr("127.1.2.3")} {
		n := sim.New(sim.Options{Seed: 41})
		n.RunFor(time.Second) // the gratuitous ARPs
		sent := n.Wire.A().Stats.Sent
		if _, err := services.ServeEcho(n.A, 7); err != nil {
			t.Fatal(err)
		}
		c, err := n.A.DialTCP(netip.AddrPortFrom(dst, 7))
		if err != nil {
			t.Fatalf("%v: %v", dst, err)
		}
		if got := c.ID().Local.Addr(); got != dst {
			t.Errorf("%v: local address %v, want %v", dst, got, dst)
		}
		src := sim.WriteAll(c, data, true)
		sink := sim.ReadAll(c)
		c.SetNotify(func(socket.Events) { src.Pump(); sink.Drain() })
		n.Flush()
		if !n.RunUntil(func() bool { return sink.EOF || sink.Err != nil }, time.Minute) {
			t.Fatalf("%v: got %d of %d bytes: %v", dst, len(sink.Data), len(data), c)
		}
		if !bytes.Equal(sink.Data, data) || sink.Err != nil {
			t.Errorf("%v: echoed %d bytes (err %v), want the %d sent", dst, len(sink.Data), sink.Err, len(data))
		}
		if got := n.Wire.A().Stats.Sent; got != sent {
			t.Errorf("%v: %d frames went on the wire", dst, got-sent)
		}
		if n.A.Stats().IPv4.Local == 0 {
			t.Errorf("%v: no local datagrams counted", dst)
		}
	}
}

// TestLoopbackUnconfigured: 127.0.0.1 works before the interface has an
// address (while DHCP runs), UDP and ping included.
func TestLoopbackUnconfigured(t *testing.T) {
	n := sim.New(sim.Options{Seed: 42})
	n.A.SetAddress(netip.Prefix{})
	l, err := n.A.ListenTCP(80, 4)
	if err != nil {
		t.Fatal(err)
	}
	c, err := n.A.DialTCP(netip.AddrPortFrom(localhost, 80))
	if err != nil {
		t.Fatal(err)
	}
	n.Flush()
	if !n.RunUntil(func() bool { return c.State() == tcp.Established }, time.Second) {
		t.Fatalf("state %v", c.State())
	}
	if _, err := l.Accept(); err != nil {
		t.Fatalf("Accept: %v", err)
	}

	u1, _ := n.A.ListenUDP(5000)
	u2, _ := n.A.ListenUDP(0)
	if _, err := u2.SendTo([]byte("hi"), netip.AddrPortFrom(localhost, 5000)); err != nil {
		t.Fatal(err)
	}
	n.Flush()
	buf := make([]byte, 16)
	k, from, err := u1.RecvFrom(buf)
	if err != nil || string(buf[:k]) != "hi" || from != netip.AddrPortFrom(localhost, u2.LocalPort()) {
		t.Errorf("RecvFrom: %q from %v, %v; want \"hi\" from 127.0.0.1:%d", buf[:k], from, err, u2.LocalPort())
	}

	p, _ := n.A.OpenPing()
	if err := p.Send(localhost, 9, []byte("ping")); err != nil {
		t.Fatal(err)
	}
	n.Flush()
	r, err := p.Recv()
	if err != nil || r.From != localhost || r.Seq != 9 || string(r.Data) != "ping" {
		t.Errorf("ping reply %+v, %v", r, err)
	}
}

// TestLoopbackNotFromWire: 127/8 arriving on the link is dropped (RFC
// 1122 section 3.2.1.3 (g)).
func TestLoopbackNotFromWire(t *testing.T) {
	n := sim.New(sim.Options{Seed: 43})
	if _, err := n.B.ListenTCP(80, 4); err != nil {
		t.Fatal(err)
	}
	f := sim.TCPFrame(false, tcp.Header{SrcPort: 1234, DstPort: 80, Seq: 1, Flags: tcp.FlagSYN, Window: 1000, WScale: -1}, nil)
	// Rewrite the destination to 127.0.0.1 (the TCP checksum is not
	// looked at before the address is).
	h, _, err := ipv4.Parse(f[ethernet.HeaderLen:])
	if err != nil {
		t.Fatal(err)
	}
	h.Dst = localhost.As4()
	h.Encode(f[ethernet.HeaderLen:])
	before := n.B.Stats().IPv4.NotForUs
	n.B.HandleFrame(f)
	if got := n.B.Stats().IPv4.NotForUs; got != before+1 {
		t.Errorf("NotForUs %d, want %d; stats %+v", got, before+1, n.B.Stats().IPv4)
	}
}
