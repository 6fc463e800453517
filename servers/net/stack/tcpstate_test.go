package stack_test

import (
	"bytes"
	"errors"
	"net/netip"
	"sort"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"valence.dev/servers/net/link"
	"valence.dev/servers/net/sim"
	"valence.dev/servers/net/socket"
	"valence.dev/servers/net/stack"
	"valence.dev/servers/net/tcp"
)

func flags(segs []sim.Segment) []string {
	var out []string
	for _, s := range segs {
		dir := "B>A "
		if s.FromA {
			dir = "A>B "
		}
		out = append(out, dir+s.Flags())
	}
	return out
}

func TestThreeWayHandshakeSegments(t *testing.T) {
	n := sim.New(sim.Options{Seed: 2})
	tr := n.TraceTCP()
	connect(t, n, 80)
	want := []string{"A>B S", "B>A S.", "A>B ."}
	if diff := cmp.Diff(want, flags(tr.Segments)); diff != "" {
		t.Fatalf("handshake (-want +got):\n%s", diff)
	}
	syn, synack := tr.Segments[0].Header, tr.Segments[1].Header
	// RFC 9293 section 3.7.1 and RFC 7323 section 2: both SYNs carry MSS
	// and window scale (3: the smallest shift that covers 256 KiB buffers).
	// The SYN-ACK acknowledges ISS+1.
	if syn.MSS != 1460 || synack.MSS != 1460 || syn.WScale != 3 || synack.WScale != 3 {
		t.Errorf("options: SYN mss %d ws %d, SYN-ACK mss %d ws %d", syn.MSS, syn.WScale, synack.MSS, synack.WScale)
	}
	if synack.Ack != syn.Seq+1 || tr.Segments[2].Header.Ack != synack.Seq+1 {
		t.Errorf("acks: %v", tr.Segments)
	}
}

func TestSimultaneousOpen(t *testing.T) {
	n := sim.New(sim.Options{Seed: 4, Faults: link.Faults{Delay: 10 * time.Millisecond}})
	tr := n.TraceTCP()
	a, err := n.A.DialTCPFrom(1111, netip.AddrPortFrom(sim.AddrB, 2222))
	if err != nil {
		t.Fatal(err)
	}
	b, err := n.B.DialTCPFrom(2222, netip.AddrPortFrom(sim.AddrA, 1111))
	if err != nil {
		t.Fatal(err)
	}
	if !n.RunUntil(func() bool { return a.State() == tcp.Established && b.State() == tcp.Established }, time.Minute) {
		t.Fatalf("states %v %v; segments %v", a.State(), b.State(), tr.Segments)
	}
	// Figure 8 of RFC 9293: SYNs cross, then SYN-ACKs cross.
	got := flags(tr.Segments[:4])
	sort.Strings(got[:2])
	sort.Strings(got[2:])
	if diff := cmp.Diff([]string{"A>B S", "B>A S", "A>B S.", "B>A S."}, got); diff != "" {
		t.Errorf("segments (-want +got):\n%s", diff)
	}
	src := sim.WriteAll(a, []byte("simultaneous"), true)
	sink := sim.ReadAll(b)
	n.RunUntil(func() bool { return sink.EOF }, time.Minute)
	if string(sink.Data) != "simultaneous" || !src.Done() {
		t.Errorf("data %q", sink.Data)
	}
}

func TestSimultaneousClose(t *testing.T) {
	n := sim.New(sim.Options{Seed: 5, Faults: link.Faults{Delay: 10 * time.Millisecond}})
	a, b := connect(t, n, 80)
	tr := n.TraceTCP()
	a.CloseWrite()
	b.CloseWrite()
	n.Flush()
	var seen []tcp.State
	n.RunUntil(func() bool {
		if len(seen) == 0 || seen[len(seen)-1] != a.State() {
			seen = append(seen, a.State())
		}
		return a.State() == tcp.TimeWait && b.State() == tcp.TimeWait
	}, time.Minute)
	// RFC 9293 section 3.6, figure 13: FIN-WAIT-1 -> CLOSING -> TIME-WAIT.
	if diff := cmp.Diff([]tcp.State{tcp.FinWait1, tcp.Closing, tcp.TimeWait}, seen); diff != "" {
		t.Errorf("A's states (-want +got):\n%s\nsegments %v", diff, tr.Segments)
	}
	n.RunFor(2*tcp.DefaultConfig.MSL + time.Second)
	if a.State() != tcp.Closed || b.State() != tcp.Closed || a.Err() != nil {
		t.Errorf("after TIME-WAIT: %v %v err %v", a.State(), b.State(), a.Err())
	}
}

