package fsck

import (
	"fmt"

	"valence.dev/servers/fs/btree"
	"valence.dev/servers/fs/fs"
)

// What the items say about one inode.
type inodeInfo struct {
	inode     *fs.Inode // nil until (unless) its inode item is seen
	refs      uint32    // directory entries naming it
	subdirs   uint32    // for a directory: entries that name directories
	namedBy   uint64    // a directory naming it (the last one seen)
	entryType uint8     // the type the last entry naming it claims
	hasDirent bool      // it has directory entries of its own
	blocks    uint64    // blocks its extents map
	extEnd    uint64    // end of its last extent (logical block)
}

func (c *checker) info(ino uint64) *inodeInfo {
	i := c.inodes[ino]
	if i == nil {
		i = &inodeInfo{}
		c.inodes[ino] = i
	}
	return i
}

// Item kinds, as the fs package defines them (docs/fs-format.md).
const (
	kindInode  = 1
	kindDirent = 2
	kindExtent = 3
	kindOrphan = 4
)

// item checks one item and records what it says.
func (c *checker) item(k btree.Key, v []byte) {
	if k.ID == 0 {
		if k.Kind != kindOrphan || len(v) != 0 || k.Off == 0 || k.Off >= c.sb.NextInode {
			c.problem("item %v: not a valid orphan item", k)
			return
		}
		c.orphans[k.Off] = true
		return
	}
	if k.ID >= c.sb.NextInode {
		c.problem("item %v: inode number not below the next inode number %d", k, c.sb.NextInode)
	}
	switch k.Kind {
	case kindInode:
		in, err := fs.DecodeInode(v)
		if err != nil || k.Off != 0 {
			c.problem("inode %d: %v (offset %d)", k.ID, err, k.Off)
			return
		}
		c.info(k.ID).inode = &in
	case kindDirent:
		c.dirent(k, v)
	case kindExtent:
		c.extent(k, v)
	default:
		c.problem("item %v: unknown kind %d", k, k.Kind)
	}
}

func (c *checker) dirent(k btree.Key, v []byte) {
	dir := c.info(k.ID)
	dir.hasDirent = true
	ents, err := fs.DecodeBucket(v, k.Off)
	if err != nil {
		c.problem("directory %d: %v", k.ID, err)
		return
	}
	for _, e := range ents {
		child := c.info(e.Ino)
		child.refs++
		child.namedBy = k.ID
		child.entryType = e.Type
		if e.Type == fs.TypeDir {
			dir.subdirs++
		}
	}
}

func (c *checker) extent(k btree.Key, v []byte) {
	e, err := fs.DecodeExtent(v, k.Off, c.layout.DataStart(), c.sb.Blocks)
	if err != nil {
		c.problem("inode %d: %v", k.ID, err)
		return
	}
	i := c.info(k.ID)
	if k.Off < i.extEnd {
		c.problem("inode %d: extent at block %d overlaps the one before", k.ID, k.Off)
	}
	i.extEnd = k.Off + e.Count
	i.blocks += e.Count
	c.report.DataBlocks += e.Count
	c.markUsed(e.Phys, e.Count, fmt.Sprintf("data of inode %d", k.ID))
}

// checkInodes checks the namespace once every item has been seen.
func (c *checker) checkInodes() {
	var inodes uint64
	for ino, i := range c.inodes {
		if i.inode == nil {
			c.problem("inode %d is named or has items but does not exist", ino)
			continue
		}
		inodes++
		c.checkInode(ino, i)
	}
	for ino := range c.orphans {
		if i := c.inodes[ino]; i == nil || i.inode == nil {
			c.problem("orphan item for missing inode %d", ino)
		}
	}
	c.report.Inodes = inodes
	c.report.Orphans = uint64(len(c.orphans))
	if inodes != c.sb.Inodes && !c.incomplete {
		c.problem("superblock says %d inodes, the tree has %d", c.sb.Inodes, inodes)
	}
	c.checkReachable()
}

