package blockdev

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// blockData is the content of block b as a write tagged tag leaves it:
// the block number, the tag, and a fill derived from both, so a block
// that ends up in the wrong place, or mixes two writes, is seen.
func blockData(b, tag uint64) []byte {
	p := make([]byte, BlockSize)
	for i := range 256 {
		p[i] = byte(b) ^ byte(tag) ^ byte(i)
	}
	for i := 256; i < BlockSize; i += 256 {
		copy(p[i:], p[:256])
	}
	binary.LittleEndian.PutUint64(p, b)
	binary.LittleEndian.PutUint64(p[8:], tag)
	return p
}

// parseBlock returns the block number and tag of a block blockData
// made, and whether it is one.
func parseBlock(p []byte) (b, tag uint64, ok bool) {
	b = binary.LittleEndian.Uint64(p)
	tag = binary.LittleEndian.Uint64(p[8:])
	return b, tag, bytes.Equal(p, blockData(b, tag))
}

// tagged returns the blocks [b, b+n) as a write tagged tag leaves them.
func tagged(b uint64, n int, tag uint64) []byte {
	var p []byte
	for i := range n {
		p = append(p, blockData(b+uint64(i), tag)...)
	}
	return p
}

// req is a request a testDev saw.
type req struct {
	Write bool
	Block uint64
	Count int
}

var errInjected = errors.New("injected device error")

// testDev is the device the cache tests put a Cache in front of: a Mem
// behind a mutex, so that goroutines may share it, which logs requests
// and can fail them. Block b starts as blockData(b, 0).
type testDev struct {
	mem *Mem
	// failWrite, if set, says of each write how many of its blocks
	// reach the medium before it fails, or -1 for none to fail.
	failWrite func(p []byte, block uint64) int
	// failRead, if set, says whether a read fails.
	failRead func(block uint64, n int) bool
	// yield: hand the processor to another goroutine between moving
	// the data and returning, to let writes overtake reads.
	yield bool
	// delay is slept by every request.
	delay time.Duration

	mu      sync.Mutex
	reqs    []req
	flushes int
}

func newTestDev(blocks uint64) *testDev {
	return &testDev{mem: MemFrom(tagged(0, int(blocks), 0))}
}

func (d *testDev) ReadAt(p []byte, block uint64) error {
	if err := check(p, block, d.mem.Blocks()); err != nil {
		return err
	}
	time.Sleep(d.delay)
	d.mu.Lock()
	d.reqs = append(d.reqs, req{false, block, len(p) / BlockSize})
	if d.failRead != nil && d.failRead(block, len(p)/BlockSize) {
		d.mu.Unlock()
		return errInjected
	}
	err := d.mem.ReadAt(p, block)
	d.mu.Unlock()
	if d.yield {
		runtime.Gosched()
	}
	return err
}

func (d *testDev) WriteAt(p []byte, block uint64) error {
	if err := check(p, block, d.mem.Blocks()); err != nil {
		return err
	}
	time.Sleep(d.delay)
	d.mu.Lock()
	defer d.mu.Unlock()
	d.reqs = append(d.reqs, req{true, block, len(p) / BlockSize})
	if d.failWrite != nil {
		if k := d.failWrite(p, block); k >= 0 {
			_ = d.mem.WriteAt(p[:k*BlockSize], block)
			return errInjected
		}
	}
	return d.mem.WriteAt(p, block)
}

func (d *testDev) Flush() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.flushes++
	return nil
}

func (d *testDev) Blocks() uint64 { return d.mem.Blocks() }

// requests returns the requests logged so far and clears the log.
func (d *testDev) requests() []req {
	d.mu.Lock()
	defer d.mu.Unlock()
	r := d.reqs
	d.reqs = nil
	return r
}

// bytes returns a copy of the medium.
func (d *testDev) bytes() []byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	return bytes.Clone(d.mem.Bytes())
}

