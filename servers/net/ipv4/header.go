package ipv4

import (
	"encoding/binary"
	"errors"
	"net/netip"

	"valence.dev/servers/net/checksum"
)

// HeaderLen is the length of a header without options.
const HeaderLen = 20

// Protocol numbers (IANA "Assigned Internet Protocol Numbers").
const (
	ProtoICMP uint8 = 1
	ProtoTCP  uint8 = 6
	ProtoUDP  uint8 = 17
)

// Flag bits in the fragment field (RFC 791 section 3.1).
const (
	flagDF = 0x4000
	flagMF = 0x2000
)

// MaxDatagram is the largest IPv4 datagram, header included.
const MaxDatagram = 65535

// Header is a decoded IPv4 header.
type Header struct {
	TOS        uint8
	TotalLen   int
	ID         uint16
	DontFrag   bool
	MoreFrags  bool
	FragOffset int // in bytes
	TTL        uint8
	Protocol   uint8
	Src, Dst   [4]byte
	Options    []byte // raw, validated only for well-formedness
}

// IsFragment reports whether the packet is part of a fragmented datagram.
func (h *Header) IsFragment() bool { return h.MoreFrags || h.FragOffset != 0 }

// SrcAddr and DstAddr return the addresses as netip values.
func (h *Header) SrcAddr() netip.Addr { return netip.AddrFrom4(h.Src) }

// DstAddr returns the destination address.
func (h *Header) DstAddr() netip.Addr { return netip.AddrFrom4(h.Dst) }

// Errors returned by Parse; each is a reason the stack counts.
var (
	ErrShort    = errors.New("ipv4: packet shorter than header")
	ErrVersion  = errors.New("ipv4: version is not 4")
	ErrLength   = errors.New("ipv4: bad header or total length")
	ErrChecksum = errors.New("ipv4: bad header checksum")
	ErrOptions  = errors.New("ipv4: malformed options")
)

// Parse decodes the header at the start of b and returns it with the
// payload, trimmed to the total length.
func Parse(b []byte) (Header, []byte, error) {
	if len(b) < HeaderLen {
		return Header{}, nil, ErrShort
	}
	if b[0]>>4 != 4 {
		return Header{}, nil, ErrVersion
	}
	ihl := int(b[0]&0x0f) * 4
	total := int(binary.BigEndian.Uint16(b[2:4]))
	if ihl < HeaderLen || ihl > len(b) || total < ihl || total > len(b) {
		return Header{}, nil, ErrLength
	}
	if checksum.Checksum(b[:ihl]) != 0 {
		return Header{}, nil, ErrChecksum
	}
	frag := binary.BigEndian.Uint16(b[6:8])
	h := Header{
		TOS:        b[1],
		TotalLen:   total,
		ID:         binary.BigEndian.Uint16(b[4:6]),
		DontFrag:   frag&flagDF != 0,
		MoreFrags:  frag&flagMF != 0,
		FragOffset: int(frag&0x1fff) * 8,
		TTL:        b[8],
		Protocol:   b[9],
		Options:    b[HeaderLen:ihl],
	}
	copy(h.Src[:], b[12:16])
	copy(h.Dst[:], b[16:20])
	if frag&0x8000 != 0 { // the reserved flag must be zero
		return Header{}, nil, ErrLength
	}
	if err := checkOptions(h.Options); err != nil {
		return Header{}, nil, err
	}
	return h, b[ihl:total], nil
}

// checkOptions walks the option list (RFC 791 section 3.1, "Options"):
// type 0 ends it, type 1 is a single byte, every other option has a length
// byte that counts itself and the type and must stay inside the header.
func checkOptions(o []byte) error {
	for len(o) > 0 {
		switch o[0] {
		case 0:
			return nil
		case 1:
			o = o[1:]
			continue
		}
		if len(o) < 2 || o[1] < 2 || int(o[1]) > len(o) {
			return ErrOptions
		}
		o = o[o[1]:]
	}
	return nil
}

// Len returns the encoded header length.
func (h *Header) Len() int { return HeaderLen + (len(h.Options)+3)&^3 }

// Encode writes the header, with its checksum, into b. TotalLen must be set.
func (h *Header) Encode(b []byte) {
	n := h.Len()
	b[0] = 0x40 | byte(n/4)
	b[1] = h.TOS
	binary.BigEndian.PutUint16(b[2:4], uint16(h.TotalLen))
	binary.BigEndian.PutUint16(b[4:6], h.ID)
	frag := uint16(h.FragOffset / 8)
	if h.DontFrag {
		frag |= flagDF
	}
	if h.MoreFrags {
		frag |= flagMF
	}
	binary.BigEndian.PutUint16(b[6:8], frag)
	b[8] = h.TTL
	b[9] = h.Protocol
	b[10], b[11] = 0, 0
	copy(b[12:16], h.Src[:])
	copy(b[16:20], h.Dst[:])
	opt := b[HeaderLen:n]
	copy(opt, h.Options)
	clear(opt[len(h.Options):])
	binary.BigEndian.PutUint16(b[10:12], checksum.Checksum(b[:n]))
}