func (c *checker) checkInode(ino uint64, i *inodeInfo) {
	in := i.inode
	switch {
	case in.IsDir():
		c.report.Dirs++
	case in.IsSymlink():
		c.report.Symlinks++
	default:
		c.report.Files++
	}
	if i.refs > 0 && fs.TypeOf(in.Mode) != i.entryType {
		c.problem("inode %d: mode %#o but its entry says type %d", ino, in.Mode, i.entryType)
	}
	if i.hasDirent && !in.IsDir() {
		c.problem("inode %d is not a directory but has entries", ino)
	}
	if i.blocks > 0 && in.IsDir() {
		c.problem("directory %d has data extents", ino)
	}
	if i.blocks != in.Blocks {
		c.problem("inode %d: block count %d, its extents map %d", ino, in.Blocks, i.blocks)
	}
	if i.extEnd > (in.Size+fs.BlockSize-1)/fs.BlockSize {
		c.problem("inode %d: extents reach block %d, past its size %d", ino, i.extEnd, in.Size)
	}
	if in.IsSymlink() && (in.Size == 0 || in.Size > fs.MaxSymlinkLen) {
		c.problem("symlink %d: target of %d bytes", ino, in.Size)
	}
	if c.incomplete {
		return // link counts would only echo the unreadable part
	}
	c.checkLinks(ino, i)
}

// checkLinks checks an inode's link count and naming.
func (c *checker) checkLinks(ino uint64, i *inodeInfo) {
	in := i.inode
	orphan := c.orphans[ino]
	switch {
	case orphan:
		if in.Nlink != 0 || i.refs != 0 {
			c.problem("orphan inode %d has %d links and %d entries naming it", ino, in.Nlink, i.refs)
		}
	case ino == fs.RootIno:
		if i.refs != 0 || in.Parent != fs.RootIno || !in.IsDir() {
			c.problem("root inode: %d entries name it, parent %d, mode %#o", i.refs, in.Parent, in.Mode)
		}
	case i.refs == 0:
		c.problem("inode %d is not named by any directory and is not an orphan (lost)", ino)
	case in.IsDir() && i.refs != 1:
		c.problem("directory %d is named by %d entries", ino, i.refs)
	case in.IsDir() && in.Parent != i.namedBy:
		c.problem("directory %d has parent %d but is named by directory %d", ino, in.Parent, i.namedBy)
	case !in.IsDir() && in.Nlink != i.refs:
		c.problem("inode %d has link count %d but %d entries name it", ino, in.Nlink, i.refs)
	}
	if in.IsDir() && !orphan && in.Nlink != 2+i.subdirs {
		c.problem("directory %d has link count %d, want 2 + %d subdirectories", ino, in.Nlink, i.subdirs)
	}
}

// checkReachable checks that every directory that is not an orphan can
// be reached from the root by following parents: together with "named
// exactly once by its parent" that rules out detached cycles.
func (c *checker) checkReachable() {
	if c.incomplete {
		return
	}
	root := c.inodes[fs.RootIno]
	if root == nil || root.inode == nil || !root.inode.IsDir() {
		c.problem("root directory (inode %d) is missing", fs.RootIno)
		return
	}
	reached := map[uint64]bool{fs.RootIno: true}
	for ino, i := range c.inodes {
		if i.inode == nil || !i.inode.IsDir() || c.orphans[ino] {
			continue
		}
		var path []uint64
		cur := ino
		for !reached[cur] && len(path) <= len(c.inodes) {
			path = append(path, cur)
			p := c.inodes[cur]
			if p == nil || p.inode == nil || !p.inode.IsDir() {
				break
			}
			cur = p.inode.Parent
		}
		if !reached[cur] {
			c.problem("directory %d cannot be reached from the root", ino)
			continue
		}
		for _, d := range path {
			reached[d] = true
		}
	}
}
