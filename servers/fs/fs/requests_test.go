package fs_test

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"text/tabwriter"

	"valence.dev/servers/fs/blockdev"
	"valence.dev/servers/fs/fs"
)

// The request counts measure the filesystem's data path in what costs
// in Valence: device requests (each an IPC round trip to the disk driver
// and an NVMe command, milliseconds under QEMU's TCG), not host time.
// Each workload runs on fs -> cache -> Counter -> Mem, the stack fsd
// runs on, with I/O in the 3 KiB pieces the kernel forwards to fsd
// (fileproto.MaxInline), as make bench's filebench does it.

// requestStack is a way to put a block cache between the filesystem
// and the counted device.
type requestStack struct {
	name   string
	bounds map[string]float64 // workload -> most requests per unit, if checked
	cache  func(dev blockdev.Device) blockdev.Device
}

var requestStacks = []requestStack{
	{"no cache", nil, func(dev blockdev.Device) blockdev.Device { return dev }},
	{"write-through 64M", nil, func(dev blockdev.Device) blockdev.Device { return blockdev.NewCache(dev, 64<<20) }},
	{"fsd's: write-back 64M, 16M dirty, 1M ahead", fsdBounds, func(dev blockdev.Device) blockdev.Device {
		return blockdev.NewCacheWith(dev, blockdev.CacheOptions{Bytes: 64 << 20, WriteBack: true, MaxDirty: 16 << 20, Readahead: 1 << 20})
	}},
	{"write-back 64M, 4M dirty, no readahead", nil, func(dev blockdev.Device) blockdev.Device {
		return blockdev.NewCacheWith(dev, blockdev.CacheOptions{Bytes: 64 << 20, WriteBack: true, MaxDirty: 4 << 20})
	}},
}

// fsdBounds are the most requests per unit each workload may cost on
// fsd's stack, so that a change that loses what the write-back cache
// and readahead won fails the test.
var fsdBounds = map[string]float64{
	"create 1 KiB + fsync": 6,
	"seq write + fsync":    2,
	"seq read, warm":       0,
	"seq read, cold":       2,
}

// pieceSize is the most data the kernel moves in one file-protocol
// message.
const pieceSize = 3072

// requestWorkload runs on a mounted filesystem over a counted device
// and returns how many units (MiB, files) it did.
type requestWorkload struct {
	name string
	unit string
	run  func(t *testing.T, f *fs.FS, remount func() *fs.FS, dev *blockdev.Counter) (float64, blockdev.Counts)
}

// seqMiB is the size of the sequential file.
const seqMiB = 16

var requestWorkloads = []requestWorkload{
	{"create 1 KiB + fsync", "file", func(t *testing.T, f *fs.FS, _ func() *fs.FS, dev *blockdev.Counter) (float64, blockdev.Counts) {
		must(t, f.Mkdir("/small", 0o755))
		must(t, f.Sync())
		data := []byte(strings.Repeat("small file data\n", 64))
		const n = 200
		before := dev.Counts()
		for i := range n {
			h, err := f.OpenFile(fmt.Sprintf("/small/f%06d", i), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
			must(t, err)
			_, err = h.Write(data)
			must(t, err)
			must(t, h.Sync())
			must(t, h.Close())
		}
		return n, dev.Counts().Sub(before)
	}},
	{"seq write + fsync", "MiB", func(t *testing.T, f *fs.FS, _ func() *fs.FS, dev *blockdev.Counter) (float64, blockdev.Counts) {
		before := dev.Counts()
		writeSeq(t, f, "/seq")
		return seqMiB, dev.Counts().Sub(before)
	}},
	{"seq read, warm", "MiB", func(t *testing.T, f *fs.FS, _ func() *fs.FS, dev *blockdev.Counter) (float64, blockdev.Counts) {
		writeSeq(t, f, "/seq")
		before := dev.Counts()
		readSeq(t, f, "/seq")
		return seqMiB, dev.Counts().Sub(before)
	}},
	{"seq read, cold", "MiB", func(t *testing.T, f *fs.FS, remount func() *fs.FS, dev *blockdev.Counter) (float64, blockdev.Counts) {
		writeSeq(t, f, "/seq")
		f = remount()
		before := dev.Counts()
		readSeq(t, f, "/seq")
		return seqMiB, dev.Counts().Sub(before)
	}},
}

// writeSeq writes a file of seqMiB in pieces and fsyncs it.
func writeSeq(t *testing.T, f *fs.FS, name string) {
	h, err := f.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	must(t, err)
	p := make([]byte, pieceSize)
	for off := 0; off < seqMiB<<20; off += pieceSize {
		p[0] = byte(off / pieceSize)
		_, err := h.WriteAt(p[:min(pieceSize, seqMiB<<20-off)], int64(off))
		must(t, err)
	}
	must(t, h.Sync())
	must(t, h.Close())
}

// readSeq reads a file of seqMiB in pieces.
func readSeq(t *testing.T, f *fs.FS, name string) {
	h, err := f.Open(name)
	must(t, err)
	p := make([]byte, pieceSize)
	for off := 0; off < seqMiB<<20; off += pieceSize {
		n, err := h.ReadAt(p[:min(pieceSize, seqMiB<<20-off)], int64(off))
		if err != nil || n == 0 || p[0] != byte(off/pieceSize) {
			t.Fatalf("read at %d: %d bytes, %v", off, n, err)
		}
	}
	must(t, h.Close())
}

// TestRequests prints the device requests per unit of each workload on
// each stack (go test -run TestRequests -v ./fs).
func TestRequests(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("a measurement, slow under the race detector, of code that runs on one goroutine")
	}
	var out strings.Builder
	w := tabwriter.NewWriter(&out, 0, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "workload\tstack\trequests per unit\treads\twrites\tflushes\tblocks written\t")
	for _, wl := range requestWorkloads {
		for _, st := range requestStacks {
			mem := blockdev.NewMem(64 << 20 / blockdev.BlockSize)
			must(t, fs.Mkfs(mem, fs.MkfsOptions{Volume: 1}))
			dev := blockdev.NewCounter(mem)
			f, err := fs.Mount(st.cache(dev), fs.Options{})
			must(t, err)
			remount := func() *fs.FS {
				must(t, f.Unmount())
				f, err = fs.Mount(st.cache(dev), fs.Options{})
				must(t, err)
				return f
			}
			units, n := wl.run(t, f, remount, dev)
			per := func(x uint64) string { return fmt.Sprintf("%.1f", float64(x)/units) }
			fmt.Fprintf(w, "%s\t%s\t%s per %s\t%s\t%s\t%s\t%s\t\n", wl.name, st.name, per(n.Requests()), wl.unit,
				per(n.Reads), per(n.Writes), per(n.Flushes), per(n.WriteBlocks))
			if most, ok := st.bounds[wl.name]; ok && float64(n.Requests())/units > most {
				t.Errorf("%s on %s: %.1f requests per %s, at most %g expected", wl.name, st.name, float64(n.Requests())/units, wl.unit, most)
			}
			must(t, f.Unmount())
		}
	}
	w.Flush()
	t.Logf("device requests per unit:\n%s", out.String())
}