func TestConnectionRefused(t *testing.T) {
	n := sim.New(sim.Options{Seed: 6})
	tr := n.TraceTCP()
	c, err := n.A.DialTCP(netip.AddrPortFrom(sim.AddrB, 9999))
	if err != nil {
		t.Fatal(err)
	}
	n.RunFor(time.Second)
	if !errors.Is(c.Err(), socket.ErrConnRefused) || c.State() != tcp.Closed {
		t.Fatalf("state %v err %v", c.State(), c.Err())
	}
	// RFC 9293 section 3.10.7.1: a SYN to a closed port gets <SEQ=0><ACK=SEG.SEQ+1><CTL=RST,ACK>.
	rst := tr.Segments[1]
	if rst.Flags() != "R." || rst.Header.Seq != 0 || rst.Header.Ack != tr.Segments[0].Header.Seq+1 {
		t.Errorf("reset = %v", rst)
	}
	if got := n.B.Stats().TCP.NoConnection; got != 1 {
		t.Errorf("NoConnection = %d", got)
	}
}

// lastFrom returns the last segment sent by A (fromA) or B.
func lastFrom(tr *sim.Trace, fromA bool) sim.Segment {
	for i := len(tr.Segments) - 1; i >= 0; i-- {
		if tr.Segments[i].FromA == fromA {
			return tr.Segments[i]
		}
	}
	return sim.Segment{}
}

func TestResetRules(t *testing.T) {
	// Forged segments "from A" arrive at B's established connection.
	tests := []struct {
		name      string
		seqOff    int // relative to B's RCV.NXT
		flags     uint8
		wantState tcp.State
		wantErr   error
		wantReply string // flags of B's answer, "" for none
	}{
		// RFC 5961 section 3.2 / RFC 9293 section 3.10.7.4.
		{"rst exact", 0, tcp.FlagRST, tcp.Closed, socket.ErrConnReset, ""},
		{"rst in window", 100, tcp.FlagRST, tcp.Established, nil, "."},
		{"rst outside window", 1 << 30, tcp.FlagRST, tcp.Established, nil, ""},
		// RFC 5961 section 4: SYN on an established connection.
		{"syn in window", 0, tcp.FlagSYN, tcp.Established, nil, "."},
		// Unacceptable segment: ACK and drop.
		{"old data", -5000, tcp.FlagACK, tcp.Established, nil, "."},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n := sim.New(sim.Options{Seed: int64(20 + i)})
			_, b := connect(t, n, 80)
			tr := n.TraceTCP()
			b.Write([]byte("x"))
			n.RunFor(time.Second)
			fromB := lastFrom(tr, false)
			fromA := lastFrom(tr, true)
			h := tcp.Header{SrcPort: b.ID().Remote.Port(), DstPort: 80, Seq: fromB.Header.Ack.Add(tc.seqOff),
				Ack: fromA.Header.Ack, Flags: tc.flags | tcp.FlagACK&^tc.flags&tcp.FlagACK, Window: 1000, WScale: -1}
			if tc.flags&tcp.FlagRST != 0 {
				h.Flags = tcp.FlagRST
			}
			before := len(tr.Segments)
			n.InjectTCP(false, h, nil)
			n.RunFor(10 * time.Millisecond)
			if b.State() != tc.wantState || !errors.Is(b.Err(), tc.wantErr) {
				t.Errorf("state %v err %v, want %v %v", b.State(), b.Err(), tc.wantState, tc.wantErr)
			}
			reply := ""
			for _, s := range tr.Segments[before:] {
				if !s.FromA {
					reply = s.Flags()
				}
			}
			if reply != tc.wantReply {
				t.Errorf("B answered %q, want %q", reply, tc.wantReply)
			}
		})
	}
}

