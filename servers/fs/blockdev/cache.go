package blockdev

import "sync"

// stripes is how many write trackers a Cache keeps; block b belongs to
// tracker b % stripes. Blocks that share a tracker only cost each other
// cache insertions, never correctness.
const stripes = 1024

// gapBlocks is the widest run of cached blocks a read reads again from
// the device to join the missing runs on either side of it into one
// request: on a disk where a request costs milliseconds, a few more
// blocks in one request are cheaper than a second request.
const gapBlocks = 8

// Cache is a write-through cache of whole blocks in front of another
// device, bounded in size and evicting the least recently used block.
// Reads are served from memory when every block of the range is cached;
// otherwise the missing runs are read from the device, each run as one
// request (runs separated by at most gapBlocks cached blocks are joined),
// and cached. Writes go to the device first and update the cache only
// once it accepted them; a failed write drops its blocks from the cache,
// since the device may hold any mix of old and new data for them. Flush
// and Blocks are the device's: nothing is ever dirty in the cache, so
// the durability contract is the device's unchanged.
//
// A Cache is safe for concurrent use, and makes concurrent calls to the
// device (it holds no lock during I/O), so the device must be too if a
// Cache is shared between goroutines. Data a read fetched is cached
// only if no write to its blocks was in flight when the read began and
// none began before the read ended (see stamp), so a read that raced a
// write never leaves the older data cached; the same rule keeps the
// last of two racing writes to return from caching what the device may
// have overwritten with the other.
type Cache struct {
	dev      Device
	capacity uint64 // most blocks cached

	mu      sync.Mutex
	entries map[uint64]*entry
	lru     entry // list head: lru.next is the most recently used entry, lru.prev the least
	writes  [stripes]tracker
	stats   CacheStats
}

// entry is one cached block.
type entry struct {
	block      uint64
	data       []byte // BlockSize bytes, owned by the cache
	prev, next *entry
}

// tracker counts the writes to a stripe of blocks: gen goes up when
// one starts, writing is how many are in flight.
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
	ReadBlocks uint64 // blocks they moved: Misses plus cached blocks read again to join runs
	Writes     uint64 // write requests made to the device (one per WriteAt)
	Evictions  uint64 // blocks evicted to make room
	Cached     uint64 // blocks cached now
	Capacity   uint64 // most blocks the cache holds
}

var _ Device = (*Cache)(nil)

// NewCache returns a cache of at most maxBytes of block data (rounded
// down to whole blocks; bookkeeping adds about 2%) in front of dev. A
// cache of no blocks passes every request through. dev must not be
// written other than through the cache while it is in use (or Drop must
// be called after).
func NewCache(dev Device, maxBytes uint64) *Cache {
	c := &Cache{dev: dev, capacity: maxBytes / BlockSize, entries: make(map[uint64]*entry)}
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
	c.mu.Lock()
	for i := 0; i < n; i++ {
		if e := c.entries[block+uint64(i)]; e != nil {
			copy(p[i*BlockSize:(i+1)*BlockSize], e.data)
			c.touch(e)
			c.stats.Hits++
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
	first := spans[0].start
	stamps := make([]uint64, spans[len(spans)-1].end-first)
	for _, s := range spans {
		for i := s.start; i < s.end; i++ {
			stamps[i-first] = c.stamp(block + uint64(i))
		}
	}
	c.mu.Unlock()

	var err error
	done := 0
	for _, s := range spans {
		if err = c.dev.ReadAt(p[s.start*BlockSize:s.end*BlockSize], block+uint64(s.start)); err != nil {
			break
		}
		done++
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	c.stats.Reads += uint64(done)
	if err != nil {
		c.stats.Reads++
	}
	for _, s := range spans[:done] {
		c.stats.ReadBlocks += uint64(s.end - s.start)
		for i := s.start; i < s.end; i++ {
			b := block + uint64(i)
			if c.entries[b] == nil && c.valid(b, stamps[i-first]) {
				c.insert(b, p[i*BlockSize:(i+1)*BlockSize])
			}
		}
	}
	return err
}

// WriteAt implements Device.
func (c *Cache) WriteAt(p []byte, block uint64) error {
	if err := check(p, block, c.dev.Blocks()); err != nil {
		return err
	}
	n := len(p) / BlockSize
	stamps := make([]uint64, n)
	c.mu.Lock()
	// A block's write may update the cache only if no other write to
	// its stripe is in flight now (checked before this write counts
	// itself, as a large write may cover a stripe more than once) and
	// none starts before it returns.
	for i := range stamps {
		if c.tracker(block+uint64(i)).writing == 0 {
			stamps[i] = 1
		}
	}
	for i := range stamps {
		t := c.tracker(block + uint64(i))
		t.gen++
		t.writing++
	}
	for i := range stamps {
		if stamps[i] != 0 {
			stamps[i] = c.tracker(block+uint64(i)).gen + 1
		}
	}
	c.mu.Unlock()

	err := c.dev.WriteAt(p, block)

	c.mu.Lock()
	defer c.mu.Unlock()
	c.stats.Writes++
	for i := range stamps {
		b := block + uint64(i)
		c.tracker(b).writing--
		e := c.entries[b]
		switch {
		case err != nil || !c.valid(b, stamps[i]):
			if e != nil {
				c.remove(e)
			}
		case e != nil:
			copy(e.data, p[i*BlockSize:(i+1)*BlockSize])
			c.touch(e)
		default:
			c.insert(b, p[i*BlockSize:(i+1)*BlockSize])
		}
	}
	return err
}

// Flush implements Device. The cache holds nothing the device does not.
func (c *Cache) Flush() error { return c.dev.Flush() }

// Blocks implements Device.
func (c *Cache) Blocks() uint64 { return c.dev.Blocks() }

// Drop forgets every cached block, for a caller that changed the device
// behind the cache's back. Reads in flight do not cache what they read.
func (c *Cache) Drop() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for e := c.lru.next; e != &c.lru; e = c.lru.next {
		c.remove(e)
	}
	for i := range c.writes {
		c.writes[i].gen++
	}
}

// Stats returns the cache's counters.
func (c *Cache) Stats() CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats
	s.Cached = uint64(len(c.entries))
	s.Capacity = c.capacity
	return s
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

// insert caches a copy of data as block b, which is not cached,
// evicting the least recently used block if the cache is full. c.mu
// must be held.
func (c *Cache) insert(b uint64, data []byte) {
	if c.capacity == 0 {
		return
	}
	var e *entry
	if uint64(len(c.entries)) >= c.capacity {
		e = c.lru.prev
		c.remove(e)
		c.stats.Evictions++
	} else {
		e = &entry{data: make([]byte, BlockSize)}
	}
	e.block = b
	copy(e.data, data)
	c.entries[b] = e
	c.pushFront(e)
}

// remove drops e from the cache. c.mu must be held.
func (c *Cache) remove(e *entry) {
	delete(c.entries, e.block)
	e.prev.next, e.next.prev = e.next, e.prev
	e.prev, e.next = nil, nil
}

// touch makes e the most recently used entry. c.mu must be held.
func (c *Cache) touch(e *entry) {
	if c.lru.next == e {
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
