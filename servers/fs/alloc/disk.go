package alloc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"

	"valence.dev/servers/fs/blockdev"
	"valence.dev/servers/fs/seal"
)

func trailingZeros(x uint64) int { return bits.TrailingZeros64(x) }

// ErrBitmap reports a bitmap copy that cannot be trusted.
var ErrBitmap = errors.New("alloc: bad bitmap block")

// Bitmap is a bitmap copy as read from disk: bit b set means block b is
// in use. fsck compares it with the blocks the tree refers to.
type Bitmap struct {
	layout Layout
	bits   bitset
}

// InUse reports whether the bitmap marks block b as in use.
func (m *Bitmap) InUse(b uint64) bool { return b < m.layout.Blocks && m.bits.test(b) }

// Count returns the number of blocks the bitmap marks as in use.
func (m *Bitmap) Count() uint64 { return m.bits.count(0, m.layout.Blocks) }

// ReadCopy reads and checks bitmap copy c, which the superblock of
// generation gen refers to. Every block must be intact, belong to the
// volume, have been written by a commit of the copy's parity no later
// than gen, and mark the fixed area and the padding as in use.
func ReadCopy(dev blockdev.Device, l Layout, volume, gen uint64, c int) (*Bitmap, error) {
	m := &Bitmap{layout: l, bits: make(bitset, l.words())}
	buf := make([]byte, seal.BlockSize)
	for i := uint64(0); i < l.BitmapBlocks; i++ {
		addr := l.CopyStart(c) + i
		if err := dev.ReadAt(buf, addr); err != nil {
			return nil, fmt.Errorf("alloc: read bitmap copy %d block %d: %w", c, i, err)
		}
		if err := decodeBlock(buf, m.bits[int(i)*wordsPerBlock:], volume, addr, gen, c, i); err != nil {
			return nil, err
		}
	}
	if b := m.bits.nextClear(0, l.DataStart()); b < l.DataStart() {
		return nil, fmt.Errorf("alloc: bitmap copy %d marks fixed block %d free: %w", c, b, ErrBitmap)
	}
	end := uint64(l.words()) * 64
	if b := m.bits.nextClear(l.Blocks, end); b < end {
		return nil, fmt.Errorf("alloc: bitmap copy %d marks block %d past the end free: %w", c, b, ErrBitmap)
	}
	return m, nil
}

// decodeBlock checks one bitmap block and copies its words into dst.
func decodeBlock(buf []byte, dst bitset, volume, addr, gen uint64, c int, i uint64) error {
	h, err := seal.Open(buf, seal.MagicBitmap, volume, addr)
	if err != nil {
		return fmt.Errorf("%w: copy %d: %w", ErrBitmap, c, err)
	}
	switch {
	case h.Generation > gen || h.Generation%2 != uint64(c):
		return fmt.Errorf("alloc: bitmap copy %d block %d has generation %d (superblock %d): %w", c, i, h.Generation, gen, ErrBitmap)
	case buf[32] != byte(c) || buf[33]|buf[34]|buf[35] != 0:
		return fmt.Errorf("alloc: bitmap copy %d block %d: bad copy field: %w", c, i, ErrBitmap)
	case binary.LittleEndian.Uint32(buf[36:]) != uint32(i):
		return fmt.Errorf("alloc: bitmap copy %d block %d: bad index field: %w", c, i, ErrBitmap)
	}
	for w := range wordsPerBlock {
		dst[w] = binary.LittleEndian.Uint64(buf[bitmapHeader+8*w:])
	}
	return nil
}

// Load returns the allocator of a mounted filesystem whose superblock of
// generation gen refers to bitmap copy gen%2.
func Load(dev blockdev.Device, l Layout, volume, gen uint64) (*Allocator, error) {
	c := int(gen % 2)
	m, err := ReadCopy(dev, l, volume, gen, c)
	if err != nil {
		return nil, err
	}
	a := newAllocator(l)
	copy(a.used, m.bits)
	a.nused = m.Count()
	// The loaded copy matches memory; the other one is unknown.
	a.markAllDirty(1 - c)
	return a, nil
}

// WriteCopy writes the bitmap blocks of copy gen%2 that changed since it
// was last written, describing the tree of the commit of generation gen
// (used blocks minus pending ones). Runs of consecutive dirty blocks go
// out in one request.
func (a *Allocator) WriteCopy(dev blockdev.Device, volume, gen uint64) error {
	c := int(gen % 2)
	l := a.layout
	for i := uint64(0); i < l.BitmapBlocks; {
		if !a.dirty[c][i] {
			i++
			continue
		}
		j := i
		for j < l.BitmapBlocks && a.dirty[c][j] {
			j++
		}
		buf := make([]byte, (j-i)*seal.BlockSize)
		for k := i; k < j; k++ {
			a.encodeBlock(buf[(k-i)*seal.BlockSize:(k-i+1)*seal.BlockSize], volume, gen, c, k)
		}
		if err := dev.WriteAt(buf, l.CopyStart(c)+i); err != nil {
			return fmt.Errorf("alloc: write bitmap copy %d: %w", c, err)
		}
		for k := i; k < j; k++ {
			a.dirty[c][k] = false
		}
		i = j
	}
	return nil
}

func (a *Allocator) encodeBlock(buf []byte, volume, gen uint64, c int, i uint64) {
	clear(buf)
	buf[32] = byte(c)
	binary.LittleEndian.PutUint32(buf[36:], uint32(i))
	base := int(i) * wordsPerBlock
	for w := range wordsPerBlock {
		v := a.used[base+w] &^ a.pending.bitset[base+w]
		binary.LittleEndian.PutUint64(buf[bitmapHeader+8*w:], v)
	}
	seal.Seal(buf, seal.Header{Magic: seal.MagicBitmap, Volume: volume, Address: a.layout.CopyStart(c) + i, Generation: gen})
}
