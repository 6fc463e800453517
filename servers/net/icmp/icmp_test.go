package icmp

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestEchoRoundTrip(t *testing.T) {
	m := Echo(TypeEchoRequest, 0x1234, 7, []byte("hello"))
	b := make([]byte, m.Len())
	m.Encode(b)
	got, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(m, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}
	if got.ID() != 0x1234 || got.Seq() != 7 {
		t.Errorf("id, seq = %d, %d", got.ID(), got.Seq())
	}
}

func TestParseErrors(t *testing.T) {
	m := Echo(TypeEchoReply, 1, 1, nil)
	b := make([]byte, m.Len())
	m.Encode(b)
	bad := append([]byte(nil), b...)
	bad[5] ^= 1
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"short", b[:7], ErrShort},
		{"checksum", bad, ErrChecksum},
	}
	for _, tc := range tests {
		if _, err := Parse(tc.b); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestIsError(t *testing.T) {
	tests := []struct {
		typ  uint8
		want bool
	}{{TypeEchoReply, false}, {TypeEchoRequest, false}, {TypeUnreachable, true}, {TypeTimeExceeded, true}}
	for _, tc := range tests {
		m := Message{Type: tc.typ}
		if got := m.IsError(); got != tc.want {
			t.Errorf("type %d: IsError = %v", tc.typ, got)
		}
	}
}

func FuzzParse(f *testing.F) {
	m := Echo(TypeEchoRequest, 1, 2, []byte("x"))
	b := make([]byte, m.Len())
	m.Encode(b)
	f.Add(b)
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := Parse(b)
		if err != nil {
			return
		}
		// The checksum may come back as the other zero of ones'
		// complement (0x0000 for 0xffff), so compare decoded messages.
		out := make([]byte, m.Len())
		m.Encode(out)
		again, err := Parse(out)
		if err != nil {
			t.Fatalf("re-encoded message does not parse: %v", err)
		}
		if diff := cmp.Diff(m, again); diff != "" {
			t.Fatalf("re-encode (-first +second):\n%s", diff)
		}
	})
}
