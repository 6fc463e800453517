package fs_test

import (
	"bytes"
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"valence.dev/servers/fs/fs"
	"valence.dev/servers/fs/seal"
)

func TestItemRoundTrips(t *testing.T) {
	in := fs.Inode{Mode: fs.ModeDir | 0o755, Nlink: 3, Uid: 1, Gid: 2, Size: 3, Blocks: 0, Atime: -4, Mtime: 5, Ctime: 6, Parent: 7}
	got, err := fs.DecodeInode(fs.EncodeInode(&in))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(in, got); diff != "" {
		t.Errorf("inode round trip (-want +got):\n%s", diff)
	}
	sb := fs.Superblock{Volume: 9, Generation: 5, Blocks: 1000, Root: 10, NextInode: 20, UsedBlocks: 50, Inodes: 12, Created: 77}
	gotSB, err := fs.DecodeSuper(fs.EncodeSuper(&sb), 1)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&sb, gotSB); diff != "" {
		t.Errorf("superblock round trip (-want +got):\n%s", diff)
	}
}

func TestItemsRefused(t *testing.T) {
	good := fs.Inode{Mode: fs.ModeRegular | 0o644, Nlink: 1}
	tests := []struct {
		name string
		err  error
	}{
		{"inode: no type", decodeInode(fs.Inode{Mode: 0o644})},
		{"inode: file with a parent", decodeInode(fs.Inode{Mode: fs.ModeRegular, Parent: 1})},
		{"inode: directory without", decodeInode(fs.Inode{Mode: fs.ModeDir})},
		{"inode: huge", decodeInode(fs.Inode{Mode: fs.ModeRegular, Size: fs.MaxFileSize + 1})},
		{"inode: short", func() error { _, err := fs.DecodeInode(fs.EncodeInode(&good)[:70]); return err }()},
		{"extent: empty", decodeExtent(fs.Extent{Phys: 100, Count: 0}, 0)},
		{"extent: in the fixed area", decodeExtent(fs.Extent{Phys: 3, Count: 1}, 0)},
		{"extent: past the end", decodeExtent(fs.Extent{Phys: 999, Count: 2}, 0)},
		{"extent: past the maximum size", decodeExtent(fs.Extent{Phys: 100, Count: 2}, fs.MaxFileSize/fs.BlockSize-1)},
		{"bucket: wrong hash", decodeBucket([]fs.Dirent{{Name: "a", Ino: 2, Type: fs.TypeRegular}}, 12345)},
		{"bucket: empty", func() error { _, err := fs.DecodeBucket(nil, 0); return err }()},
		{"bucket: truncated", func() error { _, err := fs.DecodeBucket([]byte{1, 2, 3}, 0); return err }()},
		{"superblock: wrong slot", func() error {
			_, err := fs.DecodeSuper(fs.EncodeSuper(&fs.Superblock{Volume: 1, Generation: 2, Blocks: 100, Root: 10, NextInode: 5, UsedBlocks: 10, Inodes: 1}), 1)
			return err
		}()},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, fs.ErrCorrupt) && !errors.Is(tt.err, seal.ErrHeader) {
			t.Errorf("%s: %v, want ErrCorrupt", tt.name, tt.err)
		}
	}
}

func decodeInode(in fs.Inode) error { _, err := fs.DecodeInode(fs.EncodeInode(&in)); return err }

func decodeExtent(e fs.Extent, start uint64) error {
	_, err := fs.DecodeExtent(fs.EncodeExtent(e), start, 6, 1000)
	return err
}

func decodeBucket(ents []fs.Dirent, hash uint64) error {
	_, err := fs.DecodeBucket(fs.EncodeBucket(ents), hash)
	return err
}

// FuzzDecodeItems feeds arbitrary bytes to every item decoder. Whatever
// a decoder accepts must encode back to the same bytes.
func FuzzDecodeItems(f *testing.F) {
	in := fs.Inode{Mode: fs.ModeDir | 0o755, Nlink: 2, Parent: 1}
	f.Add(fs.EncodeInode(&in), uint64(0))
	f.Add(fs.EncodeBucket([]fs.Dirent{{Name: "x", Ino: 5, Type: fs.TypeDir}}), uint64(0))
	f.Add(fs.EncodeExtent(fs.Extent{Phys: 50, Count: 3}), uint64(7))
	f.Add(fs.EncodeSuper(&fs.Superblock{Volume: 1, Generation: 2, Blocks: 100, Root: 10, NextInode: 5, UsedBlocks: 10, Inodes: 1}), uint64(0))
	f.Fuzz(func(t *testing.T, b []byte, n uint64) {
		if in, err := fs.DecodeInode(b); err == nil && !bytes.Equal(fs.EncodeInode(&in), b) {
			t.Errorf("inode does not round-trip")
		}
		if ents, err := fs.DecodeBucket(b, n); err == nil && !bytes.Equal(fs.EncodeBucket(ents), b) {
			t.Errorf("bucket does not round-trip")
		}
		if e, err := fs.DecodeExtent(b, n, 6, 1<<20); err == nil && !bytes.Equal(fs.EncodeExtent(e), b) {
			t.Errorf("extent does not round-trip")
		}
		if len(b) == seal.BlockSize {
			h, _ := seal.Peek(b)
			seal.Seal(b, h) // get past the checksum
			if sb, err := fs.DecodeSuper(b, n%2); err == nil && !bytes.Equal(fs.EncodeSuper(sb), b) {
				t.Errorf("superblock does not round-trip")
			}
		}
	})
}
