// Package alloc tracks which blocks of a Valence filesystem are free,
// in memory and on disk, in a way that survives a crash at any moment.
//
// # On disk
//
// Blocks 0 and 1 are the two superblock slots (package fs). They are
// followed by two copies of a bitmap with one bit per block, 1 = in use:
//
//	block 0              superblock slot 0
//	block 1              superblock slot 1
//	2 .. 2+B-1           bitmap copy 0
//	2+B .. 2+2B-1        bitmap copy 1
//	2+2B ..              tree nodes and file data, allocated from the bitmap
//
// B, the blocks per copy, is ceil(blocks / BitsPerBlock). Each bitmap
// block is sealed (package seal: magic, crc32c, volume, address,
// generation) and carries BitsPerBlock bits after a 40-byte header. Bits
// for block numbers past the end of the device are 1, and so are the
// bits of the fixed area, so no search ever has to special-case them.
//
// The copies are written alternately: the commit of generation g writes
// copy g%2 and superblock slot g%2 and nothing else of the fixed area.
// Copy g%2 therefore describes exactly the tree of superblock g, and the
// other copy is left as it was for superblock g-1. If the power fails
// during commit g, the superblock that is found at mount (g or g-1)
// comes with an intact copy of its own bitmap. Neither copy is ever
// updated in place while the superblock that refers to it is the newest
// durable one.
//
// # In memory
//
// An Allocator holds three bitmaps over the whole device:
//
//   - used: the block may not be handed out. It is in the last committed
//     tree, or was allocated since that commit, or both.
//   - fresh: allocated since the last commit. No committed tree refers
//     to a fresh block, so it may be overwritten in place and, when
//     freed, becomes free at once.
//   - pending: freed since the last commit but still part of the last
//     committed tree. It stays used until the next commit is durable,
//     because a crash before then brings that tree back. This is the
//     rule that makes copy-on-write safe: nothing the durable tree can
//     reach is overwritten.
//
// Invariants: fresh and pending are subsets of used and disjoint from
// each other; padding and fixed-area bits are used and never fresh or
// pending. The on-disk view of the next commit is used &^ pending (what
// the new tree refers to); Committed then clears pending from used and
// clears fresh, so the pending blocks become free and the fresh ones
// become ordinary committed blocks.
//
// The allocator remembers, per copy, which bitmap blocks changed since
// that copy was last written, so a commit rewrites only those. After a
// mount it knows nothing about the copy that was not loaded (a commit may
// have died half-way through it) and rewrites all of it on the next
// commit.
//
// # Policy
//
// Alloc(hint, max) returns the first run of free blocks at or after hint,
// at most max long, wrapping around to the start of the data area.
// Callers pass the block after a file's last extent as the hint so that
// sequential writes land next to each other; metadata passes no hint
// and takes the next block after the previous metadata allocation
// (next fit), which keeps a commit's nodes close together. Finding a
// free block skips 64 used blocks per comparison.
package alloc
