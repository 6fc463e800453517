// Package fs is the Valence filesystem: a copy-on-write B+tree
// filesystem over a block device, with the operations a Unix needs. It
// is portable Go with no dependency on the kernel; fsd serves it inside
// Valence, and the host tools (valfs, mkimage) use it to build and
// inspect images. docs/fs-format.md is the on-disk format.
//
// # Pieces
//
//   - package blockdev: the device (4 KiB blocks, writes durable only
//     after Flush).
//   - package alloc: free space, as two alternating bitmap copies.
//   - package btree: one copy-on-write B+tree holding every inode,
//     directory entry and extent, keyed (inode, kind, offset).
//   - this package: superblocks, items, the operations, and commit.
//
// # Items
//
//	(ino, 1 inode,  0)            mode, links, owner, size, blocks, times, parent
//	(dir, 2 dirent, hash(name))   the entries whose names have that hash
//	(ino, 3 extent, logical blk)  physical block and count
//	(0,   4 orphan, ino)          an inode with no names, kept for an open handle
//
// All of one inode's items are adjacent. A lookup is one tree search by
// hash (FNV-1a, 63 bits) whatever the size of the directory; reading a
// file finds its extents with one search and walks them in order, so a
// multi-GiB sparse file costs only the extents it has.
//
// # Transactions
//
// Every change goes to the working tree in memory: the first change to
// a node after a commit copies it to a freshly allocated block (see
// package btree), and file data is written to fresh blocks too (see
// data.go). The durable image keeps the last committed tree, untouched,
// until commit switches the superblock (commit.go explains the order of
// writes and flushes). A crash at any moment leaves either the old tree
// or the new one, never a mixture, because nothing reachable from the
// durable superblock is ever overwritten and the superblock is the only
// thing that changes in place (in one of two alternating slots, each
// sealed with a crc32c, so a torn superblock write is detected and the
// other slot wins).
//
// Sync, and fsync of any file, commit the whole filesystem: everything
// done before it is durable when it returns, atomically. Between
// commits nothing is promised durable. The filesystem also commits by
// itself when the working tree grows large or when space held by blocks
// freed since the last commit is needed (see prepare), always between
// operations, never inside one, so every commit is a state some
// sequence of complete operations produced. Because an operation is
// atomic with respect to commits, rename is atomic across crashes:
// after a crash the name refers to the old file or the new one.
//
// # Operations
//
// Each operation takes the filesystem lock, then decodes and checks
// everything (resolving paths, types, emptiness, space) without
// changing anything, and only then applies its change (the seL4 split).
// Space is reserved up front with a generous bound of the blocks the
// change can need; changes that add data must leave a reserve that
// only removals may use, because in a copy-on-write tree removing a file
// needs new blocks too. If applying fails anyway (a device error or
// damage discovered on the way), the working tree may be half-changed,
// so the filesystem stops: later changes and commits fail with
// ErrStopped, and the image stays as of the last commit.
//
// Freeing a file with very many extents would need an unbounded
// reservation, so it is done in batches (truncateBlocks): a large
// unlinked file is first made an orphan, and each batch leaves a
// consistent tree (a shorter file) that a commit may capture. Orphans
// left by a crash are freed at the next mount.
//
// Link counts follow Unix: a file's is the number of entries naming it;
// a directory's is 2 plus its subdirectories ("." and ".." are not
// stored; ".." is the directory's Parent field). Inode numbers are never
// reused. Permissions are stored but not enforced: Valence's clients
// hold capabilities to fsd, not user ids. Access times are set at
// creation and by SetTimes only (noatime), so reading never writes.
//
// # Damage
//
// Every block read is checked (package seal) and every item decoded
// with bounds checks. Damage makes the operation that met it fail with
// an error wrapping ErrCorrupt, never a panic; mount refuses an image
// without an intact superblock (ErrNoFilesystem) or shorter than its
// superblock says (ErrTruncated). fsck (package fsck) checks the whole
// image.
package fs