func TestAckOfUnsentDataIsDropped(t *testing.T) {
	n := sim.New(sim.Options{Seed: 30})
	_, b := connect(t, n, 80)
	tr := n.TraceTCP()
	b.Write([]byte("hello"))
	n.RunFor(time.Second)
	fromB := lastFrom(tr, false)
	h := tcp.Header{SrcPort: b.ID().Remote.Port(), DstPort: 80, Seq: fromB.Header.Ack,
		Ack: fromB.Header.Seq.Add(1000), Flags: tcp.FlagACK, Window: 1000, WScale: -1}
	before := len(tr.Segments)
	n.InjectTCP(false, h, []byte("data"))
	n.RunFor(10 * time.Millisecond)
	// RFC 9293 section 3.10.7.4: SEG.ACK > SND.NXT: send an ACK, drop the segment.
	if got := b.Buffered(); got != 0 {
		t.Errorf("B accepted %d bytes from a segment acking unsent data", got)
	}
	if len(tr.Segments) == before || lastFrom(tr, false).Flags() != "." {
		t.Errorf("no ACK in answer: %v", tr.Segments[before:])
	}
}

func TestTimeWait(t *testing.T) {
	n := sim.New(sim.Options{Seed: 7})
	a, b := connect(t, n, 80)
	tr := n.TraceTCP()
	a.Close()
	sim.ReadAll(b)
	n.RunFor(time.Second)
	b.Close()
	n.RunFor(time.Second)
	if a.State() != tcp.TimeWait {
		t.Fatalf("A state %v", a.State())
	}
	// B's FIN again (as if our ACK were lost): A acknowledges it and stays.
	fin := lastFrom(tr, false)
	for fin.Flags() != "F." && fin.Flags() != "FP." {
		t.Fatalf("last B segment %v", fin)
	}
	n.RunFor(50 * time.Second)
	before := len(tr.Segments)
	n.InjectTCP(true, fin.Header, nil)
	n.Flush()
	if len(tr.Segments) != before+1 || lastFrom(tr, true).Flags() != "." {
		t.Errorf("retransmitted FIN not acknowledged: %v", tr.Segments[before:])
	}
	// The timer restarted: still in TIME-WAIT 2 MSL after the first FIN.
	n.RunFor(20 * time.Second)
	if a.State() != tcp.TimeWait {
		t.Errorf("TIME-WAIT ended early: %v", a.State())
	}
	n.RunFor(2 * tcp.DefaultConfig.MSL)
	if a.State() != tcp.Closed || n.A.TCPConnections() != 0 {
		t.Errorf("after 2 MSL: %v, %d connections", a.State(), n.A.TCPConnections())
	}
}

func TestMSSFromSmallMTU(t *testing.T) {
	n := sim.New(sim.Options{Seed: 8, MTU: 576})
	tr := n.TraceTCP()
	a, b := connect(t, n, 80)
	if mss, _, _ := a.Negotiated(); mss != 536 {
		t.Errorf("negotiated MSS %d, want 536", mss)
	}
	data := randomData(1, 100000)
	sim.WriteAll(a, data, true)
	sink := sim.ReadAll(b)
	n.RunUntil(func() bool { return sink.EOF }, time.Minute)
	for _, s := range tr.Segments {
		if s.Len > 536 {
			t.Fatalf("segment larger than the MSS: %v", s)
		}
	}
	if !bytes.Equal(sink.Data, data) {
		t.Error("data differs")
	}
}

func TestWindowScaleOnlyIfBothOffer(t *testing.T) {
	n := sim.New(sim.Options{Seed: 9})
	tr := n.TraceTCP()
	if _, err := n.B.ListenTCP(80, 4); err != nil {
		t.Fatal(err)
	}
	// A SYN without the window-scale option (RFC 7323 section 2.2).
	n.InjectTCP(false, tcp.Header{SrcPort: 4000, DstPort: 80, Seq: 1000, Flags: tcp.FlagSYN, Window: 8192, MSS: 1000, WScale: -1}, nil)
	n.RunFor(10 * time.Millisecond)
	synack := lastFrom(tr, false)
	if synack.Flags() != "S." || synack.Header.WScale != -1 || synack.Header.MSS != 1460 {
		t.Errorf("SYN-ACK = %+v", synack.Header)
	}
	if synack.Header.Window != 65535 {
		t.Errorf("unscaled SYN-ACK window %d, want 65535", synack.Header.Window)
	}
}

