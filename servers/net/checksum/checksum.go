package checksum

import "encoding/binary"

// Sum is a running Internet checksum. The zero value is an empty sum.
type Sum struct {
	acc uint64
	odd bool // an odd number of bytes has been added so far
}

// Add folds b into the sum.
func (s *Sum) Add(b []byte) {
	if len(b) == 0 {
		return
	}
	if s.odd {
		// The first byte of b is the low half of the pending word.
		s.acc += uint64(b[0])
		b = b[1:]
		s.odd = false
	}
	acc := s.acc
	for len(b) >= 8 {
		acc += uint64(binary.BigEndian.Uint32(b)) + uint64(binary.BigEndian.Uint32(b[4:]))
		b = b[8:]
	}
	for len(b) >= 2 {
		acc += uint64(binary.BigEndian.Uint16(b))
		b = b[2:]
	}
	if len(b) == 1 {
		acc += uint64(b[0]) << 8
		s.odd = true
	}
	s.acc = acc
}

// AddUint16 folds a 16-bit word into the sum. It must be called only at an
// even offset.
func (s *Sum) AddUint16(v uint16) { s.acc += uint64(v) }

// AddUint32 folds a 32-bit value (as two words) into the sum.
func (s *Sum) AddUint32(v uint32) { s.acc += uint64(v>>16) + uint64(v&0xffff) }

// Fold returns the folded 16-bit ones' complement sum, not complemented.
func (s *Sum) Fold() uint16 {
	acc := s.acc
	for acc>>16 != 0 {
		acc = (acc & 0xffff) + (acc >> 16)
	}
	return uint16(acc)
}

// Finish returns the checksum to put in a header: the complement of the
// folded sum. Over data that already includes a correct checksum, it is 0.
func (s *Sum) Finish() uint16 { return ^s.Fold() }

// Checksum returns the Internet checksum of b.
func Checksum(b []byte) uint16 {
	var s Sum
	s.Add(b)
	return s.Finish()
}

// Pseudo returns a sum primed with the IPv4 pseudo-header of RFC 9293
// section 3.1 and RFC 768: source, destination, protocol and the length of
// the transport header plus payload.
func Pseudo(src, dst [4]byte, proto uint8, length int) Sum {
	var s Sum
	s.Add(src[:])
	s.Add(dst[:])
	s.AddUint16(uint16(proto))
	s.AddUint16(uint16(length))
	return s
}
