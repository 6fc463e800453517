package btree

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"valence.dev/servers/fs/seal"
)

func encoded(t testing.TB, n *Node) []byte {
	b := make([]byte, seal.BlockSize)
	if err := Encode(n, b, testVolume, 77, 3); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNodeRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		n    *Node
	}{
		{"empty leaf", &Node{Keys: []Key{}, Values: [][]byte{}}},
		{"leaf", &Node{Keys: []Key{key(1), key(2), key(9)}, Values: [][]byte{[]byte("a"), {}, value(3, MaxValue)}}},
		{"internal", &Node{Level: 2, Keys: []Key{key(1), key(5)}, Children: []uint64{100, 200}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := encoded(t, tt.n)
			got, err := Decode(b, testVolume, 77)
			if err != nil {
				t.Fatal(err)
			}
			tt.n.Generation = 3
			if diff := cmp.Diff(tt.n, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("round trip (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDecodeRefuses(t *testing.T) {
	good := &Node{Keys: []Key{key(1), key(2)}, Values: [][]byte{[]byte("aa"), []byte("b")}}
	reseal := func(b []byte) {
		seal.Seal(b, seal.Header{Magic: seal.MagicNode, Volume: testVolume, Address: 77, Generation: 3})
	}
	tests := []struct {
		name   string
		damage func(b []byte)
	}{
		{"checksum", func(b []byte) { b[50] ^= 1 }},
		{"level too high", func(b []byte) { b[32] = MaxLevel + 1; reseal(b) }},
		{"keys out of order", func(b []byte) { putKey(b[nodeHeader+leafEntry:], key(0)); reseal(b) }},
		{"value offset off", func(b []byte) { b[nodeHeader+KeySize]--; reseal(b) }},
		{"too many items", func(b []byte) { b[34], b[35] = 0xff, 0xff; reseal(b) }},
		{"garbage in gap", func(b []byte) { b[2000] = 1; reseal(b) }},
		{"reserved byte", func(b []byte) { b[33] = 1; reseal(b) }},
		{"internal without children", func(b []byte) { b[32], b[34], b[35] = 1, 0, 0; reseal(b) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := encoded(t, good)
			tt.damage(b)
			if _, err := Decode(b, testVolume, 77); !errors.Is(err, ErrCorrupt) {
				t.Errorf("Decode: %v, want ErrCorrupt", err)
			}
		})
	}
}

// FuzzDecode checks that Decode never panics and that what it accepts
// re-encodes to the very same bytes (the canonical-form promise). The
// fuzzer's bytes are the node's payload, behind a valid header and
// checksum, so that mutations reach the layout checks.
func FuzzDecode(f *testing.F) {
	payload := func(n *Node) []byte { return encoded(f, n)[seal.HeaderSize:] }
	f.Add(payload(&Node{Keys: []Key{key(1), key(2)}, Values: [][]byte{[]byte("aa"), []byte("b")}}))
	f.Add(payload(&Node{Level: 1, Keys: []Key{key(1), key(5)}, Children: []uint64{100, 200}}))
	f.Fuzz(func(t *testing.T, p []byte) {
		b := make([]byte, seal.BlockSize)
		copy(b[seal.HeaderSize:], p)
		seal.Seal(b, seal.Header{Magic: seal.MagicNode, Volume: testVolume, Address: 77, Generation: 3})
		n, err := Decode(b, testVolume, 77)
		if err != nil {
			return
		}
		again := make([]byte, seal.BlockSize)
		if err := Encode(n, again, testVolume, 77, n.Generation); err != nil {
			t.Fatalf("Encode of a decoded node: %v", err)
		}
		if !bytes.Equal(b, again) {
			t.Fatalf("decode/encode is not the identity")
		}
	})
}
