package btree

import (
	"encoding/binary"
	"errors"
	"fmt"

	"valence.dev/servers/fs/seal"
)

// Node layout after the 32-byte seal header: level (1 byte at 32; 0 is a
// leaf), a reserved zero byte, the item count (2 bytes at 34), four
// reserved zero bytes, then the entries from byte 40.
const nodeHeader = 40

// capacity is how many payload bytes a node has for entries and values.
const capacity = seal.BlockSize - nodeHeader

// A leaf entry is a key, the offset of its value in the block and the
// value's length. Values are packed from the end of the block backwards
// in entry order, so the free space is one gap in the middle.
const leafEntry = KeySize + 2 + 2

// An internal entry is a key and a child's block number.
const internalEntry = KeySize + 8

// MaxChildren is the fan-out of an internal node.
const MaxChildren = capacity / internalEntry

// MaxValue is the largest value an item may have. It is small enough
// that any three items fit in a node, which is what lets a full leaf
// always split into two that fit (see split).
const MaxValue = 1280

// MaxLevel bounds the height of a tree: level MaxLevel is the highest a
// root may be. With MaxChildren = 162 that is far more than any device
// can fill; the bound exists so that a damaged image cannot make a walk
// recurse without end.
const MaxLevel = 8

// ErrCorrupt reports a node that cannot be trusted: bad checksum, wrong
// header, or contents that break the node format.
var ErrCorrupt = errors.New("btree: corrupt node")

// Node is the decoded contents of a tree block. A leaf (Level 0) has
// Values, one per key; an internal node has Children, one per key, where
// Keys[i] is at most every key under Children[i] and every key under
// Children[i] is less than Keys[i+1].
type Node struct {
	Level      int
	Generation uint64
	Keys       []Key
	Values     [][]byte
	Children   []uint64
}

// Leaf reports whether n is a leaf.
func (n *Node) Leaf() bool { return n.Level == 0 }

// used returns the payload bytes n takes when encoded.
func (n *Node) used() int {
	if !n.Leaf() {
		return len(n.Keys) * internalEntry
	}
	size := 0
	for _, v := range n.Values {
		size += leafEntry + len(v)
	}
	return size
}

// Encode writes n into the block b as a node of volume at address addr,
// written by generation gen. It fails if n does not fit.
func Encode(n *Node, b []byte, volume, addr, gen uint64) error {
	if len(b) != seal.BlockSize || n.used() > capacity || n.Level < 0 || n.Level > MaxLevel {
		return fmt.Errorf("btree: encode node at %d: does not fit: %w", addr, ErrCorrupt)
	}
	clear(b)
	b[32] = byte(n.Level)
	binary.LittleEndian.PutUint16(b[34:], uint16(len(n.Keys)))
	p := nodeHeader
	if n.Leaf() {
		end := seal.BlockSize
		for i, k := range n.Keys {
			v := n.Values[i]
			end -= len(v)
			copy(b[end:], v)
			putKey(b[p:], k)
			binary.LittleEndian.PutUint16(b[p+KeySize:], uint16(end))
			binary.LittleEndian.PutUint16(b[p+KeySize+2:], uint16(len(v)))
			p += leafEntry
		}
	} else {
		for i, k := range n.Keys {
			putKey(b[p:], k)
			binary.LittleEndian.PutUint64(b[p+KeySize:], n.Children[i])
			p += internalEntry
		}
	}
	seal.Seal(b, seal.Header{Magic: seal.MagicNode, Volume: volume, Address: addr, Generation: gen})
	return nil
}

// Decode checks the block b, read from address addr of volume, and
// returns the node in it. Only canonical encodings are accepted: sorted
// keys, values packed exactly as Encode packs them, zero padding. So
// Encode(Decode(b)) == b for every block Decode accepts. The node's
// values are fresh copies, not aliases of b.
func Decode(b []byte, volume, addr uint64) (*Node, error) {
	h, err := seal.Open(b, seal.MagicNode, volume, addr)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	n := &Node{Level: int(b[32]), Generation: h.Generation}
	count := int(binary.LittleEndian.Uint16(b[34:]))
	bad := func(what string) error {
		return fmt.Errorf("btree: node at %d: %s: %w", addr, what, ErrCorrupt)
	}
	switch {
	case n.Level > MaxLevel:
		return nil, bad(fmt.Sprintf("level %d", n.Level))
	case b[33] != 0 || binary.LittleEndian.Uint32(b[36:]) != 0:
		return nil, bad("reserved header bytes set")
	case n.Leaf() && count*leafEntry > capacity:
		return nil, bad(fmt.Sprintf("%d items", count))
	case !n.Leaf() && (count == 0 || count > MaxChildren):
		return nil, bad(fmt.Sprintf("%d children", count))
	}
	var gap int
	if n.Leaf() {
		gap, err = decodeLeaf(n, b, count)
	} else {
		gap, err = decodeInternal(n, b, count)
	}
	if err != nil {
		return nil, bad(err.Error())
	}
	for _, x := range b[nodeHeader+gap : nodeHeader+capacity-n.valueBytes()] {
		if x != 0 {
			return nil, bad("padding not zero")
		}
	}
	return n, nil
}

func (n *Node) valueBytes() int {
	s := 0
	for _, v := range n.Values {
		s += len(v)
	}
	return s
}

// decodeLeaf fills n's keys and values and returns the bytes the entry
// table takes.
func decodeLeaf(n *Node, b []byte, count int) (int, error) {
	n.Keys = make([]Key, count)
	n.Values = make([][]byte, count)
	end := seal.BlockSize
	tableEnd := nodeHeader + count*leafEntry
	for i := range count {
		p := nodeHeader + i*leafEntry
		n.Keys[i] = getKey(b[p:])
		off := int(binary.LittleEndian.Uint16(b[p+KeySize:]))
		size := int(binary.LittleEndian.Uint16(b[p+KeySize+2:]))
		if size > MaxValue || off != end-size || off < tableEnd {
			return 0, fmt.Errorf("item %d: value at %d+%d", i, off, size)
		}
		if i > 0 && !n.Keys[i-1].Less(n.Keys[i]) {
			return 0, fmt.Errorf("item %d: key %v out of order", i, n.Keys[i])
		}
		n.Values[i] = append([]byte(nil), b[off:end]...)
		end = off
	}
	return count * leafEntry, nil
}

// decodeInternal fills n's keys and children and returns the bytes the
// entry table takes.
func decodeInternal(n *Node, b []byte, count int) (int, error) {
	n.Keys = make([]Key, count)
	n.Children = make([]uint64, count)
	for i := range count {
		p := nodeHeader + i*internalEntry
		n.Keys[i] = getKey(b[p:])
		n.Children[i] = binary.LittleEndian.Uint64(b[p+KeySize:])
		if i > 0 && !n.Keys[i-1].Less(n.Keys[i]) {
			return 0, fmt.Errorf("entry %d: key %v out of order", i, n.Keys[i])
		}
	}
	return count * internalEntry, nil
}
