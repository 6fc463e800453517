package fs

import (
	"encoding/binary"
	"fmt"

	"valence.dev/servers/fs/alloc"
	"valence.dev/servers/fs/blockdev"
	"valence.dev/servers/fs/seal"
)

// BlockSize is the filesystem block size.
const BlockSize = seal.BlockSize

// FormatVersion is the on-disk format version this package writes and
// reads. docs/fs-format.md describes it.
const FormatVersion = 1

// Superblock is the root of a committed filesystem. Slot g%2 (block 0 or
// 1) holds the superblock of generation g; the newest intact one wins.
type Superblock struct {
	Volume     uint64 // random id chosen by mkfs; in every metadata block
	Generation uint64 // number of the commit that wrote it
	Blocks     uint64 // filesystem size in blocks
	Root       uint64 // block of the B+tree root
	NextInode  uint64 // next inode number to hand out
	UsedBlocks uint64 // blocks marked in use in this generation's bitmap
	Inodes     uint64 // number of inodes in the tree
	Created    int64  // mkfs time, nanoseconds since the epoch
}

// Payload layout after the seal header (all little-endian):
//
//	32 version u32     36 block size u32
//	40 blocks          48 bitmap blocks per copy
//	56 root            64 next inode
//	72 used blocks     80 inodes
//	88 created         96.. zero
const superEnd = 96

// EncodeSuper returns the block that stores sb in its slot.
func EncodeSuper(sb *Superblock) []byte {
	b := make([]byte, BlockSize)
	le := binary.LittleEndian
	le.PutUint32(b[32:], FormatVersion)
	le.PutUint32(b[36:], BlockSize)
	le.PutUint64(b[40:], sb.Blocks)
	le.PutUint64(b[48:], (sb.Blocks+alloc.BitsPerBlock-1)/alloc.BitsPerBlock)
	le.PutUint64(b[56:], sb.Root)
	le.PutUint64(b[64:], sb.NextInode)
	le.PutUint64(b[72:], sb.UsedBlocks)
	le.PutUint64(b[80:], sb.Inodes)
	le.PutUint64(b[88:], uint64(sb.Created))
	seal.Seal(b, seal.Header{Magic: seal.MagicSuper, Volume: sb.Volume, Address: sb.Generation % 2, Generation: sb.Generation})
	return b
}

// DecodeSuper checks the block read from superblock slot and decodes it.
func DecodeSuper(b []byte, slot uint64) (*Superblock, error) {
	h, err := seal.Open(b, seal.MagicSuper, 0, slot)
	if err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	sb := &Superblock{
		Volume: h.Volume, Generation: h.Generation,
		Blocks: le.Uint64(b[40:]), Root: le.Uint64(b[56:]), NextInode: le.Uint64(b[64:]),
		UsedBlocks: le.Uint64(b[72:]), Inodes: le.Uint64(b[80:]), Created: int64(le.Uint64(b[88:])),
	}
	l, lerr := alloc.NewLayout(sb.Blocks)
	bad := func(what string, args ...any) error {
		return fmt.Errorf("superblock slot %d: %s: %w", slot, fmt.Sprintf(what, args...), ErrCorrupt)
	}
	switch {
	case le.Uint32(b[32:]) != FormatVersion:
		return nil, bad("format version %d, this code reads %d", le.Uint32(b[32:]), FormatVersion)
	case le.Uint32(b[36:]) != BlockSize:
		return nil, bad("block size %d", le.Uint32(b[36:]))
	case h.Generation%2 != slot:
		return nil, bad("generation %d in the wrong slot", h.Generation)
	case h.Volume == 0:
		return nil, bad("volume id 0")
	case lerr != nil:
		return nil, bad("%v", lerr)
	case le.Uint64(b[48:]) != l.BitmapBlocks:
		return nil, bad("%d bitmap blocks for %d blocks", le.Uint64(b[48:]), sb.Blocks)
	case sb.Root < l.DataStart() || sb.Root >= sb.Blocks:
		return nil, bad("root block %d outside the data area", sb.Root)
	case sb.NextInode <= RootIno || sb.Inodes == 0 || sb.Inodes >= sb.NextInode:
		return nil, bad("next inode %d, %d inodes", sb.NextInode, sb.Inodes)
	case sb.UsedBlocks < l.DataStart()+1 || sb.UsedBlocks > sb.Blocks:
		return nil, bad("%d blocks in use", sb.UsedBlocks)
	}
	for _, x := range b[superEnd:] {
		if x != 0 {
			return nil, bad("padding not zero")
		}
	}
	return sb, nil
}

// SlotState is what one superblock slot holds.
type SlotState struct {
	Super *Superblock // nil if the slot is not intact
	Err   error       // why not
}

// ReadSuper reads both superblock slots and returns the newest intact
// superblock, with what each slot held. A device shorter than the
// superblock says is refused with ErrTruncated; one with no intact
// superblock with ErrNoFilesystem.
func ReadSuper(dev blockdev.Device) (*Superblock, [2]SlotState, error) {
	var slots [2]SlotState
	if dev.Blocks() < alloc.MinBlocks {
		return nil, slots, fmt.Errorf("device of %d blocks is smaller than any filesystem: %w", dev.Blocks(), ErrNoFilesystem)
	}
	var best *Superblock
	buf := make([]byte, BlockSize)
	for s := range slots {
		if err := dev.ReadAt(buf, uint64(s)); err != nil {
			return nil, slots, fmt.Errorf("read superblock slot %d: %w", s, err)
		}
		slots[s].Super, slots[s].Err = DecodeSuper(buf, uint64(s))
		if sb := slots[s].Super; sb != nil && (best == nil || sb.Generation > best.Generation) {
			best = sb
		}
	}
	if best == nil {
		return nil, slots, fmt.Errorf("%w (slot 0: %v; slot 1: %v)", ErrNoFilesystem, slots[0].Err, slots[1].Err)
	}
	if best.Blocks > dev.Blocks() {
		return nil, slots, fmt.Errorf("superblock says %d blocks, device has %d: %w", best.Blocks, dev.Blocks(), ErrTruncated)
	}
	return best, slots, nil
}
