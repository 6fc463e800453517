// Package ringmem reads and writes the 32-bit words of a virtqueue through
// which driver and device hand buffers to each other: the available ring's
// flags and idx, the used ring's flags and idx (VIRTIO 1.2 §2.7.6, §2.7.8).
//
// These words are the synchronisation points of a split virtqueue. The
// writer fills descriptors or used elements first and then publishes the new
// idx; the reader loads idx first and only then reads what it covers. The
// spec asks for a memory barrier on each side (§2.7.13.3, §2.7.14); here
// the accesses are sync/atomic operations, which are such barriers on
// every Go platform and, in hosted tests, tell the race detector that the
// fake device and the driver are ordered by these words.
//
// Ring memory is little-endian whatever the host (§2.7: "le16"); Load32
// and Store32 convert.
package ringmem

import (
	"encoding/binary"
	"math/bits"
)

// nativeLittle says whether the host stores integers little-endian, as
// the rings do.
var nativeLittle = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// Load32 atomically loads the little-endian word at b[0:4]. b must be at
// least 4 bytes long and 4-byte aligned in memory; otherwise Load32 panics
// (a bug in the ring layout, never device behaviour).
func Load32(b []byte) uint32 {
	v := atomicLoad(word(b))
	if !nativeLittle {
		v = bits.ReverseBytes32(v)
	}
	return v
}

// Store32 atomically stores v little-endian at b[0:4], with the same
// requirements as Load32.
func Store32(b []byte, v uint32) {
	if !nativeLittle {
		v = bits.ReverseBytes32(v)
	}
	atomicStore(word(b), v)
}

// Split returns the two 16-bit halves of a ring word: flags (bytes 0-1) and
// idx (bytes 2-3).
func Split(w uint32) (flags, idx uint16) { return uint16(w), uint16(w >> 16) }

// Join is the inverse of Split.
func Join(flags, idx uint16) uint32 { return uint32(flags) | uint32(idx)<<16 }
