package fs

import (
	"fmt"

	"valence.dev/servers/fs/btree"
)

// A file's data is mapped by extent items (ino, kindExtent, L) -> (P, N):
// logical blocks L..L+N-1 are physical blocks P..P+N-1. Extents of a
// file never overlap and never reach past the file's size rounded up to
// a block; a logical block with no extent is a hole and reads as zeros.
// Physically adjacent neighbours are merged, so a file written
// sequentially is usually one extent.

// segment is a run of logical blocks that is either a hole (phys 0) or
// mapped to consecutive physical blocks.
type segment struct {
	logical, count, phys uint64
}

func (s segment) hole() bool { return s.phys == 0 }

// extentsFrom returns a cursor at the extent of inode ino that covers or
// precedes logical block b (or, if there is none, the first one after
// it), so that Next walks the file's later extents.
func (f *FS) extentsFrom(ino, b uint64) *btree.Cursor {
	c := f.tree.SeekLast(extentKey(ino, b))
	if c.Valid() && isKind(c.Key(), ino, kindExtent) {
		return c
	}
	return f.tree.Seek(extentKey(ino, b))
}

func (f *FS) decodeExtent(c *btree.Cursor) (Extent, error) {
	return DecodeExtent(c.Value(), c.Key().Off, f.layout.DataStart(), f.layout.Blocks)
}

// segments maps logical blocks [from, to) of inode ino: holes and mapped
// runs, in order, covering the range exactly. It visits only the
// extents that overlap the range, so the cost does not depend on the
// size of the holes.
func (f *FS) segments(ino, from, to uint64) ([]segment, error) {
	var segs []segment
	pos, prevEnd := from, uint64(0)
	c := f.extentsFrom(ino, from)
	for ; c.Valid() && isKind(c.Key(), ino, kindExtent) && c.Key().Off < to; c.Next() {
		l := c.Key().Off
		e, err := f.decodeExtent(c)
		if err != nil {
			return nil, fmt.Errorf("inode %d: %w", ino, err)
		}
		if l < prevEnd {
			return nil, fmt.Errorf("inode %d: extents overlap at block %d: %w", ino, l, ErrCorrupt)
		}
		prevEnd = l + e.Count
		if prevEnd <= pos {
			continue
		}
		if l > pos {
			segs = append(segs, segment{logical: pos, count: l - pos})
			pos = l
		}
		end := min(prevEnd, to)
		segs = append(segs, segment{logical: pos, count: end - pos, phys: e.Phys + (pos - l)})
		pos = end
	}
	if err := c.Err(); err != nil {
		return nil, fmt.Errorf("inode %d: %w", ino, err)
	}
	if pos < to {
		segs = append(segs, segment{logical: pos, count: to - pos})
	}
	return segs, nil
}

// unmap removes the mapping of logical blocks [from, to) of inode ino,
// releasing the physical blocks, and adjusts in.Blocks. Extents that
// straddle an end of the range are cut.
func (f *FS) unmap(ino uint64, in *Inode, from, to uint64) error {
	type item struct {
		l uint64
		e Extent
	}
	var hit []item
	c := f.extentsFrom(ino, from)
	for ; c.Valid() && isKind(c.Key(), ino, kindExtent) && c.Key().Off < to; c.Next() {
		e, err := f.decodeExtent(c)
		if err != nil {
			return fmt.Errorf("inode %d: %w", ino, err)
		}
		if c.Key().Off+e.Count > from {
			hit = append(hit, item{c.Key().Off, e})
		}
	}
	if err := c.Err(); err != nil {
		return err
	}
	for _, h := range hit {
		lo, hi := max(h.l, from), min(h.l+h.e.Count, to)
		if err := f.tree.Delete(extentKey(ino, h.l)); err != nil {
			return err
		}
		if h.l < lo {
			if err := f.tree.Put(extentKey(ino, h.l), EncodeExtent(Extent{h.e.Phys, lo - h.l})); err != nil {
				return err
			}
		}
		if end := h.l + h.e.Count; hi < end {
			right := Extent{h.e.Phys + (hi - h.l), end - hi}
			if err := f.tree.Put(extentKey(ino, hi), EncodeExtent(right)); err != nil {
				return err
			}
		}
		if err := f.alloc.Release(h.e.Phys+(lo-h.l), hi-lo); err != nil {
			return fmt.Errorf("inode %d: %w", ino, err)
		}
		if in.Blocks < hi-lo {
			return fmt.Errorf("inode %d: block count below its extents: %w", ino, ErrCorrupt)
		}
		in.Blocks -= hi - lo
	}
	return nil
}

