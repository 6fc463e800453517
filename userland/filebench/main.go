// Command filebench measures file operations through a filesystem, the
// same static binary in Valence and in a Linux guest: in Valence on the
// root disk (/bin/init mounts the NVMe disk's Valence filesystem at
// "/" and runs filebench as init, whose file calls the kernel forwards to
// fsd), in Linux on ext4 on the same QEMU NVMe device (as the guest's
// /init it loads the modules listed in /lib/modules/order, then mounts
// /dev/nvme0n1 on /mnt itself). tools/bench boots both and compares the
// figures. Which system it runs on is uname's sysname (-system to force).
//
// Workloads (-run, default all), in a directory "filebench" made on the
// filesystem (-dir to choose another, required when not a guest's init):
//
//	fs-create-1KiB-fsync-x1000    create a file, write 1 KiB, fsync, close;
//	                              -files of them in a fresh directory (ms/file)
//	fs-stat-x10000                stat(2) each of -stat-files empty files in
//	                              one directory, in a shuffled order (us/stat)
//	fs-seq-write-256MiB           write a new file of -seq-mib MiB in 1 MiB
//	                              writes, then fsync (MiB/s, fsync included)
//	fs-seq-read-256MiB            read that file back in 1 MiB reads (MiB/s)
//	fs-rand-read-4KiB-64MiB       pread(2) of random aligned 4 KiB blocks of a
//	                              -rand-mib MiB file for -seconds, one at a
//	                              time (IOPS)
//	fs-stat-x10000-cold           the reading workloads again, each repetition
//	fs-seq-read-256MiB-cold       after dropping what the kernel lets a
//	fs-rand-read-4KiB-64MiB-cold  program drop (-cold=false: not measured)
//
// Sizes are in the names, so figures of different sizes are never paired.
// Each workload runs -reps times (-seq-reps for the sequential pair);
// the line for each is ubench's, with the min and median:
//
//	bench: <name> min <v> median <v> <unit> (<n> repetitions of <what>)
//
// and every repetition is also reported on a "filebench:" line as it ends
// (under TCG a repetition can take minutes). Setup (the stat files, the
// random-read file, removing the previous repetition's files) is not
// timed, and is followed by sync(2).
//
// Caches: every repetition starts with sync(2). The plain rows then
// measure what a program sees: nothing is dropped, so each system's
// caches hold what they hold (Linux's page cache, which can take all of a
// 256 MiB file in a 1 GiB guest; Valence's fsd keeps a 64 MiB block
// cache, and its kernel caches no file data). The -cold rows drop first
// what the kernel lets a program drop: on Linux the page cache, dentries
// and inodes (/proc/sys/vm/drop_caches), so Linux reads from the device;
// on Valence nothing (fsd's block cache cannot be dropped by a program),
// so there they measure the same as the plain rows, which favours Valence
// when a file fits in fsd's cache.
//
// Data files carry a pattern (every 4 KiB block starts with its offset
// and the file's tag) that every read checks; the create workload counts
// its files and the stat workload checks each answer, so a workload that
// does not do its work fails instead of reporting a number.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// config is what one run measures.
type config struct {
	system    string // "linux" or "valence"
	dir       string // the working directory (made, and emptied first)
	run       map[string]bool
	files     int // create workload: files per repetition
	fileSize  int // and the bytes written to each
	seqMiB    int
	randMiB   int
	statFiles int
	seconds   float64 // per repetition of rand-read
	reps      int
	seqReps   int
	cold      bool // also the -cold rows
}

const (
	chunk     = 1 << 20 // sequential I/O size
	linuxDisk = "/dev/nvme0n1"
	linuxMnt  = "/mnt"
)

func main() {
	fmt.Println("filebench: start")
	code := mainCode()
	fmt.Println("filebench: done")
	finish(code)
}

