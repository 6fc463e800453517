package ipv4

import (
	"bytes"
	"errors"
	"math/rand"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func encode(h Header, payload []byte) []byte {
	h.TotalLen = h.Len() + len(payload)
	b := make([]byte, h.TotalLen)
	h.Encode(b)
	copy(b[h.Len():], payload)
	return b
}

func TestHeaderRoundTrip(t *testing.T) {
	h := Header{TOS: 0x10, ID: 77, DontFrag: true, TTL: 64, Protocol: ProtoUDP,
		Src: [4]byte{10, 0, 0, 1}, Dst: [4]byte{10, 0, 0, 2}, Options: []byte{1, 1, 1, 0}}
	b := encode(h, []byte("payload"))
	b = append(b, 0, 0, 0) // link padding
	got, payload, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	h.TotalLen = 24 + 7
	if diff := cmp.Diff(h, got); diff != "" {
		t.Errorf("header (-want +got):\n%s", diff)
	}
	if string(payload) != "payload" {
		t.Errorf("payload = %q", payload)
	}
}

func TestParseErrors(t *testing.T) {
	good := encode(Header{TTL: 1, Protocol: ProtoTCP}, []byte("x"))
	mod := func(f func(b []byte)) []byte {
		b := append([]byte(nil), good...)
		f(b)
		return b
	}
	withOpts := func(opts []byte) []byte {
		h := Header{TTL: 1, Options: opts}
		return encode(h, nil)
	}
	tests := []struct {
		name string
		b    []byte
		want error
	}{
		{"short", good[:19], ErrShort},
		{"version", mod(func(b []byte) { b[0] = 0x65 }), ErrVersion},
		{"ihl<5", mod(func(b []byte) { b[0] = 0x44 }), ErrLength},
		{"total>len", mod(func(b []byte) { b[3] = 99 }), ErrLength},
		{"total<ihl", mod(func(b []byte) { b[3] = 10 }), ErrLength},
		{"checksum", mod(func(b []byte) { b[8]++ }), ErrChecksum},
		{"option overruns", withOpts([]byte{7, 9, 0, 0}), ErrOptions},
		{"option length 1", withOpts([]byte{7, 1, 0, 0}), ErrOptions},
	}
	for _, tc := range tests {
		if _, _, err := Parse(tc.b); !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
}

// fragments splits payload into fragments of size n (a multiple of 8).
func fragments(h Header, payload []byte, n int) []Header {
	var out []Header
	for off := 0; off < len(payload); off += n {
		f := h
		f.FragOffset = off
		f.MoreFrags = off+n < len(payload)
		out = append(out, f)
	}
	return out
}

func TestReassemblyInAnyOrder(t *testing.T) {
	r := rand.New(rand.NewSource(2))
	payload := make([]byte, 3000)
	r.Read(payload)
	h := Header{ID: 5, Protocol: ProtoUDP, Src: [4]byte{1, 2, 3, 4}, TTL: 9}
	for trial := 0; trial < 20; trial++ {
		ra := NewReassembler(ReassemblyConfig{})
		frags := fragments(h, payload, 512)
		r.Shuffle(len(frags), func(i, j int) { frags[i], frags[j] = frags[j], frags[i] })
		for i, f := range frags {
			end := min(f.FragOffset+512, len(payload))
			hdr, got, done, err := ra.Add(f, payload[f.FragOffset:end], 0)
			if err != nil {
				t.Fatal(err)
			}
			if done != (i == len(frags)-1) {
				t.Fatalf("fragment %d: done = %v", i, done)
			}
			if done {
				if !bytes.Equal(got, payload) {
					t.Fatal("reassembled payload differs")
				}
				if hdr.TotalLen != HeaderLen+len(payload) || hdr.IsFragment() {
					t.Errorf("header = %+v", hdr)
				}
			}
		}
		if ra.Pending() != 0 || ra.bytes != 0 {
			t.Errorf("leftover state: %d datagrams, %d bytes", ra.Pending(), ra.bytes)
		}
	}
}

func TestReassemblyRejects(t *testing.T) {
	h := Header{ID: 1, Protocol: ProtoUDP}
	at := func(off int, more bool) Header { f := h; f.FragOffset, f.MoreFrags = off, more; return f }
	type frag struct {
		h Header
		n int
	}
	tests := []struct {
		name  string
		frags []frag
		want  error // from the last Add
	}{
		{"overlap", []frag{{at(0, true), 16}, {at(8, true), 16}}, ErrOverlap},
		{"unaligned middle", []frag{{at(0, true), 12}}, ErrFragShape},
		{"two ends", []frag{{at(16, false), 8}, {at(8, false), 8}}, ErrFragShape},
		{"past end", []frag{{at(16, false), 8}, {at(24, true), 8}}, ErrFragShape},
		{"too big", []frag{{at(65528, false), 16}}, ErrFragShape},
	}
	for _, tc := range tests {
		ra := NewReassembler(ReassemblyConfig{})
		var err error
		for _, f := range tc.frags {
			_, _, _, err = ra.Add(f.h, make([]byte, f.n), 0)
		}
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: err = %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestReassemblyLimitsAndTimeout(t *testing.T) {
	ra := NewReassembler(ReassemblyConfig{MaxDatagrams: 2, MaxBytes: 64, Timeout: time.Second})
	for id := uint16(0); id < 3; id++ {
		_, _, _, err := ra.Add(Header{ID: id, MoreFrags: true}, make([]byte, 8), 0)
		if want := id == 2; (err != nil) != want {
			t.Errorf("datagram %d: err = %v", id, err)
		}
	}
	if _, _, _, err := ra.Add(Header{ID: 0, FragOffset: 8, MoreFrags: true}, make([]byte, 64), 0); !errors.Is(err, ErrNoRoom) {
		t.Errorf("byte limit: err = %v", err)
	}
	if n := ra.Expire(time.Second); n != 2 || ra.Pending() != 0 || ra.bytes != 0 {
		t.Errorf("Expire = %d, pending %d, bytes %d", n, ra.Pending(), ra.bytes)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(encode(Header{TTL: 1, Options: []byte{1, 0}}, []byte("abc")))
	f.Fuzz(func(t *testing.T, b []byte) {
		h, p, err := Parse(b)
		if err != nil {
			return
		}
		if len(p) != h.TotalLen-h.Len() {
			t.Fatalf("payload %d bytes, header says %d", len(p), h.TotalLen-h.Len())
		}
		ra := NewReassembler(ReassemblyConfig{})
		ra.Add(h, p, 0)
	})
}
