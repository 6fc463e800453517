package tcp

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

var src, dst = [4]byte{10, 0, 0, 1}, [4]byte{10, 0, 0, 2}

func encode(h Header, payload []byte) []byte {
	b := make([]byte, h.Len()+len(payload))
	copy(b[h.Len():], payload)
	h.Encode(b, src, dst, payload)
	return b
}

func TestHeaderRoundTrip(t *testing.T) {
	tests := []Header{
		{SrcPort: 1, DstPort: 2, Seq: 3, Ack: 4, Flags: FlagSYN, Window: 5, WScale: -1},
		{SrcPort: 80, DstPort: 1234, Seq: 0xffffffff, Flags: FlagSYN | FlagACK, Window: 65535, MSS: 1460, WScale: 7},
		{Flags: FlagFIN | FlagPSH | FlagACK, WScale: -1},
	}
	for _, h := range tests {
		got, payload, err := Parse(encode(h, []byte("data")), src, dst)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(h, got); diff != "" || string(payload) != "data" {
			t.Errorf("round trip (-want +got):\n%s payload %q", diff, payload)
		}
	}
}

func TestParseErrors(t *testing.T) {
	good := encode(Header{WScale: -1}, nil)
	withOpts := func(o ...byte) []byte {
		b := make([]byte, HeaderLen+len(o))
		copy(b, good)
		b[12] = byte((HeaderLen+len(o))/4) << 4
		copy(b[HeaderLen:], o)
		b[16], b[17] = 0, 0
		s := pseudoSum(b)
		b[16], b[17] = byte(s>>8), byte(s)
		return b
	}
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"short", good[:19], ErrShort},
		{"offset small", func() []byte { b := append([]byte(nil), good...); b[12] = 0x40; return b }(), ErrOffset},
		{"offset large", func() []byte { b := append([]byte(nil), good...); b[12] = 0xf0; return b }(), ErrOffset},
		{"checksum", func() []byte { b := append([]byte(nil), good...); b[0]++; return b }(), ErrChecksum},
		{"mss length", withOpts(2, 3, 0, 0), ErrOptions},
		{"option overruns", withOpts(1, 1, 8, 10), ErrOptions},
		{"ws clamp ok", withOpts(3, 3, 20, 0), nil},
	}
	for _, tc := range tests {
		if _, _, err := Parse(tc.b, src, dst); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
	h, _, _ := Parse(withOpts(3, 3, 20, 0), src, dst)
	if h.WScale != MaxWindowScale {
		t.Errorf("window scale 20 read as %d, want %d (RFC 7323 section 2.3)", h.WScale, MaxWindowScale)
	}
}

func TestSeqArithmetic(t *testing.T) {
	tests := []struct {
		a, b Seq
		less bool
	}{
		{1, 2, true}, {2, 1, false}, {0xffffff00, 0x10, true}, {0x10, 0xffffff00, false}, {5, 5, false},
	}
	for _, tc := range tests {
		if got := tc.a.LessThan(tc.b); got != tc.less {
			t.Errorf("%d < %d = %v", tc.a, tc.b, got)
		}
	}
	if !Seq(0xfffffff0).Add(0x20).InWindow(0xfffffff0, 0x21) {
		t.Error("InWindow across wrap")
	}
}

func TestResetFor(t *testing.T) {
	syn := Header{SrcPort: 5, DstPort: 6, Seq: 100, Flags: FlagSYN}
	r, ok := ResetFor(&syn, 0)
	if !ok || r.Flags != FlagRST|FlagACK || r.Seq != 0 || r.Ack != 101 {
		t.Errorf("reset for SYN = %+v", r)
	}
	ack := Header{Seq: 100, Ack: 777, Flags: FlagACK}
	if r, _ := ResetFor(&ack, 10); r.Flags != FlagRST || r.Seq != 777 {
		t.Errorf("reset for ACK = %+v", r)
	}
	rst := Header{Flags: FlagRST}
	if _, ok := ResetFor(&rst, 0); ok {
		t.Error("a reset was answered")
	}
}

func FuzzParse(f *testing.F) {
	f.Add(encode(Header{Flags: FlagSYN, MSS: 1460, WScale: 7}, nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, p, err := Parse(b, src, dst)
		if err != nil {
			return
		}
		again, p2, err := Parse(encode(h, p), src, dst)
		if err != nil || string(p2) != string(p) || again.Flags != h.Flags || again.Seq != h.Seq {
			t.Fatalf("re-encode: %v", err)
		}
	})
}
