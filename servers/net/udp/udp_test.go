package udp

import (
	"encoding/binary"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var src, dst = [4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}

func datagram(payload string) []byte {
	b := make([]byte, HeaderLen+len(payload))
	copy(b[HeaderLen:], payload)
	Encode(b, 1000, 7, src, dst, b[HeaderLen:])
	return b
}

func TestRoundTrip(t *testing.T) {
	b := append(datagram("ping"), 0, 0) // trailing padding is ignored
	h, p, err := Parse(b, src, dst)
	if err != nil {
		t.Fatal(err)
	}
	want := Header{SrcPort: 1000, DstPort: 7, Length: 12, Checksum: h.Checksum}
	if diff := cmp.Diff(want, h); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	if string(p) != "ping" {
		t.Errorf("payload = %q", p)
	}
}

func TestParseErrors(t *testing.T) {
	bad := datagram("x")
	bad[8] ^= 0xff
	long := datagram("x")
	binary.BigEndian.PutUint16(long[4:6], 100)
	noSum := datagram("x")
	noSum[8] ^= 0xff
	noSum[6], noSum[7] = 0, 0
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"short", make([]byte, 7), ErrShort},
		{"length", long, ErrLength},
		{"checksum", bad, ErrChecksum},
		{"no checksum", noSum, nil},
		{"wrong pseudo-header", datagram("y")[:], nil},
	}
	for _, tc := range tests {
		if _, _, err := Parse(tc.b, src, dst); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, _, err := Parse(datagram("z"), dst, src); err != nil {
		t.Errorf("swapped addresses: %v (the sum is symmetric, so no error)", err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(datagram("seed"))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, p, err := Parse(b, src, dst)
		if err == nil && len(p) != h.Length-HeaderLen {
			t.Fatalf("payload %d bytes, length field %d", len(p), h.Length)
		}
	})
}
