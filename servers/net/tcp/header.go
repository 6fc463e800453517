package tcp

import (
	"encoding/binary"
	"errors"

	"valence.dev/servers/net/checksum"
	"valence.dev/servers/net/ipv4"
)

// HeaderLen is the length of a header without options.
const HeaderLen = 20

// Control bits (RFC 9293 section 3.1).
const (
	FlagFIN uint8 = 1 << iota
	FlagSYN
	FlagRST
	FlagPSH
	FlagACK
	FlagURG
)

// Option kinds (RFC 9293 section 3.2, RFC 7323 section 2).
const (
	optEnd    = 0
	optNOP    = 1
	optMSS    = 2
	optWScale = 3
)

// MaxWindowScale is the largest shift RFC 7323 section 2.3 allows.
const MaxWindowScale = 14

// Header is a decoded TCP header. The options the stack understands are
// decoded into fields; others are skipped.
type Header struct {
	SrcPort, DstPort uint16
	Seq, Ack         Seq
	Flags            uint8
	Window           uint16
	Urgent           uint16

	MSS    uint16 // 0 when absent
	WScale int    // -1 when absent
}

// Has reports whether every bit in f is set.
func (h *Header) Has(f uint8) bool { return h.Flags&f == f }

// Errors returned by Parse.
var (
	ErrShort    = errors.New("tcp: segment shorter than header")
	ErrOffset   = errors.New("tcp: bad data offset")
	ErrChecksum = errors.New("tcp: bad checksum")
	ErrOptions  = errors.New("tcp: malformed options")
)

// Parse decodes a segment that arrived from src to dst, verifying the
// checksum over the pseudo-header (RFC 9293 section 3.1), and returns the
// header and the payload, which aliases b.
func Parse(b []byte, src, dst [4]byte) (Header, []byte, error) {
	if len(b) < HeaderLen {
		return Header{}, nil, ErrShort
	}
	off := int(b[12]>>4) * 4
	if off < HeaderLen || off > len(b) {
		return Header{}, nil, ErrOffset
	}
	s := checksum.Pseudo(src, dst, ipv4.ProtoTCP, len(b))
	s.Add(b)
	if s.Finish() != 0 {
		return Header{}, nil, ErrChecksum
	}
	h := Header{
		SrcPort: binary.BigEndian.Uint16(b[0:2]),
		DstPort: binary.BigEndian.Uint16(b[2:4]),
		Seq:     Seq(binary.BigEndian.Uint32(b[4:8])),
		Ack:     Seq(binary.BigEndian.Uint32(b[8:12])),
		Flags:   b[13] & 0x3f,
		Window:  binary.BigEndian.Uint16(b[14:16]),
		Urgent:  binary.BigEndian.Uint16(b[18:20]),
		WScale:  -1,
	}
	if err := h.parseOptions(b[HeaderLen:off]); err != nil {
		return Header{}, nil, err
	}
	return h, b[off:], nil
}

// parseOptions walks the option list (RFC 9293 section 3.2): kinds 0 and 1
// are single bytes, every other option has a length byte counting itself
// and the kind. An option whose length is wrong for its kind, or that runs
// past the header, makes the segment malformed.
func (h *Header) parseOptions(o []byte) error {
	for len(o) > 0 {
		switch o[0] {
		case optEnd:
			return nil
		case optNOP:
			o = o[1:]
			continue
		}
		if len(o) < 2 || o[1] < 2 || int(o[1]) > len(o) {
			return ErrOptions
		}
		n := int(o[1])
		switch o[0] {
		case optMSS:
			if n != 4 {
				return ErrOptions
			}
			h.MSS = binary.BigEndian.Uint16(o[2:4])
		case optWScale:
			if n != 3 {
				return ErrOptions
			}
			// RFC 7323 section 2.3: a shift above 14 is used as 14.
			h.WScale = min(int(o[2]), MaxWindowScale)
		}
		o = o[n:]
	}
	return nil
}

// Len returns the encoded header length, options included.
func (h *Header) Len() int {
	n := HeaderLen
	if h.MSS != 0 {
		n += 4
	}
	if h.WScale >= 0 {
		n += 4 // NOP + 3-byte option keeps 32-bit alignment
	}
	return n
}

// Encode writes the header into b[:h.Len()] with a checksum over the
// pseudo-header, the header and the payload pieces.
func (h *Header) Encode(b []byte, src, dst [4]byte, payload ...[]byte) {
	n := h.Len()
	binary.BigEndian.PutUint16(b[0:2], h.SrcPort)
	binary.BigEndian.PutUint16(b[2:4], h.DstPort)
	binary.BigEndian.PutUint32(b[4:8], uint32(h.Seq))
	binary.BigEndian.PutUint32(b[8:12], uint32(h.Ack))
	b[12] = byte(n/4) << 4
	b[13] = h.Flags
	binary.BigEndian.PutUint16(b[14:16], h.Window)
	b[16], b[17] = 0, 0
	binary.BigEndian.PutUint16(b[18:20], h.Urgent)
	o := b[HeaderLen:n]
	if h.MSS != 0 {
		o[0], o[1] = optMSS, 4
		binary.BigEndian.PutUint16(o[2:4], h.MSS)
		o = o[4:]
	}
	if h.WScale >= 0 {
		o[0], o[1], o[2], o[3] = optNOP, optWScale, 3, byte(h.WScale)
	}
	total := n
	for _, p := range payload {
		total += len(p)
	}
	s := checksum.Pseudo(src, dst, ipv4.ProtoTCP, total)
	s.Add(b[:n])
	for _, p := range payload {
		s.Add(p)
	}
	binary.BigEndian.PutUint16(b[16:18], s.Finish())
}

// ResetFor returns the reset that answers h, a segment (with payloadLen
// bytes of data) that no connection wants (RFC 9293 section 3.5.2, case 1):
// if it carried an ACK the reset takes its sequence number from that
// acknowledgment, otherwise it has sequence zero and acknowledges
// everything the segment occupied. It returns false for a reset, which is
// never answered.
func ResetFor(h *Header, payloadLen int) (Header, bool) {
	if h.Flags&FlagRST != 0 {
		return Header{}, false
	}
	r := Header{SrcPort: h.DstPort, DstPort: h.SrcPort, WScale: -1}
	if h.Flags&FlagACK != 0 {
		r.Seq = h.Ack
		r.Flags = FlagRST
		return r, true
	}
	r.Ack = h.Seq.Add(segLen(h, payloadLen))
	r.Flags = FlagRST | FlagACK
	return r, true
}

// segLen is the sequence space a segment occupies: its data plus one for
// each of SYN and FIN (RFC 9293 section 3.4).
func segLen(h *Header, payloadLen int) int {
	n := payloadLen
	if h.Flags&FlagSYN != 0 {
		n++
	}
	if h.Flags&FlagFIN != 0 {
		n++
	}
	return n
}
