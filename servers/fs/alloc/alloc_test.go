package alloc

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"

	"valence.dev/servers/fs/blockdev"
)

func mustLayout(t *testing.T, blocks uint64) Layout {
	t.Helper()
	l, err := NewLayout(blocks)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func TestNewLayout(t *testing.T) {
	tests := []struct {
		blocks  uint64
		want    Layout
		wantErr error
	}{
		{15, Layout{}, ErrLayout},
		{16, Layout{Blocks: 16, BitmapBlocks: 1}, nil},
		{BitsPerBlock, Layout{Blocks: BitsPerBlock, BitmapBlocks: 1}, nil},
		{BitsPerBlock + 1, Layout{Blocks: BitsPerBlock + 1, BitmapBlocks: 2}, nil},
		{1 << 21, Layout{Blocks: 1 << 21, BitmapBlocks: 65}, nil},
		{MaxBlocks + 1, Layout{}, ErrLayout},
	}
	for _, tt := range tests {
		got, err := NewLayout(tt.blocks)
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("NewLayout(%d): error %v, want %v", tt.blocks, err, tt.wantErr)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("NewLayout(%d) (-want +got):\n%s", tt.blocks, diff)
		}
	}
	l := mustLayout(t, 1<<21)
	if got, want := []uint64{l.CopyStart(0), l.CopyStart(1), l.DataStart()}, []uint64{2, 67, 132}; !cmp.Equal(got, want) {
		t.Errorf("copy 0, copy 1, data start = %v, want %v", got, want)
	}
}

func TestAllocRelease(t *testing.T) {
	a := New(mustLayout(t, 64)) // data area is 4..63
	type step struct {
		op          string // "alloc", "release", "commit"
		start, n    uint64
		wantStart   uint64
		wantN       uint64
		wantErr     error
		wantFree    uint64
		wantPending uint64
	}
	steps := []step{
		{op: "alloc", start: 0, n: 10, wantStart: 4, wantN: 10, wantFree: 50},
		{op: "alloc", start: 30, n: 5, wantStart: 30, wantN: 5, wantFree: 45},
		{op: "alloc", start: 0, n: 100, wantStart: 14, wantN: 16, wantFree: 29}, // stops at 30
		{op: "release", start: 30, n: 5, wantFree: 34},                          // fresh: free at once
		{op: "release", start: 30, n: 1, wantErr: ErrCorrupt, wantFree: 34},
		{op: "commit", wantFree: 34},
		{op: "release", start: 4, n: 2, wantFree: 34, wantPending: 2}, // committed: pending
		{op: "release", start: 5, n: 1, wantErr: ErrCorrupt, wantFree: 34, wantPending: 2},
		{op: "alloc", start: 4, n: 3, wantStart: 30, wantN: 3, wantFree: 31, wantPending: 2},
		{op: "release", start: 2, n: 1, wantErr: ErrCorrupt, wantFree: 31, wantPending: 2}, // fixed area
		{op: "release", start: 63, n: 2, wantErr: ErrCorrupt, wantFree: 31, wantPending: 2},
		{op: "commit", wantFree: 33},
		{op: "alloc", start: 4, n: 3, wantStart: 4, wantN: 2, wantFree: 31},
	}
	for i, s := range steps {
		var err error
		var gotStart, gotN uint64
		switch s.op {
		case "alloc":
			gotStart, gotN, err = a.Alloc(s.start, s.n)
		case "release":
			err = a.Release(s.start, s.n)
		case "commit":
			a.Committed()
		}
		if !errors.Is(err, s.wantErr) {
			t.Fatalf("step %d %s(%d, %d): error %v, want %v", i, s.op, s.start, s.n, err, s.wantErr)
		}
		if gotStart != s.wantStart || gotN != s.wantN {
			t.Errorf("step %d %s: got run %d+%d, want %d+%d", i, s.op, gotStart, gotN, s.wantStart, s.wantN)
		}
		if a.Free() != s.wantFree || a.Pending() != s.wantPending {
			t.Errorf("step %d %s: free %d pending %d, want %d %d", i, s.op, a.Free(), a.Pending(), s.wantFree, s.wantPending)
		}
	}
}

func TestExhaustion(t *testing.T) {
	a := New(mustLayout(t, 16))
	start, n, err := a.Alloc(0, 100)
	if err != nil || start != 4 || n != 12 {
		t.Fatalf("Alloc = %d+%d, %v; want 4+12", start, n, err)
	}
	if _, _, err := a.Alloc(0, 1); !errors.Is(err, ErrNoSpace) {
		t.Fatalf("Alloc on a full device: %v, want ErrNoSpace", err)
	}
}

// model is the obvious per-block state machine the allocator must match.
type model struct {
	state []byte // 'f' free, 'c' committed, 'n' fresh, 'p' pending
}

func (m *model) count(s byte) (n uint64) {
	for _, x := range m.state {
		if x == s {
			n++
		}
	}
	return n
}

