package fs

import (
	"errors"
	"fmt"

	"valence.dev/servers/fs/btree"
)

// inode reads inode ino. A missing inode is ErrNotExist only for callers
// that ask about a number they were given; one named by a directory
// entry or an orphan item must exist, and its absence is damage.
func (f *FS) inode(ino uint64) (Inode, error) {
	b, err := f.tree.Get(inodeKey(ino))
	if errors.Is(err, btree.ErrNotFound) {
		return Inode{}, fmt.Errorf("inode %d: %w", ino, ErrNotExist)
	}
	if err != nil {
		return Inode{}, fmt.Errorf("inode %d: %w", ino, err)
	}
	in, err := DecodeInode(b)
	if err != nil {
		return Inode{}, fmt.Errorf("inode %d: %w", ino, err)
	}
	return in, nil
}

// linkedInode reads an inode that a directory entry names.
func (f *FS) linkedInode(ino uint64) (Inode, error) {
	in, err := f.inode(ino)
	if errors.Is(err, ErrNotExist) {
		return Inode{}, fmt.Errorf("directory entry names missing inode %d: %w", ino, ErrCorrupt)
	}
	return in, err
}

func (f *FS) putInode(ino uint64, in *Inode) error {
	return f.tree.Put(inodeKey(ino), EncodeInode(in))
}

// newInode creates an inode and returns its number. Inode numbers count
// up and are never reused, so a stale number never names a new file.
func (f *FS) newInode(in *Inode) (uint64, error) {
	ino := f.sb.NextInode
	f.sb.NextInode++
	f.sb.Inodes++
	return ino, f.putInode(ino, in)
}

// dropLink removes one link to inode ino (whose entry the caller has
// already removed) and frees the inode when nothing refers to it any
// more. An inode with no links that is still open becomes an orphan:
// it lives on, named only by an orphan item, until the last close, or
// until the next mount if the system stops first.
func (f *FS) dropLink(ino uint64) error {
	in, err := f.linkedInode(ino)
	if err != nil {
		return err
	}
	in.Ctime = f.now()
	if in.IsDir() {
		in.Nlink = 0 // its own "." goes with its entry
	} else if in.Nlink > 0 {
		in.Nlink--
	}
	if in.Nlink > 0 {
		return f.putInode(ino, &in)
	}
	if f.open[ino] > 0 {
		if err := f.tree.Put(orphanKey(ino), nil); err != nil {
			return err
		}
		return f.putInode(ino, &in)
	}
	return f.freeInode(ino, &in)
}

// freeInode deletes inode ino, which has no links and no open handles,
// with all its data. Freeing a file with few extents happens at once.
// Freeing a large one may need more tree changes than one reservation
// covers; then the inode is made an orphan first, so that each partial
// step leaves a consistent tree that a commit may capture, and the
// orphan item goes last.
func (f *FS) freeInode(ino uint64, in *Inode) error {
	big, err := f.hasManyExtents(ino)
	if err != nil {
		return err
	}
	if big {
		if err := f.tree.Put(orphanKey(ino), nil); err != nil {
			return err
		}
		if err := f.putInode(ino, in); err != nil {
			return err
		}
	}
	if err := f.truncateBlocks(ino, in, 0); err != nil {
		return err
	}
	if err := f.tree.Delete(inodeKey(ino)); err != nil {
		return err
	}
	f.sb.Inodes--
	if big {
		return f.tree.Delete(orphanKey(ino))
	}
	return nil
}

// closeInode is called when the last handle to inode ino closes; it
// frees an orphan.
func (f *FS) closeInode(ino uint64) error {
	in, err := f.inode(ino)
	if err != nil || in.Nlink > 0 {
		return err
	}
	if err := f.prepare(f.treeCost(3)); err != nil {
		return err
	}
	return f.apply(func() error {
		if err := f.tree.Delete(orphanKey(ino)); err != nil && !errors.Is(err, btree.ErrNotFound) {
			return err
		}
		return f.freeInode(ino, &in)
	})
}

// reapOrphans frees the inodes that were orphans when the filesystem
// last stopped: unlinked while open, or half-way through being freed.
func (f *FS) reapOrphans() error {
	for {
		c := f.tree.Seek(orphanKey(0))
		if !c.Valid() || !isKind(c.Key(), 0, kindOrphan) {
			return c.Err()
		}
		ino := c.Key().Off
		in, err := f.inode(ino)
		if err != nil {
			return fmt.Errorf("orphan %d: %w: %w", ino, ErrCorrupt, err)
		}
		if in.Nlink != 0 {
			return fmt.Errorf("orphan %d has %d links: %w", ino, in.Nlink, ErrCorrupt)
		}
		if err := f.prepare(f.treeCost(3)); err != nil {
			return err
		}
		err = f.apply(func() error {
			if err := f.tree.Delete(orphanKey(ino)); err != nil {
				return err
			}
			return f.freeInode(ino, &in)
		})
		if err != nil {
			return err
		}
	}
}
