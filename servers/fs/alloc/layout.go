package alloc

import (
	"errors"
	"fmt"

	"valence.dev/servers/fs/seal"
)

// Header bytes of a bitmap block: the seal header, then the copy number
// (1 byte at 32), three reserved zero bytes, and the index of this block
// within its copy (4 bytes at 36).
const bitmapHeader = 40

// wordsPerBlock is how many 64-bit words of bitmap one block carries.
const wordsPerBlock = (seal.BlockSize - bitmapHeader) / 8

// BitsPerBlock is how many blocks one bitmap block describes.
const BitsPerBlock = wordsPerBlock * 64

// SuperBlocks is the number of superblock slots at the start of the device.
const SuperBlocks = 2

// MinBlocks is the smallest device the layout accepts: the fixed area of
// a one-block-per-copy bitmap and room for a tree and a few files.
const MinBlocks = 16

// MaxBlocks bounds the device size (1 PiB), which bounds the memory the
// in-memory bitmaps take (32 MiB each at that size).
const MaxBlocks = 1 << 38

// ErrLayout reports a device size the layout cannot describe.
var ErrLayout = errors.New("alloc: unusable device size")

// Layout is where the fixed structures of a filesystem of a given size
// live. It depends only on the size.
type Layout struct {
	Blocks       uint64 // size of the filesystem in blocks
	BitmapBlocks uint64 // blocks in each bitmap copy
}

// NewLayout returns the layout of a filesystem of the given size.
func NewLayout(blocks uint64) (Layout, error) {
	if blocks < MinBlocks || blocks > MaxBlocks {
		return Layout{}, fmt.Errorf("%d blocks (want %d to %d): %w", blocks, MinBlocks, uint64(MaxBlocks), ErrLayout)
	}
	return Layout{Blocks: blocks, BitmapBlocks: (blocks + BitsPerBlock - 1) / BitsPerBlock}, nil
}

// CopyStart is the first block of bitmap copy c (0 or 1).
func (l Layout) CopyStart(c int) uint64 {
	return SuperBlocks + uint64(c)*l.BitmapBlocks
}

// DataStart is the first block that is not part of the fixed area.
func (l Layout) DataStart() uint64 { return SuperBlocks + 2*l.BitmapBlocks }

// words is the length of an in-memory bitmap in 64-bit words.
func (l Layout) words() int { return int(l.BitmapBlocks) * wordsPerBlock }
