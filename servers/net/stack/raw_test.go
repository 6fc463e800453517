package stack_test

import (
	"bytes"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"valence.dev/servers/net/checksum"
	"valence.dev/servers/net/icmp"
	"valence.dev/servers/net/ipv4"
	"valence.dev/servers/net/sim"
	"valence.dev/servers/net/socket"
	"valence.dev/servers/net/stack"
)

// addrCmp compares netip.Addr values, whose fields are unexported.
var addrCmp = cmp.Comparer(func(a, b netip.Addr) bool { return a == b })

// echo is an ICMP echo message as a raw socket's owner builds it.
func echo(typ uint8, id, seq uint16, data []byte) []byte {
	m := icmp.Echo(typ, id, seq, data)
	b := make([]byte, m.Len())
	m.Encode(b)
	return b
}

// rawGot is what a test reads back from a raw socket: the IPv4 header's
// fields that matter and the ICMP message.
type rawGot struct {
	From     netip.Addr
	Src, Dst netip.Addr
	Proto    uint8
	TotalLen int
	Frag     bool
	Type     uint8
	ID, Seq  uint16
	DataLen  int
}

func readRaw(t *testing.T, r *stack.RawSocket) (rawGot, bool) {
	t.Helper()
	buf := make([]byte, 70000)
	n, from, err := r.Recv(buf)
	if errors.Is(err, socket.ErrWouldBlock) {
		return rawGot{}, false
	}
	if err != nil {
		t.Fatalf("Recv: %v", err)
	}
	h, payload, err := ipv4.Parse(buf[:n])
	if err != nil {
		t.Fatalf("the datagram's IPv4 header: %v (% x)", err, buf[:min(n, 40)])
	}
	m, err := icmp.Parse(payload)
	if err != nil {
		t.Fatalf("the ICMP message: %v", err)
	}
	return rawGot{From: from, Src: h.SrcAddr(), Dst: h.DstAddr(), Proto: h.Protocol, TotalLen: h.TotalLen,
		Frag: h.IsFragment(), Type: m.Type, ID: m.ID(), Seq: m.Seq(), DataLen: len(m.Data)}, true
}

// TestRawICMPEcho: a raw socket sends echo requests it built itself,
// small and fragmented, and receives the replies with their IP headers;
// the peer's raw socket sees the requests, which its stack answered.
func TestRawICMPEcho(t *testing.T) {
	n := sim.New(sim.Options{Seed: 60})
	a, err := n.A.OpenRaw(ipv4.ProtoICMP)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := n.B.OpenRaw(ipv4.ProtoICMP)
	for seq, size := range []int{0, 56, 1472, 5000} {
		req := echo(icmp.TypeEchoRequest, 0x1234, uint16(seq), randomData(int64(seq), size))
		if k, err := a.SendTo(req, sim.AddrB); err != nil || k != len(req) {
			t.Fatalf("size %d: SendTo: %d, %v", size, k, err)
		}
		var got rawGot
		if !n.RunUntil(func() bool { var ok bool; got, ok = readRaw(t, a); return ok }, time.Second) {
			t.Fatalf("size %d: no reply", size)
		}
		want := rawGot{From: sim.AddrB, Src: sim.AddrB, Dst: sim.AddrA, Proto: ipv4.ProtoICMP,
			TotalLen: ipv4.HeaderLen + icmp.HeaderLen + size, Type: icmp.TypeEchoReply, ID: 0x1234, Seq: uint16(seq), DataLen: size}
		if diff := cmp.Diff(want, got, addrCmp); diff != "" {
			t.Errorf("size %d: the reply (-want +got):\n%s", size, diff)
		}
		seen, ok := readRaw(t, b)
		want = rawGot{From: sim.AddrA, Src: sim.AddrA, Dst: sim.AddrB, Proto: ipv4.ProtoICMP,
			TotalLen: ipv4.HeaderLen + icmp.HeaderLen + size, Type: icmp.TypeEchoRequest, ID: 0x1234, Seq: uint16(seq), DataLen: size}
		if diff := cmp.Diff(want, seen, addrCmp); !ok || diff != "" {
			t.Errorf("size %d: B's raw socket saw the request: %v (-want +got):\n%s", size, ok, diff)
		}
	}
	if st := n.A.Stats(); st.ICMP.OutTypes[icmp.TypeEchoRequest] != 4 || st.ICMP.InTypes[icmp.TypeEchoReply] != 4 || st.Raw.Out != 4 {
		t.Errorf("A's counters: out requests %d, in replies %d, raw out %d; want 4 each",
			st.ICMP.OutTypes[icmp.TypeEchoRequest], st.ICMP.InTypes[icmp.TypeEchoReply], st.Raw.Out)
	}
}