func TestRandomAgainstModel(t *testing.T) {
	l := mustLayout(t, BitsPerBlock+500) // two bitmap blocks per copy
	a := New(l)
	m := &model{state: make([]byte, l.Blocks)}
	for b := range m.state {
		m.state[b] = 'f'
		if uint64(b) < l.DataStart() {
			m.state[b] = 'x'
		}
	}
	rng := rand.New(rand.NewPCG(1, 1))
	dev := blockdev.NewMem(l.Blocks)
	gen := uint64(1)
	for i := range 20000 {
		switch r := rng.IntN(100); {
		case r < 50:
			hint := l.DataStart() + rng.Uint64N(l.Blocks-l.DataStart())
			start, n, err := a.Alloc(hint, 1+rng.Uint64N(64))
			if errors.Is(err, ErrNoSpace) {
				if m.count('f') != 0 {
					t.Fatalf("op %d: ErrNoSpace with %d free blocks", i, m.count('f'))
				}
				continue
			}
			if err != nil {
				t.Fatalf("op %d: Alloc: %v", i, err)
			}
			for b := start; b < start+n; b++ {
				if m.state[b] != 'f' {
					t.Fatalf("op %d: Alloc handed out block %d in state %c", i, b, m.state[b])
				}
				m.state[b] = 'n'
			}
		case r < 95:
			b := rng.Uint64N(l.Blocks)
			err := a.Release(b, 1)
			switch m.state[b] {
			case 'n':
				m.state[b] = 'f'
			case 'c':
				m.state[b] = 'p'
			default:
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("op %d: Release(%d) in state %c: %v, want ErrCorrupt", i, b, m.state[b], err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("op %d: Release(%d): %v", i, b, err)
			}
		default:
			if err := a.WriteCopy(dev, 7, gen); err != nil {
				t.Fatal(err)
			}
			a.Committed()
			for b, s := range m.state {
				switch s {
				case 'n':
					m.state[b] = 'c'
				case 'p':
					m.state[b] = 'f'
				}
			}
			checkLoad(t, dev, l, gen, m)
			gen++
		}
		if a.Free() != m.count('f') || a.Pending() != m.count('p') {
			t.Fatalf("op %d: free %d pending %d, model %d %d", i, a.Free(), a.Pending(), m.count('f'), m.count('p'))
		}
	}
}

// checkLoad loads the copy just written and compares it with the model.
func checkLoad(t *testing.T, dev blockdev.Device, l Layout, gen uint64, m *model) {
	t.Helper()
	b, err := Load(dev, l, 7, gen)
	if err != nil {
		t.Fatalf("Load generation %d: %v", gen, err)
	}
	for blk, s := range m.state {
		if got, want := b.used.test(uint64(blk)), s != 'f'; got != want {
			t.Fatalf("generation %d: loaded block %d in use = %v, model state %c", gen, blk, got, s)
		}
	}
}

func TestReadCopyRefuses(t *testing.T) {
	l := mustLayout(t, 100)
	dev := blockdev.NewMem(l.Blocks)
	a := New(l)
	for gen := uint64(0); gen < 2; gen++ {
		if err := a.WriteCopy(dev, 9, gen); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name    string
		volume  uint64
		gen     uint64
		copy    int
		damage  func(img []byte)
		wantErr error
	}{
		{"intact copy 0", 9, 0, 0, nil, nil},
		{"intact copy 1", 9, 1, 1, nil, nil},
		{"wrong volume", 10, 1, 1, nil, ErrBitmap},
		{"written after the superblock", 9, 0, 1, nil, ErrBitmap},
		{"wrong parity", 9, 2, 0, func(img []byte) {
			copy(img[2*blockdev.BlockSize:3*blockdev.BlockSize], img[3*blockdev.BlockSize:])
		}, ErrBitmap},
		{"bit flip", 9, 1, 1, func(img []byte) { img[3*blockdev.BlockSize+100] ^= 1 }, ErrBitmap},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := append([]byte(nil), dev.Bytes()...)
			if tt.damage != nil {
				tt.damage(img)
			}
			if _, err := ReadCopy(blockdev.MemFrom(img), l, tt.volume, tt.gen, tt.copy); !errors.Is(err, tt.wantErr) {
				t.Fatalf("ReadCopy: %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestFreshRun(t *testing.T) {
	a := New(mustLayout(t, 64))
	a.Alloc(0, 4) // 4..7
	a.Committed()
	a.Alloc(0, 4) // 8..11 fresh
	tests := []struct {
		start, n  uint64
		wantFresh bool
		wantRun   uint64
	}{
		{4, 10, false, 4},
		{8, 10, true, 4},
		{9, 2, true, 2},
		{12, 100, false, 52},
	}
	for _, tt := range tests {
		fresh, run := a.FreshRun(tt.start, tt.n)
		if fresh != tt.wantFresh || run != tt.wantRun {
			t.Errorf("FreshRun(%d, %d) = %v, %d; want %v, %d", tt.start, tt.n, fresh, run, tt.wantFresh, tt.wantRun)
		}
	}
}

func FuzzReadCopy(f *testing.F) {
	l, _ := NewLayout(MinBlocks)
	dev := blockdev.NewMem(l.Blocks)
	New(l).WriteCopy(dev, 1, 0)
	f.Add(dev.Bytes()[l.CopyStart(0)*blockdev.BlockSize : (l.CopyStart(0)+1)*blockdev.BlockSize])
	f.Fuzz(func(t *testing.T, b []byte) {
		img := make([]byte, l.Blocks*blockdev.BlockSize)
		copy(img[l.CopyStart(0)*blockdev.BlockSize:], b)
		if m, err := ReadCopy(blockdev.MemFrom(img), l, 1, 0, 0); err == nil {
			m.Count()
		}
	})
}
