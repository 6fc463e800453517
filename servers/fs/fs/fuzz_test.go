package fs_test

import (
	"encoding/binary"
	"os"
	"path"
	"sync"
	"testing"

	"valence.dev/servers/fs/blockdev"
	"valence.dev/servers/fs/fs"
	"valence.dev/servers/fs/fsck"
	"valence.dev/servers/fs/seal"
)

// The fuzz targets mount damaged images and use them every way a client
// can. Errors are expected; a panic, a hang or unbounded memory is a
// bug. Crashers found are kept under testdata/fuzz as regression seeds.

// fuzzImage builds a small image with a little of everything: nested
// directories, files with holes, a hard link, symlinks, and an orphan.
func fuzzImage(tb testing.TB, blocks uint64) []byte {
	if tb == nil {
		tb = panicTB{}
	}
	dev := blockdev.NewMem(blocks)
	c := &clock{}
	must(tb, fs.Mkfs(dev, fs.MkfsOptions{Volume: 0xf022, Now: c.now}))
	f, err := fs.Mount(dev, fs.Options{Now: c.now})
	must(tb, err)
	must(tb, f.Mkdir("/d", 0o755))
	must(tb, f.Mkdir("/d/e", 0o700))
	must(tb, f.WriteFile("/d/small", []byte("hello, fuzz"), 0o644))
	h, err := f.Create("/d/e/holes")
	must(tb, err)
	h.WriteAt([]byte("start"), 0)
	h.WriteAt([]byte("end"), 40000)
	must(tb, h.Close())
	must(tb, f.Link("/d/small", "/hard"))
	must(tb, f.Symlink("d/e/holes", "/sym"))
	must(tb, f.Symlink("/nowhere", "/dangling"))
	for i := range 20 {
		must(tb, f.WriteFile("/d/f"+itoa(uint32(i)), []byte(path.Join("x", itoa(uint32(i)))), 0o600))
	}
	orphan, err := f.Create("/orphan")
	must(tb, err)
	orphan.Write(make([]byte, 5000))
	must(tb, f.Unlink("/orphan"))
	must(tb, f.Sync()) // the orphan stays: its handle is never closed
	return append([]byte(nil), dev.Bytes()...)
}

var richImage = sync.OnceValue(func() []byte { return fuzzImage(nil, 256) })

// exercise checks, mounts and uses an image, bounded in every way.
func exercise(img []byte) {
	dev := blockdev.MemFrom(img)
	fsck.Check(dev)
	f, err := fs.Mount(dev, fs.Options{CacheNodes: 32})
	if err != nil {
		return
	}
	budget := 200
	var walk func(dir string, depth int)
	walk = func(dir string, depth int) {
		ents, _ := f.ReadDir(dir)
		for _, e := range ents {
			if budget--; budget < 0 || depth > 8 {
				return
			}
			p := path.Join(dir, e.Name)
			f.Lstat(p)
			f.Stat(p)
			f.Readlink(p)
			if h, err := f.Open(p); err == nil {
				buf := make([]byte, 70000)
				h.ReadAt(buf, 0)
				h.ReadDir(10)
				h.Close()
			}
			if e.Type == fs.ModeDir {
				walk(p, depth+1)
			}
		}
	}
	walk("/", 0)
	f.WriteFile("/d/new", make([]byte, 10000), 0o644)
	f.Mkdir("/d/newdir", 0o755)
	f.Rename("/d/small", "/d/e/moved")
	f.Rename("/d/e", "/e2")
	f.Truncate("/d/e/holes", 10)
	f.Unlink("/hard")
	f.Rmdir("/d/newdir")
	if h, err := f.OpenFile("/d/f3", os.O_RDWR, 0); err == nil {
		h.WriteAt([]byte("again"), 3)
		h.Close()
	}
	f.Sync()
	f.Unmount()
	fsck.Check(dev)
}

// FuzzMount mounts images whose first bytes are the fuzzer's: its data
// replaces the start of the rich image (superblocks, bitmaps and the
// first tree nodes live there), and size sets the length of the device
// in blocks, cutting the image short or padding it with zeros. Inputs
// stay small, which keeps the fuzzer fast, while covering random bytes,
// damaged headers and truncated images.
func FuzzMount(f *testing.F) {
	img := richImage()
	f.Add(img[:3*seal.BlockSize], uint16(256))
	f.Add(img[:2*seal.BlockSize], uint16(100))
	f.Add([]byte{}, uint16(0))
	f.Add([]byte("not a filesystem"), uint16(300))
	f.Fuzz(func(t *testing.T, data []byte, size uint16) {
		dev := make([]byte, int(size%1024)*seal.BlockSize)
		copy(dev, img)
		copy(dev, data)
		exercise(dev)
	})
}

// FuzzMountDamaged applies small patches to a fixed, richer image. Each
// patch is five bytes: which metadata block (2), which byte in it (2)
// and its new value. With reseal, every block that looks like metadata
// gets a correct checksum afterwards, so the damage gets past the
// checksums and into the decoders and the filesystem's own checks.
func FuzzMountDamaged(f *testing.F) {
	f.Add([]byte{}, false)
	f.Add([]byte{0, 0, 40, 0, 0xff}, false)
	f.Add([]byte{0, 0, 40, 0, 0xff}, true)
	f.Add([]byte{3, 0, 60, 0, 0x07, 4, 0, 100, 1, 0}, true)
	base := richImage()
	meta := metadataBlocks(base)
	f.Fuzz(func(t *testing.T, patch []byte, reseal bool) {
		img := append([]byte(nil), base...)
		for ; len(patch) >= 5; patch = patch[5:] {
			b := meta[int(binary.LittleEndian.Uint16(patch))%len(meta)]
			off := int(binary.LittleEndian.Uint16(patch[2:])) % seal.BlockSize
			img[b*seal.BlockSize+uint64(off)] = patch[4]
		}
		if reseal {
			for _, b := range meta {
				blk := img[b*seal.BlockSize : (b+1)*seal.BlockSize]
				h, _ := seal.Peek(blk)
				seal.Seal(blk, h)
			}
		}
		exercise(img)
	})
}

// metadataBlocks lists the blocks of an image that carry a seal.
func metadataBlocks(img []byte) []uint64 {
	var out []uint64
	for b := uint64(0); b < uint64(len(img))/seal.BlockSize; b++ {
		h, _ := seal.Peek(img[b*seal.BlockSize : (b+1)*seal.BlockSize])
		switch h.Magic {
		case seal.MagicSuper, seal.MagicNode, seal.MagicBitmap:
			out = append(out, b)
		}
	}
	return out
}

func TestFuzzImagesAreClean(t *testing.T) {
	for _, img := range [][]byte{richImage()} {
		if _, err := fsck.Check(blockdev.MemFrom(img)); err != nil {
			t.Errorf("fsck of a fuzz seed image: %v", err)
		}
	}
}

// panicTB lets fuzzImage run outside a test (for the shared image).
type panicTB struct{ testing.TB }

func (panicTB) Helper()               {}
func (panicTB) Fatal(args ...any)     { panic(args) }
func (panicTB) Fatalf(string, ...any) { panic("fatal") }