// verifyCache checks the cache's invariants against the medium it
// fronts: the LRU list and the map hold the same entries, no more than
// the capacity, each equal to the medium's block; and no write is in
// flight (the cache must be idle).
func verifyCache(t *testing.T, c *Cache, medium []byte) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for e := c.lru.next; e != &c.lru; e = e.next {
		n++
		if e.next.prev != e {
			t.Fatalf("LRU list broken at block %d", e.block)
		}
		if c.entries[e.block] != e {
			t.Errorf("block %d is in the LRU list but not the map", e.block)
		}
		if want := medium[e.block*BlockSize : (e.block+1)*BlockSize]; !bytes.Equal(e.data, want) {
			b, tag, _ := parseBlock(e.data)
			wb, wtag, _ := parseBlock(want)
			t.Errorf("block %d cached as %d/%d, the device holds %d/%d", e.block, b, tag, wb, wtag)
		}
	}
	if n != len(c.entries) {
		t.Errorf("%d entries in the LRU list, %d in the map", n, len(c.entries))
	}
	if uint64(n) > c.capacity {
		t.Errorf("%d blocks cached, capacity %d", n, c.capacity)
	}
	for i, w := range c.writes {
		if w.writing != 0 {
			t.Errorf("stripe %d: %d writes in flight in an idle cache", i, w.writing)
		}
	}
}

// Kinds of cacheOp.
const (
	opRead  = iota
	opWrite // through the cache
	opPoke  // straight to the device, behind the cache's back
	opDrop  // Cache.Drop
)

// cacheOp is one step of a cache test.
type cacheOp struct {
	kind  int
	block uint64
	count int
	tag   uint64 // of the data written
}

func rd(b uint64, n int) cacheOp               { return cacheOp{opRead, b, n, 0} }
func wr(b uint64, n int, tag uint64) cacheOp   { return cacheOp{opWrite, b, n, tag} }
func poke(b uint64, n int, tag uint64) cacheOp { return cacheOp{opPoke, b, n, tag} }

// run applies op to c over d, returning what a read read.
func (op cacheOp) run(c *Cache, d *testDev) ([]byte, error) {
	switch op.kind {
	case opRead:
		p := make([]byte, op.count*BlockSize)
		return p, c.ReadAt(p, op.block)
	case opWrite:
		return nil, c.WriteAt(tagged(op.block, op.count, op.tag), op.block)
	case opPoke:
		d.mu.Lock()
		defer d.mu.Unlock()
		return nil, d.mem.WriteAt(tagged(op.block, op.count, op.tag), op.block)
	case opDrop:
		c.Drop()
		return nil, nil
	}
	panic("bad op")
}

