package sim

import (
	"valence.dev/servers/net/ethernet"
	"valence.dev/servers/net/ipv4"
	"valence.dev/servers/net/tcp"
)

// TCPFrame builds a frame carrying a TCP segment from A to B (or from B to
// A when toA is set), for tests that forge segments.
func TCPFrame(toA bool, h tcp.Header, payload []byte) []byte {
	srcMAC, dstMAC, src, dst := MACA, MACB, AddrA.As4(), AddrB.As4()
	if toA {
		srcMAC, dstMAC, src, dst = MACB, MACA, AddrB.As4(), AddrA.As4()
	}
	n := h.Len() + len(payload)
	frame := make([]byte, ethernet.HeaderLen+ipv4.HeaderLen+n)
	ethernet.Header{Dst: dstMAC, Src: srcMAC, Type: ethernet.TypeIPv4}.Encode(frame)
	ih := ipv4.Header{TotalLen: ipv4.HeaderLen + n, TTL: 64, Protocol: ipv4.ProtoTCP, Src: src, Dst: dst}
	ih.Encode(frame[ethernet.HeaderLen:])
	seg := frame[ethernet.HeaderLen+ipv4.HeaderLen:]
	copy(seg[h.Len():], payload)
	h.Encode(seg, src, dst, payload)
	return frame
}

// InjectTCP delivers a forged segment to B (or to A when toA is set)
// immediately, bypassing the wire.
func (n *Network) InjectTCP(toA bool, h tcp.Header, payload []byte) {
	f := TCPFrame(toA, h, payload)
	if toA {
		n.A.HandleFrame(f)
	} else {
		n.B.HandleFrame(f)
	}
}
