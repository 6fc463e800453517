package btree

import (
	"fmt"
	"slices"
)

// Delete removes the item with key k, or returns ErrNotFound and changes
// nothing. A node left less than a quarter full is merged with a
// neighbour, or refilled from it when the two do not fit in one, and a
// root with a single child is replaced by that child; so the tree stays
// balanced and its nodes stay reasonably full. Errors are as for Put.
func (t *Tree) Delete(k Key) error {
	if _, err := t.Get(k); err != nil {
		return err // ErrNotFound changes nothing, not even the path.
	}
	t.version++
	root, err := t.mutableRoot()
	if err != nil {
		return err
	}
	if err := t.delete(root, k); err != nil {
		return err
	}
	for !root.Leaf() && len(root.Keys) == 1 {
		child, err := t.mutableChild(root, 0)
		if err != nil {
			return err
		}
		if err := t.drop(root); err != nil {
			return err
		}
		t.root, root = child.addr, child
	}
	return nil
}

// delete removes k from the subtree of the dirty node n.
func (t *Tree) delete(n *node, k Key) error {
	if n.Leaf() {
		i, found := n.search(k)
		if !found {
			return fmt.Errorf("btree: delete %v: vanished: %w", k, ErrCorrupt)
		}
		n.Keys = slices.Delete(n.Keys, i, i+1)
		n.Values = slices.Delete(n.Values, i, i+1)
		return nil
	}
	i := n.childIndex(k)
	child, err := t.mutableChild(n, i)
	if err != nil {
		return err
	}
	if err := t.delete(child, k); err != nil {
		return err
	}
	if underfull(&child.Node) && len(n.Keys) > 1 {
		return t.rebalance(n, i)
	}
	return nil
}

// underfull reports whether n holds less than a quarter of a node.
func underfull(n *Node) bool { return n.used() < capacity/4 }

// rebalance fixes the underfull child i of the dirty node n, which has at
// least two children, by merging it with a neighbour or sharing the
// neighbour's entries.
func (t *Tree) rebalance(n *node, i int) error {
	li := i
	if i+1 == len(n.Keys) {
		li = i - 1
	}
	left, err := t.mutableChild(n, li)
	if err != nil {
		return err
	}
	right, err := t.mutableChild(n, li+1)
	if err != nil {
		return err
	}
	if left.used()+right.used() <= capacity {
		moveUpper(&right.Node, &left.Node, 0)
		n.Keys = slices.Delete(n.Keys, li+1, li+2)
		n.Children = slices.Delete(n.Children, li+1, li+2)
		return t.drop(right)
	}
	// Pool the entries and divide them again, left side first.
	all := Node{Level: left.Level}
	moveUpper(&left.Node, &all, 0)
	moveUpper(&right.Node, &all, 0)
	s := splitPoint(&all)
	moveUpper(&all, &right.Node, s)
	moveUpper(&all, &left.Node, 0)
	n.Keys[li+1] = right.Keys[0]
	return nil
}