func TestCacheRequests(t *testing.T) {
	const R, W = false, true
	tests := []struct {
		name      string
		capacity  uint64 // blocks
		ops       []cacheOp
		wantReqs  []req
		wantStats CacheStats
	}{
		{
			name:      "a cold read is one request",
			capacity:  16,
			ops:       []cacheOp{rd(0, 8)},
			wantReqs:  []req{{R, 0, 8}},
			wantStats: CacheStats{Misses: 8, Reads: 1, ReadBlocks: 8, Cached: 8},
		},
		{
			name:      "a second read hits",
			capacity:  16,
			ops:       []cacheOp{rd(0, 8), rd(0, 8), rd(2, 3)},
			wantReqs:  []req{{R, 0, 8}},
			wantStats: CacheStats{Hits: 11, Misses: 8, Reads: 1, ReadBlocks: 8, Cached: 8},
		},
		{
			name:      "a partial hit reads only the rest",
			capacity:  16,
			ops:       []cacheOp{rd(0, 4), rd(0, 8)},
			wantReqs:  []req{{R, 0, 4}, {R, 4, 4}},
			wantStats: CacheStats{Hits: 4, Misses: 8, Reads: 2, ReadBlocks: 8, Cached: 8},
		},
		{
			name:      "a hit in the middle",
			capacity:  32,
			ops:       []cacheOp{rd(10, gapBlocks+1), rd(0, 30)},
			wantReqs:  []req{{R, 10, gapBlocks + 1}, {R, 0, 10}, {R, 19, 11}},
			wantStats: CacheStats{Hits: 9, Misses: 30, Reads: 3, ReadBlocks: 30, Cached: 30},
		},
		{
			name:      "a short hit in the middle is read again to make one request",
			capacity:  32,
			ops:       []cacheOp{rd(4, 2), rd(0, 12)},
			wantReqs:  []req{{R, 4, 2}, {R, 0, 12}},
			wantStats: CacheStats{Hits: 2, Misses: 12, Reads: 2, ReadBlocks: 14, Cached: 12},
		},
		{
			name:      "the widest gap read again",
			capacity:  32,
			ops:       []cacheOp{rd(10, gapBlocks), rd(9, gapBlocks+2)},
			wantReqs:  []req{{R, 10, gapBlocks}, {R, 9, gapBlocks + 2}},
			wantStats: CacheStats{Hits: gapBlocks, Misses: gapBlocks + 2, Reads: 2, ReadBlocks: 2*gapBlocks + 2, Cached: gapBlocks + 2},
		},
		{
			name:     "the least recently used block is evicted",
			capacity: 4,
			ops:      []cacheOp{rd(0, 1), rd(1, 1), rd(2, 1), rd(3, 1), rd(0, 1), rd(4, 1), rd(0, 1), rd(1, 1)},
			wantReqs: []req{{R, 0, 1}, {R, 1, 1}, {R, 2, 1}, {R, 3, 1}, {R, 4, 1}, {R, 1, 1}},
			wantStats: CacheStats{Hits: 2, Misses: 6, Reads: 6, ReadBlocks: 6, Evictions: 2,
				Cached: 4},
		},
		{
			name:      "a read larger than the cache keeps its end",
			capacity:  4,
			ops:       []cacheOp{rd(0, 8), rd(4, 4), rd(0, 1)},
			wantReqs:  []req{{R, 0, 8}, {R, 0, 1}},
			wantStats: CacheStats{Hits: 4, Misses: 9, Reads: 2, ReadBlocks: 9, Evictions: 5, Cached: 4},
		},
		{
			name:      "no cache",
			capacity:  0,
			ops:       []cacheOp{rd(0, 4), rd(0, 4), wr(0, 1, 1), rd(0, 1)},
			wantReqs:  []req{{R, 0, 4}, {R, 0, 4}, {W, 0, 1}, {R, 0, 1}},
			wantStats: CacheStats{Misses: 9, Reads: 3, ReadBlocks: 9, Writes: 1},
		},
		{
			name:      "written blocks are cached",
			capacity:  16,
			ops:       []cacheOp{wr(0, 4, 1), rd(0, 4)},
			wantReqs:  []req{{W, 0, 4}},
			wantStats: CacheStats{Hits: 4, Writes: 1, Cached: 4},
		},
		{
			name:      "a write updates cached blocks",
			capacity:  16,
			ops:       []cacheOp{rd(0, 4), wr(1, 2, 1), rd(0, 4), wr(3, 2, 2), rd(0, 5)},
			wantReqs:  []req{{R, 0, 4}, {W, 1, 2}, {W, 3, 2}},
			wantStats: CacheStats{Hits: 9, Misses: 4, Reads: 1, ReadBlocks: 4, Writes: 2, Cached: 5},
		},
		{
			name:      "writes evict",
			capacity:  2,
			ops:       []cacheOp{wr(0, 4, 1), rd(0, 4)},
			wantReqs:  []req{{W, 0, 4}, {R, 0, 2}},
			wantStats: CacheStats{Hits: 2, Misses: 2, Reads: 1, ReadBlocks: 2, Writes: 1, Evictions: 4, Cached: 2},
		},
		{
			name:      "drop forgets",
			capacity:  16,
			ops:       []cacheOp{rd(0, 4), poke(1, 1, 9), {kind: opDrop}, rd(0, 4)},
			wantReqs:  []req{{R, 0, 4}, {R, 0, 4}},
			wantStats: CacheStats{Misses: 8, Reads: 2, ReadBlocks: 8, Cached: 4},
		},
		{
			name:      "empty requests",
			capacity:  16,
			ops:       []cacheOp{rd(5, 0), wr(5, 0, 1)},
			wantReqs:  []req{{W, 5, 0}},
			wantStats: CacheStats{Writes: 1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newTestDev(64)
			c := NewCache(d, tt.capacity*BlockSize)
			for i, op := range tt.ops {
				got, err := op.run(c, d)
				if err != nil {
					t.Fatalf("op %d: %v", i, err)
				}
				if op.kind != opRead {
					continue
				}
				want := d.bytes()[op.block*BlockSize : (op.block+uint64(op.count))*BlockSize]
				if !bytes.Equal(got, want) {
					t.Errorf("op %d: read %d blocks at %d: not what the device holds", i, op.count, op.block)
				}
			}
			if diff := cmp.Diff(tt.wantReqs, d.requests()); diff != "" {
				t.Errorf("device requests (-want +got):\n%s", diff)
			}
			tt.wantStats.Capacity = tt.capacity
			if diff := cmp.Diff(tt.wantStats, c.Stats()); diff != "" {
				t.Errorf("stats (-want +got):\n%s", diff)
			}
			verifyCache(t, c, d.bytes())
		})
	}
}

