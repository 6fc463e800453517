package blockdev

import (
	"fmt"
	"slices"
	"sync"
)

// stripes is how many write trackers a Cache keeps; block b belongs to
// tracker b % stripes. Blocks that share a tracker only cost each other
// cache insertions, never correctness.
const stripes = 1024

// gapBlocks is the widest run of cached blocks a read reads again from
// the device to join the missing runs on either side of it into one
// request: on a disk where a request costs milliseconds, a few more
// blocks in one request are cheaper than a second request.
const gapBlocks = 8

// maxRun is the most blocks a writeback puts in one write request
// (1 MiB, what the driver client moves in one call with its default
// buffer): a bound on the copy a run is assembled in.
const maxRun = 256

// firstWindow is how many blocks a read that continues a sequential
// stream first reads ahead; each further sequential miss doubles it, up
// to CacheOptions.Readahead.
const firstWindow = 8

// Cache is a cache of whole blocks in front of another device, bounded
// in size and evicting the least recently used clean block. It is
// write-through or write-back (CacheOptions.WriteBack); the package
// documentation explains both and why the write-back cache keeps the
// device's durability contract.
//
// Reads are served from memory when every block of the range is cached;
// otherwise the missing runs are read from the device, each run as one
// request (runs separated by at most gapBlocks cached blocks are joined;
// the reader gets the cached copy of those, which may be newer than the
// device's), and cached. A read that continues a sequential
// stream also reads ahead (CacheOptions.Readahead).
//
// A Cache is safe for concurrent use, and makes concurrent calls to the
// device (it holds mu during no I/O), so the device must be too if a
// Cache is shared between goroutines. Data a read fetched is cached
// only if no write to its blocks was in flight when the read began and
// none began before the read ended (see stamp), so a read that raced a
// write never leaves the older data cached.
type Cache struct {
	dev       Device
	capacity  uint64 // most blocks cached (dirty blocks may exceed it for a while)
	maxDirty  uint64 // most dirty blocks; 0 in a write-through cache
	readahead uint64 // most blocks read ahead
	writers   int    // most runs a writeback writes at once

	// wb is held by whoever writes dirty blocks back (Flush, or a write
	// that found too many dirty), across the device I/O, so that one
	// writeback runs at a time and only it cleans blocks. It is taken
	// before mu, never while holding it.
	wb sync.Mutex

	mu      sync.Mutex
	entries map[uint64]*entry // every cached block, clean or dirty
	lru     entry             // list head of the clean entries: lru.next is the most recently used, lru.prev the least
	dirty   map[uint64]*entry // the dirty entries (not in the LRU list, never evicted)
	writes  [stripes]tracker
	next    uint64 // block after the last run read from the device: where a sequential stream continues
	window  uint64 // blocks the next sequential read reads ahead
	stats   CacheStats
}

// entry is one cached block.
type entry struct {
	block      uint64
	data       []byte // BlockSize bytes, owned by the cache
	dirty      bool   // newer than the device; in Cache.dirty, not in the LRU list
	version    uint64 // counts writes to the block while dirty, so a writeback sees a write that raced it
	prev, next *entry
}

// tracker counts the writes to a stripe of blocks: gen goes up when
// one starts, writing is how many are in flight to the device.
type tracker struct {
	gen     uint64
	writing uint64
}

// CacheStats counts what a Cache did. Blocks are counted, except where
// a field says requests.
type CacheStats struct {
	Hits       uint64 // blocks ReadAt found cached
	Misses     uint64 // blocks ReadAt had to read from the device
	Reads      uint64 // read requests made to the device
	ReadBlocks uint64 // blocks they moved: Misses, cached blocks read again to join runs, and Readahead
	Readahead  uint64 // blocks read ahead of a sequential read
	Writes     uint64 // write requests made to the device (one per WriteAt, or per run written back)
	Buffered   uint64 // blocks WriteAt kept dirty instead of writing (write-back)
	Early      uint64 // writebacks a write forced by finding too many blocks dirty
	Dirty      uint64 // blocks dirty now
	Evictions  uint64 // blocks evicted to make room
	Cached     uint64 // blocks cached now, dirty ones included
	Capacity   uint64 // most blocks the cache holds
}

