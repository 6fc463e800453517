package blockdev

import (
	"fmt"
	"slices"
	"sync"
)

// WriteAt implements Device. A write-through cache writes p to the
// device before it returns; a write-back cache keeps it dirty (see
// writeBack).
func (c *Cache) WriteAt(p []byte, block uint64) error {
	if err := check(p, block, c.dev.Blocks()); err != nil {
		return err
	}
	if c.maxDirty == 0 {
		return c.writeThrough(p, block)
	}
	// A write larger than the dirty bound goes in pieces, each of which
	// may first write back the dirty blocks before it.
	per := max(1, c.maxDirty/2) * BlockSize
	for len(p) > 0 {
		k := min(uint64(len(p)), per)
		if err := c.writeBack(p[:k], block); err != nil {
			return err
		}
		p, block = p[k:], block+k/BlockSize
	}
	return nil
}

// writeThrough writes p to the device, then caches it.
func (c *Cache) writeThrough(p []byte, block uint64) error {
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

// writeBack keeps p, at most maxDirty/2 blocks, dirty in the cache. If
// that would make more than maxDirty blocks dirty, it first writes
// every dirty block back (without flushing the device); if that fails,
// it returns the error having changed nothing, so that a device that
// keeps failing cannot make the dirty data grow without bound.
func (c *Cache) writeBack(p []byte, block uint64) error {
	n := uint64(len(p) / BlockSize)
	c.mu.Lock()
	full := uint64(len(c.dirty))+n > c.maxDirty
	c.mu.Unlock()
	if full {
		c.wb.Lock()
		err := c.writeDirty()
		c.wb.Unlock()
		c.mu.Lock()
		c.stats.Early++
		c.mu.Unlock()
		if err != nil {
			return fmt.Errorf("blockdev: cache: write back to make room for %d blocks at %d: %w", n, block, err)
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stats.Buffered += n
	for i := range n {
		b := block + i
		// A read of b in the device now must not cache what it gets.
		c.tracker(b).gen++
		e := c.entries[b]
		switch {
		case e == nil:
			if e = c.newEntry(b); e == nil {
				// Full of dirty blocks: over capacity until a
				// writeback cleans some (trim evicts then).
				e = &entry{block: b, data: make([]byte, BlockSize)}
				c.entries[b] = e
			}
		case !e.dirty:
			e.prev.next, e.next.prev = e.next, e.prev
			e.prev, e.next = nil, nil
		}
		copy(e.data, p[i*BlockSize:(i+1)*BlockSize])
		e.dirty = true
		e.version++
		c.dirty[b] = e
	}
	return nil
}

// Flush implements Device. A write-back cache first writes every dirty
// block back, each run of consecutive blocks as one request (see
// writeDirty), then flushes the device. If a writeback fails, Flush
// returns the error without flushing the device, and the blocks not
// written stay dirty (a later Flush tries them again), so a Flush that
// succeeds always means what the contract says.
func (c *Cache) Flush() error {
	if c.maxDirty > 0 {
		c.wb.Lock()
		err := c.writeDirty()
		c.wb.Unlock()
		if err != nil {
			return fmt.Errorf("blockdev: cache: flush: %w", err)
		}
	}
	return c.dev.Flush()
}

// writeDirty writes every block dirty when it starts to the device,
// joining consecutive blocks into runs of at most maxRun blocks, each
// one request. The runs are issued in block order, up to c.writers at
// once, and each block no write changed meanwhile is marked clean once
// its run is written. After a failed run no more are started; the
// blocks of failed and unstarted runs stay dirty, and the first error
// is returned. c.wb must be held (so that no other writeback cleans
// blocks meanwhile), c.mu not.
func (c *Cache) writeDirty() error {
	runs := c.dirtyRuns()
	if c.writers <= 1 || len(runs) <= 1 {
		var buf []byte
		for _, run := range runs {
			if err := c.writeRun(run, &buf); err != nil {
				return err
			}
		}
		return nil
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		next  int
		first error
	)
	for range min(c.writers, len(runs)) {
		wg.Go(func() {
			var buf []byte
			for {
				mu.Lock()
				if first != nil || next == len(runs) {
					mu.Unlock()
					return
				}
				run := runs[next]
				next++
				mu.Unlock()
				if err := c.writeRun(run, &buf); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					return
				}
			}
		})
	}
	wg.Wait()
	return first
}

// dirtyRuns returns the dirty blocks in order, cut into runs of
// consecutive blocks of at most maxRun blocks.
func (c *Cache) dirtyRuns() [][]uint64 {
	c.mu.Lock()
	blocks := make([]uint64, 0, len(c.dirty))
	for b := range c.dirty {
		blocks = append(blocks, b)
	}
	c.mu.Unlock()
	slices.Sort(blocks)
	var runs [][]uint64
	for len(blocks) > 0 {
		n := 1
		for n < len(blocks) && n < maxRun && blocks[n] == blocks[0]+uint64(n) {
			n++
		}
		runs = append(runs, blocks[:n])
		blocks = blocks[n:]
	}
	return runs
}

// writeRun writes one run of dirty blocks to the device in one request,
// assembled in *buf, and marks clean each block no write changed while
// it was in the device. c.wb must be held, c.mu not.
func (c *Cache) writeRun(run []uint64, buf *[]byte) error {
	versions := make([]uint64, len(run))
	*buf = (*buf)[:0]
	c.mu.Lock()
	for i, b := range run {
		e := c.dirty[b] // still dirty: only a writeback cleans, and c.wb is ours
		*buf = append(*buf, e.data...)
		versions[i] = e.version
	}
	c.mu.Unlock()

	err := c.dev.WriteAt(*buf, run[0])

	c.mu.Lock()
	defer c.mu.Unlock()
	c.stats.Writes++
	if err != nil {
		return err
	}
	for i, b := range run {
		if e := c.dirty[b]; e.version == versions[i] {
			e.dirty = false
			delete(c.dirty, b)
			c.pushFront(e)
		}
	}
	c.trim()
	return nil
}