func TestCacheFailures(t *testing.T) {
	tests := []struct {
		name       string
		warm       []cacheOp // run first; must succeed
		failWrite  int       // blocks of the failing write that reach the medium; -1: none fails
		failRead   uint64    // reads from this block on fail; 0: none
		op         cacheOp   // fails
		wantCached uint64    // after op
	}{
		{"a write fails before writing", []cacheOp{rd(0, 8)}, 0, 0, wr(2, 4, 7), 4},
		{"a write fails after writing some blocks", []cacheOp{rd(0, 8)}, 2, 0, wr(2, 4, 7), 4},
		{"a write fails after writing all its blocks", []cacheOp{rd(0, 8)}, 4, 0, wr(2, 4, 7), 4},
		{"a write of blocks not cached fails", nil, 2, 0, wr(2, 4, 7), 0},
		{"a write of blocks partly cached fails", []cacheOp{rd(0, 3), rd(5, 2)}, 1, 0, wr(2, 4, 7), 3},
		{"a failed read caches nothing", nil, -1, 1, rd(0, 4), 0},
		{"the runs read before a failed one are cached", []cacheOp{rd(10, gapBlocks+1)}, -1, 19, rd(0, 30), 19},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newTestDev(64)
			c := NewCache(d, 64*BlockSize)
			for _, op := range tt.warm {
				if _, err := op.run(c, d); err != nil {
					t.Fatal(err)
				}
			}
			fail := true
			if tt.failWrite >= 0 {
				d.failWrite = func(p []byte, block uint64) int {
					if fail {
						return tt.failWrite
					}
					return -1
				}
			}
			if tt.failRead != 0 {
				d.failRead = func(block uint64, n int) bool { return fail && block+uint64(n) > tt.failRead }
			}
			if _, err := tt.op.run(c, d); !errors.Is(err, errInjected) {
				t.Fatalf("got %v, want the injected error", err)
			}
			if got := c.Stats().Cached; got != tt.wantCached {
				t.Errorf("%d blocks cached after the failure, want %d", got, tt.wantCached)
			}
			verifyCache(t, c, d.bytes())
			fail = false
			got := make([]byte, 64*BlockSize)
			if err := c.ReadAt(got, 0); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, d.bytes()) {
				t.Errorf("reading the device through the cache after the failure differs from the device")
			}
			verifyCache(t, c, d.bytes())
		})
	}
}

// stepDev is a testDev that stops every request twice, before and after
// it moves the data, until the test lets it go on: the test runs one
// request at a time and so chooses the interleaving exactly.
type stepDev struct {
	*testDev
	stops chan chan struct{} // a request stopped; closing the channel resumes it
}

func (d *stepDev) stop() {
	resume := make(chan struct{})
	d.stops <- resume
	<-resume
}

