package blockdev

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// opFlush is Cache.Flush, as a cacheOp.
var flushOp = cacheOp{kind: opDrop + 1}

// holds reports whether the medium is want, without copying it.
func (d *testDev) holds(want []byte) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return bytes.Equal(d.mem.Bytes(), want)
}

// runWB applies op to a write-back cache, which knows one more kind of
// op than cacheOp.run: Flush.
func runWB(op cacheOp, c *Cache, d *testDev) ([]byte, error) {
	if op == flushOp {
		return nil, c.Flush()
	}
	return op.run(c, d)
}

// verifyWriteBack checks a write-back cache's invariants: the LRU list
// holds exactly the clean entries, each equal to the medium's block;
// the dirty map exactly the dirty ones, each equal to the model (what
// reads must return); and no more than the bounds.
func verifyWriteBack(t *testing.T, c *Cache, medium, model []byte) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	clean := 0
	for e := c.lru.next; e != &c.lru; e = e.next {
		clean++
		if e.dirty || c.entries[e.block] != e {
			t.Fatalf("block %d in the LRU list: dirty %v, in the map %v", e.block, e.dirty, c.entries[e.block] == e)
		}
		if !bytes.Equal(e.data, medium[e.block*BlockSize:(e.block+1)*BlockSize]) {
			t.Errorf("clean block %d differs from the device", e.block)
		}
	}
	for b, e := range c.dirty {
		if !e.dirty || e.block != b || c.entries[b] != e {
			t.Fatalf("dirty block %d: dirty %v, block %d, in the map %v", b, e.dirty, e.block, c.entries[b] == e)
		}
		if !bytes.Equal(e.data, model[b*BlockSize:(b+1)*BlockSize]) {
			t.Errorf("dirty block %d differs from what was written", b)
		}
	}
	if clean+len(c.dirty) != len(c.entries) {
		t.Errorf("%d clean and %d dirty entries, %d in the map", clean, len(c.dirty), len(c.entries))
	}
	if uint64(len(c.dirty)) > c.maxDirty {
		t.Errorf("%d blocks dirty, at most %d", len(c.dirty), c.maxDirty)
	}
	if uint64(len(c.entries)) > max(c.capacity, uint64(len(c.dirty))) {
		t.Errorf("%d blocks cached, capacity %d, %d dirty", len(c.entries), c.capacity, len(c.dirty))
	}
}

