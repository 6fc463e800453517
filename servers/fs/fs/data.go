package fs

import (
	"fmt"
)

// File data lives in whole blocks mapped by extents. Data is
// copy-on-write like the tree: a block that belongs to the last commit
// is never overwritten, because a crash would then show new data under
// an old tree (or, for a file fsynced earlier, change what it read as).
// A write to such a block goes to a newly allocated block and the
// extent is changed to point there. Blocks allocated since the last
// commit ("fresh") are not reachable from any durable tree, so writes
// to them go in place: that is what keeps a file written in many small
// appends between two fsyncs from being copied block by block.

// readData fills p from the file at off; the caller has clamped the
// range to the file's size.
func (f *FS) readData(ino uint64, p []byte, off uint64) error {
	if len(p) == 0 {
		return nil
	}
	end := off + uint64(len(p))
	segs, err := f.segments(ino, off/BlockSize, (end+BlockSize-1)/BlockSize)
	if err != nil {
		return err
	}
	for _, s := range segs {
		lo, hi := max(off, s.logical*BlockSize), min(end, (s.logical+s.count)*BlockSize)
		dst := p[lo-off : hi-off]
		if s.hole() {
			clear(dst)
			continue
		}
		if err := f.readRange(s, dst, lo); err != nil {
			return fmt.Errorf("inode %d: %w", ino, err)
		}
	}
	return nil
}

// readRange reads file bytes [lo, lo+len(dst)), all inside mapped
// segment s. Whole blocks go straight into dst; partial blocks at
// either end go through the scratch block.
func (f *FS) readRange(s segment, dst []byte, lo uint64) error {
	for len(dst) > 0 {
		blk := lo / BlockSize
		phys := s.phys + (blk - s.logical)
		in := lo % BlockSize
		if in == 0 && len(dst) >= BlockSize {
			n := len(dst) / BlockSize * BlockSize
			if err := f.dev.ReadAt(dst[:n], phys); err != nil {
				return err
			}
			dst, lo = dst[n:], lo+uint64(n)
			continue
		}
		if err := f.dev.ReadAt(f.scratch, phys); err != nil {
			return err
		}
		n := copy(dst, f.scratch[in:])
		dst, lo = dst[n:], lo+uint64(n)
	}
	return nil
}

// writeCost is how many blocks writing len bytes at off can need.
func (f *FS) writeCost(off, n uint64) uint64 {
	blocks := (off+n+BlockSize-1)/BlockSize - off/BlockSize
	return blocks + f.treeCost(4+int(blocks/64))
}

// writeData writes p to the file at off and updates in.Blocks (not the
// size or times; the caller does). The caller has reserved writeCost.
func (f *FS) writeData(ino uint64, in *Inode, p []byte, off uint64) error {
	end := off + uint64(len(p))
	segs, err := f.segments(ino, off/BlockSize, (end+BlockSize-1)/BlockSize)
	if err != nil {
		return err
	}
	for _, s := range segs {
		for s.count > 0 {
			var n uint64
			if n, err = f.writeSegment(ino, in, s, p, off); err != nil {
				return fmt.Errorf("inode %d: %w", ino, err)
			}
			s.logical += n
			s.count -= n
			if !s.hole() {
				s.phys += n
			}
		}
	}
	return nil
}

// writeSegment writes the part of p (file bytes from off) that falls in
// a prefix of segment s, and returns the number of blocks of s done: a
// prefix that is fresh (written in place), or one newly allocated run
// that replaces a hole or committed blocks.
func (f *FS) writeSegment(ino uint64, in *Inode, s segment, p []byte, off uint64) (uint64, error) {
	if !s.hole() {
		fresh, run := f.alloc.FreshRun(s.phys, s.count)
		if fresh {
			return run, f.writeBlocks(s.phys, s.logical, run, s.phys, p, off)
		}
		s.count = run
	}
	start, n, err := f.alloc.Alloc(f.hintFor(ino, s), s.count)
	if err != nil {
		return 0, err
	}
	if err := f.writeBlocks(start, s.logical, n, s.phys, p, off); err != nil {
		return 0, err
	}
	if !s.hole() {
		if err := f.unmap(ino, in, s.logical, s.logical+n); err != nil {
			return 0, err
		}
	}
	return n, f.mapRun(ino, in, s.logical, n, start)
}

// hintFor is where to allocate blocks for segment s of inode ino: right
// after the physical block of the logical block before it, so that a
// file written in order is laid out in order.
func (f *FS) hintFor(ino uint64, s segment) uint64 {
	if s.logical > 0 {
		if prev, err := f.segments(ino, s.logical-1, s.logical); err == nil && len(prev) == 1 && !prev[0].hole() {
			return prev[0].phys + 1
		}
	}
	h := f.dataHint
	f.dataHint += s.count
	if f.dataHint >= f.layout.Blocks {
		f.dataHint = f.layout.DataStart()
	}
	return h
}

// writeBlocks writes logical blocks [logical, logical+n) to physical
// blocks from phys, taking the bytes p holds for them (p is file bytes
// from off) and, for blocks p covers only partly, the rest from the old
// physical blocks starting at old (or zeros if old is 0, a hole).
// Consecutive whole blocks go out in one request.
func (f *FS) writeBlocks(phys, logical, n, old uint64, p []byte, off uint64) error {
	end := off + uint64(len(p))
	for i := uint64(0); i < n; {
		lo := (logical + i) * BlockSize
		if lo >= off && lo+BlockSize <= end {
			whole := min(n-i, (end-lo)/BlockSize)
			if err := f.dev.WriteAt(p[lo-off:lo-off+whole*BlockSize], phys+i); err != nil {
				return err
			}
			i += whole
			continue
		}
		if old != 0 {
			if err := f.dev.ReadAt(f.scratch, old+i); err != nil {
				return err
			}
		} else {
			clear(f.scratch)
		}
		a, b := max(lo, off), min(lo+BlockSize, end)
		if a < b {
			copy(f.scratch[a-lo:b-lo], p[a-off:b-off])
		}
		if err := f.dev.WriteAt(f.scratch, phys+i); err != nil {
			return err
		}
		i++
	}
	return nil
}

// zeroTail clears the bytes of the last block of a file after size, if
// that block is mapped, so that growing the file later shows zeros.
// This is a write, so it copies a committed block like any other.
func (f *FS) zeroTail(ino uint64, in *Inode, size uint64) error {
	if size%BlockSize == 0 {
		return nil
	}
	blk := size / BlockSize
	segs, err := f.segments(ino, blk, blk+1)
	if err != nil || len(segs) != 1 || segs[0].hole() {
		return err
	}
	zeros := make([]byte, BlockSize-size%BlockSize)
	return f.writeData(ino, in, zeros, size)
}

// setSize changes the size of inode ino to size, freeing the blocks past
// it or leaving a hole when it grows.
func (f *FS) setSize(ino uint64, in *Inode, size uint64) error {
	if size < in.Size {
		if err := f.zeroTail(ino, in, size); err != nil {
			return err
		}
		if err := f.truncateBlocks(ino, in, (size+BlockSize-1)/BlockSize); err != nil {
			return err
		}
	}
	in.Size = size
	in.Mtime = f.now()
	in.Ctime = in.Mtime
	return f.putInode(ino, in)
}