func (d *stepDev) ReadAt(p []byte, block uint64) error {
	d.stop()
	err := d.testDev.ReadAt(p, block)
	d.stop()
	return err
}

func (d *stepDev) WriteAt(p []byte, block uint64) error {
	d.stop()
	err := d.testDev.WriteAt(p, block)
	d.stop()
	return err
}

// failTag marks the data of a write that the device fails (after
// writing it) in TestCacheInterleavings.
const failTag = 99

// TestCacheInterleavings runs reads and writes of one block against each
// other in chosen orders and checks that the cache stays coherent with
// the device: whatever order the requests met the device and returned
// in, a read through the cache afterwards reads what the device holds.
func TestCacheInterleavings(t *testing.T) {
	tests := []struct {
		name  string
		ops   map[string]cacheOp
		steps string // "start X": start op X; "step X": resume X from where it stopped; "drop"
		want  map[string]uint64
	}{
		{
			name:  "a write returns while a read is in the device",
			ops:   map[string]cacheOp{"R": rd(0, 1), "W": wr(0, 1, 1)},
			steps: "start R; step R; start W; step W; step W; step R",
			want:  map[string]uint64{"R": 0},
		},
		{
			name:  "a read starts while a write is in the device",
			ops:   map[string]cacheOp{"R": rd(0, 1), "W": wr(0, 1, 1)},
			steps: "start W; start R; step R; step R; step W; step W",
			want:  map[string]uint64{"R": 0},
		},
		{
			name:  "a read sees a write before the write returns",
			ops:   map[string]cacheOp{"R": rd(0, 1), "W": wr(0, 1, 1)},
			steps: "start W; step W; start R; step R; step R; step W",
			want:  map[string]uint64{"R": 1},
		},
		{
			name:  "a read returns after a write that started after it",
			ops:   map[string]cacheOp{"R": rd(0, 1), "W": wr(0, 1, 1)},
			steps: "start R; start W; step W; step R; step W; step R",
			want:  map[string]uint64{"R": 1},
		},
		{
			name:  "a read hits while a write is in the device",
			ops:   map[string]cacheOp{"P": rd(0, 1), "R": rd(0, 1), "W": wr(0, 1, 1)},
			steps: "start P; step P; step P; start W; step W; start R; step W",
			want:  map[string]uint64{"P": 0, "R": 0},
		},
		{
			name:  "writes return in the order they were applied",
			ops:   map[string]cacheOp{"W1": wr(0, 1, 1), "W2": wr(0, 1, 2)},
			steps: "start W1; start W2; step W1; step W2; step W1; step W2",
		},
		{
			name:  "writes return in the other order",
			ops:   map[string]cacheOp{"W1": wr(0, 1, 1), "W2": wr(0, 1, 2)},
			steps: "start W1; start W2; step W1; step W2; step W2; step W1",
		},
		{
			name:  "writes are applied in the other order",
			ops:   map[string]cacheOp{"W1": wr(0, 1, 1), "W2": wr(0, 1, 2)},
			steps: "start W1; start W2; step W2; step W1; step W2; step W1",
		},
		{
			name:  "writes are applied and return in the other order",
			ops:   map[string]cacheOp{"W1": wr(0, 1, 1), "W2": wr(0, 1, 2)},
			steps: "start W1; start W2; step W2; step W1; step W1; step W2",
		},
		{
			name:  "a read starts while a failing write is in the device",
			ops:   map[string]cacheOp{"R": rd(0, 1), "W": wr(0, 1, failTag)},
			steps: "start W; start R; step R; step W; step W; step R",
			want:  map[string]uint64{"R": 0},
		},
		{
			name:  "a read and a write that overlap in part",
			ops:   map[string]cacheOp{"R": rd(0, 3), "W": wr(2, 2, 1)},
			steps: "start R; step R; start W; step W; step W; step R",
			want:  map[string]uint64{"R": 0},
		},
		{
			name:  "a write fails while a read is in the device",
			ops:   map[string]cacheOp{"R": rd(0, 1), "W": wr(0, 1, failTag)},
			steps: "start R; step R; start W; step W; step W; step R",
			want:  map[string]uint64{"R": 0},
		},
		{
			name:  "a write of a cached block fails",
			ops:   map[string]cacheOp{"P": rd(0, 1), "W": wr(0, 1, failTag), "R": rd(0, 1)},
			steps: "start P; step P; step P; start W; step W; step W; start R; step R; step R",
			want:  map[string]uint64{"P": 0, "R": failTag},
		},
		{
			name:  "a write fails while a write is in the device",
			ops:   map[string]cacheOp{"W1": wr(0, 1, 1), "W2": wr(0, 1, failTag)},
			steps: "start W1; start W2; step W1; step W1; step W2; step W2",
		},
		{
			name:  "drop while a read is in the device",
			ops:   map[string]cacheOp{"R": rd(0, 1), "X": poke(0, 1, 5), "D": {kind: opDrop}},
			steps: "start R; step R; start X; start D; step R",
			want:  map[string]uint64{"R": 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &stepDev{testDev: newTestDev(4), stops: make(chan chan struct{})}
			d.failWrite = func(p []byte, block uint64) int {
				if _, tag, _ := parseBlock(p); tag == failTag {
					return len(p) / BlockSize
				}
				return -1
			}
			c := NewCache(d, 4*BlockSize)
			type running struct {
				done   chan error
				got    []byte
				resume chan struct{} // nil once done
			}
			ops := map[string]*running{}
			// wait returns once op r stops or ends.
			wait := func(name string, r *running) {
				select {
				case r.resume = <-d.stops:
				case err := <-r.done:
					r.resume = nil
					op := tt.ops[name]
					if wantErr := op.kind == opWrite && op.tag == failTag; (err != nil) != wantErr {
						t.Fatalf("%s: %v", name, err)
					}
				}
			}
			for _, step := range strings.Split(tt.steps, ";") {
				verb, name, _ := strings.Cut(strings.TrimSpace(step), " ")
				switch verb {
				case "start":
					r := &running{done: make(chan error, 1)}
					ops[name] = r
					go func() {
						var err error
						r.got, err = tt.ops[name].run(c, d.testDev)
						r.done <- err
					}()
					wait(name, r)
				case "step":
					r := ops[name]
					if r == nil || r.resume == nil {
						t.Fatalf("%q: %s is not stopped in the device", step, name)
					}
					close(r.resume)
					wait(name, r)
				default:
					t.Fatalf("bad step %q", step)
				}
			}
			got := map[string]uint64{}
			for name, r := range ops {
				if r.resume != nil {
					t.Fatalf("%s is still stopped in the device at the end", name)
				}
				if tt.ops[name].kind == opRead {
					_, got[name], _ = parseBlock(r.got)
				}
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("tags read (-want +got):\n%s", diff)
			}
			verifyCache(t, c, d.bytes())
			// And once more through the cache: the device's data.
			go func() {
				for resume := range d.stops {
					close(resume)
				}
			}()
			defer close(d.stops)
			all := make([]byte, 4*BlockSize)
			if err := c.ReadAt(all, 0); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(all, d.bytes()) {
				t.Errorf("the device read through the cache differs from the device")
			}
		})
	}
}

