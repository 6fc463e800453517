package fsck

import (
	"valence.dev/servers/fs/btree"
	"valence.dev/servers/fs/seal"
)

// walk state: the leaf depth seen first, and the last key, to check
// global order across leaves.
type walk struct {
	leafDepth int
	lastKey   *btree.Key
	buf       []byte
}

// walkTree checks the tree's structure and feeds every item, in key
// order, to item.
func (c *checker) walkTree() {
	w := &walk{leafDepth: -1, buf: make([]byte, seal.BlockSize)}
	c.node(w, c.sb.Root, -1, btree.Key{}, btree.MaxKey, true, 0)
	c.report.Height = w.leafDepth + 1
}

// node checks the node at addr, which its parent expects at level (any
// level for the root) with keys in [lo, hi), and walks beneath it.
func (c *checker) node(w *walk, addr uint64, level int, lo, hi btree.Key, root bool, depth int) {
	if addr < c.layout.DataStart() || addr >= c.sb.Blocks {
		c.problem("tree: pointer to block %d outside the data area", addr)
		c.incomplete = true
		return
	}
	if err := c.dev.ReadAt(w.buf, addr); err != nil {
		c.problem("tree: read node %d: %v", addr, err)
		c.incomplete = true
		return
	}
	n, err := btree.Decode(w.buf, c.sb.Volume, addr)
	if err != nil {
		c.problem("tree: %v", err)
		c.incomplete = true
		return
	}
	c.markUsed(addr, 1, "tree node")
	c.report.Nodes++
	if !c.nodeShape(n, addr, level, lo, hi, root) {
		c.incomplete = true
		return
	}
	if n.Leaf() {
		if w.leafDepth >= 0 && w.leafDepth != depth {
			c.problem("tree: leaf %d at depth %d, others at %d: unbalanced", addr, depth, w.leafDepth)
		}
		if w.leafDepth < 0 {
			w.leafDepth = depth
		}
		for i, k := range n.Keys {
			if w.lastKey != nil && !w.lastKey.Less(k) {
				c.problem("tree: key %v in leaf %d follows %v", k, addr, *w.lastKey)
			}
			w.lastKey = &n.Keys[i]
			c.report.Items++
			c.item(k, n.Values[i])
		}
		return
	}
	for i, k := range n.Keys {
		chi := hi
		if i+1 < len(n.Keys) {
			chi = n.Keys[i+1]
		}
		c.node(w, n.Children[i], n.Level-1, k, chi, false, depth+1)
	}
}

// nodeShape checks what a node's parent and the superblock say about it.
// It returns false if the node cannot be walked.
func (c *checker) nodeShape(n *btree.Node, addr uint64, level int, lo, hi btree.Key, root bool) bool {
	ok := true
	if n.Generation > c.sb.Generation {
		c.problem("tree: node %d has generation %d, newer than the superblock's %d", addr, n.Generation, c.sb.Generation)
		ok = false
	}
	if level >= 0 && n.Level != level {
		c.problem("tree: node %d is level %d, its parent expects %d", addr, n.Level, level)
		ok = false
	}
	if !root && len(n.Keys) == 0 {
		c.problem("tree: node %d is empty", addr)
	}
	if root && !n.Leaf() && len(n.Keys) < 2 {
		c.problem("tree: root %d has a single child", addr)
	}
	for _, k := range n.Keys {
		if k.Less(lo) || !k.Less(hi) {
			c.problem("tree: node %d key %v outside its range [%v, %v)", addr, k, lo, hi)
			break
		}
	}
	return ok
}
