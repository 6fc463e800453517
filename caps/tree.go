package caps

// The derivation tree: each node has a parent pointer and a doubly linked
// list of children. These helpers only relink nodes; they are called from
// invoke steps and cannot fail.

// adopt makes child (which has no parent) the first child of parent.
func adopt(parent, child *node) {
	child.parent = parent
	child.prevSib = nil
	child.nextSib = parent.firstChild
	if parent.firstChild != nil {
		parent.firstChild.prevSib = child
	}
	parent.firstChild = child
}

// detach takes n out of its parent's child list, making it a root.
func detach(n *node) {
	if n.parent == nil {
		return
	}
	if n.prevSib != nil {
		n.prevSib.nextSib = n.nextSib
	} else {
		n.parent.firstChild = n.nextSib
	}
	if n.nextSib != nil {
		n.nextSib.prevSib = n.prevSib
	}
	n.parent, n.prevSib, n.nextSib = nil, nil, nil
}

// splice removes n from the tree and hands its children to n's parent, or
// makes them roots if n is one, so that whatever could revoke n can still
// revoke them.
func splice(n *node) {
	for c := n.firstChild; c != nil; {
		next := c.nextSib
		c.parent, c.prevSib, c.nextSib = nil, nil, nil
		if n.parent != nil {
			adopt(n.parent, c)
		}
		c = next
	}
	n.firstChild = nil
	detach(n)
}

// removeCap takes a live capability out of everything: its table slot,
// the derivation tree (re-parenting its children) and its object's holder
// list. It reports whether n was the object's last capability.
func (s *System) removeCap(n *node) (last bool) {
	splice(n)
	n.table.release(n)
	return s.dropHolder(n)
}

// removeDescendants removes every capability derived from n, in every
// table, and returns how many. n itself stays, now with no children. The
// walk is iterative, so a deep chain cannot exhaust the stack; it never
// empties an object's holder list, since n holds the same object.
func (s *System) removeDescendants(n *node) int {
	stack := []*node{}
	for c := n.firstChild; c != nil; c = c.nextSib {
		stack = append(stack, c)
	}
	n.firstChild = nil
	removed := 0
	for len(stack) > 0 {
		d := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for c := d.firstChild; c != nil; c = c.nextSib {
			stack = append(stack, c)
		}
		d.table.release(d)
		s.dropHolder(d)
		d.clear()
		removed++
	}
	return removed
}

// clear forgets every link of a removed node, so a dangling reference to
// it (there should be none) reaches nothing.
func (n *node) clear() {
	n.table, n.index = nil, 0
	n.parent, n.firstChild, n.prevSib, n.nextSib = nil, nil, nil, nil
	n.prevHolder, n.nextHolder = nil, nil
}