// TestCacheModel runs random reads, writes (some failing part way),
// flushes, drops and writes behind the cache's back, one at a time, and
// checks every read against a model of the medium.
func TestCacheModel(t *testing.T) {
	const blocks = 64
	for _, capacity := range []uint64{0, 1, 7, 16, blocks, 1000} {
		t.Run(fmt.Sprintf("capacity %d", capacity), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(capacity, 7))
			d := newTestDev(blocks)
			c := NewCache(d, capacity*BlockSize)
			model := d.bytes()
			failAfter := -1
			d.failWrite = func(p []byte, block uint64) int { return failAfter }
			for i := range 4000 {
				b := rng.Uint64N(blocks)
				n := 1 + rng.IntN(min(12, int(blocks-b)))
				tag := uint64(i + 1)
				switch r := rng.IntN(100); {
				case r < 55:
					p := make([]byte, n*BlockSize)
					if err := c.ReadAt(p, b); err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(p, model[b*BlockSize:(b+uint64(n))*BlockSize]) {
						t.Fatalf("op %d: read %d blocks at %d: differs from the model", i, n, b)
					}
				case r < 90:
					failAfter = -1
					want := n
					if rng.IntN(5) == 0 {
						failAfter = rng.IntN(n + 1)
						want = failAfter
					}
					p := tagged(b, n, tag)
					err := c.WriteAt(p, b)
					if (err != nil) != (failAfter >= 0) {
						t.Fatalf("op %d: write: %v", i, err)
					}
					copy(model[b*BlockSize:], p[:want*BlockSize])
				case r < 95:
					if err := c.Flush(); err != nil {
						t.Fatal(err)
					}
				default:
					p := tagged(b, n, tag)
					copy(model[b*BlockSize:], p)
					if _, err := poke(b, n, tag).run(c, d); err != nil {
						t.Fatal(err)
					}
					c.Drop()
				}
				if i%500 == 0 {
					verifyCache(t, c, model)
				}
			}
			verifyCache(t, c, model)
			if !bytes.Equal(model, d.bytes()) {
				t.Errorf("the device differs from the model")
			}
		})
	}
}

