// Package seal is the header and checksum that every metadata block of a
// Valence filesystem image carries: superblocks, B+tree nodes and
// free-space bitmap blocks.
//
// # Layout
//
// A metadata block is exactly BlockSize (4096) bytes and starts with a
// 32-byte header, all integers little-endian:
//
//	offset size field
//	0      4    magic       which kind of block this is
//	4      4    checksum    crc32c (Castagnoli) of the whole block, this field read as zero
//	8      8    volume      the volume id chosen by mkfs
//	16     8    address     the block number this block was written to
//	24     8    generation  the commit that wrote it
//
// The checksum covers the magic, the header and the whole payload, so a
// torn write (only some sectors of the block reached the medium) or a
// flipped bit is detected. The address catches a block written to the
// wrong place or a stale pointer to a block that has since been reused
// for something else, and the volume id catches blocks left over from a
// previous filesystem on the same device: mkfs does not need to zero the
// device. The generation lets a reader refuse a block that claims to be
// newer than the superblock that leads to it.
//
// # Why a separate package
//
// The three kinds of metadata block are owned by three packages (fs,
// btree, alloc), but what makes a block trustworthy is the same for all
// of them, and fsck must check it the same way everywhere. Open is the
// single place where raw bytes from the device become a trusted header;
// it changes nothing and never panics on any input.
package seal
