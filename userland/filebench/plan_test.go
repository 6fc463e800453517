package main

import (
	"bytes"
	"math/rand/v2"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestNames(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{createName(1000, 1024), "fs-create-1KiB-fsync-x1000"},
		{createName(10, 100), "fs-create-100B-fsync-x10"},
		{seqName("write", 256<<20), "fs-seq-write-256MiB"},
		{seqName("read", 1<<30), "fs-seq-read-1GiB"},
		{seqName("read", 1536<<20), "fs-seq-read-1536MiB"},
		{randName(64 << 20), "fs-rand-read-4KiB-64MiB"},
		{statName(10000), "fs-stat-x10000"},
		{sizeName(0), "0B"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func TestPattern(t *testing.T) {
	b := make([]byte, 4*block)
	filler(b)
	for i, c := range b {
		if c == 0 {
			t.Fatalf("byte %d of the filler is zero", i)
		}
	}
	stamp(b, 8*block, 7)
	if err := check(b, 8*block, 7); err != nil {
		t.Errorf("blocks 8-11 where written: %v", err)
	}
	for _, tc := range []struct {
		name string
		b    []byte
		off  int64
		tag  uint64
	}{
		{"another offset", b, 9 * block, 7},
		{"another file", b, 8 * block, 8},
		{"a later block", b[block:], 8 * block, 7},
		{"zeros", make([]byte, block), 0, 0},
	} {
		if err := check(tc.b, tc.off, tc.tag); err == nil {
			t.Errorf("%s: the check passed", tc.name)
		}
	}
	if err := check(b[2*block:], 10*block, 7); err != nil {
		t.Errorf("a tail read at its offset: %v", err)
	}
}

func TestRandomBlock(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const size = 1<<20 + 100
	seen := map[int64]bool{}
	for i := 0; i < 10000; i++ {
		off := randomBlock(rng, size)
		if off%block != 0 || off < 0 || off+block > size {
			t.Fatalf("offset %d: not an aligned whole block inside %d bytes", off, size)
		}
		seen[off] = true
	}
	if len(seen) != 256 {
		t.Errorf("10000 draws hit %d of the 256 blocks", len(seen))
	}
	if got := randomBlock(rng, 100); got != 0 {
		t.Errorf("a file smaller than a block: %d", got)
	}
	a, b := newRand(3), newRand(3)
	for i := 0; i < 10; i++ {
		if randomBlock(a, 1<<30) != randomBlock(b, 1<<30) {
			t.Fatal("the same repetition's sequences differ")
		}
	}
}

func TestMinMedianAndLine(t *testing.T) {
	for _, tc := range []struct {
		vals     []float64
		min, med float64
		line     string
	}{
		{[]float64{5, 1, 4, 2, 3}, 1, 3, "bench: x min 1.000 median 3.000 MiB/s (5 repetitions of 256 MiB)"},
		{[]float64{10.5, 10.25, 9}, 9, 10.25, "bench: x min 9.000 median 10.250 MiB/s (3 repetitions of 256 MiB)"},
		{[]float64{7}, 7, 7, "bench: x min 7.000 median 7.000 MiB/s (1 repetitions of 256 MiB)"},
	} {
		n := len(tc.vals)
		min, med := minMedian(tc.vals)
		if min != tc.min || med != tc.med {
			t.Errorf("minMedian = %v, %v; want %v, %v", min, med, tc.min, tc.med)
		}
		if got := benchLine("x", min, med, "MiB/s", n, "256 MiB"); got != tc.line {
			t.Errorf("benchLine = %q, want %q", got, tc.line)
		}
	}
}

func TestParseRun(t *testing.T) {
	for _, tc := range []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{"all", allWorkloads, false},
		{"seq", []string{"seq"}, false},
		{"stat, create", []string{"create", "stat"}, false},
		{"all,seq", allWorkloads, false},
		{"", nil, true},
		{"seq,nope", nil, true},
	} {
		got, err := parseRun(tc.in)
		if (err != nil) != tc.wantErr {
			t.Errorf("parseRun(%q): error %v, want error %v", tc.in, err, tc.wantErr)
			continue
		}
		var names []string
		for _, w := range allWorkloads {
			if got[w] {
				names = append(names, w)
			}
		}
		if len(got) != len(names) || !slices.Equal(names, tc.want) {
			t.Errorf("parseRun(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestMountFor(t *testing.T) {
	const linux = `rootfs / rootfs rw 0 0
proc /proc proc rw,relatime 0 0
/dev/nvme0n1 /mnt ext4 rw,relatime 0 0
/dev/nvme0n2 /mnt2 ext4 rw 0 0
`
	const valence = "valfs / valfs rw 0 0\ninitfs /boot initfs ro 0 0\n"
	for _, tc := range []struct{ mounts, dir, want string }{
		{linux, "/mnt/filebench", "/dev/nvme0n1 /mnt ext4 rw,relatime 0 0"},
		{linux, "/mnt", "/dev/nvme0n1 /mnt ext4 rw,relatime 0 0"},
		{linux, "/mnt2/x", "/dev/nvme0n2 /mnt2 ext4 rw 0 0"},
		{linux, "/mntx", "rootfs / rootfs rw 0 0"},
		{valence, "/filebench", "valfs / valfs rw 0 0"},
		{"", "/x", ""},
	} {
		if got := mountFor(tc.mounts, tc.dir); got != tc.want {
			t.Errorf("mountFor(%q) = %q, want %q", tc.dir, got, tc.want)
		}
	}
}

func TestStatOrder(t *testing.T) {
	a, b := statOrder(100, 0), statOrder(100, 1)
	if !reflect.DeepEqual(a, statOrder(100, 0)) {
		t.Error("the same repetition's orders differ")
	}
	if reflect.DeepEqual(a, b) {
		t.Error("two repetitions visit the files in the same order")
	}
	s := slices.Clone(a)
	slices.Sort(s)
	for i, v := range s {
		if v != i {
			t.Fatalf("not a permutation of 0..99: %v", a)
		}
	}
}

// TestRunAll runs every workload, small, in a temporary directory on the
// host, and checks that each figure is reported once and nothing failed.
func TestRunAll(t *testing.T) {
	t.Chdir(t.TempDir()) // runAll changes directory; restored after the test
	dir := t.TempDir() + "/work"
	run, _ := parseRun("all")
	// Not "linux": the -cold rows must not drop the host's caches.
	c := config{system: "hosted-test", dir: dir, run: run, files: 20, fileSize: 1024, seqMiB: 3, randMiB: 2,
		statFiles: 50, seconds: 0.05, reps: 3, seqReps: 2, cold: true}
	var out bytes.Buffer
	if code := runAll(c, &out); code != 0 {
		t.Fatalf("exit code %d:\n%s", code, out.String())
	}
	lines := regexp.MustCompile(`(?m)^bench: (\S+) min [0-9.]+ median [0-9.]+ (\S+) \((\d+) repetitions of ([^)]*)\)$`).FindAllStringSubmatch(out.String(), -1)
	var got []string
	for _, l := range lines {
		got = append(got, strings.Join(l[1:], " "))
	}
	want := []string{
		"fs-create-1KiB-fsync-x20 ms/file 3 20 files",
		"fs-stat-x50 us/stat 3 50 files",
		"fs-stat-x50-cold us/stat 3 50 files",
		"fs-seq-write-3MiB MiB/s 2 3 MiB",
		"fs-seq-read-3MiB MiB/s 2 3 MiB",
		"fs-seq-read-3MiB-cold MiB/s 2 3 MiB",
		"fs-rand-read-4KiB-2MiB IOPS 3 0.05 s",
		"fs-rand-read-4KiB-2MiB-cold IOPS 3 0.05 s",
	}
	if !slices.Equal(got, want) {
		t.Errorf("figures:\n%s\nwant:\n%s\noutput:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"), out.String())
	}
	if strings.Contains(out.String(), "FAILED") {
		t.Errorf("output has a failure:\n%s", out.String())
	}
}