// TestCacheConcurrent runs goroutines that read and write through one
// cache at once. Each owns some blocks that only it writes, and must
// always read back its own last write of them, however the others'
// reads of them race its writes; the other blocks are all shared. At
// the end every cached block must be the device's.
func TestCacheConcurrent(t *testing.T) {
	const (
		workers = 4
		shared  = 16
		own     = 8
		blocks  = shared + workers*own
		ops     = 3000
	)
	if testing.Short() {
		t.Skip("slow")
	}
	for _, capacity := range []uint64{12, blocks} {
		t.Run(fmt.Sprintf("capacity %d", capacity), func(t *testing.T) {
			d := newTestDev(blocks)
			d.yield = true
			// A write whose tag is a multiple of 8 fails after writing
			// (tag/8)%(n+1) of its n blocks.
			failAfter := func(tag uint64, n int) int {
				if tag%8 != 0 {
					return -1
				}
				return int(tag/8) % (n + 1)
			}
			d.failWrite = func(p []byte, block uint64) int {
				_, tag, _ := parseBlock(p)
				return failAfter(tag, len(p)/BlockSize)
			}
			c := NewCache(d, capacity*BlockSize)
			var wg sync.WaitGroup
			for w := range workers {
				wg.Go(func() {
					rng := rand.New(rand.NewPCG(uint64(w), capacity))
					lo := uint64(shared + w*own)
					mine := make([]uint64, own) // tag of each of my blocks
					for i := 1; i <= ops; i++ {
						if rng.IntN(2) == 0 {
							b := rng.Uint64N(blocks)
							n := 1 + rng.IntN(min(10, int(blocks-b)))
							p := make([]byte, n*BlockSize)
							if err := c.ReadAt(p, b); err != nil {
								t.Error(err)
								return
							}
							for j := range n {
								bj := b + uint64(j)
								gb, tag, ok := parseBlock(p[j*BlockSize : (j+1)*BlockSize])
								if !ok || gb != bj {
									t.Errorf("worker %d: block %d read as a mix or as block %d", w, bj, gb)
									return
								}
								if bj >= lo && bj < lo+own && tag != mine[bj-lo] {
									t.Errorf("worker %d: own block %d read as tag %#x, last written %#x", w, bj, tag, mine[bj-lo])
									return
								}
							}
							continue
						}
						tag := uint64(w+1)<<32 | uint64(i)
						var b uint64
						var n int
						if rng.IntN(2) == 0 {
							b = rng.Uint64N(shared)
							n = 1 + rng.IntN(min(6, int(shared-b)))
						} else {
							b = lo + rng.Uint64N(own)
							n = 1 + rng.IntN(int(lo+own-b))
						}
						err := c.WriteAt(tagged(b, n, tag), b)
						k := failAfter(tag, n)
						if (err != nil) != (k >= 0) {
							t.Errorf("worker %d: write: %v", w, err)
							return
						}
						if k < 0 {
							k = n
						}
						for j := range k {
							if bj := b + uint64(j); bj >= lo {
								mine[bj-lo] = tag
							}
						}
					}
				})
			}
			wg.Wait()
			verifyCache(t, c, d.bytes())
			all := make([]byte, blocks*BlockSize)
			if err := c.ReadAt(all, 0); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(all, d.bytes()) {
				t.Errorf("the device read through the cache differs from the device")
			}
			st := c.Stats()
			t.Logf("%+v", st)
			if st.Hits == 0 || st.Misses == 0 {
				t.Errorf("no hits or no misses: the test tests little")
			}
		})
	}
}

