package stack_test

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"valence.dev/servers/net/arp"
	"valence.dev/servers/net/ethernet"
	"valence.dev/servers/net/icmp"
	"valence.dev/servers/net/ipv4"
	"valence.dev/servers/net/link"
	"valence.dev/servers/net/sim"
	"valence.dev/servers/net/socket"
	"valence.dev/servers/net/stack"
	"valence.dev/servers/net/udp"
)

func TestPingSocket(t *testing.T) {
	n := sim.New(sim.Options{Seed: 40, Faults: link.Faults{Delay: 3 * time.Millisecond}})
	p, err := n.A.OpenPing()
	if err != nil {
		t.Fatal(err)
	}
	for seq, size := range []int{0, 56, 1472, 5000, 30000} { // the last two are fragmented
		payload := randomData(int64(size), size)
		if err := p.Send(sim.AddrB, uint16(seq), payload); err != nil {
			t.Fatal(err)
		}
		var r stack.EchoReply
		if !n.RunUntil(func() bool { r, err = p.Recv(); return err == nil }, time.Second) {
			t.Fatalf("size %d: no reply", size)
		}
		if r.From != sim.AddrB || r.Seq != uint16(seq) || !bytes.Equal(r.Data, payload) {
			t.Errorf("size %d: reply from %v seq %d, %d bytes", size, r.From, r.Seq, len(r.Data))
		}
	}
	if st := n.B.Stats().IPv4; st.Reassembled != 2 || st.FragmentsOut == 0 {
		t.Errorf("B's IPv4 stats %+v", st)
	}
}

func TestUDP(t *testing.T) {
	n := sim.New(sim.Options{Seed: 41})
	ua, _ := n.A.ListenUDP(0)
	ub, err := n.B.ListenUDP(53)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := n.B.ListenUDP(53); !errors.Is(err, socket.ErrAddrInUse) {
		t.Errorf("second bind: %v", err)
	}
	for _, size := range []int{0, 100, 1472, 1473, 9000} {
		data := randomData(int64(size), size)
		if _, err := ua.SendTo(data, netip.AddrPortFrom(sim.AddrB, 53)); err != nil {
			t.Fatal(err)
		}
		n.RunFor(10 * time.Millisecond)
		buf := make([]byte, 10000)
		k, from, err := ub.RecvFrom(buf)
		if err != nil || !bytes.Equal(buf[:k], data) || from != netip.AddrPortFrom(sim.AddrA, ua.LocalPort()) {
			t.Fatalf("size %d: got %d bytes from %v, err %v", size, k, from, err)
		}
	}
	if _, _, err := ub.RecvFrom(nil); !errors.Is(err, socket.ErrWouldBlock) {
		t.Errorf("empty queue: %v", err)
	}
}

func TestUDPPortUnreachable(t *testing.T) {
	n := sim.New(sim.Options{Seed: 42})
	u, _ := n.A.ListenUDP(0)
	dst := netip.AddrPortFrom(sim.AddrB, 9)
	u.Connect(dst)
	if _, err := u.Send([]byte("anyone?")); err != nil {
		t.Fatal(err)
	}
	n.RunFor(10 * time.Millisecond)
	// RFC 1122 section 4.1.3.1: B answers with port unreachable, and A's
	// connected socket reports it.
	if _, _, err := u.RecvFrom(make([]byte, 10)); !errors.Is(err, socket.ErrConnRefused) {
		t.Errorf("RecvFrom: %v, want connection refused", err)
	}
	if got := n.B.Stats().UDP.NoPort; got != 1 {
		t.Errorf("NoPort = %d", got)
	}
}

func TestICMPRateLimit(t *testing.T) {
	n := sim.New(sim.Options{Seed: 43, Config: stack.Config{ICMPRate: 10}})
	u, _ := n.A.ListenUDP(0)
	for i := 0; i < 50; i++ {
		u.SendTo([]byte("x"), netip.AddrPortFrom(sim.AddrB, 9))
	}
	n.RunFor(10 * time.Millisecond)
	if st := n.B.Stats().ICMP; st.Out != 10 || st.ErrorsLimited != 40 {
		t.Errorf("ICMP out %d, limited %d; want 10 and 40", st.Out, st.ErrorsLimited)
	}
}

