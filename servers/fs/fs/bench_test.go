package fs_test

import (
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"text/tabwriter"

	"valence.dev/servers/fs/blockdev"
	"valence.dev/servers/fs/fs"
)

// The benchmarks run each workload twice in the same process: on a
// Valence filesystem in a file-backed image ("valence") and on the
// host's own filesystem through package os ("host"), both under the
// same directory (VALENCE_BENCH_DIR, or a new temporary one). fsync is
// a full commit in Valence (two device flushes) and fsync(2) on the
// host. TestBenchmarkRatios runs them all and prints the valence/host
// ratio of each:
//
//	go test -run '^$' -bench . -benchtime 10000x ./fs   # 10,000 small files
//	VALENCE_BENCH=1 go test -run TestBenchmarkRatios -v -timeout 60m ./fs

// target is one side of a benchmark: a place to create files.
type target interface {
	create(name string) (benchFile, error)
	open(name string) (benchFile, error)
	mkdir(name string) error
	stat(name string) error
	remove(name string) error
	sync() error
}

type benchFile interface {
	io.ReaderAt
	io.Writer
	Sync() error
	Close() error
}

// host is the host filesystem through os.
type host struct{ dir string }

func (h host) create(n string) (benchFile, error) { return os.Create(filepath.Join(h.dir, n)) }
func (h host) open(n string) (benchFile, error)   { return os.Open(filepath.Join(h.dir, n)) }
func (h host) mkdir(n string) error               { return os.Mkdir(filepath.Join(h.dir, n), 0o755) }
func (h host) stat(n string) error                { _, err := os.Stat(filepath.Join(h.dir, n)); return err }
func (h host) remove(n string) error              { return os.RemoveAll(filepath.Join(h.dir, n)) }
func (h host) sync() error                        { return nil } // the benchmarks fsync each file

// valence is a Valence filesystem in an image file.
type valence struct{ f *fs.FS }

func (v valence) create(n string) (benchFile, error) { return v.f.Create("/" + n) }
func (v valence) open(n string) (benchFile, error)   { return v.f.Open("/" + n) }
func (v valence) mkdir(n string) error               { return v.f.Mkdir("/"+n, 0o755) }
func (v valence) stat(n string) error                { _, err := v.f.Stat("/" + n); return err }
func (v valence) sync() error                        { return v.f.Sync() }

func (v valence) remove(n string) error {
	st, err := v.f.Lstat("/" + n)
	if err != nil || !st.IsDir() {
		return v.f.Unlink("/" + n)
	}
	ents, err := v.f.ReadDir("/" + n)
	if err != nil {
		return err
	}
	for _, e := range ents {
		if err := v.f.Unlink("/" + n + "/" + e.Name); err != nil {
			return err
		}
	}
	return v.f.Rmdir("/" + n)
}

// targets are made once per process and shared by the benchmarks: a
// 4 GiB sparse image file, and a host directory beside it.
var targets = sync.OnceValues(func() (map[string]target, error) {
	dir := os.Getenv("VALENCE_BENCH_DIR")
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "valence-bench-"); err != nil {
			return nil, err
		}
		benchTemp = dir
	}
	hostDir := filepath.Join(dir, "host")
	os.RemoveAll(hostDir)
	if err := os.Mkdir(hostDir, 0o755); err != nil {
		return nil, err
	}
	img, err := blockdev.CreateFile(filepath.Join(dir, "valence.img"), 4<<30/blockdev.BlockSize)
	if err != nil {
		return nil, err
	}
	if err := fs.Mkfs(img, fs.MkfsOptions{}); err != nil {
		return nil, err
	}
	f, err := fs.Mount(img, fs.Options{})
	if err != nil {
		return nil, err
	}
	return map[string]target{"valence": valence{f}, "host": host{hostDir}}, nil
})

// benchTemp is the temporary directory the benchmarks made, if any;
// TestMain removes it.
var benchTemp string

func TestMain(m *testing.M) {
	code := m.Run()
	if benchTemp != "" {
		os.RemoveAll(benchTemp)
	}
	os.Exit(code)
}

// sides runs body as a sub-benchmark for each target.
func sides(b *testing.B, body func(b *testing.B, t target)) {
	ts, err := targets()
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range []string{"valence", "host"} {
		b.Run(name, func(b *testing.B) { body(b, ts[name]) })
	}
}

// BenchmarkSmallFiles: one op creates a 1 KiB file, writes it, fsyncs
// and closes it. Run with -benchtime 10000x for 10,000 files.
func BenchmarkSmallFiles(b *testing.B) { sides(b, smallFiles) }