func mainCode() int {
	fs := flag.NewFlagSet("filebench", flag.ContinueOnError)
	fs.SetOutput(os.Stdout)
	system := fs.String("system", "auto", "linux, valence, or auto (uname)")
	dir := fs.String("dir", "", "working directory (default: /mnt/filebench as a Linux guest's init, /filebench on Valence)")
	run := fs.String("run", "all", "workloads, comma-separated: create, stat, seq, rand, all")
	var c config
	fs.IntVar(&c.files, "files", 1000, "create workload: files per repetition")
	fs.IntVar(&c.fileSize, "file-size", 1024, "create workload: bytes written to each file")
	fs.IntVar(&c.seqMiB, "seq-mib", 256, "sequential workloads: file size in MiB")
	fs.IntVar(&c.randMiB, "rand-mib", 64, "random reads: file size in MiB")
	fs.IntVar(&c.statFiles, "stat-files", 10000, "stat workload: files")
	fs.Float64Var(&c.seconds, "seconds", 2, "random reads: seconds per repetition")
	fs.IntVar(&c.reps, "reps", 5, "repetitions of each workload")
	fs.IntVar(&c.seqReps, "seq-reps", 0, "repetitions of the sequential write and read (0: -reps)")
	fs.BoolVar(&c.cold, "cold", true, "also measure the reading workloads after dropping the caches a program can drop (Linux's page cache)")
	if err := fs.Parse(os.Args[1:]); err != nil {
		return 2
	}
	var err error
	if c.run, err = parseRun(*run); err != nil {
		fmt.Println("filebench: FAILED:", err)
		return 2
	}
	if c.seqReps == 0 {
		c.seqReps = c.reps
	}
	if c.files < 1 || c.fileSize < 0 || c.seqMiB < 1 || c.randMiB < 1 || c.statFiles < 1 || c.seconds <= 0 || c.reps < 1 || c.seqReps < 1 {
		fmt.Println("filebench: FAILED: sizes, counts, -seconds and repetitions must be positive")
		return 2
	}
	c.system = *system
	if c.system == "auto" {
		c.system = sysname()
	}
	c.dir = *dir
	if c.dir == "" {
		switch {
		case c.system == "valence":
			c.dir = "/filebench"
		case os.Getpid() == 1:
			if err := prepareLinux(); err != nil {
				fmt.Println("filebench: FAILED: preparing the Linux guest:", err)
				return 1
			}
			c.dir = filepath.Join(linuxMnt, "filebench")
		default:
			fmt.Println("filebench: FAILED: -dir is needed unless filebench is a Linux guest's init or runs on Valence")
			return 2
		}
	}
	return runAll(c, os.Stdout)
}

// runAll runs the chosen workloads in c.dir, printing to out; it returns
// the exit code.
func runAll(c config, out io.Writer) int {
	say := func(format string, args ...any) { fmt.Fprintf(out, "filebench: "+format+"\n", args...) }
	if err := os.RemoveAll(c.dir); err != nil {
		say("FAILED: emptying %s: %v", c.dir, err)
		return 1
	}
	if err := os.MkdirAll(c.dir, 0o755); err != nil {
		say("FAILED: making %s: %v (is the filesystem writable?)", c.dir, err)
		return 1
	}
	if err := os.Chdir(c.dir); err != nil {
		say("FAILED: %v", err)
		return 1
	}
	say("%s", describe(c))
	b := &bencher{c: c, out: out, say: say}
	for _, w := range []struct {
		name string
		fn   func() error
	}{
		{"create", b.create},
		{"stat", b.stat},
		{"seq", b.seq},
		{"rand", b.rand},
	} {
		if !c.run[w.name] {
			continue
		}
		if err := w.fn(); err != nil {
			b.failed = true
			say("FAILED: %s: %v", w.name, err)
		}
	}
	os.Chdir("/")
	if err := os.RemoveAll(c.dir); err != nil {
		say("removing %s: %v", c.dir, err)
	}
	unix.Sync()
	if b.failed {
		return 1
	}
	return 0
}

// describe says what runs where, for the log.
func describe(c config) string {
	var u unix.Utsname
	unix.Uname(&u)
	s := fmt.Sprintf("%s %s, in %s", c.system, unix.ByteSliceToString(u.Release[:]), c.dir)
	if m, err := os.ReadFile("/proc/mounts"); err == nil {
		if l := mountFor(string(m), c.dir); l != "" {
			s += " on " + l
		}
	}
	var st unix.Statfs_t
	if unix.Statfs(c.dir, &st) == nil {
		s += fmt.Sprintf(", %d of %d MiB free", st.Bavail*uint64(st.Bsize)>>20, st.Blocks*uint64(st.Bsize)>>20)
	}
	switch {
	case !c.cold:
	case c.system == "linux":
		s += "; -cold rows: page cache, dentries and inodes dropped before each repetition"
	default:
		s += "; -cold rows: nothing can be dropped (fsd's block cache keeps what it holds)"
	}
	return s
}

type bencher struct {
	c        config
	out      io.Writer
	say      func(string, ...any)
	failed   bool
	dropWarn bool
}

// coldSuffix marks the rows measured after dropping caches.
const coldSuffix = "-cold"

// variants are the cache states a reading workload is measured in:
// as left (false), then cold (true) if asked for.
func (b *bencher) variants() []bool {
	if b.c.cold {
		return []bool{false, true}
	}
	return []bool{false}
}

func suffix(cold bool) string {
	if cold {
		return coldSuffix
	}
	return ""
}