func TestLargeWindowsWithScaling(t *testing.T) {
	n := sim.New(sim.Options{Seed: 10, Faults: link.Faults{Delay: 20 * time.Millisecond}})
	a, b := connect(t, n, 80)
	tr := n.TraceTCP()
	data := randomData(2, 8<<20)
	sim.WriteAll(a, data, true)
	sink := sim.ReadAll(b)
	n.RunUntil(func() bool { return sink.EOF }, time.Minute)
	_, _, shift := b.Negotiated()
	maxWin := 0
	for _, s := range tr.Filter(func(s sim.Segment) bool { return !s.FromA }) {
		maxWin = max(maxWin, int(s.Header.Window)<<shift)
	}
	if maxWin <= 65535 {
		t.Errorf("largest advertised window %d: scaling not in use", maxWin)
	}
	// 8 MiB over a 40 ms RTT in well under 100 RTTs needs a big window.
	if now := n.Clock.Now(); now > 4*time.Second {
		t.Errorf("transfer took %v", now)
	}
}

func TestRetransmissionBackoffAndTimeout(t *testing.T) {
	cfg := stack.Config{TCP: tcp.Config{MaxRetries: 5}}
	n := sim.New(sim.Options{Seed: 11, Config: cfg})
	a, _ := connect(t, n, 80)
	tr := n.TraceTCP()
	tr.Drop = func(s sim.Segment) bool { return true } // the network dies
	a.Write([]byte("lost"))
	n.RunFor(10 * time.Minute)
	if !errors.Is(a.Err(), socket.ErrTimeout) || a.State() != tcp.Closed {
		t.Fatalf("state %v err %v", a.State(), a.Err())
	}
	var gaps []time.Duration
	data := tr.Filter(func(s sim.Segment) bool { return s.FromA && s.Len > 0 })
	for i := 1; i < len(data); i++ {
		gaps = append(gaps, data[i].At-data[i-1].At)
	}
	// RFC 6298 section 5.5: the timer doubles on each expiry.
	if len(gaps) != 5 {
		t.Fatalf("%d retransmissions, want 5: %v", len(gaps), data)
	}
	for i := 1; i < len(gaps); i++ {
		if gaps[i] != 2*gaps[i-1] {
			t.Errorf("gaps %v do not double", gaps)
			break
		}
	}
}

func TestFastRetransmit(t *testing.T) {
	n := sim.New(sim.Options{Seed: 12, Faults: link.Faults{Delay: 5 * time.Millisecond}})
	a, b := connect(t, n, 80)
	tr := n.TraceTCP()
	dropped := 0
	tr.Drop = func(s sim.Segment) bool {
		// Lose the 20th data segment, once.
		if s.FromA && s.Len > 0 && dropped == 0 && len(tr.Filter(func(x sim.Segment) bool { return x.FromA && x.Len > 0 })) == 20 {
			dropped++
			return true
		}
		return false
	}
	data := randomData(3, 1<<20)
	sim.WriteAll(a, data, true)
	sink := sim.ReadAll(b)
	n.RunUntil(func() bool { return sink.EOF }, time.Minute)
	st := n.A.Stats().TCP
	if !bytes.Equal(sink.Data, data) || st.FastRetransmits != 1 || st.Timeouts != 0 || st.Retransmits != 1 {
		t.Errorf("fast retransmits %d, timeouts %d, retransmits %d, data ok %v", st.FastRetransmits, st.Timeouts, st.Retransmits, bytes.Equal(sink.Data, data))
	}
}

func TestNewRenoPartialAck(t *testing.T) {
	n := sim.New(sim.Options{Seed: 13, Faults: link.Faults{Delay: 5 * time.Millisecond}})
	a, b := connect(t, n, 80)
	tr := n.TraceTCP()
	count := 0
	tr.Drop = func(s sim.Segment) bool {
		if s.FromA && s.Len > 0 {
			count++
			return count == 30 || count == 34 // two losses in one window
		}
		return false
	}
	data := randomData(4, 1<<20)
	sim.WriteAll(a, data, true)
	sink := sim.ReadAll(b)
	n.RunUntil(func() bool { return sink.EOF }, time.Minute)
	st := n.A.Stats().TCP
	// RFC 6582: one fast retransmit, the second hole repaired on the
	// partial ACK, no timeout.
	if !bytes.Equal(sink.Data, data) || st.FastRetransmits != 1 || st.Timeouts != 0 || st.Retransmits != 2 {
		t.Errorf("fast retransmits %d, timeouts %d, retransmits %d", st.FastRetransmits, st.Timeouts, st.Retransmits)
	}
}

