package blockdev

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func fill(v byte, blocks int) []byte { return bytes.Repeat([]byte{v}, blocks*BlockSize) }

// devices returns one of each Device implementation, 8 blocks each.
func devices(t *testing.T) map[string]Device {
	f, err := CreateFile(filepath.Join(t.TempDir(), "img"), 8)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return map[string]Device{
		"file":     f,
		"mem":      NewMem(8),
		"overlay":  NewOverlay(NewMem(8)),
		"recorder": NewRecorder(NewMem(8)),
		"cache":    NewCache(NewMem(8), 4*BlockSize),
	}
}

func TestRequests(t *testing.T) {
	tests := []struct {
		name    string
		len     int
		block   uint64
		wantErr error
	}{
		{"one block", BlockSize, 0, nil},
		{"last block", BlockSize, 7, nil},
		{"whole device", 8 * BlockSize, 0, nil},
		{"past the end", 2 * BlockSize, 7, ErrRange},
		{"beyond the end", BlockSize, 8, ErrRange},
		{"huge block number", BlockSize, 1 << 62, ErrRange},
		{"partial block", 100, 0, ErrRange},
		{"empty", 0, 3, nil},
	}
	for name, dev := range devices(t) {
		for _, tt := range tests {
			t.Run(name+"/"+tt.name, func(t *testing.T) {
				p := bytes.Repeat([]byte{0x5a}, tt.len)
				if err := dev.WriteAt(p, tt.block); !errors.Is(err, tt.wantErr) {
					t.Fatalf("WriteAt: %v, want %v", err, tt.wantErr)
				}
				got := make([]byte, tt.len)
				if err := dev.ReadAt(got, tt.block); !errors.Is(err, tt.wantErr) {
					t.Fatalf("ReadAt: %v, want %v", err, tt.wantErr)
				}
				if tt.wantErr == nil && !bytes.Equal(got, p) {
					t.Errorf("read back differs from what was written")
				}
				if err := dev.Flush(); err != nil {
					t.Errorf("Flush: %v", err)
				}
			})
		}
	}
}

func TestOverlayLeavesBase(t *testing.T) {
	base := MemFrom(fill(1, 4))
	o := NewOverlay(base)
	if err := o.WriteAt(fill(2, 1), 1); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 4*BlockSize)
	if err := o.ReadAt(got, 0); err != nil {
		t.Fatal(err)
	}
	want := append(append(fill(1, 1), fill(2, 1)...), fill(1, 2)...)
	if !bytes.Equal(got, want) {
		t.Errorf("overlay read does not show its own write over the base")
	}
	if !bytes.Equal(base.Bytes(), fill(1, 4)) {
		t.Errorf("overlay write reached the base")
	}
}

func TestReplay(t *testing.T) {
	rec := NewRecorder(NewMem(4))
	base := append([]byte(nil), rec.Device.(*Mem).Bytes()...)
	must := func(err error) {
		if err != nil {
			t.Fatal(err)
		}
	}
	must(rec.WriteAt(fill(1, 2), 0)) // ops 0, 1
	must(rec.Flush())                // op 2
	must(rec.WriteAt(fill(2, 1), 1)) // op 3
	must(rec.WriteAt(fill(3, 1), 3)) // op 4
	must(rec.Flush())                // op 5
	if rec.Len() != 6 {
		t.Fatalf("log has %d ops, want 6", rec.Len())
	}
	tests := []struct {
		n    int
		loss Loss
		want []byte // first byte of each block
	}{
		{0, KeepAll, []byte{0, 0, 0, 0}},
		{1, LoseAll, []byte{0, 0, 0, 0}},
		{1, KeepAll, []byte{1, 0, 0, 0}},
		{3, LoseAll, []byte{1, 1, 0, 0}},
		{4, LoseAll, []byte{1, 1, 0, 0}},
		{5, KeepAll, []byte{1, 2, 0, 3}},
		{6, LoseAll, []byte{1, 2, 0, 3}},
	}
	r := NewReplay(base, rec.Ops())
	rng := rand.New(rand.NewPCG(1, 2))
	for _, tt := range tests {
		o, err := r.Cut(tt.n, tt.loss, rng)
		must(err)
		got := make([]byte, 4)
		buf := make([]byte, BlockSize)
		for b := range got {
			must(o.ReadAt(buf, uint64(b)))
			got[b] = buf[0]
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("cut at %d, %v (-want +got):\n%s", tt.n, tt.loss, diff)
		}
	}
	if _, err := r.Cut(2, LoseAll, rng); err == nil {
		t.Errorf("Cut went backwards without an error")
	}
}

func TestReplayTears(t *testing.T) {
	rec := NewRecorder(NewMem(1))
	if err := rec.WriteAt(fill(0xff, 1), 0); err != nil {
		t.Fatal(err)
	}
	r := NewReplay(make([]byte, BlockSize), rec.Ops())
	rng := rand.New(rand.NewPCG(3, 4))
	seen := map[string]bool{}
	for range 200 {
		o, err := r.Cut(1, LoseSome, rng)
		if err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, BlockSize)
		if err := o.ReadAt(buf, 0); err != nil {
			t.Fatal(err)
		}
		switch {
		case bytes.Equal(buf, fill(0xff, 1)):
			seen["written"] = true
		case bytes.Equal(buf, make([]byte, BlockSize)):
			seen["lost"] = true
		default:
			seen["torn"] = true
		}
	}
	if diff := cmp.Diff(map[string]bool{"written": true, "lost": true, "torn": true}, seen); diff != "" {
		t.Errorf("outcomes of LoseSome (-want +got):\n%s", diff)
	}
}
