package sim

import (
	"fmt"
	"strings"
	"time"

	"valence.dev/servers/net/ethernet"
	"valence.dev/servers/net/ipv4"
	"valence.dev/servers/net/tcp"
)

// Segment is a TCP segment seen on the wire.
type Segment struct {
	At     time.Duration
	FromA  bool
	Header tcp.Header
	Len    int
}

// Flags renders the control bits as in tcpdump: S, F, R, P, and "." for ACK.
func (s Segment) Flags() string {
	var b strings.Builder
	for _, f := range []struct {
		bit uint8
		c   byte
	}{{tcp.FlagSYN, 'S'}, {tcp.FlagFIN, 'F'}, {tcp.FlagRST, 'R'}, {tcp.FlagPSH, 'P'}, {tcp.FlagACK, '.'}} {
		if s.Header.Flags&f.bit != 0 {
			b.WriteByte(f.c)
		}
	}
	return b.String()
}

func (s Segment) String() string {
	dir := "B>A"
	if s.FromA {
		dir = "A>B"
	}
	return fmt.Sprintf("%s %s seq=%d ack=%d win=%d len=%d", dir, s.Flags(), s.Header.Seq, s.Header.Ack, s.Header.Window, s.Len)
}

// DecodeTCP returns the TCP segment in frame, if it holds one.
func DecodeTCP(frame []byte) (tcp.Header, []byte, bool) {
	eh, p, err := ethernet.Parse(frame)
	if err != nil || eh.Type != ethernet.TypeIPv4 {
		return tcp.Header{}, nil, false
	}
	ih, p, err := ipv4.Parse(p)
	if err != nil || ih.Protocol != ipv4.ProtoTCP || ih.IsFragment() {
		return tcp.Header{}, nil, false
	}
	h, payload, err := tcp.Parse(p, ih.Src, ih.Dst)
	if err != nil {
		return tcp.Header{}, nil, false
	}
	return h, payload, true
}

// Trace records every TCP segment written into the wire, in order, and
// lets a test drop chosen ones.
type Trace struct {
	Segments []Segment
	// Drop, if set, decides whether a segment is lost.
	Drop func(s Segment) bool
}

// TraceTCP installs a Trace on both ports of the network's wire.
func (n *Network) TraceTCP() *Trace {
	tr := &Trace{}
	hook := func(fromA bool) func([]byte) bool {
		return func(frame []byte) bool {
			h, payload, ok := DecodeTCP(frame)
			if !ok {
				return false
			}
			s := Segment{At: n.Clock.Now(), FromA: fromA, Header: h, Len: len(payload)}
			tr.Segments = append(tr.Segments, s)
			return tr.Drop != nil && tr.Drop(s)
		}
	}
	n.Wire.A().Drop = hook(true)
	n.Wire.B().Drop = hook(false)
	return tr
}

// Filter returns the segments for which keep is true.
func (tr *Trace) Filter(keep func(Segment) bool) []Segment {
	var out []Segment
	for _, s := range tr.Segments {
		if keep(s) {
			out = append(out, s)
		}
	}
	return out
}