func TestZeroWindowProbing(t *testing.T) {
	cfg := stack.Config{TCP: tcp.Config{RecvBuffer: 16 << 10}}
	n := sim.New(sim.Options{Seed: 14, Config: cfg, Faults: link.Faults{Delay: time.Millisecond}})
	a, b := connect(t, n, 80)
	tr := n.TraceTCP()
	data := randomData(5, 100<<10)
	src := sim.WriteAll(a, data, true)
	sink := sim.ReadAll(b)
	sink.Paused = true
	n.RunFor(time.Minute)
	probes := n.A.Stats().TCP.ZeroWindowProbes
	if probes < 3 || a.State() != tcp.FinWait1 {
		t.Fatalf("after a minute of zero window: %d probes, state %v", probes, a.State())
	}
	// Probes back off: later gaps are longer than earlier ones.
	var at []time.Duration
	for _, s := range tr.Filter(func(s sim.Segment) bool { return s.FromA && s.Len == 0 }) {
		at = append(at, s.At)
	}
	if g1, g2 := at[len(at)-1]-at[len(at)-2], at[2]-at[1]; g1 <= g2 {
		t.Errorf("probe gaps did not grow: %v", at)
	}
	sink.Paused = false
	sink.Drain()
	n.Flush()
	if !n.RunUntil(func() bool { return sink.EOF }, 5*time.Minute) || !bytes.Equal(sink.Data, data) {
		t.Fatalf("after reopening: %d of %d bytes (sent %d)\n%v", len(sink.Data), len(data), src.Sent, a)
	}
}

func TestKeepAlive(t *testing.T) {
	n := sim.New(sim.Options{Seed: 15})
	a, _ := connect(t, n, 80)
	a.SetKeepAlive(true, 10*time.Second, time.Second, 3)
	n.RunFor(time.Minute) // the peer answers the probes
	if a.State() != tcp.Established || n.A.Stats().TCP.KeepAlive == 0 {
		t.Fatalf("with a live peer: state %v, probes %d", a.State(), n.A.Stats().TCP.KeepAlive)
	}
	tr := n.TraceTCP()
	tr.Drop = func(sim.Segment) bool { return true } // the peer vanishes
	n.RunFor(time.Minute)
	if !errors.Is(a.Err(), socket.ErrTimeout) {
		t.Errorf("with a dead peer: state %v err %v", a.State(), a.Err())
	}
}

func TestListenBacklog(t *testing.T) {
	n := sim.New(sim.Options{Seed: 16})
	l, _ := n.B.ListenTCP(80, 2)
	var conns []*tcp.Conn
	for i := 0; i < 3; i++ {
		c, _ := n.A.DialTCP(netip.AddrPortFrom(sim.AddrB, 80))
		conns = append(conns, c)
	}
	n.RunFor(100 * time.Millisecond)
	if got := n.B.Stats().TCP.ListenOverflows; got != 1 || conns[2].State() != tcp.SynSent {
		t.Fatalf("overflows %d, third %v", got, conns[2].State())
	}
	l.Accept()
	// The third SYN is retransmitted after the initial RTO and now fits.
	n.RunFor(2 * time.Second)
	if conns[2].State() != tcp.Established {
		t.Errorf("third connection %v", conns[2].State())
	}
}

func TestCloseWithUnreadDataResets(t *testing.T) {
	n := sim.New(sim.Options{Seed: 17})
	a, b := connect(t, n, 80)
	a.Write([]byte("unread"))
	n.RunFor(time.Second)
	b.Close() // RFC 1122 section 4.2.2.13
	n.RunFor(time.Second)
	if !errors.Is(a.Err(), socket.ErrConnReset) {
		t.Errorf("A: state %v err %v", a.State(), a.Err())
	}
}