func smallFiles(b *testing.B, t target) {
	data := []byte(strings.Repeat("small file data\n", 64))
	dir := fmt.Sprintf("small-%d", b.N)
	t.remove(dir)
	if err := t.mkdir(dir); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := range b.N {
		h, err := t.create(fmt.Sprintf("%s/f%06d", dir, i))
		if err != nil {
			b.Fatal(err)
		}
		if _, err := h.Write(data); err != nil {
			b.Fatal(err)
		}
		if err := h.Sync(); err != nil {
			b.Fatal(err)
		}
		if err := h.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if err := t.remove(dir); err != nil {
		b.Fatal(err)
	}
	if err := t.sync(); err != nil {
		b.Fatal(err)
	}
}

const bigSize = 1 << 30

// writeBig writes name as bigSize bytes in 1 MiB writes and fsyncs it.
func writeBig(t target, name string) error {
	h, err := t.create(name)
	if err != nil {
		return err
	}
	chunk := make([]byte, 1<<20)
	for off := 0; off < bigSize; off += len(chunk) {
		chunk[0], chunk[len(chunk)-1] = byte(off>>20), byte(off>>24)
		if _, err := h.Write(chunk); err != nil {
			return err
		}
	}
	if err := h.Sync(); err != nil {
		return err
	}
	return h.Close()
}

// BenchmarkSeqWrite: one op writes 1 GiB sequentially in 1 MiB writes
// and fsyncs.
func BenchmarkSeqWrite(b *testing.B) { sides(b, seqWrite) }

func seqWrite(b *testing.B, t target) {
	b.SetBytes(bigSize)
	for range b.N {
		if err := writeBig(t, "seq-write"); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if err := t.remove("seq-write"); err != nil {
			b.Fatal(err)
		}
		if err := t.sync(); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
}

// bigFile opens the 1 GiB file the read benchmarks share, writing it
// the first time.
func bigFile(b *testing.B, t target) benchFile {
	once, _ := bigFiles.LoadOrStore(t, new(sync.Once))
	var err error
	once.(*sync.Once).Do(func() { err = writeBig(t, "big") })
	if err != nil {
		b.Fatal(err)
	}
	h, err := t.open("big")
	if err != nil {
		b.Fatal(err)
	}
	return h
}

var bigFiles sync.Map // target -> *sync.Once

// BenchmarkSeqRead: one op reads the 1 GiB file sequentially in 1 MiB
// reads.
func BenchmarkSeqRead(b *testing.B) { sides(b, seqRead) }

func seqRead(b *testing.B, t target) {
	h := bigFile(b, t)
	defer h.Close()
	buf := make([]byte, 1<<20)
	b.SetBytes(bigSize)
	b.ResetTimer()
	for range b.N {
		for off := int64(0); off < bigSize; off += int64(len(buf)) {
			if _, err := h.ReadAt(buf, off); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkRandomRead: one op reads 4 KiB at a random block of the
// 1 GiB file.
func BenchmarkRandomRead(b *testing.B) { sides(b, randomRead) }

func randomRead(b *testing.B, t target) {
	h := bigFile(b, t)
	defer h.Close()
	buf := make([]byte, 4096)
	rng := rand.New(rand.NewPCG(1, 1))
	b.SetBytes(int64(len(buf)))
	b.ResetTimer()
	for range b.N {
		if _, err := h.ReadAt(buf, rng.Int64N(bigSize/4096)*4096); err != nil {
			b.Fatal(err)
		}
	}
}

const bigDirEntries = 100000

var bigDirs sync.Map // target -> *sync.Once

// BenchmarkLookup: one op looks up (stats) a random name in a directory
// of 100,000 entries.
func BenchmarkLookup(b *testing.B) { sides(b, lookup) }

func lookup(b *testing.B, t target) {
	once, _ := bigDirs.LoadOrStore(t, new(sync.Once))
	var err error
	once.(*sync.Once).Do(func() { err = makeBigDir(t) })
	if err != nil {
		b.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(2, 2))
	b.ResetTimer()
	for range b.N {
		if err := t.stat(fmt.Sprintf("bigdir/entry-%06d", rng.IntN(bigDirEntries))); err != nil {
			b.Fatal(err)
		}
	}
}

func makeBigDir(t target) error {
	if err := t.mkdir("bigdir"); err != nil {
		return err
	}
	for i := range bigDirEntries {
		h, err := t.create(fmt.Sprintf("bigdir/entry-%06d", i))
		if err != nil {
			return err
		}
		if err := h.Close(); err != nil {
			return err
		}
	}
	return t.sync()
}

// TestBenchmarkRatios runs every benchmark on both sides and prints the
// ratio of Valence's time per op to the host's. It takes minutes, so it
// runs only with VALENCE_BENCH=1.
func TestBenchmarkRatios(t *testing.T) {
	if os.Getenv("VALENCE_BENCH") != "1" {
		t.Skip("set VALENCE_BENCH=1 to measure valence/host ratios")
	}
	ts, err := targets()
	if err != nil {
		t.Fatal(err)
	}
	benches := []struct {
		name      string
		body      func(*testing.B, target)
		benchtime string
	}{
		{"create+write 1 KiB+fsync, 10,000 files", smallFiles, "10000x"},
		{"sequential write 1 GiB + fsync", seqWrite, "3x"},
		{"sequential read 1 GiB", seqRead, "5x"},
		{"random 4 KiB read in 1 GiB", randomRead, "2s"},
		{"lookup in 100,000-entry dir", lookup, "2s"},
	}
	benchtime := flag.Lookup("test.benchtime")
	defer benchtime.Value.Set(benchtime.DefValue)
	w := tabwriter.NewWriter(os.Stdout, 0, 8, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "workload\tvalence per op\thost per op\tvalence/host\t")
	for _, bm := range benches {
		benchtime.Value.Set(bm.benchtime)
		per := map[string]float64{}
		for _, side := range []string{"valence", "host"} {
			r := testing.Benchmark(func(b *testing.B) { bm.body(b, ts[side]) })
			if r.N == 0 {
				t.Fatalf("%s on %s failed", bm.name, side)
			}
			per[side] = float64(r.T.Nanoseconds()) / float64(r.N)
			t.Logf("%s, %s: %v", bm.name, side, r)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%.2f\t\n", bm.name, human(per["valence"]), human(per["host"]), per["valence"]/per["host"])
	}
	w.Flush()
}

func human(ns float64) string {
	switch {
	case ns >= 1e9:
		return fmt.Sprintf("%.2fs", ns/1e9)
	case ns >= 1e6:
		return fmt.Sprintf("%.2fms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.2fus", ns/1e3)
	}
	return fmt.Sprintf("%.0fns", ns)
}
