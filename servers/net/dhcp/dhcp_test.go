package dhcp

import (
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"valence.dev/servers/net/ethernet"
	"valence.dev/servers/net/link"
	"valence.dev/servers/net/sim"
	"valence.dev/servers/net/socket"
	"valence.dev/servers/net/stack"
)

func TestMessageRoundTrip(t *testing.T) {
	m := &Message{Op: opRequest, XID: 0xdeadbeef, Broadcast: true, CIAddr: netip.MustParseAddr("10.0.0.9"),
		YIAddr: netip.IPv4Unspecified(), SIAddr: netip.IPv4Unspecified(), GIAddr: netip.IPv4Unspecified(),
		CHAddr: ethernet.Address{2, 0, 0, 0, 0, 1}, Type: Request}
	m.SetAddr(OptRequestedIP, netip.MustParseAddr("10.0.0.50"))
	m.SetDuration(OptLeaseTime, time.Hour)
	m.setOpt(OptHostname, make([]byte, 300)) // longer than one option: split (RFC 3396)
	got, err := Parse(m.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	m.Options[OptMessageType] = []byte{Request}
	if diff := cmp.Diff(m, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
}

func TestParseRejects(t *testing.T) {
	good := (&Message{Op: opReply, Type: Ack}).Marshal()
	tests := []struct {
		name string
		b    []byte
	}{
		{"short", good[:200]},
		{"cookie", append(append([]byte(nil), good[:236]...), 1, 2, 3, 4, 255)},
		{"option overruns", append(append([]byte(nil), good[:240]...), OptMessageType, 1, Ack, 51, 9, 0)},
		{"no type", append(append([]byte(nil), good[:240]...), 255)},
	}
	for _, tc := range tests {
		if _, err := Parse(tc.b); err == nil {
			t.Errorf("%s: parsed", tc.name)
		}
	}
}

// server is a minimal DHCP server on stack B.
type server struct {
	lease  time.Duration
	nak    bool
	down   bool
	counts map[uint8]int
	sock   *stack.UDPSocket
}

var offered = netip.MustParseAddr("10.0.0.50")

func startServer(t *testing.T, s *stack.Stack, lease time.Duration) *server {
	srv := &server{lease: lease, counts: map[uint8]int{}}
	u, err := s.ListenUDP(ServerPort)
	if err != nil {
		t.Fatal(err)
	}
	srv.sock = u
	buf := make([]byte, 1500)
	u.SetNotify(func(socket.Events) {
		for {
			n, _, err := u.RecvFrom(buf)
			if err != nil {
				return
			}
			m, err := Parse(buf[:n])
			if err != nil || m.Op != opRequest {
				continue
			}
			srv.counts[m.Type]++
			if srv.down {
				continue
			}
			reply := &Message{Op: opReply, XID: m.XID, CHAddr: m.CHAddr, YIAddr: offered}
			switch m.Type {
			case Discover:
				reply.Type = Offer
			case Request:
				reply.Type = Ack
				if srv.nak {
					reply.Type, reply.YIAddr = Nak, netip.Addr{}
				}
			default:
				continue
			}
			reply.SetAddr(OptServerID, sim.AddrB)
			reply.SetDuration(OptLeaseTime, srv.lease)
			reply.SetAddr(OptSubnetMask, netip.MustParseAddr("255.255.255.0"))
			reply.SetAddr(OptRouter, sim.AddrB)
			reply.SetAddr(OptDNS, sim.AddrB)
			u.SendTo(reply.Marshal(), netip.MustParseAddrPort("255.255.255.255:68"))
		}
	})
	return srv
}

func newClientNet(t *testing.T, seed int64, f link.Faults) (*sim.Network, *Client, *[]Lease) {
	n := sim.New(sim.Options{Seed: seed, Faults: f})
	n.A.SetAddress(netip.Prefix{})
	var changes []Lease
	c, err := Start(n.A, Config{Hostname: "valence", OnChange: func(l Lease) { changes = append(changes, l) }})
	if err != nil {
		t.Fatal(err)
	}
	return n, c, &changes
}

func TestAcquireAndUse(t *testing.T) {
	n, c, changes := newClientNet(t, 1, link.Faults{Delay: time.Millisecond})
	srv := startServer(t, n.B, time.Hour)
	if !n.RunUntil(func() bool { return c.State() == Bound }, time.Minute) {
		t.Fatalf("state %v, server saw %v", c.State(), srv.counts)
	}
	l, _ := c.Lease()
	want := Lease{Addr: netip.MustParsePrefix("10.0.0.50/24"), Router: sim.AddrB, DNS: []netip.Addr{sim.AddrB},
		Server: sim.AddrB, Duration: time.Hour, T1: 30 * time.Minute, T2: time.Hour * 7 / 8, Acquired: l.Acquired}
	if diff := cmp.Diff(want, l, cmp.Comparer(func(a, b netip.Addr) bool { return a == b }),
		cmp.Comparer(func(a, b netip.Prefix) bool { return a == b })); diff != "" {
		t.Errorf("lease (-want +got):\n%s", diff)
	}
	if n.A.Address() != want.Addr || n.A.Gateway() != sim.AddrB || len(*changes) != 1 {
		t.Errorf("stack address %v gateway %v, %d changes", n.A.Address(), n.A.Gateway(), len(*changes))
	}
	// The configured address works for TCP.
	l2, _ := n.B.ListenTCP(80, 1)
	conn, err := n.A.DialTCP(netip.AddrPortFrom(sim.AddrB, 80))
	if err != nil {
		t.Fatal(err)
	}
	n.RunFor(time.Second)
	if sc, err := l2.Accept(); err != nil || sc.ID().Remote.Addr() != offered || conn.Err() != nil {
		t.Errorf("accept: %v %v", sc, err)
	}
}

func TestDiscoverRetransmitted(t *testing.T) {
	n, c, _ := newClientNet(t, 2, link.Faults{})
	n.RunFor(3 * time.Second) // no server yet: the first DISCOVER is lost
	srv := startServer(t, n.B, time.Hour)
	if !n.RunUntil(func() bool { return c.State() == Bound }, time.Minute) {
		t.Fatalf("state %v", c.State())
	}
	// RFC 2131 section 4.1: the retry comes 4 s (±1) after the first.
	if at := n.Clock.Now(); at < 3*time.Second || at > 6*time.Second {
		t.Errorf("bound at %v", at)
	}
	if srv.counts[Discover] != 1 {
		t.Errorf("server counts %v", srv.counts)
	}
}

func TestRenewRebindExpire(t *testing.T) {
	n, c, changes := newClientNet(t, 3, link.Faults{})
	srv := startServer(t, n.B, 1000*time.Second)
	n.RunUntil(func() bool { return c.State() == Bound }, time.Minute)
	n.RunFor(501 * time.Second) // T1: unicast renewal, answered
	if c.State() != Bound || srv.counts[Request] != 2 {
		t.Fatalf("after T1: %v, counts %v", c.State(), srv.counts)
	}
	srv.down = true
	n.RunFor(510 * time.Second) // renewal T1 = 1001 s + 500 s
	if c.State() != Renewing {
		t.Fatalf("server down past T1: %v", c.State())
	}
	n.RunFor(400 * time.Second) // past T2 = 875 s after the renewal
	if c.State() != Rebinding {
		t.Fatalf("past T2: %v", c.State())
	}
	n.RunFor(200 * time.Second) // past the lease
	if c.State() != Selecting || n.A.Address().IsValid() {
		t.Fatalf("past expiry: %v, address %v", c.State(), n.A.Address())
	}
	if got := (*changes)[len(*changes)-1]; got.Addr.IsValid() {
		t.Errorf("last change %v, want the loss", got)
	}
}

func TestNakRestarts(t *testing.T) {
	n, c, _ := newClientNet(t, 4, link.Faults{})
	srv := startServer(t, n.B, time.Hour)
	srv.nak = true
	n.RunFor(10 * time.Second)
	if c.State() == Bound || srv.counts[Discover] < 2 {
		t.Errorf("state %v, counts %v", c.State(), srv.counts)
	}
	srv.nak = false
	if !n.RunUntil(func() bool { return c.State() == Bound }, time.Minute) {
		t.Errorf("never bound after the server relented")
	}
}

func FuzzParse(f *testing.F) {
	f.Add((&Message{Op: opReply, Type: Offer}).Marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			return
		}
		m.Addrs(OptDNS)
		m.Duration(OptLeaseTime)
		if _, err := Parse(m.Marshal()); err != nil {
			t.Fatalf("re-parse: %v", err)
		}
	})
}
