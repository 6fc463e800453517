package seal

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func sealed(h Header) []byte {
	b := make([]byte, BlockSize)
	for i := HeaderSize; i < BlockSize; i++ {
		b[i] = byte(i * 7)
	}
	Seal(b, h)
	return b
}

func TestOpen(t *testing.T) {
	good := Header{Magic: MagicNode, Volume: 0xabc, Address: 17, Generation: 9}
	tests := []struct {
		name    string
		mutate  func(b []byte) []byte
		magic   uint32
		volume  uint64
		address uint64
		wantErr error
	}{
		{"intact", nil, MagicNode, 0xabc, 17, nil},
		{"any volume", nil, MagicNode, 0, 17, nil},
		{"payload bit flip", func(b []byte) []byte { b[1000] ^= 1; return b }, MagicNode, 0xabc, 17, ErrChecksum},
		{"checksum bit flip", func(b []byte) []byte { b[5] ^= 0x80; return b }, MagicNode, 0xabc, 17, ErrChecksum},
		{"torn: last sector zero", func(b []byte) []byte { clear(b[BlockSize-512:]); return b }, MagicNode, 0xabc, 17, ErrChecksum},
		{"short", func(b []byte) []byte { return b[:100] }, MagicNode, 0xabc, 17, ErrHeader},
		{"wrong magic", nil, MagicBitmap, 0xabc, 17, ErrHeader},
		{"wrong volume", nil, MagicNode, 0xdef, 17, ErrHeader},
		{"wrong address", nil, MagicNode, 0xabc, 18, ErrHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := sealed(good)
			if tt.mutate != nil {
				b = tt.mutate(b)
			}
			h, err := Open(b, tt.magic, tt.volume, tt.address)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Open: error %v, want %v", err, tt.wantErr)
			}
			if err == nil {
				if diff := cmp.Diff(good, h); diff != "" {
					t.Errorf("Open header (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func FuzzOpen(f *testing.F) {
	f.Add(sealed(Header{Magic: MagicSuper, Volume: 1, Address: 0, Generation: 1}))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		if h, err := Open(b, MagicSuper, 0, 0); err == nil && h.Magic != MagicSuper {
			t.Fatalf("Open accepted magic %#x", h.Magic)
		}
	})
}