// CacheOptions configure NewCacheWith.
type CacheOptions struct {
	// Bytes is the most block data to cache, rounded down to whole
	// blocks (bookkeeping adds about 2%). A cache of no blocks passes
	// every request through, and is write-through whatever WriteBack
	// says.
	Bytes uint64
	// WriteBack keeps written blocks dirty in the cache until Flush,
	// or until more than MaxDirty bytes are dirty; otherwise every
	// write goes to the device before it returns.
	WriteBack bool
	// MaxDirty bounds the dirty data of a write-back cache (default and
	// most: half of Bytes). A write that would pass it first writes
	// every dirty block back.
	MaxDirty uint64
	// Readahead is the most bytes a read that continues a sequential
	// stream of misses reads ahead of it (0: none; at most a quarter
	// of Bytes).
	Readahead uint64
	// Writers is how many runs of dirty blocks a writeback writes to
	// the device at once (default 1), so that a commit's scattered
	// blocks (bitmap, tree nodes, data) cost one device latency rather
	// than one each. More than one needs a device safe for concurrent
	// use.
	Writers int
}

var _ Device = (*Cache)(nil)

// NewCache returns a write-through cache of at most maxBytes of block
// data in front of dev, with no readahead: NewCacheWith(dev,
// CacheOptions{Bytes: maxBytes}).
func NewCache(dev Device, maxBytes uint64) *Cache {
	return NewCacheWith(dev, CacheOptions{Bytes: maxBytes})
}

// NewCacheWith returns a cache in front of dev as o says. dev must not
// be written other than through the cache while it is in use (or Drop
// must be called after, with nothing dirty).
func NewCacheWith(dev Device, o CacheOptions) *Cache {
	c := &Cache{dev: dev, capacity: o.Bytes / BlockSize, entries: make(map[uint64]*entry), dirty: make(map[uint64]*entry)}
	if o.WriteBack && c.capacity > 0 {
		c.maxDirty = max(1, c.capacity/2)
		if o.MaxDirty >= BlockSize {
			c.maxDirty = min(c.maxDirty, o.MaxDirty/BlockSize)
		}
	}
	c.readahead = min(o.Readahead/BlockSize, c.capacity/4)
	c.writers = max(1, o.Writers)
	c.window = firstWindow
	c.next = ^uint64(0)
	c.lru.next, c.lru.prev = &c.lru, &c.lru
	return c
}

// span is a run of blocks [start, end), counted from a request's first.
type span struct{ start, end int }

// ReadAt implements Device.
func (c *Cache) ReadAt(p []byte, block uint64) error {
	if err := check(p, block, c.dev.Blocks()); err != nil {
		return err
	}
	n := len(p) / BlockSize
	var buf [4]span
	spans := buf[:0]
	hit := make([]bool, n)
	c.mu.Lock()
	for i := 0; i < n; i++ {
		if e := c.entries[block+uint64(i)]; e != nil {
			copy(p[i*BlockSize:(i+1)*BlockSize], e.data)
			c.touch(e)
			c.stats.Hits++
			hit[i] = true
			continue
		}
		c.stats.Misses++
		if k := len(spans) - 1; k >= 0 && i-spans[k].end <= gapBlocks {
			spans[k].end = i + 1
		} else {
			spans = append(spans, span{i, i + 1})
		}
	}
	if len(spans) == 0 {
		c.mu.Unlock()
		return nil
	}
	ahead := c.planReadahead(block, n, spans)
	first := spans[0].start
	last := spans[len(spans)-1].end
	stamps := make([]uint64, last+ahead-first)
	for i := range stamps {
		stamps[i] = c.stamp(block + uint64(first+i))
	}
	c.mu.Unlock()

	done, tail, err := c.readSpans(p, block, spans, hit, ahead)

	c.mu.Lock()
	defer c.mu.Unlock()
	c.stats.Reads += uint64(done)
	for _, s := range spans[:done] {
		c.stats.ReadBlocks += uint64(s.end - s.start)
		for i := s.start; i < s.end; i++ {
			if !hit[i] {
				c.fetched(block+uint64(i), p[i*BlockSize:(i+1)*BlockSize], stamps[i-first])
			}
		}
	}
	if err != nil {
		c.stats.Reads++
		c.next = ^uint64(0)
		return err
	}
	c.stats.ReadBlocks += uint64(ahead)
	c.stats.Readahead += uint64(ahead)
	for i := range ahead {
		c.fetched(block+uint64(last+i), tail[i*BlockSize:(i+1)*BlockSize], stamps[last+i-first])
	}
	c.next = block + uint64(last+ahead)
	return nil
}

