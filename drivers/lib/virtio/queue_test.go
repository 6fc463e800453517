package virtio

import (
	"encoding/binary"
	"errors"
	"testing"

	"valence.dev/drivers/lib/devtest"
)

func testQueue(t testing.TB, n uint16) *Queue {
	dma := devtest.NewDMA()
	_, _, total := ringLayout(uint64(n))
	mem, err := dma.Alloc(total, 4096)
	if err != nil {
		t.Fatal(err)
	}
	return newQueue(0, n, dma, mem, func() {})
}

func TestRingLayout(t *testing.T) {
	for _, n := range []uint64{1, 2, 256, MaxQueueSize} {
		avail, used, total := ringLayout(n)
		if avail != 16*n || avail%16 != 0 {
			t.Errorf("n=%d: avail ring at %d", n, avail)
		}
		if used%4 != 0 || used < avail+6+2*n {
			t.Errorf("n=%d: used ring at %d overlaps or is misaligned (avail at %d)", n, used, avail)
		}
		if total != used+6+8*n {
			t.Errorf("n=%d: total %d, want %d", n, total, used+6+8*n)
		}
	}
}

func TestAddChecks(t *testing.T) {
	q := testQueue(t, 4)
	r := Segment{Addr: 0x1000, Len: 8}
	w := Segment{Addr: 0x2000, Len: 8, Write: true}
	for _, c := range []struct {
		name string
		segs []Segment
		want error // nil: any error
	}{
		{"empty", nil, nil},
		{"zero length", []Segment{{Addr: 1}}, nil},
		{"readable after writable", []Segment{w, r}, nil},
		{"longer than the queue", []Segment{r, r, r, r, w}, nil},
	} {
		if err := q.Add(c.segs, nil); err == nil || errors.Is(err, ErrQueueFull) {
			t.Errorf("%s: Add = %v, want a usage error", c.name, err)
		}
	}
	if err := q.Add([]Segment{r, r, w}, 1); err != nil {
		t.Fatal(err)
	}
	if err := q.Add([]Segment{r, w}, 2); !errors.Is(err, ErrQueueFull) {
		t.Errorf("Add to a full queue = %v, want ErrQueueFull", err)
	}
	if got := q.Free(); got != 1 {
		t.Errorf("Free = %d, want 1", got)
	}
}

// FuzzHarvest puts hostile bytes in the used ring of a queue with chains
// in flight: Harvest must never panic, must return only tokens in flight
// (each once, with a len within its chain) and must keep every descriptor
// accounted for.
func FuzzHarvest(f *testing.F) {
	f.Add(uint8(3), uint8(3), []byte{0, 0, 2, 0, 0, 0, 0, 0, 8, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0})
	f.Add(uint8(1), uint8(1), []byte{0, 0, 0xff, 0xff})
	f.Add(uint8(4), uint8(8), []byte{1, 0, 1, 0, 0x10, 0, 0, 0, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, sizeLog, adds uint8, used []byte) {
		n := uint16(1) << (sizeLog % 6)
		q := testQueue(t, n)
		added := map[int]bool{}
		for i := range int(adds) {
			segs := []Segment{{Addr: 0x1000, Len: 16}, {Addr: 0x2000, Len: uint32(i + 1), Write: true}}
			if i%2 == 1 {
				segs = segs[1:]
			}
			if q.Add(segs, i) != nil {
				break
			}
			added[i] = true
		}
		copy(q.used, used)
		for round := 0; round < 2; round++ {
			got, err := q.Harvest()
			for _, u := range got {
				i, ok := u.Token.(int)
				if !ok || !added[i] {
					t.Fatalf("harvested token %v not in flight", u.Token)
				}
				delete(added, i)
				if u.Written > uint32(i+1) {
					t.Fatalf("token %d: written %d past its %d writable bytes", i, u.Written, i+1)
				}
			}
			if err != nil && !errors.Is(err, ErrDevice) {
				t.Fatalf("Harvest error %v does not wrap ErrDevice", err)
			}
			checkAccounting(t, q, len(added))
			// A second harvest of the same (unchanged) ring finds
			// nothing new, or the same error.
			binary.LittleEndian.PutUint16(q.used[0:], 0)
		}
	})
}

func checkAccounting(t *testing.T, q *Queue, inFlight int) {
	t.Helper()
	seen := make([]bool, q.size)
	mark := func(d uint16) {
		if d >= q.size || seen[d] {
			t.Fatalf("descriptor %d accounted twice or out of range", d)
		}
		seen[d] = true
	}
	for _, d := range q.free {
		mark(d)
	}
	chains := 0
	for _, c := range q.chains {
		if c.descs != nil {
			chains++
			for _, d := range c.descs {
				mark(d)
			}
		}
	}
	for d, ok := range seen {
		if !ok {
			t.Fatalf("descriptor %d lost", d)
		}
	}
	if chains != q.inFlight || chains != inFlight {
		t.Fatalf("%d chains, inFlight %d, want %d", chains, q.inFlight, inFlight)
	}
}
