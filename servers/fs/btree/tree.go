package btree

import (
	"errors"
	"fmt"
	"slices"

	"valence.dev/servers/fs/blockdev"
	"valence.dev/servers/fs/seal"
)

// ErrNotFound reports that no item has the key.
var ErrNotFound = errors.New("btree: key not found")

// ErrValueSize reports a value longer than MaxValue.
var ErrValueSize = errors.New("btree: value too large")

// Config is what a tree needs from the filesystem around it.
type Config struct {
	Dev    blockdev.Device
	Volume uint64
	// Alloc returns a block for a new node. The tree writes it only at
	// WriteDirty, so the block must not be part of the durable tree.
	Alloc func() (uint64, error)
	// Release gives back the block of a node the tree no longer uses.
	// The allocator decides whether it is free at once or only after the
	// next commit.
	Release func(addr uint64) error
	// CacheNodes is how many clean nodes to keep decoded in memory.
	CacheNodes int
}

// node is a Node as the tree keeps it in memory.
type node struct {
	Node
	addr  uint64
	dirty bool // changed since the last commit; lives in Tree.dirty
}

func (n *node) clone() *node {
	c := &node{Node: Node{Level: n.Level, Keys: slices.Clone(n.Keys)}, addr: n.addr}
	if n.Leaf() {
		c.Values = slices.Clone(n.Values) // values are immutable: share them
	} else {
		c.Children = slices.Clone(n.Children)
	}
	return c
}

// Tree is a copy-on-write B+tree. See the package documentation.
type Tree struct {
	cfg     Config
	root    uint64
	maxGen  uint64 // generation of the last commit; no node may be newer
	dirty   map[uint64]*node
	cache   *cache
	version uint64 // bumped by every mutation, so cursors can notice
	buf     []byte
}

// New creates an empty tree (one empty leaf) that the next WriteDirty
// will write for the first time. gen is the generation of the last
// commit, normally 0 for a new filesystem.
func New(cfg Config, gen uint64) (*Tree, error) {
	t := newTree(cfg, gen)
	addr, err := cfg.Alloc()
	if err != nil {
		return nil, fmt.Errorf("btree: new root: %w", err)
	}
	t.root = addr
	t.dirty[addr] = &node{addr: addr, dirty: true}
	return t, nil
}

// Open returns the tree whose root is at root, as committed by the
// commit of generation gen.
func Open(cfg Config, root, gen uint64) *Tree {
	t := newTree(cfg, gen)
	t.root = root
	return t
}

func newTree(cfg Config, gen uint64) *Tree {
	return &Tree{
		cfg:    cfg,
		maxGen: gen,
		dirty:  make(map[uint64]*node),
		cache:  newCache(cfg.CacheNodes),
		buf:    make([]byte, seal.BlockSize),
	}
}

// Root is the block number of the root node.
func (t *Tree) Root() uint64 { return t.root }

// Height is the number of levels: 1 for a tree that is a single leaf.
func (t *Tree) Height() (int, error) {
	r, err := t.load(t.root, -1)
	if err != nil {
		return 0, err
	}
	return r.Level + 1, nil
}

// Dirty is the number of nodes the next WriteDirty will write.
func (t *Tree) Dirty() int { return len(t.dirty) }

// load returns the node at addr, which its parent says is at level
// (or any level, if level < 0: the root).
func (t *Tree) load(addr uint64, level int) (*node, error) {
	n := t.dirty[addr]
	if n == nil {
		n = t.cache.get(addr)
	}
	if n == nil {
		if err := t.cfg.Dev.ReadAt(t.buf, addr); err != nil {
			return nil, fmt.Errorf("btree: read node %d: %w", addr, err)
		}
		d, err := Decode(t.buf, t.cfg.Volume, addr)
		if err != nil {
			return nil, err
		}
		if d.Generation > t.maxGen {
			return nil, fmt.Errorf("btree: node at %d has generation %d, newer than commit %d: %w", addr, d.Generation, t.maxGen, ErrCorrupt)
		}
		n = &node{Node: *d, addr: addr}
		t.cache.put(n)
	}
	if level >= 0 && n.Level != level {
		return nil, fmt.Errorf("btree: node at %d is level %d, its parent expects %d: %w", addr, n.Level, level, ErrCorrupt)
	}
	return n, nil
}

