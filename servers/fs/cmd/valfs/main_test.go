package main

import (
	"bytes"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"valence.dev/servers/fs/blockdev"
	"valence.dev/servers/fs/fs"
)

// valfs runs the tool in-process and returns its exit status and output.
func valfs(args ...string) (int, string, string) {
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// hostTree makes a host directory with a little of everything.
func hostTree(t *testing.T) (string, []byte) {
	dir := filepath.Join(t.TempDir(), "src")
	big := make([]byte, 3<<20+17)
	randomFill(big, 1)
	for _, step := range []func() error{
		func() error { return os.MkdirAll(filepath.Join(dir, "sub", "deeper"), 0o750) },
		func() error { return os.WriteFile(filepath.Join(dir, "a.txt"), []byte("hello\n"), 0o644) },
		func() error { return os.Chmod(filepath.Join(dir, "a.txt"), os.ModeSetuid|0o755) },
		func() error { return os.WriteFile(filepath.Join(dir, "sub", "big"), big, 0o600) },
		func() error { return os.WriteFile(filepath.Join(dir, "sub", "deeper", "empty"), nil, 0o640) },
		func() error { return os.Symlink("../a.txt", filepath.Join(dir, "sub", "link")) },
		func() error { return os.Link(filepath.Join(dir, "a.txt"), filepath.Join(dir, "sub", "hard")) },
		func() error { return os.Chmod(filepath.Join(dir, "sub"), os.ModeSticky|0o777) },
	} {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
	return dir, big
}

func TestMkfsFrom(t *testing.T) {
	src, big := hostTree(t)
	img := filepath.Join(t.TempDir(), "img")
	if code, _, stderr := valfs("mkfs", "-from", src, img); code != 0 {
		t.Fatalf("mkfs: exit %d: %s", code, stderr)
	}
	code, out, _ := valfs("ls", img, "/sub")
	if code != 0 {
		t.Fatalf("ls: exit %d", code)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		f := strings.Fields(line)
		got = append(got, f[0]+" "+f[1]+" "+strings.Join(f[7:], " "))
	}
	want := []string{
		"-rw------- 1 big",
		"drwxr-x--- 2 deeper",
		"-rwsr-xr-x 2 hard",
		"lrwxrwxrwx 1 link -> ../a.txt",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ls /sub (-want +got):\n%s", diff)
	}
	if code, out, _ := valfs("ls", img, "/"); code != 0 || !strings.Contains(out, "drwxrwxrwt") {
		t.Errorf("ls /: exit %d, sticky directory missing:\n%s", code, out)
	}
	if code, out, _ := valfs("cat", img, "/sub/big"); code != 0 || out != string(big) {
		t.Errorf("cat /sub/big: exit %d, %d bytes, want the %d written", code, len(out), len(big))
	}
	if code, out, _ := valfs("cat", img, "/sub/link"); code != 0 || out != "hello\n" {
		t.Errorf("cat through a symlink: exit %d, %q", code, out)
	}
	if code, out, _ := valfs("fsck", img); code != 0 || !strings.Contains(out, "clean") {
		t.Errorf("fsck: exit %d: %s", code, out)
	}
	if code, out, _ := valfs("stat", img); code != 0 || !strings.Contains(out, "inodes      7") {
		t.Errorf("stat: exit %d:\n%s", code, out)
	}
	if code, out, _ := valfs("stat", img, "/sub/hard"); code != 0 || !strings.Contains(out, "links   2") {
		t.Errorf("stat /sub/hard: exit %d:\n%s", code, out)
	}
}

func TestPutRm(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "img")
	host := filepath.Join(dir, "host.txt")
	if err := os.WriteFile(host, []byte("from the host"), 0o600); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		args     []string
		wantCode int
		wantOut  string // substring of stdout, or of stderr if the exit is not 0
	}{
		{[]string{"mkfs", "-size", "8M", img}, 0, ""},
		{[]string{"stat", img}, 0, "blocks      2048"},
		{[]string{"put", img, host, "/copy"}, 0, ""},
		{[]string{"cat", img, "/copy"}, 0, "from the host"},
		{[]string{"put", img, host, "/"}, 0, ""},
		{[]string{"ls", img, "/"}, 0, "host.txt"},
		{[]string{"rm", img, "/copy"}, 0, ""},
		{[]string{"cat", img, "/copy"}, 1, "file does not exist"},
		{[]string{"rm", img, "/copy"}, 1, "file does not exist"},
		{[]string{"put", img, filepath.Join(dir, "missing"), "/x"}, 1, "no such file"},
		{[]string{"fsck", img}, 0, "clean"},
		{[]string{"mkfs", "-size", "lots", img}, 2, "usage"},
		{[]string{"cat", img}, 2, "usage"},
		{[]string{"frobnicate"}, 2, "unknown command"},
	}
	for _, s := range steps {
		code, out, stderr := valfs(s.args...)
		text := out
		if code != 0 {
			text = stderr
		}
		if code != s.wantCode || !strings.Contains(text, s.wantOut) {
			t.Errorf("valfs %s: exit %d, output %q; want exit %d with %q", strings.Join(s.args, " "), code, text, s.wantCode, s.wantOut)
		}
	}
}

