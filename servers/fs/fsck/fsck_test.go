package fsck

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/hashicorp/go-multierror"

	"valence.dev/servers/fs/alloc"
	"valence.dev/servers/fs/blockdev"
	"valence.dev/servers/fs/btree"
	"valence.dev/servers/fs/fs"
	"valence.dev/servers/fs/seal"
)

const volume = 0xfeed

// image builds a small filesystem with a two-level tree and returns its
// bytes and superblock.
func image(t *testing.T) ([]byte, *fs.Superblock) {
	t.Helper()
	dev := blockdev.NewMem(2048)
	if err := fs.Mkfs(dev, fs.MkfsOptions{Volume: volume}); err != nil {
		t.Fatal(err)
	}
	f, err := fs.Mount(dev, fs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	f.Mkdir("/d", 0o755)
	for i := range 150 {
		if err := f.WriteFile(fmt.Sprintf("/d/file%03d", i), make([]byte, 100*i), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f.Symlink("d/file001", "/link")
	f.Link("/d/file002", "/hard")
	if err := f.Unmount(); err != nil {
		t.Fatal(err)
	}
	sb, _, err := fs.ReadSuper(dev)
	if err != nil {
		t.Fatal(err)
	}
	return dev.Bytes(), sb
}

func block(img []byte, b uint64) []byte { return img[b*seal.BlockSize : (b+1)*seal.BlockSize] }

// nodes returns the tree's nodes by address, decoded.
func nodes(t *testing.T, img []byte, root uint64) map[uint64]*btree.Node {
	out := map[uint64]*btree.Node{}
	var walk func(addr uint64)
	walk = func(addr uint64) {
		n, err := btree.Decode(block(img, addr), volume, addr)
		if err != nil {
			t.Fatal(err)
		}
		out[addr] = n
		for _, c := range n.Children {
			walk(c)
		}
	}
	walk(root)
	return out
}

// rewrite re-encodes node addr after change edits it.
func rewrite(t *testing.T, img []byte, addr uint64, change func(n *btree.Node)) {
	n, err := btree.Decode(block(img, addr), volume, addr)
	if err != nil {
		t.Fatal(err)
	}
	change(n)
	if err := btree.Encode(n, block(img, addr), volume, addr, n.Generation); err != nil {
		t.Fatal(err)
	}
}

// editItem finds the leaf holding an item that match accepts and
// replaces the item's value with edit's result.
func editItem(t *testing.T, img []byte, sb *fs.Superblock, match func(k btree.Key, v []byte) bool, edit func(k btree.Key, v []byte) []byte) {
	for addr, n := range nodes(t, img, sb.Root) {
		for i, k := range n.Keys {
			if n.Leaf() && match(k, n.Values[i]) {
				rewrite(t, img, addr, func(n *btree.Node) { n.Values[i] = edit(k, n.Values[i]) })
				return
			}
		}
	}
	t.Fatal("no such item")
}

func inodeOf(ino uint64) func(btree.Key, []byte) bool {
	return func(k btree.Key, _ []byte) bool { return k.ID == ino && k.Kind == kindInode }
}

func editInode(change func(in *fs.Inode)) func(btree.Key, []byte) []byte {
	return func(_ btree.Key, v []byte) []byte {
		in, _ := fs.DecodeInode(v)
		change(&in)
		return fs.EncodeInode(&in)
	}
}

// reseal rewrites the superblock after change edits it.
func resealSuper(img []byte, sb *fs.Superblock, change func(sb *fs.Superblock)) {
	s := *sb
	change(&s)
	copy(block(img, s.Generation%2), fs.EncodeSuper(&s))
}

// flipBitmap flips the bitmap bit of block b in the current copy and
// reseals the bitmap block.
func flipBitmap(img []byte, sb *fs.Superblock, b uint64) {
	l, _ := alloc.NewLayout(sb.Blocks)
	c := int(sb.Generation % 2)
	addr := l.CopyStart(c) + b/alloc.BitsPerBlock
	blk := block(img, addr)
	bit := b % alloc.BitsPerBlock
	blk[40+bit/8] ^= 1 << (bit % 8)
	h, _ := seal.Peek(blk)
	seal.Seal(blk, h)
}

func TestCheckFindsDamage(t *testing.T) {
	tests := []struct {
		name   string
		damage func(t *testing.T, img []byte, sb *fs.Superblock)
		want   string // in the report
	}{
		{"clean", func(*testing.T, []byte, *fs.Superblock) {}, ""},
		{"node bit flip", func(t *testing.T, img []byte, sb *fs.Superblock) {
			for addr, n := range nodes(t, img, sb.Root) {
				if n.Leaf() {
					block(img, addr)[3000] ^= 4
					return
				}
			}
		}, "checksum mismatch"},
		{"block marked free", func(t *testing.T, img []byte, sb *fs.Superblock) {
			flipBitmap(img, sb, sb.Root)
		}, "bitmap marks it free"},
		{"leaked block", func(t *testing.T, img []byte, sb *fs.Superblock) {
			flipBitmap(img, sb, sb.Blocks-1)
		}, "leaked"},
		{"wrong link count", func(t *testing.T, img []byte, sb *fs.Superblock) {
			editItem(t, img, sb, inodeOf(5), editInode(func(in *fs.Inode) { in.Nlink = 3 }))
		}, "link count 3"},
		{"wrong directory link count", func(t *testing.T, img []byte, sb *fs.Superblock) {
			editItem(t, img, sb, inodeOf(fs.RootIno), editInode(func(in *fs.Inode) { in.Nlink = 7 }))
		}, "directory 1 has link count 7"},
		{"wrong block count", func(t *testing.T, img []byte, sb *fs.Superblock) {
			editItem(t, img, sb, inodeOf(20), editInode(func(in *fs.Inode) { in.Blocks++ }))
		}, "block count"},
		{"extent past size", func(t *testing.T, img []byte, sb *fs.Superblock) {
			editItem(t, img, sb, inodeOf(20), editInode(func(in *fs.Inode) { in.Size = 0 }))
		}, "past its size"},
		{"entry names a missing inode", func(t *testing.T, img []byte, sb *fs.Superblock) {
			editItem(t, img, sb, func(k btree.Key, v []byte) bool {
				ents, _ := fs.DecodeBucket(v, k.Off)
				return k.Kind == kindDirent && len(ents) == 1 && ents[0].Name == "file010"
			}, func(k btree.Key, v []byte) []byte {
				ents, _ := fs.DecodeBucket(v, k.Off)
				ents[0].Ino = 9999
				return fs.EncodeBucket(ents)
			})
		}, "does not exist"},
		{"shared data block", func(t *testing.T, img []byte, sb *fs.Superblock) {
			var phys []byte
			editItem(t, img, sb, func(k btree.Key, _ []byte) bool { return k.ID == 30 && k.Kind == kindExtent },
				func(_ btree.Key, v []byte) []byte { phys = v; return v })
			editItem(t, img, sb, func(k btree.Key, _ []byte) bool { return k.ID == 31 && k.Kind == kindExtent },
				func(_ btree.Key, v []byte) []byte { return append(phys[:8:8], v[8:]...) })
		}, "referenced twice"},
		{"superblock block count", func(t *testing.T, img []byte, sb *fs.Superblock) {
			resealSuper(img, sb, func(sb *fs.Superblock) { sb.UsedBlocks++ })
		}, "superblock says"},
		{"superblock inode count", func(t *testing.T, img []byte, sb *fs.Superblock) {
			resealSuper(img, sb, func(sb *fs.Superblock) { sb.Inodes-- })
		}, "inodes, the tree has"},
		{"key outside its parent's range", func(t *testing.T, img []byte, sb *fs.Superblock) {
			root := nodes(t, img, sb.Root)[sb.Root]
			if root.Leaf() {
				t.Fatal("test image has a one-level tree")
			}
			last := root.Children[len(root.Children)-1]
			rewrite(t, img, last, func(n *btree.Node) {
				n.Keys[0] = btree.Key{ID: 0, Kind: kindOrphan, Off: 1}
				n.Values[0] = nil
			})
		}, "outside its range"},
		{"node from the future", func(t *testing.T, img []byte, sb *fs.Superblock) {
			root := nodes(t, img, sb.Root)[sb.Root]
			addr := root.Children[0]
			n, _ := btree.Decode(block(img, addr), volume, addr)
			btree.Encode(n, block(img, addr), volume, addr, sb.Generation+5)
		}, "newer than the superblock"},
		{"cycle", func(t *testing.T, img []byte, sb *fs.Superblock) {
			// The root names itself as a child: the level check stops
			// the walk.
			rewrite(t, img, sb.Root, func(n *btree.Node) { n.Children[0] = sb.Root })
		}, "its parent expects"},
		{"unbalanced", func(t *testing.T, img []byte, sb *fs.Superblock) {
			// Put a new level above the root's last child only: its
			// leaves are one level deeper than the others. Levels are
			// explicit in every node, so this shows as nodes at the
			// wrong level.
			root := nodes(t, img, sb.Root)[sb.Root]
			last := len(root.Children) - 1
			spare := sb.Blocks - 1
			flipBitmap(img, sb, spare)
			resealSuper(img, sb, func(sb *fs.Superblock) { sb.UsedBlocks++ })
			mid := &btree.Node{Level: 1, Generation: sb.Generation, Keys: root.Keys[last:], Children: root.Children[last:]}
			if err := btree.Encode(mid, block(img, spare), volume, spare, sb.Generation); err != nil {
				t.Fatal(err)
			}
			rewrite(t, img, sb.Root, func(n *btree.Node) { n.Level = 2; n.Children[last] = spare })
		}, "is level 0, its parent expects 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img, sb := image(t)
			tt.damage(t, img, sb)
			_, err := Check(blockdev.MemFrom(img))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("clean image: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("damage not found, want %q", tt.want)
			}
			var merr *multierror.Error
			if !errors.As(err, &merr) {
				t.Fatalf("error %T is not a *multierror.Error", err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("report does not mention %q:\n%v", tt.want, err)
			}
		})
	}
}

func TestCheckRefuses(t *testing.T) {
	img, sb := image(t)
	random := make([]byte, len(img))
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	tests := []struct {
		name string
		img  []byte
		want error
	}{
		{"truncated", img[:len(img)/2], fs.ErrTruncated},
		{"random bytes", random, fs.ErrNoFilesystem},
		{"empty", nil, fs.ErrNoFilesystem},
		{"zeros", make([]byte, len(img)), fs.ErrNoFilesystem},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Check(blockdev.MemFrom(tt.img)); !errors.Is(err, tt.want) {
				t.Errorf("Check: %v, want %v", err, tt.want)
			}
		})
	}
	_ = sb
}

// A damaged older superblock is what a crash during a superblock write
// leaves: a warning, not an error.
func TestCheckOtherSlot(t *testing.T) {
	img, sb := image(t)
	block(img, 1-sb.Generation%2)[100] ^= 1
	r, err := Check(blockdev.MemFrom(img))
	if err != nil {
		t.Fatalf("Check: %v", err)
	}
	if len(r.Warnings) != 1 || !strings.Contains(r.Warnings[0], "not intact") {
		t.Errorf("warnings: %q", r.Warnings)
	}
	// Damage to the newest one makes the older one current: that image
	// was consistent as of the previous generation, but the blocks
	// freed since may have been reused, so fsck says what it sees.
	block(img, sb.Generation%2)[100] ^= 1
	if _, err := Check(blockdev.MemFrom(img)); !errors.Is(err, fs.ErrNoFilesystem) {
		t.Errorf("both slots damaged: %v, want ErrNoFilesystem", err)
	}
}

func TestReport(t *testing.T) {
	img, sb := image(t)
	r, err := Check(blockdev.MemFrom(img))
	if err != nil {
		t.Fatal(err)
	}
	if r.Inodes != 153 || r.Dirs != 2 || r.Files != 150 || r.Symlinks != 1 || r.Height < 2 || r.UsedBlocks != sb.UsedBlocks {
		t.Errorf("report %+v", r)
	}
}
