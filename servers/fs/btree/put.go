package btree

import (
	"fmt"
	"slices"
)

// Put sets the value of the item with key k, inserting it if there is
// none. The tree keeps its own copy of v.
//
// Like every mutating method, Put copies each node on the path from the
// root to the leaf into a new block the first time it changes after a
// commit, and changes only those copies. An error part-way leaves the
// tree in memory in an unspecified but safe state: the filesystem stops
// committing after one, so the durable tree is never affected.
func (t *Tree) Put(k Key, v []byte) error {
	if len(v) > MaxValue {
		return fmt.Errorf("btree: put %v: %d bytes: %w", k, len(v), ErrValueSize)
	}
	t.version++
	root, err := t.mutableRoot()
	if err != nil {
		return err
	}
	right, err := t.put(root, k, slices.Clone(v))
	if err != nil || right == nil {
		return err
	}
	// The root split: grow the tree by one level.
	if root.Level >= MaxLevel {
		return fmt.Errorf("btree: tree would exceed level %d: %w", MaxLevel, ErrCorrupt)
	}
	top, err := t.newNode(root.Level + 1)
	if err != nil {
		return err
	}
	top.Keys = []Key{root.Keys[0], right.Keys[0]}
	top.Children = []uint64{root.addr, right.addr}
	t.root = top.addr
	return nil
}

// put inserts into the subtree of the dirty node n and returns the new
// right sibling if n had to split.
func (t *Tree) put(n *node, k Key, v []byte) (*node, error) {
	if n.Leaf() {
		i, found := n.search(k)
		if found {
			n.Values[i] = v
		} else {
			n.Keys = slices.Insert(n.Keys, i, k)
			n.Values = slices.Insert(n.Values, i, v)
		}
		return t.splitIfFull(n)
	}
	i := n.childIndex(k)
	if k.Less(n.Keys[0]) {
		// Keys[0] stays a lower bound of everything beneath it.
		n.Keys[0] = k
	}
	child, err := t.mutableChild(n, i)
	if err != nil {
		return nil, err
	}
	right, err := t.put(child, k, v)
	if err != nil || right == nil {
		return nil, err
	}
	n.Keys = slices.Insert(n.Keys, i+1, right.Keys[0])
	n.Children = slices.Insert(n.Children, i+1, right.addr)
	return t.splitIfFull(n)
}

// splitIfFull moves the upper part of an overfull dirty node n into a new
// right sibling and returns it, or returns nil if n fits.
func (t *Tree) splitIfFull(n *node) (*node, error) {
	if n.used() <= capacity {
		return nil, nil
	}
	right, err := t.newNode(n.Level)
	if err != nil {
		return nil, err
	}
	moveUpper(&n.Node, &right.Node, splitPoint(&n.Node))
	return right, nil
}

// splitPoint chooses how many entries of n stay on the left when n's
// entries are divided between two nodes. Internal nodes split by count.
// A leaf keeps at most half its bytes on the left, and at least one
// entry. Because every item is at most a third of a node (MaxValue) and
// the entries being divided take at most 5/4 of a node whenever this is
// called (an overfull leaf holds one node's worth plus one item; an
// underfull pair is below 1/4 + 1), both sides fit: the right side has
// less than half the bytes plus one item.
func splitPoint(n *Node) int {
	if !n.Leaf() {
		return len(n.Keys) / 2
	}
	half := n.used() / 2
	left, s := 0, 0
	for s < len(n.Keys) {
		size := leafEntry + len(n.Values[s])
		if left+size > half {
			break
		}
		left += size
		s++
	}
	return min(max(s, 1), len(n.Keys)-1)
}

// moveUpper moves the entries of n from index s on to the empty node r.
func moveUpper(n, r *Node, s int) {
	r.Keys = append(r.Keys, n.Keys[s:]...)
	n.Keys = slices.Clip(n.Keys[:s])
	if n.Leaf() {
		r.Values = append(r.Values, n.Values[s:]...)
		clear(n.Values[s:])
		n.Values = slices.Clip(n.Values[:s])
	} else {
		r.Children = append(r.Children, n.Children[s:]...)
		n.Children = slices.Clip(n.Children[:s])
	}
}
