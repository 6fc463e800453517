// Package btree is the copy-on-write B+tree that holds everything a
// Valence filesystem knows except file data and free space: inodes,
// directory entries and file extents, as items with 17-byte keys.
//
// # Shape
//
// Items live in leaves, sorted by Key (ID, Kind, Off). Internal nodes
// hold one entry per child: a key and the child's block number. The key
// of entry i is a lower bound of every key beneath child i, and every
// key beneath child i is below the key of entry i+1. All leaves are at
// the same depth; the root's level is the tree's height minus one.
// There are no sibling pointers: they would make every node that moves
// drag its neighbours along, which copy-on-write cannot afford. A Cursor
// keeps its path from the root instead.
//
// A node is one 4 KiB block: a sealed header (crc32c, volume, address,
// generation; package seal), a level and an item count, then the
// entries. A leaf's values are packed from the end of the block backwards
// so its free space is one gap in the middle (a slotted page). Decode
// accepts only the canonical packing, so any node it accepts encodes to
// the same bytes. The fan-out of an internal node is MaxChildren (162);
// a value is at most MaxValue (1280) bytes, small enough that a full
// leaf can always be split into two that fit.
//
// # Copy-on-write
//
// The tree on disk is immutable between commits. The first change to a
// node after a commit copies it into a newly allocated block (mutable),
// points the parent at the copy (which copies the parent, and so on to
// the root) and releases the old block, which the allocator keeps out of
// use until the next commit is durable. Later changes to the same node
// in the same transaction change the copy in place. Copies are "dirty":
// the tree holds them in memory, pinned, and writes all of them in
// WriteDirty, where they become clean. A commit is then: WriteDirty,
// write the allocator's bitmap, flush, write a superblock naming the new
// Root, flush (package fs). Until the superblock switches, the old root
// still leads to an intact old tree; after it, the new root leads to an
// intact new one. Nothing in between is ever visible.
//
// # Balance
//
// Put splits an overfull node into two, which may split its parent; a
// split root adds a level. Delete merges a node that falls below a
// quarter full into a neighbour (or, when both do not fit in one node,
// shares the neighbour's entries), which may leave its parent
// underfull in turn; a root with a single child is replaced by the
// child. So all leaves stay at one depth and lookups cost O(log n) node
// visits, each a binary search.
//
// # Memory
//
// Clean nodes are cached decoded (CLOCK eviction, Config.CacheNodes);
// dirty nodes stay in memory until the commit. The filesystem bounds
// the dirty set by committing when it grows large.
//
// # Trust
//
// Every node read from the device is checked by Decode (checksum,
// header, canonical layout, key order) and against its parent (its
// level must be one below the parent's) and the commit (its generation
// may not be newer). A damaged tree therefore yields ErrCorrupt rather
// than a wrong answer or a panic, and because levels strictly decrease
// on the way down, a damaged pointer cannot make a walk loop. What a
// node cannot check locally — key ranges against the parent, every
// block reached exactly once — fsck checks.
//
// A Tree is not safe for concurrent use; the filesystem serialises
// access.
package btree
