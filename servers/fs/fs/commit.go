package fs

import (
	"fmt"
)

// commit makes everything changed since the last commit durable, as the
// next generation g. The order is the whole of crash consistency:
//
//  1. Write every dirty tree node to its new block (none of them is
//     part of the committed tree) and the changed blocks of bitmap copy
//     g%2 (not the copy the committed superblock uses). File data was
//     already written to fresh blocks by write.
//  2. Flush. Now all of the new tree is durable, but nothing refers to it.
//  3. Write superblock g into slot g%2, over generation g-2. The slot of
//     the committed superblock g-1 is not touched.
//  4. Flush. Now superblock g is durable and names the new tree.
//
// A crash before the superblock write reaches the medium leaves
// superblock g-1 newest, and everything it refers to is intact because
// nothing reachable from it was overwritten (the allocator holds freed
// blocks until step 4). A torn superblock write fails its checksum and
// g-1 wins again. Once step 4 returns, the blocks freed since g-1 are
// released for reuse.
//
// Nothing here depends on when a write reaches the medium, only on the
// device's contract (package blockdev): under a write-back cache, as in
// fsd, steps 1 and 3 only fill the cache, and each Flush writes back
// what is dirty before flushing the disk, which is the order above.
func (f *FS) commit() error {
	if !f.changed && f.tree.Dirty() == 0 {
		return nil
	}
	sb := f.sb
	sb.Generation++
	sb.Root = f.tree.Root()
	sb.UsedBlocks = f.alloc.Used()
	err := f.tree.WriteDirty(sb.Generation)
	if err == nil {
		err = f.alloc.WriteCopy(f.dev, sb.Volume, sb.Generation)
	}
	if err == nil {
		err = f.dev.Flush()
	}
	if err == nil {
		err = f.dev.WriteAt(EncodeSuper(&sb), sb.Generation%2)
	}
	if err == nil {
		err = f.dev.Flush()
	}
	if err != nil {
		return f.stop(fmt.Errorf("commit generation %d: %w", sb.Generation, err))
	}
	f.alloc.Committed()
	f.sb = sb
	f.changed = false
	return nil
}

// stop records the first error that leaves the in-memory state unfit to
// commit, and returns it.
func (f *FS) stop(err error) error {
	if f.stopped == nil {
		f.stopped = err
	}
	return fmt.Errorf("%w: %w", ErrStopped, err)
}

// Sync commits all changes (sync(2)). fsync of any file is the same:
// the filesystem commits as a whole.
func (f *FS) Sync() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.writable(); err != nil {
		return pathErr("sync", "/", err)
	}
	return pathErr("sync", "/", f.commit())
}

// writable says whether a change may start at all.
func (f *FS) writable() error {
	switch {
	case f.stopped != nil:
		return fmt.Errorf("%w: %w", ErrStopped, f.stopped)
	case f.opts.ReadOnly:
		return ErrReadOnly
	}
	return nil
}

// treeCost bounds the blocks n tree changes can need. One Put copies at
// most its path (one node per level) and splits at most every node on
// it plus the root; one Delete copies its path and at most one
// neighbour per level. Both are at most 2*levels+1 new blocks.
func (f *FS) treeCost(n int) uint64 {
	levels := uint64(f.treeLevels())
	return uint64(n) * (2*levels + 1)
}

// treeLevels is the height of the tree, read from its root.
func (f *FS) treeLevels() int {
	if n, err := f.tree.Height(); err == nil {
		return n + 1 // one more level may appear
	}
	return 10
}

// prepare starts a change that can need up to blocks new blocks: it
// refuses if the filesystem is not writable, commits first if the dirty
// set has grown past its bound or space is short but a commit would free
// some, and fails with ErrNoSpace (having changed nothing) if the space
// is still not there. Changes that add data must also leave the reserve
// free, so that removing files, which needs new tree nodes too in a
// copy-on-write tree, works on a full filesystem (prepareRemove).
// After prepare succeeds, the change runs to the end or stops the
// filesystem.
func (f *FS) prepare(blocks uint64) error {
	return f.prepareFor(blocks + max(f.reserve, truncateCost(f)))
}

// removeCost and truncateCost are what removing a name and shrinking a
// file reserve; the reserve that adding changes leave covers both.
func removeCost(f *FS) uint64   { return f.treeCost(6) }
func truncateCost(f *FS) uint64 { return f.treeCost(8) + 1 }

// prepareRemove is prepare for changes that only remove things.
func (f *FS) prepareRemove(blocks uint64) error {
	return f.prepareFor(blocks)
}

func (f *FS) prepareFor(blocks uint64) error {
	if err := f.writable(); err != nil {
		return err
	}
	if max := f.opts.MaxDirtyNodes; max > 0 && f.tree.Dirty() > max {
		if err := f.commit(); err != nil {
			return err
		}
	}
	if f.alloc.Free() < blocks && f.alloc.Pending() > 0 {
		if err := f.commit(); err != nil {
			return err
		}
	}
	if f.alloc.Free() < blocks {
		return ErrNoSpace
	}
	f.changed = true
	return nil
}

// checkpoint is called between the steps of a change too large for one
// reservation (truncating or freeing a file with many extents), at a
// point where the tree is consistent. It commits if that is needed to
// have blocks free, or to bound the dirty set.
func (f *FS) checkpoint(blocks uint64) error {
	dirtyMax := f.opts.MaxDirtyNodes
	if f.alloc.Free() >= blocks && (dirtyMax <= 0 || f.tree.Dirty() <= dirtyMax) {
		return nil
	}
	if err := f.commit(); err != nil {
		return err
	}
	f.changed = true
	if f.alloc.Free() < blocks {
		return ErrNoSpace
	}
	return nil
}

// apply runs the second half of a change. An error from it stops the
// filesystem.
func (f *FS) apply(change func() error) error {
	if err := change(); err != nil {
		return f.stop(err)
	}
	return nil
}