func TestCacheWriteBackRequests(t *testing.T) {
	const R, W = false, true
	tests := []struct {
		name        string
		opts        CacheOptions // in blocks, not bytes
		ops         []cacheOp
		wantReqs    []req
		wantFlushes int
		wantStats   CacheStats
	}{
		{
			name:      "writes stay in the cache",
			opts:      CacheOptions{Bytes: 16},
			ops:       []cacheOp{wr(0, 4, 1), rd(0, 4), wr(2, 1, 2), rd(2, 1)},
			wantStats: CacheStats{Hits: 5, Buffered: 5, Dirty: 4, Cached: 4},
		},
		{
			name:        "flush writes back, then flushes",
			opts:        CacheOptions{Bytes: 16},
			ops:         []cacheOp{wr(0, 4, 1), flushOp, rd(0, 4), flushOp},
			wantReqs:    []req{{W, 0, 4}},
			wantFlushes: 2,
			wantStats:   CacheStats{Hits: 4, Writes: 1, Buffered: 4, Cached: 4},
		},
		{
			name:        "flush joins consecutive blocks, in block order",
			opts:        CacheOptions{Bytes: 32},
			ops:         []cacheOp{wr(8, 2, 1), wr(0, 2, 2), wr(5, 1, 3), wr(2, 1, 4), wr(10, 1, 5), flushOp},
			wantReqs:    []req{{W, 0, 3}, {W, 5, 1}, {W, 8, 3}},
			wantFlushes: 1,
			wantStats:   CacheStats{Writes: 3, Buffered: 7, Cached: 7},
		},
		{
			name:        "a block written twice goes out once, as last written",
			opts:        CacheOptions{Bytes: 16},
			ops:         []cacheOp{wr(0, 2, 1), wr(1, 1, 2), flushOp},
			wantReqs:    []req{{W, 0, 2}},
			wantFlushes: 1,
			wantStats:   CacheStats{Writes: 1, Buffered: 3, Cached: 2},
		},
		{
			name:      "a read sees a dirty block among clean ones",
			opts:      CacheOptions{Bytes: 16},
			ops:       []cacheOp{rd(0, 4), wr(1, 1, 7), rd(0, 4)},
			wantReqs:  []req{{R, 0, 4}},
			wantStats: CacheStats{Hits: 4, Misses: 4, Reads: 1, ReadBlocks: 4, Buffered: 1, Dirty: 1, Cached: 4},
		},
		{
			name:      "a gap read again keeps its dirty block",
			opts:      CacheOptions{Bytes: 32},
			ops:       []cacheOp{wr(4, 1, 9), rd(0, 12)},
			wantReqs:  []req{{R, 0, 12}},
			wantStats: CacheStats{Hits: 1, Misses: 11, Reads: 1, ReadBlocks: 12, Buffered: 1, Dirty: 1, Cached: 12},
		},
		{
			name:        "too many dirty blocks are written back early, without a flush",
			opts:        CacheOptions{Bytes: 32, MaxDirty: 4},
			ops:         []cacheOp{wr(0, 2, 1), wr(2, 2, 2), wr(10, 1, 3), rd(0, 4), flushOp},
			wantReqs:    []req{{W, 0, 4}, {W, 10, 1}},
			wantFlushes: 1,
			wantStats:   CacheStats{Hits: 4, Writes: 2, Buffered: 5, Early: 1, Cached: 5},
		},
		{
			name:      "a write larger than the dirty bound goes in pieces",
			opts:      CacheOptions{Bytes: 32, MaxDirty: 4},
			ops:       []cacheOp{wr(0, 9, 1)},
			wantReqs:  []req{{W, 0, 4}, {W, 4, 4}},
			wantStats: CacheStats{Writes: 2, Buffered: 9, Early: 2, Dirty: 1, Cached: 9},
		},
		{
			name:      "dirty blocks are never evicted",
			opts:      CacheOptions{Bytes: 2},
			ops:       []cacheOp{wr(0, 1, 1), rd(4, 2), rd(4, 2), rd(0, 1)},
			wantReqs:  []req{{R, 4, 2}, {R, 4, 1}},
			wantStats: CacheStats{Hits: 2, Misses: 3, Reads: 2, ReadBlocks: 3, Buffered: 1, Dirty: 1, Evictions: 2, Cached: 2},
		},
		{
			name:        "runs are cut at maxRun blocks",
			opts:        CacheOptions{Bytes: 2 * maxRun},
			ops:         []cacheOp{wr(0, maxRun+1, 1), flushOp},
			wantReqs:    []req{{W, 0, maxRun}, {W, maxRun, 1}},
			wantFlushes: 1,
			// Half the cache may be dirty: the last block finds it so.
			wantStats: CacheStats{Writes: 2, Buffered: maxRun + 1, Early: 1, Cached: maxRun + 1},
		},
		{
			name:        "no cache is write-through",
			opts:        CacheOptions{},
			ops:         []cacheOp{wr(0, 1, 1), flushOp, rd(0, 1)},
			wantReqs:    []req{{W, 0, 1}, {R, 0, 1}},
			wantFlushes: 1,
			wantStats:   CacheStats{Misses: 1, Reads: 1, ReadBlocks: 1, Writes: 1},
		},
		{
			name: "a sequential stream reads ahead, doubling",
			opts: CacheOptions{Bytes: 1024, Readahead: 16},
			ops:  []cacheOp{rd(0, 1), rd(1, 1), rd(2, 8), rd(10, 1), rd(11, 16), rd(27, 1), rd(100, 1)},
			wantReqs: []req{{R, 0, 1}, {R, 1, 1 + firstWindow}, {R, 10, 1 + 2*firstWindow},
				{R, 27, 1 + 16}, {R, 100, 1}},
			wantStats: CacheStats{Hits: 24, Misses: 5, Reads: 5, ReadBlocks: 5 + 8 + 16 + 16, Readahead: 8 + 16 + 16, Cached: 45},
		},
		{
			name:      "readahead stops at a cached block",
			opts:      CacheOptions{Bytes: 1024, Readahead: 16},
			ops:       []cacheOp{wr(5, 1, 1), rd(0, 1), rd(1, 1), rd(2, 4)},
			wantReqs:  []req{{R, 0, 1}, {R, 1, 4}},
			wantStats: CacheStats{Hits: 4, Misses: 2, Reads: 2, ReadBlocks: 5, Readahead: 3, Buffered: 1, Dirty: 1, Cached: 6},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newTestDev(1024)
			o := tt.opts
			o.Bytes *= BlockSize
			o.MaxDirty *= BlockSize
			o.Readahead *= BlockSize
			o.WriteBack = true
			c := NewCacheWith(d, o)
			model := d.bytes()
			for i, op := range tt.ops {
				got, err := runWB(op, c, d)
				if err != nil {
					t.Fatalf("op %d: %v", i, err)
				}
				switch op.kind {
				case opWrite:
					copy(model[op.block*BlockSize:], tagged(op.block, op.count, op.tag))
				case opRead:
					if want := model[op.block*BlockSize : (op.block+uint64(op.count))*BlockSize]; !bytes.Equal(got, want) {
						t.Errorf("op %d: read %d blocks at %d: not what was written", i, op.count, op.block)
					}
				}
				verifyWriteBack(t, c, d.bytes(), model)
			}
			if diff := cmp.Diff(tt.wantReqs, d.requests(), cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("device requests (-want +got):\n%s", diff)
			}
			if d.flushes != tt.wantFlushes {
				t.Errorf("%d device flushes, want %d", d.flushes, tt.wantFlushes)
			}
			tt.wantStats.Capacity = o.Bytes / BlockSize
			if diff := cmp.Diff(tt.wantStats, c.Stats()); diff != "" {
				t.Errorf("stats (-want +got):\n%s", diff)
			}
			if c.Stats().Dirty == 0 && !d.holds(model) {
				t.Errorf("nothing dirty, but the device differs from what was written")
			}
		})
	}
}