func TestConnectTimeoutWithoutARP(t *testing.T) {
	n := sim.New(sim.Options{Seed: 18})
	c, err := n.A.DialTCP(netip.AddrPortFrom(netip.MustParseAddr("10.0.0.77"), 80))
	if err != nil {
		t.Fatal(err)
	}
	n.RunFor(5 * time.Minute)
	if !errors.Is(c.Err(), socket.ErrTimeout) {
		t.Errorf("state %v err %v", c.State(), c.Err())
	}
	if st := n.A.Stats().ARP; st.Failures == 0 || st.RequestsOut < 3 {
		t.Errorf("ARP stats %+v", st)
	}
}

func TestSynReopensTimeWait(t *testing.T) {
	n := sim.New(sim.Options{Seed: 19})
	a, b := connect(t, n, 80)
	tr := n.TraceTCP()
	b.Close() // the server closes first and ends in TIME-WAIT
	sim.ReadAll(a)
	n.RunFor(time.Second)
	a.Close()
	n.RunFor(time.Second)
	if b.State() != tcp.TimeWait {
		t.Fatalf("server state %v", b.State())
	}
	// The client comes back from the same port with a higher ISN.
	lastA := lastFrom(tr, true)
	syn := tcp.Header{SrcPort: a.ID().Local.Port(), DstPort: 80, Seq: lastA.Header.Seq.Add(100000), Flags: tcp.FlagSYN, Window: 1000, WScale: -1}
	n.InjectTCP(false, syn, nil)
	n.Flush()
	if got := lastFrom(tr, false); got.Flags() != "S." || got.Header.Ack != syn.Seq+1 {
		t.Errorf("answer to a new SYN in TIME-WAIT: %v", got)
	}
	// An old SYN (below RCV.NXT) gets only an ACK.
	n2 := sim.New(sim.Options{Seed: 19})
	a2, b2 := connect(t, n2, 80)
	tr2 := n2.TraceTCP()
	b2.Close()
	sim.ReadAll(a2)
	n2.RunFor(time.Second)
	a2.Close()
	n2.RunFor(time.Second)
	old := tcp.Header{SrcPort: a2.ID().Local.Port(), DstPort: 80, Seq: lastFrom(tr2, true).Header.Seq - 10, Flags: tcp.FlagSYN, Window: 1000, WScale: -1}
	n2.InjectTCP(false, old, nil)
	n2.Flush()
	if got := lastFrom(tr2, false); got.Flags() != "." || b2.State() != tcp.TimeWait {
		t.Errorf("answer to an old SYN: %v, state %v", got, b2.State())
	}
}

func TestWindowClosedOnOutstandingData(t *testing.T) {
	n := sim.New(sim.Options{Seed: 31, Faults: link.Faults{Delay: time.Millisecond}})
	a, b := connect(t, n, 80)
	tr := n.TraceTCP()
	hide := true
	tr.Drop = func(s sim.Segment) bool { return hide && !s.FromA } // A hears nothing from B
	data := randomData(6, 20000)
	src := sim.WriteAll(a, data, true)
	sink := sim.ReadAll(b)
	n.RunFor(5 * time.Millisecond)
	// Forge B shutting its window after the first segment.
	first := tr.Filter(func(s sim.Segment) bool { return s.FromA && s.Len > 0 })[0]
	n.InjectTCP(true, tcp.Header{SrcPort: 80, DstPort: a.ID().Local.Port(), Seq: lastFrom(tr, false).Header.Seq,
		Ack: first.Header.Seq.Add(first.Len), Flags: tcp.FlagACK, Window: 0, WScale: -1}, nil)
	n.RunFor(10 * time.Minute)
	// Zero window is not loss: A probes and never gives up.
	if a.Err() != nil || n.A.Stats().TCP.ZeroWindowProbes == 0 {
		t.Fatalf("after 10 minutes of zero window: err %v, probes %d\n%v", a.Err(), n.A.Stats().TCP.ZeroWindowProbes, a)
	}
	hide = false
	if !n.RunUntil(func() bool { return sink.EOF }, 10*time.Minute) || !bytes.Equal(sink.Data, data) || !src.Done() {
		t.Errorf("after the window opened: %d of %d bytes\n%v", len(sink.Data), len(data), a)
	}
}
