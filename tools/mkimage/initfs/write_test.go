package initfs

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// node describes a host file for makeTree. Exactly one of Dir, Link or
// Data (possibly empty) applies.
type node struct {
	Path string
	Dir  bool
	Link string
	Data string
	Mode fs.FileMode
}

// makeTree creates nodes under dir, in order, with exact modes.
func makeTree(t *testing.T, dir string, nodes []node) {
	t.Helper()
	for _, n := range nodes {
		p := filepath.Join(dir, filepath.FromSlash(n.Path))
		var err error
		switch {
		case n.Dir:
			err = os.MkdirAll(p, 0o755)
		case n.Link != "":
			err = os.Symlink(n.Link, p)
		default:
			err = os.WriteFile(p, []byte(n.Data), 0o644)
		}
		if err == nil && n.Mode != 0 && n.Link == "" {
			err = os.Chmod(p, n.Mode)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// member is what the tests compare about an archive entry.
type member struct {
	Name     string
	Type     byte
	Mode     int64
	Link     string
	Data     string
	Uid, Gid int
	Owner    string
	ModTime  int64
}

func readArchive(t *testing.T, b []byte) []member {
	t.Helper()
	var out []member
	tr := tar.NewReader(bytes.NewReader(b))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("reading archive back: %v", err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, member{h.Name, h.Typeflag, h.Mode, h.Linkname, string(data),
			h.Uid, h.Gid, h.Uname + h.Gname, h.ModTime.Unix()})
	}
}

func dir(name string, mode int64) member {
	return member{Name: name + "/", Type: tar.TypeDir, Mode: mode}
}
func file(name string, mode int64, data string) member {
	return member{Name: name, Type: tar.TypeReg, Mode: mode, Data: data}
}

func TestWrite(t *testing.T) {
	tests := []struct {
		name  string
		image []node // nil: no image directory
		host  []node // files for -add, in a separate directory
		adds  []string
		mtime time.Time
		want  []member
	}{
		{name: "nothing", want: nil},
		{name: "empty image", image: []node{}, want: nil},
		{name: "only .keep", image: []node{{Path: ".keep"}}, want: nil},
		{
			name: "image tree keeps modes, links and order",
			image: []node{
				{Path: "etc", Dir: true, Mode: 0o750},
				{Path: "etc/motd", Data: "hi\n", Mode: 0o640},
				{Path: "etc/.keep"},
				{Path: "etc/.profile", Data: "x"},
				{Path: "bin", Dir: true},
				{Path: "bin/tool", Data: "#!", Mode: 0o755 | fs.ModeSetuid},
				{Path: "bin-old", Link: "bin"},
				{Path: "tmp", Dir: true, Mode: 0o777 | fs.ModeSticky},
			},
			want: []member{
				dir("bin", 0o755),
				file("bin/tool", 0o4755, "#!"),
				{Name: "bin-old", Type: tar.TypeSymlink, Mode: 0o777, Link: "bin"},
				dir("etc", 0o750),
				file("etc/.profile", 0o644, "x"),
				file("etc/motd", 0o640, "hi\n"),
				dir("tmp", 0o1777),
			},
		},
		{
			name:  "adds create parents, override image files and each other",
			image: []node{{Path: "bin", Dir: true, Mode: 0o700}, {Path: "bin/hello", Data: "old"}},
			host: []node{
				{Path: "hello", Data: "new", Mode: 0o755},
				{Path: "init", Data: "init1"},
				{Path: "init2", Data: "init2", Mode: 0o700},
				{Path: "link", Link: "init"},
			},
			adds: []string{"hello", "init:/sbin/init", "init2:/sbin/init", "link:/usr/lib/deep/x"},
			want: []member{
				dir("bin", 0o700),
				file("bin/hello", 0o755, "new"),
				dir("sbin", 0o755),
				file("sbin/init", 0o700, "init2"),
				dir("usr", 0o755),
				dir("usr/lib", 0o755),
				dir("usr/lib/deep", 0o755),
				file("usr/lib/deep/x", 0o644, "init1"),
			},
		},
		{
			name:  "add replaces an image symlink",
			image: []node{{Path: "x", Link: "y"}},
			host:  []node{{Path: "f", Data: "f"}},
			adds:  []string{"f:/x"},
			want:  []member{file("x", 0o644, "f")},
		},
		{
			name:  "SOURCE_DATE_EPOCH time",
			host:  []node{{Path: "f", Data: "f"}},
			adds:  []string{"f:/f"},
			mtime: time.Unix(1700000000, 0),
			want:  []member{{Name: "f", Type: tar.TypeReg, Mode: 0o644, Data: "f", ModTime: 1700000000}},
		},
		{
			name: "long names use PAX",
			host: []node{{Path: "f", Data: "f"}},
			adds: []string{"f:/" + strings.Repeat("d", 120) + "/" + strings.Repeat("n", 120)},
			want: []member{
				dir(strings.Repeat("d", 120), 0o755),
				file(strings.Repeat("d", 120)+"/"+strings.Repeat("n", 120), 0o644, "f"),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opt Options
			if tt.image != nil {
				opt.ImageDir = t.TempDir()
				makeTree(t, opt.ImageDir, tt.image)
			}
			hostDir := t.TempDir()
			makeTree(t, hostDir, tt.host)
			for _, s := range tt.adds {
				a, err := ParseAdd(filepath.Join(hostDir, s))
				if err != nil {
					t.Fatal(err)
				}
				opt.Adds = append(opt.Adds, a)
			}
			opt.ModTime = tt.mtime
			var buf bytes.Buffer
			st, err := Write(&buf, opt)
			if err != nil {
				t.Fatalf("Write: %v", err)
			}
			got := readArchive(t, buf.Bytes())
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("archive (-want +got):\n%s", diff)
			}
			var want Stats
			for _, m := range tt.want {
				switch m.Type {
				case tar.TypeDir:
					want.Dirs++
				case tar.TypeReg:
					want.Files++
				case tar.TypeSymlink:
					want.Symlinks++
				}
			}
			want.Bytes = int64(buf.Len())
			if diff := cmp.Diff(want, st); diff != "" {
				t.Errorf("stats (-want +got):\n%s", diff)
			}
		})
	}
}

// TestWriteReproducible checks that host timestamps and creation order do
// not reach the archive.
func TestWriteReproducible(t *testing.T) {
	build := func(order []node, stamp time.Time) []byte {
		d := t.TempDir()
		makeTree(t, d, order)
		for _, n := range order {
			if err := os.Chtimes(filepath.Join(d, n.Path), stamp, stamp); err != nil {
				t.Fatal(err)
			}
		}
		var buf bytes.Buffer
		if _, err := Write(&buf, Options{ImageDir: d}); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	a := build([]node{{Path: "a", Data: "1"}, {Path: "d", Dir: true}, {Path: "d/b", Data: "2"}}, time.Unix(1, 0))
	b := build([]node{{Path: "d", Dir: true}, {Path: "d/b", Data: "2"}, {Path: "a", Data: "1"}}, time.Now())
	if !bytes.Equal(a, b) {
		t.Error("same tree built at different times and in different order gave different archives")
	}
}

func TestWriteErrors(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, d string) Options
		want  string
	}{
		{"missing image dir", func(t *testing.T, d string) Options {
			return Options{ImageDir: filepath.Join(d, "nope")}
		}, "no such file"},
		{"image dir is a file", func(t *testing.T, d string) Options {
			makeTree(t, d, []node{{Path: "f"}})
			return Options{ImageDir: filepath.Join(d, "f")}
		}, "not a directory"},
		{"fifo in image", func(t *testing.T, d string) Options {
			if err := syscall.Mkfifo(filepath.Join(d, "fifo"), 0o644); err != nil {
				t.Skip("mkfifo:", err)
			}
			return Options{ImageDir: d}
		}, "unsupported file type"},
		{"oversized image file", func(t *testing.T, d string) Options {
			if err := os.Truncate(mustCreate(t, filepath.Join(d, "big")), MaxFileSize+1); err != nil {
				t.Fatal(err)
			}
			return Options{ImageDir: d}
		}, "over the 256 MiB limit"},
		{"unreadable image file", func(t *testing.T, d string) Options {
			makeTree(t, d, []node{{Path: "secret", Mode: 0o000}})
			if f, err := os.Open(filepath.Join(d, "secret")); err == nil {
				f.Close()
				t.Skip("running with privileges that ignore file modes")
			}
			return Options{ImageDir: d}
		}, "permission denied"},
		{"add missing", func(t *testing.T, d string) Options {
			return Options{Adds: []Add{{Host: filepath.Join(d, "nope"), Guest: "/x"}}}
		}, "no such file"},
		{"add directory", func(t *testing.T, d string) Options {
			return Options{Adds: []Add{{Host: d, Guest: "/x"}}}
		}, "not a regular file"},
		{"add dangling symlink", func(t *testing.T, d string) Options {
			makeTree(t, d, []node{{Path: "l", Link: "nowhere"}})
			return Options{Adds: []Add{{Host: filepath.Join(d, "l"), Guest: "/x"}}}
		}, "no such file"},
		{"add oversized", func(t *testing.T, d string) Options {
			p := mustCreate(t, filepath.Join(d, "big"))
			if err := os.Truncate(p, MaxFileSize+1); err != nil {
				t.Fatal(err)
			}
			return Options{Adds: []Add{{Host: p, Guest: "/big"}}}
		}, "over the 256 MiB limit"},
		{"add unclean guest", func(t *testing.T, d string) Options {
			return Options{Adds: []Add{{Host: mustCreate(t, filepath.Join(d, "f")), Guest: "/a/../b"}}}
		}, "'..'"},
		{"add replaces a directory", func(t *testing.T, d string) Options {
			makeTree(t, d, []node{{Path: "img/etc", Dir: true}, {Path: "f"}})
			return Options{ImageDir: filepath.Join(d, "img"), Adds: []Add{{Host: filepath.Join(d, "f"), Guest: "/etc"}}}
		}, "would replace directory /etc"},
		{"add below a file", func(t *testing.T, d string) Options {
			makeTree(t, d, []node{{Path: "img", Dir: true}, {Path: "img/bin"}, {Path: "f"}})
			return Options{ImageDir: filepath.Join(d, "img"), Adds: []Add{{Host: filepath.Join(d, "f"), Guest: "/bin/f"}}}
		}, "which is not a directory"},
		{"add below a symlink", func(t *testing.T, d string) Options {
			makeTree(t, d, []node{{Path: "img", Dir: true}, {Path: "img/bin", Link: "usr/bin"}, {Path: "f"}})
			return Options{ImageDir: filepath.Join(d, "img"), Adds: []Add{{Host: filepath.Join(d, "f"), Guest: "/bin/f"}}}
		}, "which is not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt := tt.setup(t, t.TempDir())
			var buf bytes.Buffer
			_, err := Write(&buf, opt)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Write error = %v, want one containing %q", err, tt.want)
			}
			if buf.Len() != 0 {
				t.Errorf("Write produced %d bytes before failing on a bad input", buf.Len())
			}
		})
	}
}

func TestWriteShrinkingFile(t *testing.T) {
	d := t.TempDir()
	p := filepath.Join(d, "f")
	makeTree(t, d, []node{{Path: "f", Data: "0123456789"}})
	e := &entry{name: "f", kind: kindFile, size: 10, host: p, from: "test"}
	if err := os.WriteFile(p, []byte("01"), 0o644); err != nil {
		t.Fatal(err)
	}
	err := copyFile(io.Discard, e)
	if err == nil || !strings.Contains(err.Error(), "shrank") {
		t.Fatalf("copyFile error = %v, want one about the file shrinking", err)
	}
	if errors.Is(err, io.EOF) {
		t.Errorf("copyFile leaked io.EOF, which callers could mistake for success")
	}
}

func mustCreate(t *testing.T, p string) string {
	t.Helper()
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestComparePaths(t *testing.T) {
	in := []string{"b", "a-b", "a/c", "a", "a/b/c", "a/b", "ab"}
	want := []string{"a", "a/b", "a/b/c", "a/c", "a-b", "ab", "b"}
	got := append([]string(nil), in...)
	slices.SortFunc(got, comparePaths)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
}