// TestCacheWriteBackErrors: a failed writeback keeps its blocks dirty
// and never flushes the device; a write whose early writeback fails
// changes nothing.
func TestCacheWriteBackErrors(t *testing.T) {
	tests := []struct {
		name      string
		maxDirty  uint64    // blocks
		before    []cacheOp // run before failing
		failing   cacheOp   // run with writes at failAt failing after failAfter blocks
		failAt    uint64
		failAfter int
		wantDirty []uint64 // dirty after the failure
	}{
		{
			name:      "a flush stops at the failed run",
			maxDirty:  16,
			before:    []cacheOp{wr(0, 2, 1), wr(5, 3, 2), wr(10, 1, 3)},
			failing:   flushOp,
			failAt:    5,
			failAfter: 1,
			wantDirty: []uint64{5, 6, 7, 10},
		},
		{
			name:      "a write whose early writeback fails is not cached",
			maxDirty:  4,
			before:    []cacheOp{wr(0, 2, 1), wr(4, 2, 2)},
			failing:   wr(8, 1, 3),
			failAt:    0,
			failAfter: 0,
			wantDirty: []uint64{0, 1, 4, 5},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newTestDev(64)
			c := NewCacheWith(d, CacheOptions{Bytes: 64 * BlockSize, WriteBack: true, MaxDirty: tt.maxDirty * BlockSize})
			model := d.bytes()
			for _, op := range tt.before {
				if _, err := runWB(op, c, d); err != nil {
					t.Fatal(err)
				}
				copy(model[op.block*BlockSize:], tagged(op.block, op.count, op.tag))
			}
			d.failWrite = func(p []byte, block uint64) int {
				if block == tt.failAt {
					return tt.failAfter
				}
				return -1
			}
			if _, err := runWB(tt.failing, c, d); !errors.Is(err, errInjected) {
				t.Fatalf("the failing op returned %v, want the device's error", err)
			}
			if d.flushes != 0 {
				t.Errorf("the device was flushed after a failed writeback")
			}
			var dirty []uint64
			for b := range c.dirty {
				dirty = append(dirty, b)
			}
			if diff := cmp.Diff(tt.wantDirty, dirty, cmpopts.SortSlices(func(a, b uint64) bool { return a < b })); diff != "" {
				t.Errorf("dirty blocks (-want +got):\n%s", diff)
			}
			all := make([]byte, 64*BlockSize)
			if err := c.ReadAt(all, 0); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(all, model) {
				t.Errorf("reads after the failure differ from what was written")
			}
			d.failWrite = nil
			if err := c.Flush(); err != nil {
				t.Fatal(err)
			}
			if d.flushes != 1 || c.Stats().Dirty != 0 || !d.holds(model) {
				t.Errorf("after a good flush: %d device flushes, %d dirty, device as written %v", d.flushes, c.Stats().Dirty, d.holds(model))
			}
		})
	}
}

