package rootdisk

import (
	"bytes"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"valence.dev/servers/fs/blockdev"
	vfs "valence.dev/servers/fs/fs"
	"valence.dev/tools/mkimage/initfs"
)

// node is what a test expects at one path of the disk.
type node struct {
	Mode     uint32 // type and permission bits
	Uid, Gid uint32
	Mtime    int64
	Data     string // file contents, or symlink target
}

// tree builds an image directory and an -add file and returns the
// initfs options for them.
func tree(t *testing.T) initfs.Options {
	t.Helper()
	dir := t.TempDir()
	img := filepath.Join(dir, "image")
	big := bytes.Repeat([]byte("0123456789abcdef"), 200_000) // 3.2 MB: several extents' worth
	files := []struct {
		name string
		data []byte
		mode os.FileMode
	}{
		{"etc/motd", []byte("welcome\n"), 0o644},
		{"etc/empty", nil, 0o600},
		{"bin/tool", []byte("#!tool"), 0o755 | os.ModeSetuid},
		{"usr/share/big", big, 0o644},
	}
	for _, f := range files {
		p := filepath.Join(img, f.name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, f.data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, f.mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink("../etc/motd", filepath.Join(img, "bin/motd")); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(img, "tmp"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(img, "tmp"), 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	add := filepath.Join(dir, "init")
	if err := os.WriteFile(add, []byte("init program"), 0o755); err != nil {
		t.Fatal(err)
	}
	return initfs.Options{ImageDir: img, Adds: []initfs.Add{{Host: add, Guest: "/sbin/init"}}}
}

// dump reads every path of the disk at p.
func dump(t *testing.T, p string) (map[string]node, vfs.FSStat) {
	t.Helper()
	dev, err := blockdev.OpenFile(p, true)
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	f, err := vfs.Mount(dev, vfs.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Unmount()
	got := map[string]node{}
	var walk func(dir string)
	walk = func(dir string) {
		ents, err := f.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			p := path.Join(dir, e.Name)
			st, err := f.Lstat(p)
			if err != nil {
				t.Fatal(err)
			}
			n := node{Mode: st.Mode, Uid: st.Uid, Gid: st.Gid, Mtime: st.Mtime.Unix()}
			switch {
			case st.IsDir():
				walk(p)
			case st.IsSymlink():
				if n.Data, err = f.Readlink(p); err != nil {
					t.Fatal(err)
				}
			default:
				b, err := f.ReadFile(p)
				if err != nil {
					t.Fatal(err)
				}
				n.Data = string(b)
			}
			got[p] = n
		}
	}
	walk("/")
	return got, f.StatFS()
}

func TestWrite(t *testing.T) {
	opt := tree(t)
	big := strings.Repeat("0123456789abcdef", 200_000)
	const epoch = 1_700_000_000
	tests := []struct {
		name     string
		opt      Options
		mtime    int64
		wantSize uint64
	}{
		{"defaults", Options{}, 0, DefaultSize},
		{"sized, SOURCE_DATE_EPOCH", Options{Size: 64 << 20, ModTime: time.Unix(epoch, 0)}, epoch, 64 << 20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			entries, err := initfs.Entries(opt)
			if err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(t.TempDir(), "root.img")
			st, err := Write(p, entries, tc.opt)
			if err != nil {
				t.Fatal(err)
			}
			if fi, err := os.Stat(p); err != nil || uint64(fi.Size()) != tc.wantSize || st.Size != tc.wantSize {
				t.Errorf("size: file %v (%v), stats %d; want %d", fi.Size(), err, st.Size, tc.wantSize)
			}
			dir := func(perm uint32) node { return node{Mode: vfs.ModeDir | perm, Mtime: tc.mtime} }
			file := func(perm uint32, data string) node {
				return node{Mode: vfs.ModeRegular | perm, Mtime: tc.mtime, Data: data}
			}
			want := map[string]node{
				"/bin":           dir(0o755),
				"/bin/motd":      {Mode: vfs.ModeSymlink | 0o777, Mtime: tc.mtime, Data: "../etc/motd"},
				"/bin/tool":      file(0o4755, "#!tool"),
				"/boot":          dir(0o755), // the mount points
				"/dev":           dir(0o755),
				"/proc":          dir(0o755),
				"/etc":           dir(0o755),
				"/etc/empty":     file(0o600, ""),
				"/etc/motd":      file(0o644, "welcome\n"),
				"/sbin":          dir(0o755),
				"/sbin/init":     file(0o755, "init program"),
				"/tmp":           dir(0o1777),
				"/usr":           dir(0o755),
				"/usr/share":     dir(0o755),
				"/usr/share/big": file(0o644, big),
			}
			got, fst := dump(t, p)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("disk contents (-want +got):\n%s", diff)
			}
			wantStats := Stats{Size: tc.wantSize, UsedBytes: (fst.Blocks - fst.FreeBlocks) * blockdev.BlockSize,
				Files: 5, Dirs: 9, Symlinks: 1}
			if diff := cmp.Diff(wantStats, st); diff != "" {
				t.Errorf("stats (-want +got):\n%s", diff)
			}
			if st.UsedBytes < uint64(len(big)) {
				t.Errorf("used %d bytes, less than the data", st.UsedBytes)
			}
		})
	}
}

func TestWriteErrors(t *testing.T) {
	opt := tree(t)
	entries, err := initfs.Entries(opt)
	if err != nil {
		t.Fatal(err)
	}
	vanished := append([]initfs.Entry(nil), entries...)
	for i, e := range vanished {
		if e.Mode.IsRegular() {
			vanished[i].Host += ".gone"
			break
		}
	}
	grown := append([]initfs.Entry(nil), entries...)
	for i, e := range grown {
		if e.Name == "etc/motd" {
			grown[i].Size += 100 // the host file is shorter than recorded
		}
	}
	tests := []struct {
		name    string
		entries []initfs.Entry
		size    uint64
		want    string
	}{
		{"too small", entries, 1 << 20, "too small"},
		{"just under the need", entries, Need(entries) - blockdev.BlockSize, "too small"},
		{"host file vanished", vanished, 0, "no such file"},
		{"host file shrank", grown, 0, "shrank"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "root.img")
			_, err := Write(p, tc.entries, Options{Size: tc.size})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Write = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// TestNeedSuffices fills a disk of exactly the size Need gives with files
// of awkward sizes.
func TestNeedSuffices(t *testing.T) {
	dir := t.TempDir()
	var entries []initfs.Entry
	for i := range 300 {
		p := filepath.Join(dir, fmt.Sprint(i))
		size := i * 4099 % 70_000
		if err := os.WriteFile(p, bytes.Repeat([]byte{byte(i)}, size), 0o644); err != nil {
			t.Fatal(err)
		}
		entries = append(entries, initfs.Entry{Name: fmt.Sprintf("d%d/f%d", i%7, i), Size: int64(size), Host: p, From: "test"})
	}
	all := make([]initfs.Entry, 0, len(entries)+7)
	for d := range 7 {
		all = append(all, initfs.Entry{Name: fmt.Sprintf("d%d", d), Mode: os.ModeDir | 0o755, From: "test"})
		for _, e := range entries {
			if strings.HasPrefix(e.Name, fmt.Sprintf("d%d/", d)) {
				all = append(all, e)
			}
		}
	}
	if _, err := Write(filepath.Join(dir, "root.img"), all, Options{Size: Need(all)}); err != nil {
		t.Fatalf("a disk of Need bytes: %v", err)
	}
}

// TestMountPoints checks that every root disk has the directories
// init mounts on, whatever the image holds, and that an image's own
// directory there is kept as the image has it.
func TestMountPoints(t *testing.T) {
	dir := t.TempDir()
	hello := filepath.Join(dir, "hello")
	if err := os.WriteFile(hello, []byte("hi"), 0o755); err != nil {
		t.Fatal(err)
	}
	d := func(perm uint32) node { return node{Mode: vfs.ModeDir | perm} }
	mountPoints := map[string]node{"/boot": d(0o755), "/dev": d(0o755), "/proc": d(0o755), "/tmp": d(0o1777)}
	with := func(extra map[string]node) map[string]node {
		m := map[string]node{}
		for k, v := range mountPoints {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name    string
		entries []initfs.Entry
		want    map[string]node
		wantErr string
	}{
		{"empty tree", nil, mountPoints, ""},
		{"an -add file only", []initfs.Entry{
			{Name: "bin", Mode: os.ModeDir | 0o755, From: "implied parent"},
			{Name: "bin/hello", Mode: 0o755, Size: 2, Host: hello, From: "-add"},
		}, with(map[string]node{"/bin": d(0o755), "/bin/hello": {Mode: vfs.ModeRegular | 0o755, Data: "hi"}}), ""},
		{"the image's own, kept", []initfs.Entry{
			{Name: "boot", Mode: os.ModeDir | 0o700, From: "image"},
			{Name: "boot/readme", Mode: 0o644, Size: 2, Host: hello, From: "image"},
			{Name: "tmp", Mode: os.ModeDir | 0o755, From: "image"},
		}, with(map[string]node{"/boot": d(0o700), "/boot/readme": {Mode: vfs.ModeRegular | 0o644, Data: "hi"}, "/tmp": d(0o755)}), ""},
		{"a file in the way", []initfs.Entry{{Name: "dev", Mode: 0o644, Size: 2, Host: hello, From: "image file x/dev"}},
			nil, "/dev (from image file x/dev) must be a directory"},
		{"a symlink in the way", []initfs.Entry{{Name: "proc", Mode: os.ModeSymlink | 0o777, Link: "/x", From: "image file x/proc"}},
			nil, "/proc (from image file x/proc) must be a directory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "root.img")
			_, err := Write(p, tc.entries, Options{Size: Need(tc.entries)})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Write = %v, want an error containing %q", err, tc.wantErr)
				}
				if _, err := os.Stat(p); !os.IsNotExist(err) {
					t.Errorf("a refused tree left an image behind (stat: %v)", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, _ := dump(t, p)
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("disk contents (-want +got):\n%s", diff)
			}
		})
	}
}
