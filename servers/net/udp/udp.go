package udp

import (
	"encoding/binary"
	"errors"

	"valence.dev/servers/net/checksum"
	"valence.dev/servers/net/ipv4"
)

// HeaderLen is the length of a UDP header.
const HeaderLen = 8

// Header is a decoded UDP header.
type Header struct {
	SrcPort, DstPort uint16
	Length           int
	Checksum         uint16
}

// Errors returned by Parse.
var (
	ErrShort    = errors.New("udp: datagram shorter than header")
	ErrLength   = errors.New("udp: length field disagrees with IP")
	ErrChecksum = errors.New("udp: bad checksum")
)

// Parse decodes a datagram that arrived from src to dst and returns its
// header and payload. Bytes after the length field's end are dropped.
func Parse(b []byte, src, dst [4]byte) (Header, []byte, error) {
	if len(b) < HeaderLen {
		return Header{}, nil, ErrShort
	}
	h := Header{
		SrcPort:  binary.BigEndian.Uint16(b[0:2]),
		DstPort:  binary.BigEndian.Uint16(b[2:4]),
		Length:   int(binary.BigEndian.Uint16(b[4:6])),
		Checksum: binary.BigEndian.Uint16(b[6:8]),
	}
	if h.Length < HeaderLen || h.Length > len(b) {
		return Header{}, nil, ErrLength
	}
	b = b[:h.Length]
	if h.Checksum != 0 {
		s := checksum.Pseudo(src, dst, ipv4.ProtoUDP, len(b))
		s.Add(b)
		if s.Finish() != 0 {
			return Header{}, nil, ErrChecksum
		}
	}
	return h, b[HeaderLen:], nil
}

// Encode writes the header for payload into b[:HeaderLen], computing the
// checksum over the pseudo-header and payload. Length is set from payload.
func Encode(b []byte, srcPort, dstPort uint16, src, dst [4]byte, payload []byte) {
	n := HeaderLen + len(payload)
	binary.BigEndian.PutUint16(b[0:2], srcPort)
	binary.BigEndian.PutUint16(b[2:4], dstPort)
	binary.BigEndian.PutUint16(b[4:6], uint16(n))
	b[6], b[7] = 0, 0
	s := checksum.Pseudo(src, dst, ipv4.ProtoUDP, n)
	s.Add(b[:HeaderLen])
	s.Add(payload)
	c := s.Finish()
	if c == 0 {
		c = 0xffff
	}
	binary.BigEndian.PutUint16(b[6:8], c)
}