// TestCacheWriteBackModel runs random reads, writes, flushes, drops and
// writes behind the cache's back on write-back caches of several sizes
// over a device whose writes sometimes fail part way. Every read must
// return what was last written; after every successful Flush the device
// must hold it too.
func TestCacheWriteBackModel(t *testing.T) {
	const blocks = 64
	for _, o := range []CacheOptions{{Bytes: 1}, {Bytes: 7, MaxDirty: 2}, {Bytes: 16}, {Bytes: 16, MaxDirty: 3, Readahead: 4},
		{Bytes: blocks, Readahead: 16}, {Bytes: 1000, MaxDirty: 20}, {Bytes: 16, MaxDirty: 6, Writers: 3},
		{Bytes: 1000, Readahead: 8, Writers: 4}} {
		t.Run(fmt.Sprintf("%d blocks, %d dirty, %d ahead, %d writers", o.Bytes, o.MaxDirty, o.Readahead, o.Writers), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(o.Bytes, o.MaxDirty))
			d := newTestDev(blocks)
			o.Bytes *= BlockSize
			o.MaxDirty *= BlockSize
			o.Readahead *= BlockSize
			o.WriteBack = true
			c := NewCacheWith(d, o)
			model := d.bytes()
			failing := false
			d.failWrite = func(p []byte, block uint64) int {
				if failing && rng.IntN(3) == 0 {
					return rng.IntN(len(p)/BlockSize + 1)
				}
				return -1
			}
			for i := range 4000 {
				b := rng.Uint64N(blocks)
				n := 1 + rng.IntN(min(12, int(blocks-b)))
				tag := uint64(i + 1)
				failing = rng.IntN(8) == 0
				switch r := rng.IntN(100); {
				case r < 50:
					p := make([]byte, n*BlockSize)
					if err := c.ReadAt(p, b); err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(p, model[b*BlockSize:(b+uint64(n))*BlockSize]) {
						t.Fatalf("op %d: read %d blocks at %d: differs from what was written", i, n, b)
					}
				case r < 85:
					p := tagged(b, n, tag)
					err := c.WriteAt(p, b)
					switch {
					case err == nil:
						copy(model[b*BlockSize:], p)
					case !errors.Is(err, errInjected) || !failing:
						t.Fatalf("op %d: write: %v", i, err)
					default:
						// A failed write may have changed any of its
						// blocks: each must read as before or as written.
						got := make([]byte, n*BlockSize)
						if err := c.ReadAt(got, b); err != nil {
							t.Fatal(err)
						}
						for j := range n {
							g, old, new := got[j*BlockSize:(j+1)*BlockSize], model[(b+uint64(j))*BlockSize:(b+uint64(j)+1)*BlockSize], p[j*BlockSize:(j+1)*BlockSize]
							if !bytes.Equal(g, old) && !bytes.Equal(g, new) {
								t.Fatalf("op %d: block %d after a failed write is neither old nor new", i, b+uint64(j))
							}
						}
						copy(model[b*BlockSize:], got)
					}
				case r < 95:
					err := c.Flush()
					if err == nil && !d.holds(model) {
						t.Fatalf("op %d: flushed, but the device differs from what was written", i)
					}
					if err != nil && !failing {
						t.Fatalf("op %d: flush failed with no failing device: %v", i, err)
					}
				default:
					failing = false
					if err := c.Flush(); err != nil {
						t.Fatal(err)
					}
					p := tagged(b, n, tag)
					copy(model[b*BlockSize:], p)
					if _, err := poke(b, n, tag).run(c, d); err != nil {
						t.Fatal(err)
					}
					c.Drop()
				}
				if i%100 == 0 {
					verifyWriteBack(t, c, d.bytes(), model)
				}
			}
			verifyWriteBack(t, c, d.bytes(), model)
			failing = false
			if err := c.Flush(); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(model, d.bytes()) {
				t.Errorf("the device differs from what was written")
			}
			t.Logf("%+v", c.Stats())
		})
	}
}

