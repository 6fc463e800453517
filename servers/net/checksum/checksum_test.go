package checksum

import (
	"math/rand"
	"testing"
)

// reference is the plain RFC 1071 section 4.1 loop.
func reference(b []byte) uint16 {
	var sum uint32
	for len(b) > 1 {
		sum += uint32(b[0])<<8 | uint32(b[1])
		b = b[2:]
	}
	if len(b) == 1 {
		sum += uint32(b[0]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

func TestChecksum(t *testing.T) {
	tests := []struct {
		name string
		in   []byte
		want uint16
	}{
		{"empty", nil, 0xffff},
		// RFC 1071 section 3 example: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2.
		{"rfc1071", []byte{0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7}, ^uint16(0xddf2)},
		{"odd", []byte{0x01}, ^uint16(0x0100)},
	}
	for _, tc := range tests {
		if got := Checksum(tc.in); got != tc.want {
			t.Errorf("%s: Checksum = %#04x, want %#04x", tc.name, got, tc.want)
		}
	}
}

func TestSplitAnywhere(t *testing.T) {
	r := rand.New(rand.NewSource(1))
	for i := 0; i < 500; i++ {
		b := make([]byte, r.Intn(100))
		r.Read(b)
		want := reference(b)
		var s Sum
		rest := b
		for len(rest) > 0 {
			n := r.Intn(len(rest) + 1)
			s.Add(rest[:n])
			rest = rest[n:]
		}
		if got := s.Finish(); got != want {
			t.Fatalf("len %d: split sum = %#04x, want %#04x", len(b), got, want)
		}
	}
}
