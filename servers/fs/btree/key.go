package btree

import (
	"cmp"
	"encoding/binary"
	"fmt"
)

// Key names an item. Items sort by ID, then Kind, then Off, so all the
// items of one object (an inode, say) are neighbours, grouped by kind
// and ordered by offset within a kind.
type Key struct {
	ID   uint64
	Kind uint8
	Off  uint64
}

// KeySize is the encoded size of a key.
const KeySize = 17

// Compare returns -1, 0 or +1 as k sorts before, with or after o.
func (k Key) Compare(o Key) int {
	if c := cmp.Compare(k.ID, o.ID); c != 0 {
		return c
	}
	if c := cmp.Compare(k.Kind, o.Kind); c != 0 {
		return c
	}
	return cmp.Compare(k.Off, o.Off)
}

// Less reports whether k sorts before o.
func (k Key) Less(o Key) bool {
	if k.ID != o.ID {
		return k.ID < o.ID
	}
	if k.Kind != o.Kind {
		return k.Kind < o.Kind
	}
	return k.Off < o.Off
}

// search returns where k is in the sorted keys, or where it would be
// inserted, and whether it is there. It is sort.Search written out for
// keys, because lookups spend most of their time here.
func search(keys []Key, k Key) (int, bool) {
	lo, hi := 0, len(keys)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if keys[m].Less(k) {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo, lo < len(keys) && keys[lo] == k
}

func (k Key) String() string { return fmt.Sprintf("(%d %d %d)", k.ID, k.Kind, k.Off) }

// MaxKey sorts after every other key.
var MaxKey = Key{ID: ^uint64(0), Kind: ^uint8(0), Off: ^uint64(0)}

func putKey(b []byte, k Key) {
	binary.LittleEndian.PutUint64(b[0:], k.ID)
	b[8] = k.Kind
	binary.LittleEndian.PutUint64(b[9:], k.Off)
}

func getKey(b []byte) Key {
	return Key{
		ID:   binary.LittleEndian.Uint64(b[0:]),
		Kind: b[8],
		Off:  binary.LittleEndian.Uint64(b[9:]),
	}
}
