package stack_test

import (
	"encoding/binary"
	"testing"
	"time"

	"valence.dev/servers/net/link"
	"valence.dev/servers/net/sim"
	"valence.dev/servers/net/tcp"
)

// FuzzSegment drives an established connection with forged segments whose
// sequence and acknowledgment numbers land near the live values, so that
// the fuzzer explores the TCP state machine rather than the checksum. Each
// record is 12 bytes: flags, a signed sequence offset from B's RCV.NXT (2
// bytes), a signed acknowledgment offset from B's SND.UNA (2), the window
// (2), a payload length (1), an action byte, and 3 bytes of clock step;
// the rest of the input is payload.
func FuzzSegment(f *testing.F) {
	f.Add([]byte{tcp.FlagACK, 0, 0, 0, 0, 1, 0, 5, 0, 0, 0, 10, 'h', 'e', 'l', 'l', 'o'})
	f.Add([]byte{tcp.FlagRST, 0, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	f.Add([]byte{tcp.FlagFIN | tcp.FlagACK, 0, 0, 0, 0, 1, 0, 0, 1, 0, 1, 0})
	f.Fuzz(func(t *testing.T, in []byte) { segmentFuzz(t, in) })
}

func segmentFuzz(t testing.TB, in []byte) *sim.Trace {
	{
		n := sim.New(sim.Options{Seed: 1, Faults: link.Faults{Delay: time.Millisecond}})
		a, b := connectQuiet(n)
		if a == nil {
			t.Fatal("no connection")
		}
		tr := n.TraceTCP()
		sim.ReadAll(b)
		sim.WriteAll(a, make([]byte, 3000), false)
		n.RunFor(10 * time.Millisecond)
		for len(in) >= 12 {
			rec := in[:12]
			in = in[12:]
			fromB, fromA := lastFrom(tr, false), lastFrom(tr, true)
			plen := min(int(rec[7]), len(in))
			payload := in[:plen]
			in = in[plen:]
			h := tcp.Header{
				SrcPort: b.ID().Remote.Port(), DstPort: b.ID().Local.Port(),
				Seq:    fromA.Header.Seq.Add(int(int16(binary.BigEndian.Uint16(rec[1:])))),
				Ack:    fromB.Header.Seq.Add(int(int16(binary.BigEndian.Uint16(rec[3:])))),
				Flags:  rec[0] & 0x3f,
				Window: binary.BigEndian.Uint16(rec[5:]),
				WScale: -1,
			}
			n.InjectTCP(false, h, payload)
			switch rec[8] % 4 {
			case 1:
				b.Write(payload)
			case 2:
				b.CloseWrite()
			case 3:
				a.Write(payload)
			}
			n.Flush()
			n.RunFor(time.Duration(binary.BigEndian.Uint16(rec[10:])) * time.Millisecond)
		}
		n.RunFor(10 * time.Minute)
		// Two confused ends must not answer each other's ACKs forever (the
		// seed in testdata/fuzz/FuzzSegment/3f19bcefc6ff8684 once did).
		if len(tr.Segments) > 20000 {
			t.Fatalf("%d segments: an ACK storm", len(tr.Segments))
		}
		return tr
	}
}

func connectQuiet(n *sim.Network) (*tcp.Conn, *tcp.Conn) {
	l, err := n.B.ListenTCP(80, 4)
	if err != nil {
		return nil, nil
	}
	a, err := n.A.DialTCP(sim.AddrPortB(80))
	if err != nil {
		return nil, nil
	}
	var b *tcp.Conn
	n.RunUntil(func() bool { b, _ = l.Accept(); return b != nil && a.State() == tcp.Established }, time.Second)
	return a, b
}
