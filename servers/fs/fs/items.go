package fs

import (
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"strings"

	"valence.dev/servers/fs/btree"
)

// Item kinds: the Kind field of a btree.Key. The ID is an inode number,
// except for kindOrphan whose items all have ID 0.
const (
	kindInode  = 1 // Off 0; value: the inode (inodeSize bytes)
	kindDirent = 2 // Off: nameHash(name); value: a bucket of entries
	kindExtent = 3 // Off: first logical block; value: physical block, count
	kindOrphan = 4 // ID 0, Off: inode number; value: empty
)

// RootIno is the inode number of the root directory. Inode numbers are
// never reused; 0 is never an inode.
const RootIno = 1

// File types, the S_IFMT bits of Mode, as in Unix.
const (
	ModeType    = 0o170000
	ModeRegular = 0o100000
	ModeDir     = 0o040000
	ModeSymlink = 0o120000
	ModeSocket  = 0o140000 // a bound AF_UNIX socket's node (the kernel serves the socket)
	ModeFIFO    = 0o010000
	ModePerm    = 0o7777
)

// MaxNameLen is the longest file name, as in Linux.
const MaxNameLen = 255

// MaxSymlinkLen is the longest symlink target.
const MaxSymlinkLen = 4095

// MaxFileSize is the largest file size: 2^50 bytes (1 PiB), so that
// logical block numbers and byte offsets never overflow.
const MaxFileSize = 1 << 50

// MaxLinks bounds the link count of an inode.
const MaxLinks = 65000

// Inode is the metadata of a file, directory or symlink.
type Inode struct {
	Mode   uint32 // type and permission bits
	Nlink  uint32 // directory entries naming it; for a directory 2 + subdirectories
	Uid    uint32
	Gid    uint32
	Size   uint64 // bytes
	Blocks uint64 // data blocks its extents cover
	Atime  int64  // nanoseconds since the Unix epoch
	Mtime  int64
	Ctime  int64
	Parent uint64 // directories only: the directory that contains it
}

const inodeSize = 72

// IsDir, IsRegular, IsSymlink and IsSpecial test the type bits; a
// special file (a socket or FIFO node) is only a name and attributes,
// with no data.
func (in *Inode) IsSpecial() bool { return IsSpecialMode(in.Mode) }
func (in *Inode) IsDir() bool     { return in.Mode&ModeType == ModeDir }
func (in *Inode) IsRegular() bool { return in.Mode&ModeType == ModeRegular }
func (in *Inode) IsSymlink() bool { return in.Mode&ModeType == ModeSymlink }

// EncodeInode returns the on-disk form of an inode.
func EncodeInode(in *Inode) []byte {
	b := make([]byte, inodeSize)
	le := binary.LittleEndian
	le.PutUint32(b[0:], in.Mode)
	le.PutUint32(b[4:], in.Nlink)
	le.PutUint32(b[8:], in.Uid)
	le.PutUint32(b[12:], in.Gid)
	le.PutUint64(b[16:], in.Size)
	le.PutUint64(b[24:], in.Blocks)
	le.PutUint64(b[32:], uint64(in.Atime))
	le.PutUint64(b[40:], uint64(in.Mtime))
	le.PutUint64(b[48:], uint64(in.Ctime))
	le.PutUint64(b[56:], in.Parent)
	return b // bytes 64..72 reserved, zero
}

// DecodeInode checks and decodes an inode item.
func DecodeInode(b []byte) (Inode, error) {
	if len(b) != inodeSize {
		return Inode{}, fmt.Errorf("inode item of %d bytes: %w", len(b), ErrCorrupt)
	}
	le := binary.LittleEndian
	in := Inode{
		Mode: le.Uint32(b[0:]), Nlink: le.Uint32(b[4:]), Uid: le.Uint32(b[8:]), Gid: le.Uint32(b[12:]),
		Size: le.Uint64(b[16:]), Blocks: le.Uint64(b[24:]),
		Atime: int64(le.Uint64(b[32:])), Mtime: int64(le.Uint64(b[40:])), Ctime: int64(le.Uint64(b[48:])),
		Parent: le.Uint64(b[56:]),
	}
	switch {
	case !in.IsDir() && !in.IsRegular() && !in.IsSymlink() && !in.IsSpecial():
		return Inode{}, fmt.Errorf("inode mode %#o: %w", in.Mode, ErrCorrupt)
	case in.IsSpecial() && (in.Size != 0 || in.Blocks != 0):
		return Inode{}, fmt.Errorf("special inode of size %d: %w", in.Size, ErrCorrupt)
	case in.Size > MaxFileSize || in.Nlink > MaxLinks || in.Blocks > MaxFileSize/BlockSize:
		return Inode{}, fmt.Errorf("inode size %d, links %d, blocks %d: %w", in.Size, in.Nlink, in.Blocks, ErrCorrupt)
	case in.IsDir() != (in.Parent != 0):
		return Inode{}, fmt.Errorf("inode parent %d for mode %#o: %w", in.Parent, in.Mode, ErrCorrupt)
	case le.Uint64(b[64:]) != 0:
		return Inode{}, fmt.Errorf("inode reserved bytes set: %w", ErrCorrupt)
	}
	return in, nil
}

// Entry types stored in directory entries, so readdir needs no inode
// lookups. TypeOf gives the type for a mode.
const (
	TypeRegular = 1
	TypeDir     = 2
	TypeSymlink = 3
	TypeSocket  = 4
	TypeFIFO    = 5
)

