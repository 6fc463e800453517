package caps

import (
	"errors"
	"fmt"
)

// Check verifies every invariant listed in doc.go and returns an error
// describing the violations it found (at most a few), or nil. It takes
// time linear in the number of capabilities and slots; the tests and the
// fuzzer call it after every operation.
func (s *System) Check() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := checker{s: s, seen: make(map[*node]bool)}
	c.holderLists() // 5, and collects every node
	c.tables()      // 1, 2, 6 (slots)
	c.forest()      // 3, 4, 6 (tree)
	return errors.Join(c.errs...)
}

// maxCheckErrors bounds the report of a badly broken state.
const maxCheckErrors = 10

type checker struct {
	s     *System
	seen  map[*node]bool // every node on a holder list
	nodes []*node        // the same, in a stable order
	errs  []error
}

func (c *checker) fail(format string, args ...any) {
	if len(c.errs) < maxCheckErrors {
		c.errs = append(c.errs, fmt.Errorf("caps: invariant: "+format, args...))
	}
}

// holderLists checks invariant 5 and collects the nodes.
func (c *checker) holderLists() {
	for obj, l := range c.s.holders {
		count := 0
		var prev *node
		for n := l.first; n != nil; n = n.nextHolder {
			if c.seen[n] {
				c.fail("object %v: holder list revisits a node", obj)
				break
			}
			c.seen[n] = true
			c.nodes = append(c.nodes, n)
			count++
			if n.prevHolder != prev {
				c.fail("object %v: holder list back link broken", obj)
			}
			if n.obj != obj {
				c.fail("object %v: holder list has a capability to %v", obj, n.obj)
			}
			prev = n
		}
		if count == 0 || count != l.count {
			c.fail("object %v: count %d, holder list has %d", obj, l.count, count)
		}
	}
}

// tables checks invariants 1, 2 and the slot half of 6: each slot of each
// live table points at a node from the holder lists that points back,
// free lists are exact, counts match, and every node is in some slot.
func (c *checker) tables() {
	inSlot := 0
	for t := range c.s.tables {
		if t.sys != c.s || t.dead {
			c.fail("table registered but foreign or dead")
			continue
		}
		onFree := make(map[uint32]bool, len(t.free))
		for _, i := range t.free {
			if i == 0 || int(i) > len(t.slots) || onFree[i] {
				c.fail("free list entry %d out of range or repeated", i)
				continue
			}
			onFree[i] = true
		}
		live, retired := 0, 0
		for k := range t.slots {
			i, sl := uint32(k+1), &t.slots[k]
			switch {
			case sl.node == nil && sl.retired:
				retired++
				if onFree[i] {
					c.fail("retired slot %d is on the free list", i)
				}
			case sl.node == nil:
				if !onFree[i] {
					c.fail("free slot %d is not on the free list", i)
				}
			default:
				live++
				c.slotHolds(t, i, sl)
			}
		}
		if len(onFree)+live+retired != len(t.slots) || len(t.free) != len(onFree) {
			c.fail("free list has %d entries for %d free slots", len(t.free), len(t.slots)-live-retired)
		}
		if live != t.live || live > t.limit {
			c.fail("table counts %d live capabilities, slots hold %d, limit %d", t.live, live, t.limit)
		}
		inSlot += live
	}
	if inSlot != len(c.nodes) {
		c.fail("%d capabilities on holder lists, %d in table slots", len(c.nodes), inSlot)
	}
}

// slotHolds checks that the live slot i of t holds a known node that
// names it, and that the slot's handle resolves to that node.
func (c *checker) slotHolds(t *Table, i uint32, sl *slot) {
	n := sl.node
	switch {
	case sl.retired:
		c.fail("retired slot %d holds a capability", i)
	case !c.seen[n]:
		c.fail("slot %d holds a capability on no holder list", i)
	case n.table != t || n.index != i:
		c.fail("slot %d holds a capability that names another slot", i)
	default:
		if got, err := t.resolve(makeHandle(i, sl.gen)); got != n || err != nil {
			c.fail("handle of slot %d does not resolve to it: %v", i, err)
		}
	}
}

// forest checks invariants 3, 4 and the tree half of 6: walking down from
// the roots along child lists reaches every node exactly once, and each
// parent/child pair agrees on object, rights and badge.
func (c *checker) forest() {
	reached := make(map[*node]bool, len(c.nodes))
	var stack []*node
	for _, r := range c.nodes {
		if r.parent == nil {
			if r.prevSib != nil || r.nextSib != nil {
				c.fail("root capability has siblings")
			}
			stack = append(stack, r)
		}
	}
	for len(stack) > 0 {
		p := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if reached[p] {
			c.fail("capability reached twice from the roots")
			return
		}
		reached[p] = true
		var prev *node
		for ch, steps := p.firstChild, 0; ch != nil; ch, steps = ch.nextSib, steps+1 {
			if !c.seen[ch] || steps > len(c.nodes) {
				c.fail("child list holds a removed capability or loops")
				return
			}
			c.edge(p, ch, prev)
			stack = append(stack, ch)
			prev = ch
		}
	}
	if len(reached) != len(c.nodes) {
		c.fail("%d of %d capabilities reachable from roots: a cycle or a lost child", len(reached), len(c.nodes))
	}
}

// edge checks one parent/child link.
func (c *checker) edge(p, ch, prev *node) {
	if ch.parent != p || ch.prevSib != prev {
		c.fail("child and parent or sibling links disagree")
	}
	if ch.obj != p.obj {
		c.fail("child names %v, its parent %v", ch.obj, p.obj)
	}
	if ch.rights&^p.rights != 0 {
		c.fail("child rights %#x exceed parent rights %#x", ch.rights, p.rights)
	}
	if p.badge != 0 && ch.badge != p.badge {
		c.fail("child badge %#x differs from parent badge %#x", ch.badge, p.badge)
	}
}
