// Package fsck checks a Valence filesystem image from first principles
// and reports everything it finds wrong.
//
// It does not mount the filesystem or use its lookup code; it reads the
// blocks itself, so that a bug in the filesystem cannot hide the damage
// it caused. It checks, in order:
//
//  1. The superblocks. The newest intact one is checked; the other slot
//     is normally the previous generation. A damaged other slot is only
//     a warning: it is what a crash during a superblock write leaves,
//     and the next commit overwrites it.
//  2. The bitmap copy of that generation: every block intact, of the
//     right volume and parity, fixed area and padding marked in use.
//  3. The B+tree, walked from the root: every node's checksum and
//     header, a generation no newer than the superblock's, a level one
//     below its parent's, keys sorted and inside the range its parent
//     gives it, no empty node but a root leaf, no root with one child,
//     every leaf at the same depth, and no block reached twice.
//  4. The items, in key order: each decodes; directory entries match
//     their hash and name inodes of the type they claim; a file's
//     extents do not overlap each other, stay within the data area and
//     the file's size, and add up to the inode's block count; no block
//     is used by two extents or by an extent and a node.
//  5. The namespace: every directory is named exactly once and its
//     Parent is the directory naming it; link counts equal the entries
//     naming each file (2 + subdirectories for a directory); an inode
//     named by nothing must be an orphan (an open file unlinked before
//     a crash) with no links; every directory is reachable from the
//     root; the inode count and next inode number in the superblock
//     agree with the tree.
//  6. Free space: the bitmap marks in use exactly the fixed area, the
//     tree's nodes and the blocks its extents map, and their number is
//     the superblock's used-block count.
//
// Problems are collected with go-multierror, so one run reports all of
// them; a damaged node is reported and its subtree skipped, and the
// checks that depend on it (free space, link counts) are then skipped
// too rather than flooding the report with their consequences.
package fsck