// fetched caches block b, which a read got from the device as data,
// unless it is cached already or a write to it started since the read
// took stamp. c.mu must be held.
func (c *Cache) fetched(b uint64, data []byte, stamp uint64) {
	if c.entries[b] == nil && c.valid(b, stamp) {
		c.insert(b, data)
	}
}

// readSpans reads the spans of a request for p at block from the
// device, one request each, the last with ahead blocks after it, which
// it returns. It stops at the first error, returning how many spans
// it read.
func (c *Cache) readSpans(p []byte, block uint64, spans []span, hit []bool, ahead int) (done int, tail []byte, err error) {
	for k, s := range spans {
		extra := 0
		if k == len(spans)-1 {
			extra = ahead
		}
		if err = c.readSpan(p, block, s, hit, extra, &tail); err != nil {
			return done, nil, err
		}
		done++
	}
	return done, tail, nil
}

// readSpan reads span s of a request for p at block from the device in
// one request, with extra blocks after it (read ahead, left in *tail).
// Only the blocks that missed (not hit) are copied into p: the cached
// copy of a block in a joined gap, already in p, is as new as the
// device's or newer (it may be dirty), and must stay.
func (c *Cache) readSpan(p []byte, block uint64, s span, hit []bool, extra int, tail *[]byte) error {
	dst := p[s.start*BlockSize : s.end*BlockSize]
	gaps := slices.Contains(hit[s.start:s.end], true)
	if !gaps && extra == 0 {
		return c.dev.ReadAt(dst, block+uint64(s.start))
	}
	tmp := make([]byte, (s.end-s.start+extra)*BlockSize)
	if err := c.dev.ReadAt(tmp, block+uint64(s.start)); err != nil {
		return err
	}
	for i := s.start; i < s.end; i++ {
		if !hit[i] {
			copy(p[i*BlockSize:(i+1)*BlockSize], tmp[(i-s.start)*BlockSize:])
		}
	}
	*tail = tmp[len(dst):]
	return nil
}

// planReadahead returns how many blocks to read after the request's
// last missing run, which must end the request: none unless the
// request's first miss is where the last read from the device ended (a
// sequential stream), then a window that doubles with each such read,
// cut short at the device's end and at the first cached block. c.mu
// must be held.
func (c *Cache) planReadahead(block uint64, n int, spans []span) int {
	if c.readahead == 0 {
		return 0
	}
	if block+uint64(spans[0].start) != c.next || spans[len(spans)-1].end != n {
		c.window = firstWindow
		return 0
	}
	want := min(c.window, c.readahead, c.dev.Blocks()-(block+uint64(n)))
	c.window = min(2*c.window, c.readahead)
	ahead := 0
	for uint64(ahead) < want && c.entries[block+uint64(n+ahead)] == nil {
		ahead++
	}
	return ahead
}

// Blocks implements Device.
func (c *Cache) Blocks() uint64 { return c.dev.Blocks() }

// Drop forgets every clean cached block, for a caller that changed the
// device behind the cache's back. Dirty blocks are kept: they are newer
// than anything on the device (Flush first to drop everything). Reads
// in flight do not cache what they read.
func (c *Cache) Drop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for e := c.lru.next; e != &c.lru; e = c.lru.next {
		c.remove(e)
	}
	for i := range c.writes {
		c.writes[i].gen++
	}
	c.next = ^uint64(0)
}