func TestCacheRequestsRefused(t *testing.T) {
	d := newTestDev(8)
	c := NewCache(d, 8*BlockSize)
	for _, p := range [][]byte{make([]byte, 100), make([]byte, 2*BlockSize)} {
		if err := c.ReadAt(p, 7); !errors.Is(err, ErrRange) {
			t.Errorf("ReadAt of %d bytes at 7: %v, want ErrRange", len(p), err)
		}
		if err := c.WriteAt(p, 7); !errors.Is(err, ErrRange) {
			t.Errorf("WriteAt of %d bytes at 7: %v, want ErrRange", len(p), err)
		}
	}
	if diff := cmp.Diff([]req(nil), d.requests()); diff != "" {
		t.Errorf("refused requests reached the device (-want +got):\n%s", diff)
	}
}

func BenchmarkCache(b *testing.B) {
	const blocks = 4096 // 16 MiB
	// Requests of 1, 64 and 256 blocks.
	for _, size := range []int{1, 64, 256} {
		name := fmt.Sprintf("%dKiB", size*BlockSize>>10)
		bench := func(b *testing.B, dev Device, write bool) {
			p := make([]byte, size*BlockSize)
			b.SetBytes(int64(len(p)))
			var blk uint64
			for b.Loop() {
				var err error
				if write {
					err = dev.WriteAt(p, blk)
				} else {
					err = dev.ReadAt(p, blk)
				}
				if err != nil {
					b.Fatal(err)
				}
				if blk += uint64(size); blk+uint64(size) > blocks {
					blk = 0
				}
			}
		}
		b.Run("raw-read-"+name, func(b *testing.B) { bench(b, NewMem(blocks), false) })
		b.Run("hit-"+name, func(b *testing.B) {
			c := NewCache(NewMem(blocks), blocks*BlockSize)
			if err := c.ReadAt(make([]byte, blocks*BlockSize), 0); err != nil {
				b.Fatal(err)
			}
			bench(b, c, false)
		})
		b.Run("miss-"+name, func(b *testing.B) {
			// A cache of a quarter of the device, scanned in order:
			// every block misses and evicts one.
			bench(b, NewCache(NewMem(blocks), blocks/4*BlockSize), false)
		})
		b.Run("write-"+name, func(b *testing.B) {
			bench(b, NewCache(NewMem(blocks), blocks/4*BlockSize), true)
		})
	}
	// A program of 2.4 MiB read in 1 MiB requests from a device whose
	// requests take 1 ms, as fsd reads one from the NVMe disk under
	// QEMU (where they take about 4 ms).
	program := make([]byte, 600*BlockSize)
	read := func(b *testing.B, dev Device) {
		b.SetBytes(int64(len(program)))
		for b.Loop() {
			for off := 0; off < len(program); off += 1 << 20 {
				end := min(off+1<<20, len(program))
				if err := dev.ReadAt(program[off:end], uint64(off/BlockSize)); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	slow := func() *testDev {
		d := newTestDev(1024)
		d.delay = time.Millisecond
		return d
	}
	b.Run("program-uncached", func(b *testing.B) { read(b, slow()) })
	b.Run("program-cached", func(b *testing.B) { read(b, NewCache(slow(), 64<<20)) })
}