func TestARP(t *testing.T) {
	cfg := stack.Config{ARP: arp.Config{Lifetime: 10 * time.Second}}
	n := sim.New(sim.Options{Seed: 44, Config: cfg})
	u, _ := n.A.ListenUDP(0)
	dst := netip.AddrPortFrom(sim.AddrB, 7)
	for i := 0; i < 3; i++ { // queued behind one ARP request
		u.SendTo([]byte("x"), dst)
	}
	n.RunFor(time.Millisecond)
	if st := n.A.Stats().ARP; st.RequestsOut != 1 || st.RepliesIn != 1 {
		t.Errorf("first resolution: %+v", st)
	}
	if got := n.B.Stats().UDP.In; got != 3 {
		t.Errorf("B received %d datagrams, want the 3 that waited", got)
	}
	n.RunFor(11 * time.Second) // the entry expires
	u.SendTo([]byte("x"), dst)
	n.RunFor(time.Millisecond)
	if st := n.A.Stats().ARP; st.RequestsOut != 2 {
		t.Errorf("after expiry: %d requests, want 2", st.RequestsOut)
	}
}

func TestGratuitousARPUpdatesNeighbours(t *testing.T) {
	n := sim.New(sim.Options{Seed: 45})
	u, _ := n.A.ListenUDP(0)
	u.SendTo([]byte("x"), netip.AddrPortFrom(sim.AddrB, 7))
	n.RunFor(time.Millisecond)
	// Another host takes over B's address and announces it.
	newMAC := ethernet.Address{2, 0, 0, 0, 0, 0x99}
	frame := make([]byte, ethernet.HeaderLen+arp.PacketLen)
	ethernet.Header{Dst: ethernet.Broadcast, Src: newMAC, Type: ethernet.TypeARP}.Encode(frame)
	arp.Packet{Op: arp.OpRequest, SenderMAC: newMAC, SenderIP: sim.AddrB.As4(), TargetIP: sim.AddrB.As4()}.Encode(frame[ethernet.HeaderLen:])
	n.A.HandleFrame(frame)
	var sentTo ethernet.Address
	n.Wire.A().Drop = func(f []byte) bool { copy(sentTo[:], f[:6]); return false }
	u.SendTo([]byte("y"), netip.AddrPortFrom(sim.AddrB, 7))
	if sentTo != newMAC {
		t.Errorf("datagram went to %v, want the announced %v", sentTo, newMAC)
	}
}

// craft builds an IPv4 frame to B from A with the given header and
// payload, letting tests break it afterwards.
func craft(h ipv4.Header, payload []byte) []byte {
	if h.TTL == 0 {
		h.TTL = 64
	}
	h.Src, h.Dst = sim.AddrA.As4(), sim.AddrB.As4()
	h.TotalLen = h.Len() + len(payload)
	f := make([]byte, ethernet.HeaderLen+h.TotalLen)
	ethernet.Header{Dst: sim.MACB, Src: sim.MACA, Type: ethernet.TypeIPv4}.Encode(f)
	h.Encode(f[ethernet.HeaderLen:])
	copy(f[ethernet.HeaderLen+h.Len():], payload)
	return f
}

func udpDatagram(payload []byte) []byte {
	b := make([]byte, udp.HeaderLen+len(payload))
	copy(b[udp.HeaderLen:], payload)
	udp.Encode(b, 1234, 7, sim.AddrA.As4(), sim.AddrB.As4(), b[udp.HeaderLen:])
	return b
}