// mutable returns a dirty version of n that may be changed in place: n
// itself if it is already dirty, otherwise a copy in a newly allocated
// block, with n's block released. The caller must point n's parent (or
// the root) at the result.
func (t *Tree) mutable(n *node) (*node, error) {
	if n.dirty {
		return n, nil
	}
	addr, err := t.cfg.Alloc()
	if err != nil {
		return nil, fmt.Errorf("btree: copy node %d: %w", n.addr, err)
	}
	if err := t.cfg.Release(n.addr); err != nil {
		return nil, fmt.Errorf("btree: release node %d: %w", n.addr, err)
	}
	t.cache.remove(n.addr)
	c := n.clone()
	c.addr, c.dirty = addr, true
	t.dirty[addr] = c
	return c, nil
}

// mutableRoot makes the root dirty and returns it.
func (t *Tree) mutableRoot() (*node, error) {
	r, err := t.load(t.root, -1)
	if err != nil {
		return nil, err
	}
	if r, err = t.mutable(r); err != nil {
		return nil, err
	}
	t.root = r.addr
	return r, nil
}

// mutableChild makes child i of the dirty node n dirty and returns it.
func (t *Tree) mutableChild(n *node, i int) (*node, error) {
	c, err := t.load(n.Children[i], n.Level-1)
	if err != nil {
		return nil, err
	}
	if c, err = t.mutable(c); err != nil {
		return nil, err
	}
	n.Children[i] = c.addr
	return c, nil
}

// newNode allocates an empty dirty node at level.
func (t *Tree) newNode(level int) (*node, error) {
	addr, err := t.cfg.Alloc()
	if err != nil {
		return nil, fmt.Errorf("btree: new node: %w", err)
	}
	n := &node{Node: Node{Level: level}, addr: addr, dirty: true}
	t.dirty[addr] = n
	return n, nil
}

// drop releases a dirty node that the tree no longer refers to.
func (t *Tree) drop(n *node) error {
	delete(t.dirty, n.addr)
	return t.cfg.Release(n.addr)
}

// childIndex is the child of internal node n whose range holds k.
func (n *node) childIndex(k Key) int {
	i, found := search(n.Keys, k)
	if found {
		return i
	}
	return max(i-1, 0)
}

// search is where k is, or would be inserted, in leaf n.
func (n *node) search(k Key) (int, bool) { return search(n.Keys, k) }

// Get returns the value of the item with key k, or ErrNotFound. The
// value is shared with the tree and must not be modified.
func (t *Tree) Get(k Key) ([]byte, error) {
	n, err := t.load(t.root, -1)
	for err == nil && !n.Leaf() {
		n, err = t.load(n.Children[n.childIndex(k)], n.Level-1)
	}
	if err != nil {
		return nil, err
	}
	if i, ok := n.search(k); ok {
		return n.Values[i], nil
	}
	return nil, ErrNotFound
}

// WriteDirty writes every dirty node to its block as part of the commit
// of generation gen and makes it clean. Blocks are written in address
// order, consecutive blocks in one request. The caller flushes.
func (t *Tree) WriteDirty(gen uint64) error {
	addrs := make([]uint64, 0, len(t.dirty))
	for a := range t.dirty {
		addrs = append(addrs, a)
	}
	slices.Sort(addrs)
	for i := 0; i < len(addrs); {
		j := i + 1
		for j < len(addrs) && addrs[j] == addrs[j-1]+1 {
			j++
		}
		buf := make([]byte, (j-i)*seal.BlockSize)
		for k := i; k < j; k++ {
			n := t.dirty[addrs[k]]
			if err := Encode(&n.Node, buf[(k-i)*seal.BlockSize:(k-i+1)*seal.BlockSize], t.cfg.Volume, n.addr, gen); err != nil {
				return err
			}
		}
		if err := t.cfg.Dev.WriteAt(buf, addrs[i]); err != nil {
			return fmt.Errorf("btree: write nodes %d+%d: %w", addrs[i], j-i, err)
		}
		i = j
	}
	for _, a := range addrs {
		n := t.dirty[a]
		n.dirty, n.Generation = false, gen
		delete(t.dirty, a)
		t.cache.put(n)
	}
	t.maxGen = gen
	return nil
}