// mapRun records that logical blocks [l, l+n) of inode ino, which are
// unmapped, now live at physical blocks [p, p+n), merging with the
// neighbouring extents when they are adjacent on disk too.
func (f *FS) mapRun(ino uint64, in *Inode, l, n, p uint64) error {
	in.Blocks += n
	if l > 0 {
		c := f.tree.SeekLast(extentKey(ino, l-1))
		if c.Valid() && isKind(c.Key(), ino, kindExtent) {
			prev, err := f.decodeExtent(c)
			if err != nil {
				return err
			}
			if pl := c.Key().Off; pl+prev.Count == l && prev.Phys+prev.Count == p {
				l, p, n = pl, prev.Phys, n+prev.Count
			}
		} else if err := c.Err(); err != nil {
			return err
		}
	}
	c := f.tree.Seek(extentKey(ino, l+n))
	if c.Valid() && c.Key() == extentKey(ino, l+n) {
		next, err := f.decodeExtent(c)
		if err != nil {
			return err
		}
		if next.Phys == p+n {
			if err := f.tree.Delete(extentKey(ino, l+n)); err != nil {
				return err
			}
			n += next.Count
		}
	} else if err := c.Err(); err != nil {
		return err
	}
	return f.tree.Put(extentKey(ino, l), EncodeExtent(Extent{p, n}))
}

// lastExtents returns up to max of the extents of inode ino that end
// after logical block from, the last ones first, and whether there are
// more.
func (f *FS) lastExtents(ino, from uint64, max int) (int, bool, error) {
	n := 0
	c := f.tree.SeekLast(extentKey(ino, ^uint64(0)))
	for ; c.Valid() && isKind(c.Key(), ino, kindExtent); c.Prev() {
		e, err := f.decodeExtent(c)
		if err != nil {
			return 0, false, err
		}
		if c.Key().Off+e.Count <= from {
			break
		}
		if n == max {
			return n, true, nil
		}
		n++
	}
	return n, false, c.Err()
}

// extentBatch is how many extents a large truncate removes between
// checkpoints.
const extentBatch = 256

// hasManyExtents reports whether freeing inode ino's data takes more
// than one batch.
func (f *FS) hasManyExtents(ino uint64) (bool, error) {
	_, more, err := f.lastExtents(ino, 0, extentBatch)
	return more, err
}

// truncateBlocks unmaps every block of inode ino from logical block from
// on, the last extents first, a batch at a time. After each batch the
// inode's size is cut to the end of what is left (never below
// from*BlockSize) and written, so that the tree is consistent between
// batches and a checkpoint may commit it; a large file is thus
// truncated in several commits, each a file that is a prefix of the
// original.
func (f *FS) truncateBlocks(ino uint64, in *Inode, from uint64) error {
	for {
		n, more, err := f.lastExtents(ino, from, extentBatch)
		if err != nil || n == 0 {
			return err
		}
		c := f.tree.SeekLast(extentKey(ino, ^uint64(0)))
		for range n - 1 {
			c.Prev()
		}
		if !c.Valid() {
			return fmt.Errorf("inode %d: extents vanished: %w", ino, ErrCorrupt)
		}
		cut := max(from, c.Key().Off)
		if err := f.unmap(ino, in, cut, ^uint64(0)); err != nil {
			return err
		}
		in.Size = min(in.Size, cut*BlockSize)
		if err := f.putInode(ino, in); err != nil {
			return err
		}
		if !more {
			return nil
		}
		if err := f.checkpoint(f.treeCost(16)); err != nil {
			return err
		}
	}
}