// TestCacheWriteBackConcurrent runs goroutines that read and write
// through one write-back cache with a small dirty bound, and one that
// flushes, over a device that yields and fails some writes. Each worker
// owns some blocks that only it writes and must always read back its
// own last successful write of them. In the end, after a good Flush, the
// device holds what the cache does.
func TestCacheWriteBackConcurrent(t *testing.T) {
	const (
		workers = 4
		shared  = 16
		own     = 8
		blocks  = shared + workers*own
		ops     = 2000
	)
	if testing.Short() {
		t.Skip("slow")
	}
	for _, capacity := range []uint64{12, blocks} {
		t.Run(fmt.Sprintf("capacity %d", capacity), func(t *testing.T) {
			d := newTestDev(blocks)
			d.yield = true
			var requests atomic.Uint64
			d.failWrite = func(p []byte, block uint64) int {
				if requests.Add(1)%7 == 0 {
					return int(block) % (len(p)/BlockSize + 1)
				}
				return -1
			}
			c := NewCacheWith(d, CacheOptions{Bytes: capacity * BlockSize, WriteBack: true, MaxDirty: 6 * BlockSize, Readahead: 4 * BlockSize, Writers: 2})
			var wg sync.WaitGroup
			stop := make(chan struct{})
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					_ = c.Flush() // may fail; only the end must not
				}
			})
			var workersWG sync.WaitGroup
			for w := range workers {
				workersWG.Go(func() {
					rng := rand.New(rand.NewPCG(uint64(w), capacity))
					lo := uint64(shared + w*own)
					mine := make([]uint64, own)
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
							n = 1 + rng.IntN(min(3, int(shared-b)))
						} else {
							b = lo + rng.Uint64N(own)
							n = 1 + rng.IntN(min(3, int(lo+own-b)))
						}
						if err := c.WriteAt(tagged(b, n, tag), b); err != nil {
							if !errors.Is(err, errInjected) {
								t.Errorf("worker %d: write: %v", w, err)
								return
							}
							continue // not cached: the blocks keep their last write
						}
						for j := range n {
							if bj := b + uint64(j); bj >= lo {
								mine[bj-lo] = tag
							}
						}
					}
				})
			}
			workersWG.Wait()
			close(stop)
			wg.Wait()
			d.failWrite = nil
			if err := c.Flush(); err != nil {
				t.Fatal(err)
			}
			all := make([]byte, blocks*BlockSize)
			if err := c.ReadAt(all, 0); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(all, d.bytes()) {
				t.Errorf("after a good flush, the cache's blocks differ from the device's")
			}
			verifyWriteBack(t, c, d.bytes(), d.bytes())
			st := c.Stats()
			t.Logf("%+v", st)
			if st.Early == 0 || st.Hits == 0 {
				t.Errorf("no early writebacks or no hits: the test tests little")
			}
		})
	}
}

// gateDev is a testDev whose writes wait in the device until want of
// them are in it at once, or give up after a while; so a test can see
// that writes overlap without measuring time.
type gateDev struct {
	*testDev
	want    int
	mu      sync.Mutex
	in      int
	most    int
	arrived chan struct{} // closed when want writes are in the device
}

func (d *gateDev) WriteAt(p []byte, block uint64) error {
	d.mu.Lock()
	d.in++
	d.most = max(d.most, d.in)
	if d.in == d.want {
		close(d.arrived)
		d.want = -1
	}
	d.mu.Unlock()
	select {
	case <-d.arrived:
	case <-time.After(5 * time.Second):
	}
	err := d.testDev.WriteAt(p, block)
	d.mu.Lock()
	d.in--
	d.mu.Unlock()
	return err
}

func TestCacheWriteBackWriters(t *testing.T) {
	for _, writers := range []int{1, 2, 4} {
		t.Run(fmt.Sprintf("%d writers", writers), func(t *testing.T) {
			d := &gateDev{testDev: newTestDev(64), want: writers, arrived: make(chan struct{})}
			if writers == 1 {
				d.want = -1 // never waits
				close(d.arrived)
			}
			c := NewCacheWith(d, CacheOptions{Bytes: 64 * BlockSize, WriteBack: true, Writers: writers})
			model := d.bytes()
			// Four runs: a bitmap block, tree nodes, data, and a lone
			// block, as a commit writes them.
			for i, w := range []cacheOp{wr(3, 1, 1), wr(10, 2, 2), wr(30, 8, 3), wr(50, 1, 4)} {
				if _, err := runWB(w, c, d.testDev); err != nil {
					t.Fatalf("write %d: %v", i, err)
				}
				copy(model[w.block*BlockSize:], tagged(w.block, w.count, w.tag))
			}
			if err := c.Flush(); err != nil {
				t.Fatal(err)
			}
			if d.most != writers {
				t.Errorf("at most %d writes in the device at once, want %d", d.most, writers)
			}
			got := d.requests()
			slices.SortFunc(got, func(a, b req) int { return int(a.Block) - int(b.Block) })
			want := []req{{true, 3, 1}, {true, 10, 2}, {true, 30, 8}, {true, 50, 1}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("device requests (-want +got):\n%s", diff)
			}
			if !d.holds(model) || d.flushes != 1 || c.Stats().Dirty != 0 {
				t.Errorf("after Flush: device as written %v, %d flushes, %d dirty", d.holds(model), d.flushes, c.Stats().Dirty)
			}
		})
	}
}
