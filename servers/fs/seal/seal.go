package seal

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// BlockSize is the size of every block of a Valence filesystem.
const BlockSize = 4096

// HeaderSize is the number of bytes at the start of a block that the
// header occupies; a block's payload starts here.
const HeaderSize = 32

// Magic numbers of the kinds of metadata block. They are ASCII so that a
// hex dump of an image is readable.
const (
	MagicSuper  uint32 = 0x53465656 // "VVFS" little-endian: superblock
	MagicNode   uint32 = 0x4e544256 // "VBTN": B+tree node
	MagicBitmap uint32 = 0x504d4256 // "VBMP": free-space bitmap block
)

// Header is the decoded header of a metadata block.
type Header struct {
	Magic      uint32
	Volume     uint64
	Address    uint64
	Generation uint64
}

// ErrChecksum reports a block whose checksum does not match its
// contents: a torn write, media damage, or bytes that never were a block.
var ErrChecksum = errors.New("checksum mismatch")

// ErrHeader reports a block whose checksum is right but whose header
// names a different kind of block, volume or address than expected.
var ErrHeader = errors.New("unexpected block header")

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Sum returns the crc32c of b with bytes 4..8 (the checksum field) read as
// zero. b must be a whole block.
func Sum(b []byte) uint32 {
	var zero [4]byte
	c := crc32.Update(0, castagnoli, b[0:4])
	c = crc32.Update(c, castagnoli, zero[:])
	return crc32.Update(c, castagnoli, b[8:])
}

// Seal writes h into the first HeaderSize bytes of the block b and then
// stores the checksum of the whole block. The payload must already be in
// place; any change to b after Seal invalidates it.
func Seal(b []byte, h Header) {
	binary.LittleEndian.PutUint32(b[0:], h.Magic)
	binary.LittleEndian.PutUint64(b[8:], h.Volume)
	binary.LittleEndian.PutUint64(b[16:], h.Address)
	binary.LittleEndian.PutUint64(b[24:], h.Generation)
	binary.LittleEndian.PutUint32(b[4:], Sum(b))
}

// Peek decodes the header of b without checking anything. It is for
// tools that must describe a damaged block; everything else uses Open.
func Peek(b []byte) (Header, bool) {
	if len(b) != BlockSize {
		return Header{}, false
	}
	return Header{
		Magic:      binary.LittleEndian.Uint32(b[0:]),
		Volume:     binary.LittleEndian.Uint64(b[8:]),
		Address:    binary.LittleEndian.Uint64(b[16:]),
		Generation: binary.LittleEndian.Uint64(b[24:]),
	}, true
}

// Open checks that b is an intact block of the given kind, belonging to
// volume and stored at address, and returns its header. A zero volume
// accepts any volume (mount uses this to learn the volume id from the
// superblock). Errors wrap ErrChecksum or ErrHeader.
func Open(b []byte, magic uint32, volume, address uint64) (Header, error) {
	h, ok := Peek(b)
	if !ok {
		return Header{}, fmt.Errorf("block %d: %d bytes, want %d: %w", address, len(b), BlockSize, ErrHeader)
	}
	if got := binary.LittleEndian.Uint32(b[4:]); got != Sum(b) {
		return Header{}, fmt.Errorf("block %d: %w", address, ErrChecksum)
	}
	switch {
	case h.Magic != magic:
		return Header{}, fmt.Errorf("block %d: magic %#x, want %#x: %w", address, h.Magic, magic, ErrHeader)
	case volume != 0 && h.Volume != volume:
		return Header{}, fmt.Errorf("block %d: volume %#x, want %#x: %w", address, h.Volume, volume, ErrHeader)
	case h.Address != address:
		return Header{}, fmt.Errorf("block %d: header says block %d: %w", address, h.Address, ErrHeader)
	}
	return h, nil
}