// report prints one figure's line from its repetitions' values.
func (b *bencher) report(name, unit string, vals []float64, of string) {
	min, med := minMedian(vals)
	fmt.Fprintln(b.out, benchLine(name, min, med, unit, len(vals), of))
}

// settle makes what was written durable and, if drop, empties the
// caches a program can (on Linux; on Valence there are none).
func (b *bencher) settle(drop bool) {
	unix.Sync()
	if !drop || b.c.system != "linux" {
		return
	}
	if err := os.WriteFile("/proc/sys/vm/drop_caches", []byte("3\n"), 0); err != nil && !b.dropWarn {
		b.dropWarn = true
		b.say("cannot drop the caches: %v; reads may come from memory", err)
	}
}

// create: files each created, written with fileSize bytes, fsynced and
// closed, in a fresh directory per repetition.
func (b *bencher) create() error {
	c := b.c
	name := createName(c.files, c.fileSize)
	data := make([]byte, c.fileSize)
	filler(data)
	var vals []float64
	for r := 0; r < c.reps; r++ {
		d := "create-" + strconv.Itoa(r)
		if err := os.Mkdir(d, 0o755); err != nil {
			return err
		}
		b.settle(false)
		t0 := time.Now()
		for i := 0; i < c.files; i++ {
			f, err := os.OpenFile(filepath.Join(d, fmt.Sprintf("f%06d", i)), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
			if err != nil {
				return err
			}
			if _, err := f.Write(data); err != nil {
				f.Close()
				return err
			}
			if err := f.Sync(); err != nil {
				f.Close()
				return fmt.Errorf("fsync: %w", err)
			}
			if err := f.Close(); err != nil {
				return err
			}
		}
		el := time.Since(t0)
		ents, err := os.ReadDir(d)
		if err != nil {
			return err
		}
		if len(ents) != c.files {
			return fmt.Errorf("%s holds %d files after creating %d", d, len(ents), c.files)
		}
		if fi, err := os.Stat(filepath.Join(d, ents[len(ents)-1].Name())); err != nil || fi.Size() != int64(c.fileSize) {
			return fmt.Errorf("the last file: %v, size %v, want %d", err, fi, c.fileSize)
		}
		v := float64(el.Microseconds()) / 1e3 / float64(c.files)
		vals = append(vals, v)
		b.say("%s repetition %d: %.3f ms/file (%v)", name, r+1, v, el.Round(time.Millisecond))
		if err := os.RemoveAll(d); err != nil {
			return err
		}
	}
	b.report(name, "ms/file", vals, fmt.Sprintf("%d files", c.files))
	return nil
}

// stat: statFiles empty files made once; each repetition stats every
// one, in a shuffled order.
func (b *bencher) stat() error {
	c := b.c
	name := statName(c.statFiles)
	const d = "stat"
	if err := os.Mkdir(d, 0o755); err != nil {
		return err
	}
	t0 := time.Now()
	paths := make([]string, c.statFiles)
	for i := range paths {
		paths[i] = filepath.Join(d, fmt.Sprintf("f%06d", i))
		f, err := os.OpenFile(paths[i], os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	b.settle(false)
	b.say("%s: made %d files in %v", name, c.statFiles, time.Since(t0).Round(time.Millisecond))
	for _, cold := range b.variants() {
		name := name + suffix(cold)
		var vals []float64
		for r := 0; r < c.reps; r++ {
			order := statOrder(c.statFiles, r)
			b.settle(cold)
			var st unix.Stat_t
			t0 := time.Now()
			for _, i := range order {
				if err := unix.Stat(paths[i], &st); err != nil {
					return fmt.Errorf("stat %s: %w", paths[i], err)
				}
				if st.Mode&unix.S_IFMT != unix.S_IFREG || st.Size != 0 {
					return fmt.Errorf("stat %s: mode %#o size %d, want an empty regular file", paths[i], st.Mode, st.Size)
				}
			}
			el := time.Since(t0)
			v := float64(el.Nanoseconds()) / 1e3 / float64(c.statFiles)
			vals = append(vals, v)
			b.say("%s repetition %d: %.3f us/stat (%v)", name, r+1, v, el.Round(time.Millisecond))
		}
		b.report(name, "us/stat", vals, fmt.Sprintf("%d files", c.statFiles))
	}
	t0 = time.Now()
	if err := os.RemoveAll(d); err != nil {
		return err
	}
	b.settle(false)
	b.say("%s: removed the files in %v", name, time.Since(t0).Round(time.Millisecond))
	return nil
}

// writeFile writes a new file of size bytes with the pattern tagged tag
// in chunk-sized writes, then fsyncs it; it returns the time from the
// open to the end of the fsync.
func writeFile(path string, size int64, tag uint64, buf []byte) (time.Duration, error) {
	t0 := time.Now()
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return 0, err
	}
	for off := int64(0); off < size; off += int64(len(buf)) {
		b := buf[:min(int64(len(buf)), size-off)]
		stamp(b, off, tag)
		if _, err := f.Write(b); err != nil {
			f.Close()
			return 0, fmt.Errorf("write at %d: %w", off, err)
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return 0, fmt.Errorf("fsync: %w", err)
	}
	if err := f.Close(); err != nil {
		return 0, err
	}
	return time.Since(t0), nil
}

// readFile reads the whole file in chunk-sized reads, checking the
// pattern, and returns the time from the open to the last read.
func readFile(path string, size int64, tag uint64, buf []byte) (time.Duration, error) {
	t0 := time.Now()
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	var off int64
	for {
		n, err := io.ReadFull(f, buf)
		if n > 0 {
			if cerr := check(buf[:n], off, tag); cerr != nil {
				return 0, cerr
			}
			off += int64(n)
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("read at %d: %w", off, err)
		}
	}
	el := time.Since(t0)
	if off != size {
		return 0, fmt.Errorf("read %d bytes of a %d-byte file", off, size)
	}
	return el, nil
}

// seq: per repetition, a new file written (the previous one removed
// first) and then read back.
func (b *bencher) seq() error {
	c := b.c
	size := int64(c.seqMiB) << 20
	wname, rname := seqName("write", size), seqName("read", size)
	buf := make([]byte, chunk)
	filler(buf)
	var ws []float64
	rs := make([][]float64, 2) // as left, cold
	const path = "seq"
	for r := 0; r < c.seqReps; r++ {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		b.settle(false)
		tag := uint64(0x5e0000 + r)
		el, err := writeFile(path, size, tag, buf)
		if err != nil {
			return fmt.Errorf("%s: %w", wname, err)
		}
		v := float64(size) / (1 << 20) / el.Seconds()
		ws = append(ws, v)
		b.say("%s repetition %d: %.3f MiB/s (%v)", wname, r+1, v, el.Round(time.Millisecond))
		for i, cold := range b.variants() {
			name := rname + suffix(cold)
			b.settle(cold)
			if el, err = readFile(path, size, tag, buf); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			v = float64(size) / (1 << 20) / el.Seconds()
			rs[i] = append(rs[i], v)
			b.say("%s repetition %d: %.3f MiB/s (%v)", name, r+1, v, el.Round(time.Millisecond))
		}
	}
	of := fmt.Sprintf("%d MiB", c.seqMiB)
	b.report(wname, "MiB/s", ws, of)
	for i, cold := range b.variants() {
		b.report(rname+suffix(cold), "MiB/s", rs[i], of)
	}
	if err := os.Remove(path); err != nil {
		return err
	}
	b.settle(false)
	return nil
}

// rand: a file of randMiB written once; each repetition reads random
// aligned blocks of it, one at a time, for the given seconds.
func (b *bencher) rand() error {
	c := b.c
	size := int64(c.randMiB) << 20
	name := randName(size)
	buf := make([]byte, chunk)
	filler(buf)
	const path, tag = "rand", 0x7a4d
	el, err := writeFile(path, size, tag, buf)
	if err != nil {
		return err
	}
	b.say("%s: wrote the file in %v", name, el.Round(time.Millisecond))
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	dur := time.Duration(c.seconds * float64(time.Second))
	p := buf[:block]
	for _, cold := range b.variants() {
		name := name + suffix(cold)
		var vals []float64
		for r := 0; r < c.reps; r++ {
			b.settle(cold)
			rng := newRand(uint64(r))
			ops := 0
			t0 := time.Now()
			deadline := t0.Add(dur)
			for time.Now().Before(deadline) {
				off := randomBlock(rng, size)
				n, err := f.ReadAt(p, off)
				if err != nil || n != len(p) {
					return fmt.Errorf("pread of %d bytes at %d: %d, %v", len(p), off, n, err)
				}
				if err := check(p, off, tag); err != nil {
					return err
				}
				ops++
			}
			el := time.Since(t0)
			v := float64(ops) / el.Seconds()
			vals = append(vals, v)
			b.say("%s repetition %d: %.1f IOPS (%d reads in %v)", name, r+1, v, ops, el.Round(time.Millisecond))
		}
		b.report(name, "IOPS", vals, strconv.FormatFloat(c.seconds, 'f', -1, 64)+" s")
	}
	f.Close()
	if err := os.Remove(path); err != nil {
		return err
	}
	b.settle(false)
	return nil
}
