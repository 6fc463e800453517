package btree

import (
	"errors"
	"fmt"
)

// ErrStale reports a cursor used after the tree changed under it.
var ErrStale = errors.New("btree: cursor used after the tree changed")

// Cursor walks the items of a tree in key order. Because a copy-on-write
// tree has no sibling pointers (a sibling pointer would force a copy of
// the sibling whenever a node moves), the cursor keeps the path from
// the root to its leaf and climbs it to move between leaves.
//
// A cursor is valid only until the tree changes; after that every method
// reports ErrStale. Callers that modify the tree while walking it note
// the next key and Seek again.
type Cursor struct {
	t       *Tree
	version uint64
	path    []frame // path[0] is the root, the last frame a leaf
	err     error
}

type frame struct {
	n *node
	i int
}

// Seek returns a cursor at the first item whose key is at least k.
func (t *Tree) Seek(k Key) *Cursor {
	c := &Cursor{t: t, version: t.version}
	n, err := t.load(t.root, -1)
	for err == nil && !n.Leaf() {
		i := n.childIndex(k)
		c.path = append(c.path, frame{n, i})
		n, err = t.load(n.Children[i], n.Level-1)
	}
	if err != nil {
		c.err = err
		return c
	}
	i, _ := n.search(k)
	c.path = append(c.path, frame{n, i})
	if i == len(n.Keys) {
		c.nextLeaf()
	}
	return c
}

// SeekLast returns a cursor at the last item whose key is at most k.
func (t *Tree) SeekLast(k Key) *Cursor {
	c := t.Seek(k)
	if c.Valid() && c.Key() == k {
		return c
	}
	c.Prev()
	return c
}

func (c *Cursor) leaf() *frame { return &c.path[len(c.path)-1] }

func (c *Cursor) live() bool {
	if c.err == nil && c.version != c.t.version {
		c.err = ErrStale
	}
	return c.err == nil && len(c.path) > 0
}

// Valid reports whether the cursor is at an item.
func (c *Cursor) Valid() bool {
	if !c.live() {
		return false
	}
	f := c.leaf()
	return f.i >= 0 && f.i < len(f.n.Keys)
}

// Key returns the key of the current item. The cursor must be Valid.
func (c *Cursor) Key() Key { f := c.leaf(); return f.n.Keys[f.i] }

// Value returns the value of the current item, shared with the tree: it
// must not be modified. The cursor must be Valid.
func (c *Cursor) Value() []byte { f := c.leaf(); return f.n.Values[f.i] }

// Err returns the error that stopped the cursor, if any: a node that
// could not be read or trusted, or ErrStale.
func (c *Cursor) Err() error {
	c.live()
	return c.err
}

// Next moves to the following item. Past the last item the cursor is not
// Valid.
func (c *Cursor) Next() {
	if !c.live() {
		return
	}
	f := c.leaf()
	if f.i < len(f.n.Keys) {
		f.i++
	}
	if f.i == len(f.n.Keys) {
		c.nextLeaf()
	}
}

// Prev moves to the preceding item. Before the first item the cursor is
// not Valid.
func (c *Cursor) Prev() {
	if !c.live() {
		return
	}
	f := c.leaf()
	if f.i > 0 {
		f.i--
		return
	}
	f.i = -1
	c.prevLeaf()
}

// nextLeaf moves from the end of the current leaf to the first item of
// the next leaf that has one. If there is none the cursor stays at the
// end of the current leaf.
func (c *Cursor) nextLeaf() {
	for {
		d := len(c.path) - 2
		for d >= 0 && c.path[d].i+1 >= len(c.path[d].n.Keys) {
			d--
		}
		if d < 0 {
			return
		}
		c.path[d].i++
		if !c.descend(d, false) {
			return
		}
		if f := c.leaf(); len(f.n.Keys) > 0 {
			return
		}
	}
}

// prevLeaf moves from before the start of the current leaf to the last
// item of the previous leaf that has one. If there is none the cursor
// stays before the start of the current leaf.
func (c *Cursor) prevLeaf() {
	for {
		d := len(c.path) - 2
		for d >= 0 && c.path[d].i == 0 {
			d--
		}
		if d < 0 {
			return
		}
		c.path[d].i--
		if !c.descend(d, true) {
			return
		}
		if f := c.leaf(); len(f.n.Keys) > 0 {
			return
		}
	}
}

// descend rebuilds the path below depth d, taking the leftmost (or,
// with last, the rightmost) child at every level.
func (c *Cursor) descend(d int, last bool) bool {
	c.path = c.path[:d+1]
	for {
		f := c.path[len(c.path)-1]
		if f.n.Leaf() {
			return true
		}
		n, err := c.t.load(f.n.Children[f.i], f.n.Level-1)
		if err != nil {
			c.err = fmt.Errorf("btree: cursor: %w", err)
			return false
		}
		i := 0
		if last {
			i = len(n.Keys) - 1
			if n.Leaf() {
				i = max(i, 0)
			}
		}
		c.path = append(c.path, frame{n, i})
	}
}