// IsSpecialMode reports whether mode is a socket's or a FIFO's.
func IsSpecialMode(mode uint32) bool {
	t := mode & ModeType
	return t == ModeSocket || t == ModeFIFO
}

// TypeOf returns the directory entry type of an inode with mode.
func TypeOf(mode uint32) uint8 {
	switch mode & ModeType {
	case ModeDir:
		return TypeDir
	case ModeSymlink:
		return TypeSymlink
	case ModeSocket:
		return TypeSocket
	case ModeFIFO:
		return TypeFIFO
	}
	return TypeRegular
}

// Dirent is one name in a directory.
type Dirent struct {
	Name string
	Ino  uint64
	Type uint8 // TypeRegular, TypeDir, TypeSymlink, TypeSocket or TypeFIFO
}

// nameHash is where a name's entry lives among its directory's items:
// FNV-1a, 64 bits, halved so that hash+1 (a readdir cookie) cannot
// overflow. Names that collide share one item (a bucket).
func nameHash(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(name))
	return h.Sum64() >> 1
}

// validName reports whether name can be stored in a directory.
func validName(name string) error {
	switch {
	case name == "" || name == "." || name == "..":
		return ErrInvalid
	case len(name) > MaxNameLen:
		return ErrNameTooLong
	case strings.ContainsAny(name, "/\x00"):
		return ErrInvalid
	}
	return nil
}

// direntSize is the encoded size of an entry: inode, type, name length,
// name.
func direntSize(name string) int { return 8 + 1 + 1 + len(name) }

// EncodeBucket returns the on-disk form of a bucket of entries.
func EncodeBucket(ents []Dirent) []byte {
	var b []byte
	for _, e := range ents {
		b = binary.LittleEndian.AppendUint64(b, e.Ino)
		b = append(b, e.Type, byte(len(e.Name)))
		b = append(b, e.Name...)
	}
	return b
}

// DecodeBucket checks and decodes the bucket stored under hash.
func DecodeBucket(b []byte, hash uint64) ([]Dirent, error) {
	var ents []Dirent
	for len(b) > 0 {
		if len(b) < 10 || len(b) < 10+int(b[9]) {
			return nil, fmt.Errorf("directory entry truncated: %w", ErrCorrupt)
		}
		e := Dirent{Ino: binary.LittleEndian.Uint64(b), Type: b[8], Name: string(b[10 : 10+int(b[9])])}
		b = b[10+len(e.Name):]
		switch {
		case validName(e.Name) != nil || nameHash(e.Name) != hash:
			return nil, fmt.Errorf("directory entry %q under hash %#x: %w", e.Name, hash, ErrCorrupt)
		case e.Ino == 0 || e.Type < TypeRegular || e.Type > TypeFIFO:
			return nil, fmt.Errorf("directory entry %q: inode %d type %d: %w", e.Name, e.Ino, e.Type, ErrCorrupt)
		}
		for _, o := range ents {
			if o.Name == e.Name {
				return nil, fmt.Errorf("directory entry %q twice: %w", e.Name, ErrCorrupt)
			}
		}
		ents = append(ents, e)
	}
	if len(ents) == 0 {
		return nil, fmt.Errorf("empty directory bucket: %w", ErrCorrupt)
	}
	return ents, nil
}

// Extent maps Count logical blocks starting at the key's Off to the
// physical blocks starting at Phys.
type Extent struct {
	Phys  uint64
	Count uint64
}

const extentSize = 16

// EncodeExtent returns the on-disk form of an extent.
func EncodeExtent(e Extent) []byte {
	b := make([]byte, extentSize)
	binary.LittleEndian.PutUint64(b[0:], e.Phys)
	binary.LittleEndian.PutUint64(b[8:], e.Count)
	return b
}

// DecodeExtent checks and decodes the extent stored at logical block
// start of a filesystem whose data area is [dataStart, blocks).
func DecodeExtent(b []byte, start, dataStart, blocks uint64) (Extent, error) {
	if len(b) != extentSize {
		return Extent{}, fmt.Errorf("extent item of %d bytes: %w", len(b), ErrCorrupt)
	}
	e := Extent{Phys: binary.LittleEndian.Uint64(b), Count: binary.LittleEndian.Uint64(b[8:])}
	const maxBlocks = MaxFileSize / BlockSize
	if e.Count == 0 || e.Phys < dataStart || e.Phys >= blocks || e.Count > blocks-e.Phys ||
		start >= maxBlocks || e.Count > maxBlocks-start {
		return Extent{}, fmt.Errorf("extent %d+%d at block %d: %w", e.Phys, e.Count, start, ErrCorrupt)
	}
	return e, nil
}

func inodeKey(ino uint64) btree.Key                  { return btree.Key{ID: ino, Kind: kindInode} }
func direntKey(dir, hash uint64) btree.Key           { return btree.Key{ID: dir, Kind: kindDirent, Off: hash} }
func extentKey(ino, block uint64) btree.Key          { return btree.Key{ID: ino, Kind: kindExtent, Off: block} }
func orphanKey(ino uint64) btree.Key                 { return btree.Key{ID: 0, Kind: kindOrphan, Off: ino} }
func isKind(k btree.Key, id uint64, kind uint8) bool { return k.ID == id && k.Kind == kind }