// Stats returns the cache's counters.
func (c *Cache) Stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Cached = uint64(len(c.entries))
	s.Dirty = uint64(len(c.dirty))
	s.Capacity = c.capacity
	return s
}

// String describes the cache's configuration, for fsd's log: "block
// cache of 64 MiB, write-back (at most 16 MiB dirty), 1 MiB readahead".
func (c *Cache) String() string {
	mode := "write-through"
	if c.maxDirty > 0 {
		mode = fmt.Sprintf("write-back (at most %s dirty)", sizeString(c.maxDirty))
		if c.writers > 1 {
			mode = fmt.Sprintf("write-back (at most %s dirty, %d writers)", sizeString(c.maxDirty), c.writers)
		}
	}
	return fmt.Sprintf("block cache of %s, %s, %s readahead", sizeString(c.capacity), mode, sizeString(c.readahead))
}

// sizeString says how much n blocks are, in MiB if that is exact.
func sizeString(n uint64) string {
	if b := n * BlockSize; b%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", b>>20)
	}
	return fmt.Sprintf("%d KiB", n*BlockSize>>10)
}

// tracker returns the write tracker of block b. c.mu must be held.
func (c *Cache) tracker(b uint64) *tracker { return &c.writes[b%stripes] }

// stamp returns what a read starting now that fetches block b must see
// again to cache it: 0 (never) while a write to b's stripe is in
// flight, else one more than the stripe's generation. c.mu must be
// held.
func (c *Cache) stamp(b uint64) uint64 {
	t := c.tracker(b)
	if t.writing != 0 {
		return 0
	}
	return t.gen + 1
}

// valid reports whether no write to b's stripe started since stamp was
// taken. c.mu must be held.
func (c *Cache) valid(b, stamp uint64) bool {
	return stamp != 0 && stamp == c.tracker(b).gen+1
}

// insert caches a clean copy of data as block b, which is not cached,
// evicting the least recently used clean block if the cache is full;
// if every cached block is dirty, it caches nothing. c.mu must be held.
func (c *Cache) insert(b uint64, data []byte) {
	e := c.newEntry(b)
	if e == nil {
		return
	}
	copy(e.data, data)
	c.pushFront(e)
}

// newEntry returns an entry for block b, which is not cached, entered
// in the map but in no list: a new one, or the least recently used
// clean one if the cache is full. It returns nil if the cache is full
// of dirty blocks, or holds none. c.mu must be held.
func (c *Cache) newEntry(b uint64) *entry {
	if c.capacity == 0 {
		return nil
	}
	var e *entry
	if uint64(len(c.entries)) < c.capacity {
		e = &entry{data: make([]byte, BlockSize)}
	} else if e = c.lru.prev; e != &c.lru {
		c.remove(e)
		c.stats.Evictions++
	} else {
		return nil
	}
	e.block = b
	c.entries[b] = e
	return e
}

// trim evicts clean blocks while the cache holds more than its
// capacity, which it may after dirty blocks pushed it over. c.mu must
// be held.
func (c *Cache) trim() {
	for uint64(len(c.entries)) > c.capacity && c.lru.prev != &c.lru {
		c.remove(c.lru.prev)
		c.stats.Evictions++
	}
}

// remove drops clean entry e from the cache. c.mu must be held.
func (c *Cache) remove(e *entry) {
	delete(c.entries, e.block)
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
}

// touch makes e the most recently used entry, if it is clean (dirty
// entries are in no list). c.mu must be held.
func (c *Cache) touch(e *entry) {
	if e.dirty || c.lru.next == e {
		return
	}
	e.prev.next, e.next.prev = e.next, e.prev
	c.pushFront(e)
}

// pushFront links e in as the most recently used entry. c.mu must be
// held.
func (c *Cache) pushFront(e *entry) {
	e.prev, e.next = &c.lru, c.lru.next
	c.lru.next.prev = e
	c.lru.next = e
}