// TestBadImages runs every command on images that are not intact
// filesystems: each must refuse with a clear message, and none may
// panic.
func TestBadImages(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	if code, _, stderr := valfs("mkfs", "-size", "4M", good); code != 0 {
		t.Fatal(stderr)
	}
	valfs("put", good, "main.go", "/f")
	data, err := os.ReadFile(good)
	if err != nil {
		t.Fatal(err)
	}
	random := make([]byte, len(data))
	randomFill(random, 3)
	bothSupers := append([]byte(nil), data...)
	bothSupers[100] ^= 1
	bothSupers[blockdev.BlockSize+100] ^= 1
	images := map[string]struct {
		data []byte
		want string
	}{
		"random":    {random, "no valid Valence filesystem"},
		"empty":     {nil, "no valid Valence filesystem"},
		"truncated": {data[:len(data)/2], "truncated"},
		"zeros":     {make([]byte, len(data)), "no valid Valence filesystem"},
		"supers":    {bothSupers, "checksum mismatch"},
	}
	for name, im := range images {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, im.data, 0o644); err != nil {
			t.Fatal(err)
		}
		for _, args := range [][]string{
			{"ls", path, "/"}, {"cat", path, "/f"}, {"put", path, "main.go", "/g"}, {"rm", path, "/f"},
			{"fsck", path}, {"stat", path}, {"stat", path, "/f"},
		} {
			code, _, stderr := valfs(args...)
			if code != 1 || !strings.Contains(stderr, im.want) {
				t.Errorf("valfs %s on a %s image: exit %d, %q; want exit 1 mentioning %q", args[0], name, code, stderr, im.want)
			}
		}
		after, _ := os.ReadFile(path)
		if !bytes.Equal(after, im.data) {
			t.Errorf("commands changed the %s image", name)
		}
	}
	if code, _, stderr := valfs("ls", filepath.Join(dir, "nope"), "/"); code != 1 || !strings.Contains(stderr, "no such file") {
		t.Errorf("ls of a missing image: exit %d, %q", code, stderr)
	}
}

// TestFsckReports checks that fsck prints problems and exits 1.
func TestFsckReports(t *testing.T) {
	img := filepath.Join(t.TempDir(), "img")
	valfs("mkfs", "-size", "4M", img)
	valfs("put", img, "main.go", "/f")
	dev, err := blockdev.OpenFile(img, false)
	if err != nil {
		t.Fatal(err)
	}
	sb, _, err := fs.ReadSuper(dev)
	if err != nil {
		t.Fatal(err)
	}
	// Damage the tree root: its checksum no longer matches.
	buf := make([]byte, blockdev.BlockSize)
	dev.ReadAt(buf, sb.Root)
	buf[200] ^= 0xff
	dev.WriteAt(buf, sb.Root)
	dev.Close()
	code, out, stderr := valfs("fsck", img)
	if code != 1 || !strings.Contains(out, "problem: tree: btree: corrupt node: block") || !strings.Contains(stderr, "problems") {
		t.Errorf("fsck of a damaged image: exit %d\nstdout: %s\nstderr: %s", code, out, stderr)
	}
}

func TestModeString(t *testing.T) {
	tests := map[uint32]string{
		fs.ModeRegular | 0o644:  "-rw-r--r--",
		fs.ModeDir | 0o1777:     "drwxrwxrwt",
		fs.ModeSymlink | 0o777:  "lrwxrwxrwx",
		fs.ModeRegular | 0o6644: "-rwSr-Sr--",
		fs.ModeDir | 0o1754:     "drwxr-xr-T",
	}
	for m, want := range tests {
		if got := modeString(m); got != want {
			t.Errorf("modeString(%o) = %q, want %q", m, got, want)
		}
	}
}

func randomFill(b []byte, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, seed))
	for i := range b {
		b[i] = byte(rng.Uint32())
	}
}