// TestRawLoopback: an echo request to 127.0.0.1 reaches the sender's own
// raw socket twice, as on Linux: the request as it arrives, then the
// reply the stack gave.
func TestRawLoopback(t *testing.T) {
	n := sim.New(sim.Options{Seed: 61})
	r, _ := n.A.OpenRaw(ipv4.ProtoICMP)
	lo := netip.MustParseAddr("127.0.0.1")
	if _, err := r.SendTo(echo(icmp.TypeEchoRequest, 7, 1, []byte("abc")), lo); err != nil {
		t.Fatal(err)
	}
	n.Flush()
	var got []rawGot
	for {
		g, ok := readRaw(t, r)
		if !ok {
			break
		}
		got = append(got, g)
	}
	want := []rawGot{
		{From: lo, Src: lo, Dst: lo, Proto: 1, TotalLen: 31, Type: icmp.TypeEchoRequest, ID: 7, Seq: 1, DataLen: 3},
		{From: lo, Src: lo, Dst: lo, Proto: 1, TotalLen: 31, Type: icmp.TypeEchoReply, ID: 7, Seq: 1, DataLen: 3},
	}
	if diff := cmp.Diff(want, got, addrCmp); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

// TestRawDelivery: which datagrams a raw socket takes: the ICMP filter,
// a bound or connected socket's addresses, messages too short for an
// ICMP header (never), and ones with a bad checksum (delivered: raw
// sockets see them before ICMP checks them, as on Linux).
func TestRawDelivery(t *testing.T) {
	lo := netip.MustParseAddr("127.0.0.1")
	badSum := echo(icmp.TypeEchoRequest, 1, 1, []byte("x"))
	badSum[2] ^= 0xff
	tests := []struct {
		name    string
		setup   func(r *stack.RawSocket)
		send    []byte
		to      netip.Addr
		want    int // datagrams the socket receives
		wantIn8 uint64
	}{
		{"plain", nil, echo(8, 1, 1, nil), lo, 2, 1},
		{"filter replies", func(r *stack.RawSocket) { r.SetFilter(1 << icmp.TypeEchoReply) }, echo(8, 1, 1, nil), lo, 1, 1},
		{"filter both", func(r *stack.RawSocket) { r.SetFilter(1<<0 | 1<<8) }, echo(8, 1, 1, nil), lo, 0, 1},
		// Bound to A's address, it sends from there: the request to 127.0.0.1
		// is not for it, the reply (to A's address) is.
		{"bound elsewhere", func(r *stack.RawSocket) { r.Bind(sim.AddrA) }, echo(8, 1, 1, nil), lo, 1, 1},
		{"bound here", func(r *stack.RawSocket) { r.Bind(lo) }, echo(8, 1, 1, nil), lo, 2, 1},
		{"connected elsewhere", func(r *stack.RawSocket) { r.Connect(sim.AddrB) }, echo(8, 1, 1, nil), lo, 0, 1},
		{"short", nil, []byte{8, 0, 0xf7, 0xff}, lo, 0, 0},
		{"empty", nil, nil, lo, 0, 0},
		{"bad checksum", nil, badSum, lo, 1, 0},
		{"type 200", nil, func() []byte {
			b := make([]byte, 8)
			b[0] = 200
			sum := checksum.Checksum(b)
			b[2], b[3] = byte(sum>>8), byte(sum)
			return b
		}(), lo, 1, 0},
	}
	for _, tc := range tests {
		n := sim.New(sim.Options{Seed: 62})
		r, _ := n.A.OpenRaw(ipv4.ProtoICMP)
		if tc.setup != nil {
			tc.setup(r)
		}
		if _, err := r.SendTo(tc.send, tc.to); err != nil {
			t.Fatalf("%s: SendTo: %v", tc.name, err)
		}
		n.Flush()
		got := 0
		for {
			if _, _, err := r.Recv(make([]byte, 100)); err != nil {
				break
			}
			got++
		}
		if got != tc.want {
			t.Errorf("%s: %d datagrams, want %d", tc.name, got, tc.want)
		}
		if in := n.A.Stats().ICMP.EchoRequests; in != tc.wantIn8 {
			t.Errorf("%s: the stack took %d echo requests, want %d", tc.name, in, tc.wantIn8)
		}
	}
}

// TestRawQueueBound: a raw socket nobody reads keeps at most its queue's
// worth while echo replies pour in, and counts what it dropped.
func TestRawQueueBound(t *testing.T) {
	n := sim.New(sim.Options{Seed: 63})
	idle, _ := n.A.OpenRaw(ipv4.ProtoICMP)
	p, _ := n.A.OpenPing()
	const sent = 3000
	for i := range sent {
		if err := p.Send(sim.AddrB, uint16(i), make([]byte, 200)); err != nil {
			t.Fatal(err)
		}
		if i%100 == 99 {
			n.RunFor(5 * time.Millisecond)
			for {
				if _, err := p.Recv(); err != nil {
					break
				}
			}
		}
	}
	n.RunFor(100 * time.Millisecond)
	if q := idle.Queued(); q > stack.RawQueueBytes || q == 0 {
		t.Errorf("queued %d bytes, want at most %d", q, stack.RawQueueBytes)
	}
	per := ipv4.HeaderLen + icmp.HeaderLen + 200
	kept := idle.Queued() / per
	replies := n.A.Stats().ICMP.EchoReplies
	if got := idle.Drops(); got == 0 || got+uint64(kept) != replies || replies < sent/2 {
		t.Errorf("%d kept, %d dropped; want %d (the replies A received, of %d sent) in all", kept, got, replies, sent)
	}
	if st := n.A.Stats().Raw; st.QueueFull != idle.Drops() {
		t.Errorf("stack counts %d drops, the socket %d", st.QueueFull, idle.Drops())
	}
	// Reading frees room for more.
	if _, _, err := idle.Recv(make([]byte, 10)); err != nil {
		t.Fatal(err)
	}
}

// TestRawSendErrors: what SendTo refuses.
func TestRawSendErrors(t *testing.T) {
	n := sim.New(sim.Options{Seed: 64})
	if _, err := n.A.OpenRaw(ipv4.ProtoUDP); !errors.Is(err, socket.ErrInvalid) {
		t.Errorf("a raw UDP socket: %v, want ErrInvalid", err)
	}
	r, _ := n.A.OpenRaw(ipv4.ProtoICMP)
	tests := []struct {
		name string
		data []byte
		to   netip.Addr
		want error
	}{
		{"largest", make([]byte, ipv4.MaxDatagram-ipv4.HeaderLen), sim.AddrB, nil},
		{"too large", make([]byte, ipv4.MaxDatagram-ipv4.HeaderLen+1), sim.AddrB, socket.ErrMessageSize},
		{"no route", []byte{8, 0}, netip.MustParseAddr("192.0.2.1"), socket.ErrNoRoute},
		{"IPv6", []byte{8, 0}, netip.MustParseAddr("::1"), socket.ErrInvalid},
	}
	for _, tc := range tests {
		if _, err := r.SendTo(tc.data, tc.to); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	r.Close()
	if _, err := r.SendTo([]byte{8, 0}, sim.AddrB); !errors.Is(err, socket.ErrClosed) {
		t.Errorf("after Close: %v", err)
	}
	if ev := r.Events(); ev&socket.Writable != 0 {
		t.Errorf("a closed socket is writable: %v", ev)
	}
}

// TestRawReassembledHeader: a datagram that arrived in fragments reaches
// a raw socket as one, with the first fragment's header made whole: no
// fragment fields, the whole length, a valid checksum.
func TestRawReassembledHeader(t *testing.T) {
	n := sim.New(sim.Options{Seed: 65})
	r, _ := n.B.OpenRaw(ipv4.ProtoICMP)
	p, _ := n.A.OpenPing()
	payload := randomData(9, 4000)
	if err := p.Send(sim.AddrB, 1, payload); err != nil {
		t.Fatal(err)
	}
	n.RunFor(50 * time.Millisecond)
	buf := make([]byte, 5000)
	k, _, err := r.Recv(buf)
	if err != nil {
		t.Fatal(err)
	}
	if checksum.Checksum(buf[:ipv4.HeaderLen]) != 0 {
		t.Errorf("header checksum is wrong: % x", buf[:ipv4.HeaderLen])
	}
	h, rest, err := ipv4.Parse(buf[:k])
	if err != nil || h.IsFragment() || h.TotalLen != k || !bytes.Equal(rest[icmp.HeaderLen:], payload) {
		t.Errorf("reassembled: %+v, %v, %d bytes", h, err, k)
	}
}
