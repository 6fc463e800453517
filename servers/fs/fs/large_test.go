package fs_test

import (
	"bytes"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"valence.dev/servers/fs/blockdev"
	"valence.dev/servers/fs/fs"
)

// counting counts the blocks read from a device, to show that an
// operation costs a few tree lookups and not a scan.
type counting struct {
	blockdev.Device
	reads int
}

func (c *counting) ReadAt(p []byte, b uint64) error {
	c.reads += len(p) / blockdev.BlockSize
	return c.Device.ReadAt(p, b)
}

func TestLargeDirectory(t *testing.T) {
	const n = 100000 // under a second: no reason to run it reduced
	f, dev := newFS(t, 1<<16, fs.Options{})
	must(t, f.Mkdir("/big", 0o755))
	name := func(i int) string { return fmt.Sprintf("/big/entry-%07d", i) }
	for i := range n {
		must(t, f.WriteFile(name(i), nil, 0o644))
	}
	must(t, f.Unmount())

	// With a cache too small to hold the directory, a lookup still reads
	// only a handful of blocks: one root-to-leaf path per tree search.
	cdev := &counting{Device: dev}
	g, err := fs.Mount(cdev, fs.Options{CacheNodes: 16})
	must(t, err)
	rng := rand.New(rand.NewPCG(1, 1))
	const lookups = 200
	before := cdev.reads
	for range lookups {
		i := rng.IntN(n)
		st, err := g.Stat(name(i))
		must(t, err)
		if !st.IsRegular() {
			t.Fatalf("%s: mode %o", name(i), st.Mode)
		}
	}
	if per := float64(cdev.reads-before) / lookups; per > 12 {
		t.Errorf("a lookup in a %d-entry directory reads %.1f blocks; want a few tree paths", n, per)
	}
	if _, err := g.Stat("/big/missing"); !isNotExist(err) {
		t.Errorf("Stat of a missing name: %v", err)
	}
	ents, err := g.ReadDir("/big")
	must(t, err)
	if len(ents) != n {
		t.Fatalf("ReadDir: %d entries, want %d", len(ents), n)
	}
	for i := 0; i < n; i += 2 {
		must(t, g.Unlink(name(i)))
	}
	st, err := g.Stat("/big")
	must(t, err)
	must(t, g.Unmount())
	r := clean(t, dev)
	if r.Files != uint64(n-(n+1)/2) || st.Nlink != 2 {
		t.Errorf("after removing half: %d files (want %d), directory link count %d", r.Files, n-(n+1)/2, st.Nlink)
	}
	t.Logf("%d entries: tree of %d nodes, height %d", n, r.Nodes, r.Height)
}

func isNotExist(err error) bool {
	return err != nil && bytes.Contains([]byte(err.Error()), []byte("does not exist"))
}

// TestLargeSparseFile writes a few hundred blocks scattered over a 6 GiB
// file on a 64 MiB device: holes cost nothing, reads of holes are
// zeros, and a read anywhere costs a tree search, not a walk over the
// file.
func TestLargeSparseFile(t *testing.T) {
	const size = 6 << 30
	f, dev := newFS(t, 1<<14, fs.Options{})
	h, err := f.Create("/sparse")
	must(t, err)
	rng := rand.New(rand.NewPCG(2, 2))
	written := map[int64][]byte{}
	for i := range 500 {
		off := rng.Int64N(size-8192) &^ 511
		if i == 0 {
			off = size - 100 // the very end
		}
		data := bytes.Repeat([]byte{byte(i), byte(i >> 8), 0xa5}, 1+rng.IntN(1500))
		_, err := h.WriteAt(data, off)
		must(t, err)
		for j := range data {
			written[off+int64(j)] = data[j : j+1]
		}
		if i%100 == 0 {
			must(t, h.Sync())
		}
	}
	st, err := h.Stat()
	must(t, err)
	if st.Size != size+len64(written, size) || st.Blocks > 2000*8 {
		t.Errorf("size %d, %d sectors allocated", st.Size, st.Blocks)
	}
	must(t, h.Close())
	f = remount(t, f, dev)

	cdev := &counting{Device: dev}
	g, err := fs.Mount(cdev, fs.Options{CacheNodes: 16})
	must(t, err)
	r, err := g.Open("/sparse")
	must(t, err)
	buf := make([]byte, 4096)
	for range 300 {
		off := rng.Int64N(size - 4096)
		before := cdev.reads
		n, err := r.ReadAt(buf, off)
		if err != nil && err != io.EOF {
			t.Fatal(err)
		}
		if cdev.reads-before > 12 {
			t.Fatalf("a 4 KiB read read %d blocks", cdev.reads-before)
		}
		for j := range n {
			want := byte(0)
			if b, ok := written[off+int64(j)]; ok {
				want = b[0]
			}
			if buf[j] != want {
				t.Fatalf("byte %d: %#x, want %#x", off+int64(j), buf[j], want)
			}
		}
	}
	must(t, r.Close())
	free := g.StatFS().FreeBlocks
	must(t, g.Truncate("/sparse", 3<<30))
	must(t, g.Sync())
	if g.StatFS().FreeBlocks <= free {
		t.Errorf("truncating to 3 GiB freed nothing")
	}
	must(t, g.Unmount())
	clean(t, dev)
	_ = f
}

// len64 is how far past size the writes reached (the write at the very
// end runs past it).
func len64(written map[int64][]byte, size int64) int64 {
	end := size
	for off := range written {
		end = max(end, off+1)
	}
	return end - size
}

// TestLargeDenseFile writes a multi-GiB file for real on a file-backed
// image. It takes minutes, so it runs only with VALENCE_LONG=1.
func TestLargeDenseFile(t *testing.T) {
	if !long() {
		t.Skip("set VALENCE_LONG=1 to write a 3 GiB file")
	}
	const size = 3 << 30
	img, err := blockdev.CreateFile(filepath.Join(t.TempDir(), "img"), (size+(256<<20))/blockdev.BlockSize)
	must(t, err)
	defer img.Close()
	must(t, fs.Mkfs(img, fs.MkfsOptions{}))
	f, err := fs.Mount(img, fs.Options{})
	must(t, err)
	h, err := f.Create("/dense")
	must(t, err)
	chunk := make([]byte, 1<<20)
	for off := int64(0); off < size; off += int64(len(chunk)) {
		for i := range chunk {
			chunk[i] = byte(off>>20) ^ byte(i)
		}
		_, err := h.WriteAt(chunk, off)
		must(t, err)
	}
	must(t, h.Sync())
	for _, off := range []int64{0, 1 << 30, size - 1<<20} {
		_, err := h.ReadAt(chunk, off)
		must(t, err)
		for i := range chunk {
			if chunk[i] != byte(off>>20)^byte(i) {
				t.Fatalf("byte %d differs", off+int64(i))
			}
		}
	}
	must(t, h.Close())
	must(t, f.Unlink("/dense"))
	must(t, f.Unmount())
	clean(t, img)
}