func TestMalformedInputIsCounted(t *testing.T) {
	good := craft(ipv4.Header{Protocol: ipv4.ProtoUDP}, udpDatagram([]byte("hello")))
	mod := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	const ip = ethernet.HeaderLen
	const l4 = ip + ipv4.HeaderLen
	ping := icmp.Echo(icmp.TypeEchoRequest, 1, 1, nil)
	pingBytes := make([]byte, ping.Len())
	ping.Encode(pingBytes)
	pingBytes[2] ^= 1
	tests := []struct {
		name  string
		frame []byte
		want  func(s *stack.Stats) uint64
	}{
		{"runt", good[:10], func(s *stack.Stats) uint64 { return s.Ethernet.Malformed }},
		{"not for us", mod(func(b []byte) []byte { b[0] = 0x42; return b }), func(s *stack.Stats) uint64 { return s.Ethernet.NotForUs }},
		{"unknown type", mod(func(b []byte) []byte { b[12] = 0x88; return b }), func(s *stack.Stats) uint64 { return s.Ethernet.UnknownType }},
		{"bad arp", mod(func(b []byte) []byte { b[12], b[13] = 0x08, 0x06; return b[:20] }), func(s *stack.Stats) uint64 { return s.ARP.Malformed }},
		{"ip version", mod(func(b []byte) []byte { b[ip] = 0x65; return b }), func(s *stack.Stats) uint64 { return s.IPv4.Malformed }},
		{"ip truncated", mod(func(b []byte) []byte { return b[:l4+3] }), func(s *stack.Stats) uint64 { return s.IPv4.Malformed }},
		{"ip checksum", mod(func(b []byte) []byte { b[ip+8]--; return b }), func(s *stack.Stats) uint64 { return s.IPv4.BadChecksum }},
		{"ip options", craft(ipv4.Header{Protocol: ipv4.ProtoUDP, Options: []byte{0x44, 40, 0, 0}}, nil), func(s *stack.Stats) uint64 { return s.IPv4.BadOptions }},
		{"not our ip", craft(ipv4.Header{Protocol: ipv4.ProtoUDP}, nil), nil},
		{"unknown protocol", craft(ipv4.Header{Protocol: 99}, nil), func(s *stack.Stats) uint64 { return s.IPv4.UnknownProtocol }},
		{"udp checksum", mod(func(b []byte) []byte { b[len(b)-1]++; return b }), func(s *stack.Stats) uint64 { return s.UDP.BadChecksum }},
		{"udp length", mod(func(b []byte) []byte { b[l4+5] = 200; return b }), func(s *stack.Stats) uint64 { return s.UDP.Malformed }},
		{"icmp checksum", craft(ipv4.Header{Protocol: ipv4.ProtoICMP}, pingBytes), func(s *stack.Stats) uint64 { return s.ICMP.BadChecksum }},
		{"tcp short", craft(ipv4.Header{Protocol: ipv4.ProtoTCP}, make([]byte, 12)), func(s *stack.Stats) uint64 { return s.TCP.Malformed }},
		{"tcp checksum", craft(ipv4.Header{Protocol: ipv4.ProtoTCP}, make([]byte, 20)), func(s *stack.Stats) uint64 { return s.TCP.Malformed + s.TCP.BadChecksum }},
		{"fragment overlap", nil, func(s *stack.Stats) uint64 { return s.IPv4.FragmentDrops }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := sim.New(sim.Options{Seed: 46})
			frames := [][]byte{tc.frame}
			switch tc.name {
			case "not our ip":
				f := append([]byte(nil), tc.frame...)
				h, _, err := ipv4.Parse(f[ip:])
				if err != nil {
					t.Fatal(err)
				}
				h.Dst[3] = 77 // 10.0.0.77
				h.Encode(f[ip:])
				frames = [][]byte{f}
				tc.want = func(s *stack.Stats) uint64 { return s.IPv4.NotForUs }
			case "fragment overlap":
				frames = [][]byte{
					craft(ipv4.Header{ID: 9, Protocol: ipv4.ProtoUDP, MoreFrags: true}, make([]byte, 16)),
					craft(ipv4.Header{ID: 9, Protocol: ipv4.ProtoUDP, FragOffset: 8}, make([]byte, 16)),
				}
			}
			before := n.B.Stats()
			for _, f := range frames {
				n.B.HandleFrame(f)
			}
			after := n.B.Stats()
			if got := tc.want(&after) - tc.want(&before); got != 1 {
				t.Errorf("counter moved by %d, want 1; stats diff:\n%s", got, cmp.Diff(before, after))
			}
			if n.B.Stats().UDP.In > before.UDP.In && tc.name != "udp checksum" && tc.name != "udp length" {
				t.Errorf("a malformed frame reached UDP")
			}
		})
	}
}

func TestReassemblyTimeout(t *testing.T) {
	n := sim.New(sim.Options{Seed: 47})
	n.B.HandleFrame(craft(ipv4.Header{ID: 3, Protocol: ipv4.ProtoUDP, MoreFrags: true}, make([]byte, 64)))
	n.RunFor(29 * time.Second)
	if got := n.B.Stats().IPv4.ReassemblyTimeouts; got != 0 {
		t.Fatalf("timed out early")
	}
	n.RunFor(2 * time.Second)
	if got := n.B.Stats().IPv4.ReassemblyTimeouts; got != 1 {
		t.Errorf("ReassemblyTimeouts = %d, want 1", got)
	}
}

func TestNoRoute(t *testing.T) {
	n := sim.New(sim.Options{Seed: 48})
	u, _ := n.A.ListenUDP(0)
	if _, err := u.SendTo([]byte("x"), netip.MustParseAddrPort("192.0.2.1:7")); !errors.Is(err, socket.ErrNoRoute) {
		t.Errorf("off-link without gateway: %v", err)
	}
	n.A.SetGateway(sim.AddrB)
	if _, err := u.SendTo([]byte("x"), netip.MustParseAddrPort("192.0.2.1:7")); err != nil {
		t.Errorf("via gateway: %v", err)
	}
}
