package stack_test

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"valence.dev/servers/net/arp"
	"valence.dev/servers/net/clock"
	"valence.dev/servers/net/dhcp"
	"valence.dev/servers/net/ethernet"
	"valence.dev/servers/net/icmp"
	"valence.dev/servers/net/ipv4"
	"valence.dev/servers/net/services"
	"valence.dev/servers/net/sim"
	"valence.dev/servers/net/stack"
	"valence.dev/servers/net/tcp"
)

// sink is a link that swallows what the stack sends.
type sink struct{ frames int }

func (s *sink) MTU() int                { return 1500 }
func (s *sink) WriteFrame([]byte) error { s.frames++; return nil }

// fuzzStack is B of the simulated network, alone, with services running.
func fuzzStack() (*stack.Stack, *clock.Fake) {
	clk := &clock.Fake{}
	s := stack.New(stack.Config{MAC: sim.MACB, Clock: clk, Rand: stack.SeededRand(1)}, &sink{})
	s.SetAddress(netip.PrefixFrom(sim.AddrB, 24))
	services.ServeEcho(s, services.EchoPort)
	services.ServeUDPEcho(s, services.EchoPort)
	services.ServeChecksum(s, services.ChecksumPort)
	// Two raw ICMP sockets that never read: one takes everything, one
	// filters echo requests and is connected to a peer.
	s.OpenRaw(ipv4.ProtoICMP)
	r, _ := s.OpenRaw(ipv4.ProtoICMP)
	r.SetFilter(1 << 8)
	r.Connect(sim.AddrA)
	return s, clk
}

// frames splits fuzz input into frames: each is a 2-byte length, a 1-byte
// clock step (in 10 ms units), then the frame.
func frames(b []byte) (out [][]byte, steps []time.Duration) {
	for len(b) >= 3 {
		n := int(binary.BigEndian.Uint16(b))
		step := time.Duration(b[2]) * 10 * time.Millisecond
		b = b[3:]
		n = min(n, len(b))
		out = append(out, b[:n])
		steps = append(steps, step)
		b = b[n:]
	}
	return out, steps
}

func pack(step byte, fs ...[]byte) []byte {
	var b []byte
	for _, f := range fs {
		b = binary.BigEndian.AppendUint16(b, uint16(len(f)))
		b = append(b, step)
		b = append(b, f...)
	}
	return b
}

func seeds() [][]byte {
	arpReq := make([]byte, ethernet.HeaderLen+arp.PacketLen)
	ethernet.Header{Dst: ethernet.Broadcast, Src: sim.MACA, Type: ethernet.TypeARP}.Encode(arpReq)
	arp.Packet{Op: arp.OpRequest, SenderMAC: sim.MACA, SenderIP: sim.AddrA.As4(), TargetIP: sim.AddrB.As4()}.Encode(arpReq[ethernet.HeaderLen:])
	ping := icmp.Echo(icmp.TypeEchoRequest, 1, 1, []byte("ping"))
	pb := make([]byte, ping.Len())
	ping.Encode(pb)
	syn := sim.TCPFrame(false, tcp.Header{SrcPort: 4000, DstPort: 7, Seq: 100, Flags: tcp.FlagSYN, Window: 1000, MSS: 1460, WScale: 7}, nil)
	ack := sim.TCPFrame(false, tcp.Header{SrcPort: 4000, DstPort: 7, Seq: 101, Ack: 0, Flags: tcp.FlagACK | tcp.FlagPSH, Window: 1000, WScale: -1}, []byte("hello"))
	fin := sim.TCPFrame(false, tcp.Header{SrcPort: 4000, DstPort: 7, Seq: 106, Flags: tcp.FlagACK | tcp.FlagFIN, Window: 1000, WScale: -1}, nil)
	frag1 := craft(ipv4.Header{ID: 5, Protocol: ipv4.ProtoUDP, MoreFrags: true}, udpDatagram(make([]byte, 16)))
	frag2 := craft(ipv4.Header{ID: 5, Protocol: ipv4.ProtoUDP, FragOffset: 24}, make([]byte, 8))
	dh := (&dhcp.Message{Type: dhcp.Offer, Op: 2}).Marshal()
	return [][]byte{
		pack(0, arpReq),
		pack(1, craft(ipv4.Header{Protocol: ipv4.ProtoICMP}, pb)),
		pack(1, craft(ipv4.Header{Protocol: ipv4.ProtoUDP}, udpDatagram([]byte("udp")))),
		pack(2, arpReq, syn, ack, fin),
		pack(100, frag1, frag2),
		pack(0, craft(ipv4.Header{Protocol: ipv4.ProtoUDP}, dh)),
	}
}

// FuzzFrame feeds raw frames into a stack that has listeners and sockets
// open, advancing its clock between frames so timers run. It must never
// panic, whatever arrives.
func FuzzFrame(f *testing.F) {
	for _, s := range seeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s, clk := fuzzStack()
		fs, steps := frames(b)
		for i, fr := range fs {
			s.HandleFrame(fr)
			clk.Advance(steps[i])
			s.RunTimers()
		}
		clk.Advance(10 * time.Minute)
		s.RunTimers()
	})
}

func TestFuzzSeedsRun(t *testing.T) {
	for _, b := range seeds() {
		s, clk := fuzzStack()
		fs, steps := frames(b)
		for i, fr := range fs {
			s.HandleFrame(fr)
			clk.Advance(steps[i])
			s.RunTimers()
		}
		if s.Stats().Link.FramesIn != uint64(len(fs)) {
			t.Errorf("frames in %d, want %d", s.Stats().Link.FramesIn, len(fs))
		}
	}
}
