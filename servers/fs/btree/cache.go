package btree

// cache holds clean decoded nodes, so that lookups in a hot tree never
// touch the device. Eviction is CLOCK: every slot has a reference bit
// that a hit sets; the hand clears bits as it sweeps and evicts the
// first slot whose bit was already clear. Dirty nodes never live here
// (the tree pins them in its dirty map), so eviction never loses work.
type cache struct {
	slots []slot
	index map[uint64]int // address -> slot
	hand  int
	limit int
}

type slot struct {
	n   *node // nil when the slot is empty
	ref bool
}

func newCache(limit int) *cache {
	return &cache{index: make(map[uint64]int), limit: max(limit, 16)}
}

func (c *cache) get(addr uint64) *node {
	i, ok := c.index[addr]
	if !ok {
		return nil
	}
	c.slots[i].ref = true
	return c.slots[i].n
}

func (c *cache) put(n *node) {
	if i, ok := c.index[n.addr]; ok {
		c.slots[i] = slot{n: n, ref: true}
		return
	}
	if len(c.slots) < c.limit {
		c.index[n.addr] = len(c.slots)
		c.slots = append(c.slots, slot{n: n, ref: true})
		return
	}
	for {
		s := &c.slots[c.hand]
		if s.n != nil && s.ref {
			s.ref = false
			c.hand = (c.hand + 1) % len(c.slots)
			continue
		}
		if s.n != nil {
			delete(c.index, s.n.addr)
		}
		c.index[n.addr] = c.hand
		*s = slot{n: n, ref: true}
		c.hand = (c.hand + 1) % len(c.slots)
		return
	}
}

func (c *cache) remove(addr uint64) {
	if i, ok := c.index[addr]; ok {
		c.slots[i] = slot{}
		delete(c.index, addr)
	}
}

func (c *cache) len() int { return len(c.index) }
