package fs_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"valence.dev/servers/fs/blockdev"
	"valence.dev/servers/fs/fs"
)

// fixture is the tree most operation tests start from.
func fixture(t *testing.T) *fs.FS {
	t.Helper()
	f, _ := newFS(t, 4096, fs.Options{})
	must(t, f.Mkdir("/d", 0o755))
	must(t, f.Mkdir("/e", 0o700))
	must(t, f.Mkdir("/d/sub", 0o755))
	must(t, f.WriteFile("/d/f", []byte("hello"), 0o644))
	must(t, f.Symlink("d/f", "/l"))
	must(t, f.Symlink("/d", "/dl"))
	must(t, f.Symlink("loop2", "/loop1"))
	must(t, f.Symlink("loop1", "/loop2"))
	return f
}

func TestErrors(t *testing.T) {
	long := strings.Repeat("x", fs.MaxNameLen+1)
	tests := []struct {
		name string
		op   func(f *fs.FS) error
		want error
	}{
		{"mkdir existing", func(f *fs.FS) error { return f.Mkdir("/d", 0o755) }, fs.ErrExist},
		{"mkdir over a symlink", func(f *fs.FS) error { return f.Mkdir("/l", 0o755) }, fs.ErrExist},
		{"mkdir in missing dir", func(f *fs.FS) error { return f.Mkdir("/nope/x", 0o755) }, fs.ErrNotExist},
		{"mkdir under a file", func(f *fs.FS) error { return f.Mkdir("/d/f/x", 0o755) }, fs.ErrNotDir},
		{"mkdir root", func(f *fs.FS) error { return f.Mkdir("/", 0o755) }, fs.ErrInvalid},
		{"mkdir dot", func(f *fs.FS) error { return f.Mkdir("/d/.", 0o755) }, fs.ErrInvalid},
		{"mkdir long name", func(f *fs.FS) error { return f.Mkdir("/"+long, 0o755) }, fs.ErrNameTooLong},
		{"rmdir non-empty", func(f *fs.FS) error { return f.Rmdir("/d") }, fs.ErrNotEmpty},
		{"rmdir a file", func(f *fs.FS) error { return f.Rmdir("/d/f") }, fs.ErrNotDir},
		{"rmdir a symlink to a dir", func(f *fs.FS) error { return f.Rmdir("/dl") }, fs.ErrNotDir},
		{"rmdir root", func(f *fs.FS) error { return f.Rmdir("/") }, fs.ErrInvalid},
		{"unlink a dir", func(f *fs.FS) error { return f.Unlink("/e") }, fs.ErrIsDir},
		{"unlink missing", func(f *fs.FS) error { return f.Unlink("/d/nope") }, fs.ErrNotExist},
		{"rename into itself", func(f *fs.FS) error { return f.Rename("/d", "/d/sub/x") }, fs.ErrInvalid},
		{"rename onto itself under", func(f *fs.FS) error { return f.Rename("/d", "/d/sub") }, fs.ErrInvalid},
		{"rename file over dir", func(f *fs.FS) error { return f.Rename("/d/f", "/e") }, fs.ErrIsDir},
		{"rename dir over file", func(f *fs.FS) error { return f.Rename("/e", "/d/f") }, fs.ErrNotDir},
		{"rename dir over non-empty", func(f *fs.FS) error { return f.Rename("/e", "/d") }, fs.ErrNotEmpty},
		{"rename missing", func(f *fs.FS) error { return f.Rename("/nope", "/x") }, fs.ErrNotExist},
		{"rename to missing dir", func(f *fs.FS) error { return f.Rename("/d/f", "/nope/x") }, fs.ErrNotExist},
		{"link a dir", func(f *fs.FS) error { return f.Link("/d", "/x") }, fs.ErrIsDir},
		{"link over existing", func(f *fs.FS) error { return f.Link("/d/f", "/e") }, fs.ErrExist},
		{"symlink empty target", func(f *fs.FS) error { return f.Symlink("", "/x") }, fs.ErrInvalid},
		{"symlink loop", func(f *fs.FS) error { _, err := f.Stat("/loop1"); return err }, fs.ErrLoop},
		{"path through a file", func(f *fs.FS) error { _, err := f.Stat("/l/x"); return err }, fs.ErrNotDir},
		{"create exclusive", func(f *fs.FS) error {
			_, err := f.OpenFile("/d/f", os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
			return err
		}, fs.ErrExist},
		{"open dir for writing", func(f *fs.FS) error { _, err := f.OpenFile("/e", os.O_RDWR, 0); return err }, fs.ErrIsDir},
		{"open missing", func(f *fs.FS) error { _, err := f.Open("/d/nope"); return err }, fs.ErrNotExist},
		{"truncate a dir", func(f *fs.FS) error { return f.Truncate("/e", 0) }, fs.ErrIsDir},
		{"truncate negative", func(f *fs.FS) error { return f.Truncate("/d/f", -1) }, fs.ErrInvalid},
		{"truncate too large", func(f *fs.FS) error { return f.Truncate("/d/f", fs.MaxFileSize+1) }, fs.ErrTooLarge},
		{"readlink a file", func(f *fs.FS) error { _, err := f.Readlink("/d/f"); return err }, fs.ErrInvalid},
		{"readdir a file", func(f *fs.FS) error { _, err := f.ReadDir("/d/f"); return err }, fs.ErrNotDir},
		{"name with NUL", func(f *fs.FS) error { return f.Mkdir("/a\x00b", 0o755) }, fs.ErrInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := fixture(t)
			before := snapshot(t, f)
			err := tt.op(f)
			if !errors.Is(err, tt.want) {
				t.Fatalf("error %v, want %v", err, tt.want)
			}
			var pe *os.PathError
			if !errors.As(err, &pe) {
				t.Errorf("error %v is not a *PathError", err)
			}
			if diff := cmp.Diff(before, snapshot(t, f)); diff != "" {
				t.Errorf("a failed operation changed the tree (-before +after):\n%s", diff)
			}
		})
	}
}

func TestFileHandleErrors(t *testing.T) {
	f := fixture(t)
	r, err := f.Open("/d/f")
	must(t, err)
	if _, err := r.Write([]byte("x")); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("write to a read-only handle: %v, want ErrInvalid", err)
	}
	if _, err := r.ReadAt(make([]byte, 1), -1); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("read at a negative offset: %v, want ErrInvalid", err)
	}
	must(t, r.Close())
	if _, err := r.Read(make([]byte, 1)); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("read after close: %v, want ErrClosed", err)
	}
	if err := r.Close(); !errors.Is(err, fs.ErrClosed) {
		t.Errorf("second close: %v, want ErrClosed", err)
	}
	w, err := f.OpenFile("/d/f", os.O_WRONLY, 0)
	must(t, err)
	if _, err := w.Read(make([]byte, 1)); !errors.Is(err, fs.ErrInvalid) {
		t.Errorf("read from a write-only handle: %v, want ErrInvalid", err)
	}
	if _, err := w.WriteAt([]byte("x"), fs.MaxFileSize); !errors.Is(err, fs.ErrTooLarge) {
		t.Errorf("write past the maximum size: %v, want ErrTooLarge", err)
	}
	must(t, w.Close())
}

// TestSemantics runs short scripts and compares the whole tree after.
func TestSemantics(t *testing.T) {
	tests := []struct {
		name   string
		script func(t *testing.T, f *fs.FS)
		want   map[string]string // path -> "type size nlink content"
	}{
		{"rename replaces a file", func(t *testing.T, f *fs.FS) {
			must(t, f.WriteFile("/d/g", []byte("new"), 0o600))
			must(t, f.Rename("/d/g", "/d/f"))
		}, map[string]string{"/d": "d 3", "/d/f": "f 1 new", "/d/sub": "d 2", "/e": "d 2"}},
		{"rename a dir across dirs", func(t *testing.T, f *fs.FS) {
			must(t, f.Rename("/d/sub", "/e/moved"))
		}, map[string]string{"/d": "d 2", "/d/f": "f 1 hello", "/e": "d 3", "/e/moved": "d 2"}},
		{"rename a dir over an empty dir", func(t *testing.T, f *fs.FS) {
			must(t, f.Rename("/d/sub", "/e"))
		}, map[string]string{"/d": "d 2", "/d/f": "f 1 hello", "/e": "d 2"}},
		{"rename to a hard link of itself does nothing", func(t *testing.T, f *fs.FS) {
			must(t, f.Link("/d/f", "/e/f"))
			must(t, f.Rename("/d/f", "/e/f"))
		}, map[string]string{"/d": "d 3", "/d/f": "f 2 hello", "/d/sub": "d 2", "/e": "d 2", "/e/f": "f 2 hello"}},
		{"hard link then unlink the original", func(t *testing.T, f *fs.FS) {
			must(t, f.Link("/d/f", "/e/f"))
			must(t, f.Unlink("/d/f"))
		}, map[string]string{"/d": "d 3", "/d/sub": "d 2", "/e": "d 2", "/e/f": "f 1 hello"}},
		{"rmdir", func(t *testing.T, f *fs.FS) {
			must(t, f.Rmdir("/d/sub"))
			must(t, f.Rmdir("/e"))
		}, map[string]string{"/d": "d 2", "/d/f": "f 1 hello"}},
		{"truncate down and up reads zeros", func(t *testing.T, f *fs.FS) {
			must(t, f.Truncate("/d/f", 2))
			must(t, f.Truncate("/d/f", 4))
		}, map[string]string{"/d": "d 3", "/d/f": "f 1 he\x00\x00", "/d/sub": "d 2", "/e": "d 2"}},
		{"paths with dot, dot-dot and symlinks", func(t *testing.T, f *fs.FS) {
			must(t, f.Symlink("../d", "/e/up"))
			must(t, f.WriteFile("/e/up/./sub/../g", []byte("via"), 0o644))
			must(t, f.Unlink("/e/up"))
		}, map[string]string{"/d": "d 3", "/d/f": "f 1 hello", "/d/g": "f 1 via", "/d/sub": "d 2", "/e": "d 2"}},
		{"append", func(t *testing.T, f *fs.FS) {
			h, err := f.OpenFile("/d/f", os.O_WRONLY|os.O_APPEND, 0)
			must(t, err)
			h.Write([]byte(" world"))
			must(t, h.Close())
		}, map[string]string{"/d": "d 3", "/d/f": "f 1 hello world", "/d/sub": "d 2", "/e": "d 2"}},
		{"write past the end leaves a hole", func(t *testing.T, f *fs.FS) {
			h, err := f.OpenFile("/d/f", os.O_RDWR, 0)
			must(t, err)
			h.WriteAt([]byte("!"), 7)
			must(t, h.Close())
		}, map[string]string{"/d": "d 3", "/d/f": "f 1 hello\x00\x00!", "/d/sub": "d 2", "/e": "d 2"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, dev := newFS(t, 4096, fs.Options{})
			must(t, f.Mkdir("/d", 0o755))
			must(t, f.Mkdir("/e", 0o755))
			must(t, f.Mkdir("/d/sub", 0o755))
			must(t, f.WriteFile("/d/f", []byte("hello"), 0o644))
			tt.script(t, f)
			for _, g := range []*fs.FS{f, remount(t, f, dev)} {
				if diff := cmp.Diff(tt.want, describe(t, g)); diff != "" {
					t.Errorf("tree (-want +got):\n%s", diff)
				}
			}
			clean(t, dev)
		})
	}
}

// describe is a terse snapshot for TestSemantics.
func describe(t *testing.T, f *fs.FS) map[string]string {
	out := map[string]string{}
	var walk func(dir string)
	walk = func(dir string) {
		ents, err := f.ReadDir(dir)
		must(t, err)
		for _, e := range ents {
			p := strings.TrimPrefix(dir+"/"+e.Name, "/")
			p = "/" + strings.TrimPrefix(p, "/")
			st, err := f.Lstat(p)
			must(t, err)
			switch {
			case st.IsDir():
				out[p] = "d " + itoa(st.Nlink)
				walk(p)
			default:
				data, err := f.ReadFile(p)
				must(t, err)
				out[p] = "f " + itoa(st.Nlink) + " " + string(data)
			}
		}
	}
	walk("")
	return out
}

func itoa(n uint32) string { return strconv.Itoa(int(n)) }

func TestStat(t *testing.T) {
	f := fixture(t)
	ts := time.Unix(1234567890, 5)
	must(t, f.Chmod("/d/f", 0o4751))
	must(t, f.Chown("/d/f", 10, 20))
	must(t, f.SetTimes("/d/f", ts, ts.Add(time.Second)))
	st, err := f.Stat("/l")
	must(t, err)
	lst, err := f.Lstat("/l")
	must(t, err)
	type summary struct {
		Mode      uint32
		Nlink     uint32
		Uid, Gid  uint32
		Size      int64
		Blocks    int64
		Atime     time.Time
		Mtime     time.Time
		FileMode  string
		Directory bool
	}
	sum := func(s fs.Stat) summary {
		return summary{s.Mode, s.Nlink, s.Uid, s.Gid, s.Size, s.Blocks, s.Atime, s.Mtime, s.FileMode().String(), s.IsDir()}
	}
	want := summary{fs.ModeRegular | 0o4751, 1, 10, 20, 5, 8, ts, ts.Add(time.Second), "urwxr-x--x", false}
	if diff := cmp.Diff(want, sum(st)); diff != "" {
		t.Errorf("Stat through a symlink (-want +got):\n%s", diff)
	}
	if !lst.IsSymlink() || lst.Size != 3 {
		t.Errorf("Lstat of a symlink: mode %o size %d", lst.Mode, lst.Size)
	}
	root, err := f.Stat("/")
	must(t, err)
	if !root.IsDir() || root.Nlink != 4 || root.Ino != fs.RootIno {
		t.Errorf("root: mode %o, %d links, inode %d; want a directory, 4 links, inode 1", root.Mode, root.Nlink, root.Ino)
	}
}

func TestReadWriteSeek(t *testing.T) {
	f, dev := newFS(t, 8192, fs.Options{})
	h, err := f.Create("/x")
	must(t, err)
	want := make([]byte, 0, 1<<20)
	for i := 0; len(want) < 1<<20; i++ {
		chunk := bytes.Repeat([]byte{byte(i)}, 1+i*37%9000)
		n, err := h.Write(chunk)
		if err != nil || n != len(chunk) {
			t.Fatalf("Write: %d, %v", n, err)
		}
		want = append(want, chunk...)
		if i%50 == 0 {
			must(t, h.Sync()) // later writes must copy committed blocks
		}
	}
	// Overwrite a range that straddles committed and fresh blocks.
	copy(want[5000:], bytes.Repeat([]byte{0xee}, 20000))
	_, err = h.WriteAt(bytes.Repeat([]byte{0xee}, 20000), 5000)
	must(t, err)
	if off, err := h.Seek(0, io.SeekStart); off != 0 || err != nil {
		t.Fatalf("Seek: %d, %v", off, err)
	}
	got, err := io.ReadAll(h)
	must(t, err)
	if !bytes.Equal(got, want) {
		t.Fatalf("read back %d bytes, differ from the %d written", len(got), len(want))
	}
	must(t, h.Close())
	f = remount(t, f, dev)
	got, err = f.ReadFile("/x")
	must(t, err)
	if !bytes.Equal(got, want) {
		t.Fatalf("after remount: read back %d bytes, differ from the %d written", len(got), len(want))
	}
	clean(t, dev)
}

// TestSpaceReturned checks that unlink and truncate give every block
// back once committed.
func TestSpaceReturned(t *testing.T) {
	f, dev := newFS(t, 8192, fs.Options{})
	must(t, f.Mkdir("/d", 0o755))
	must(t, f.Sync())
	free := f.StatFS().FreeBlocks
	data := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	for i := range 4 {
		must(t, f.WriteFile("/d/"+string(rune('a'+i)), data, 0o644))
	}
	must(t, f.Sync())
	if used := free - f.StatFS().FreeBlocks; used < 4*256 {
		t.Fatalf("four 1 MiB files use %d blocks", used)
	}
	must(t, f.Truncate("/d/a", 10))
	must(t, f.Unlink("/d/b"))
	must(t, f.Rename("/d/c", "/d/d"))
	must(t, f.Unlink("/d/d"))
	must(t, f.Unlink("/d/a"))
	must(t, f.Sync())
	if got := f.StatFS().FreeBlocks; got != free {
		t.Errorf("free blocks after removing everything: %d, before: %d", got, free)
	}
	clean(t, dev)
}

// TestOpenUnlinked checks the orphan life cycle: a file unlinked while
// open stays readable, is freed on close, and is freed at the next
// mount if the system stops before the close.
func TestOpenUnlinked(t *testing.T) {
	f, dev := newFS(t, 4096, fs.Options{})
	must(t, f.Sync())
	free := f.StatFS().FreeBlocks
	must(t, f.WriteFile("/x", bytes.Repeat([]byte("x"), 100000), 0o644))
	h, err := f.Open("/x")
	must(t, err)
	must(t, f.Unlink("/x"))
	must(t, f.Sync())
	r := clean(t, dev)
	if r.Orphans != 1 {
		t.Errorf("fsck counted %d orphans, want 1", r.Orphans)
	}
	buf := make([]byte, 10)
	if n, err := h.ReadAt(buf, 99990); n != 10 || err != nil {
		t.Errorf("read of an unlinked open file: %d, %v", n, err)
	}
	// Mount the image as a crash would leave it: the orphan is reaped.
	snap := append([]byte(nil), dev.Bytes()...)
	must(t, h.Close())
	must(t, f.Sync())
	if got := f.StatFS().FreeBlocks; got != free {
		t.Errorf("free blocks after close: %d, want %d", got, free)
	}
	crashed := blockdev.MemFrom(snap)
	g, err := fs.Mount(crashed, fs.Options{})
	must(t, err)
	must(t, g.Sync())
	if got := g.StatFS().FreeBlocks; got != free {
		t.Errorf("free blocks after reaping at mount: %d, want %d", got, free)
	}
	if r := clean(t, crashed); r.Orphans != 0 {
		t.Errorf("orphans after mount: %d", r.Orphans)
	}
}

func TestReadDirHandle(t *testing.T) {
	f, _ := newFS(t, 4096, fs.Options{})
	must(t, f.Mkdir("/d", 0o755))
	want := map[string]bool{}
	for i := range 500 {
		name := "file" + strings.Repeat("z", i%7) + itoa(uint32(i))
		want[name] = true
		must(t, f.WriteFile("/d/"+name, nil, 0o644))
	}
	h, err := f.Open("/d")
	must(t, err)
	got := map[string]bool{}
	for {
		ents, err := h.ReadDir(7)
		if err == io.EOF {
			break
		}
		must(t, err)
		for _, e := range ents {
			if got[e.Name] {
				t.Fatalf("%q listed twice", e.Name)
			}
			got[e.Name] = true
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("entries (-want +got):\n%s", diff)
	}
}

func TestReadOnly(t *testing.T) {
	f, dev := newFS(t, 4096, fs.Options{})
	must(t, f.WriteFile("/x", []byte("data"), 0o644))
	must(t, f.Unmount())
	before := append([]byte(nil), dev.Bytes()...)
	g, err := fs.Mount(dev, fs.Options{ReadOnly: true})
	must(t, err)
	if data, err := g.ReadFile("/x"); err != nil || string(data) != "data" {
		t.Errorf("read-only read: %q, %v", data, err)
	}
	for name, err := range map[string]error{
		"mkdir":  g.Mkdir("/y", 0o755),
		"write":  g.WriteFile("/x", nil, 0o644),
		"unlink": g.Unlink("/x"),
	} {
		if !errors.Is(err, fs.ErrReadOnly) {
			t.Errorf("%s on a read-only mount: %v, want ErrReadOnly", name, err)
		}
	}
	must(t, g.Unmount())
	if !bytes.Equal(before, dev.Bytes()) {
		t.Errorf("a read-only mount wrote to the device")
	}
}

func TestNoSpace(t *testing.T) {
	f, dev := newFS(t, 512, fs.Options{})
	data := make([]byte, 64<<10)
	var err error
	n := 0
	for ; n < 1000; n++ {
		if err = f.WriteFile("/f"+itoa(uint32(n)), data, 0o644); err != nil {
			break
		}
	}
	if !errors.Is(err, fs.ErrNoSpace) {
		t.Fatalf("after %d files: %v, want ErrNoSpace", n, err)
	}
	// The filesystem is still usable, and removing files works on a
	// full filesystem.
	ents, err := f.ReadDir("/")
	must(t, err)
	for _, e := range ents {
		must(t, f.Unlink("/"+e.Name))
	}
	must(t, f.Sync())
	must(t, f.WriteFile("/again", data, 0o644))
	must(t, f.Sync())
	clean(t, dev)
}

// TestConcurrent runs clients in parallel on one filesystem; the lock
// serialises them. Run with -race to check the locking.
func TestConcurrent(t *testing.T) {
	f, dev := newFS(t, 1<<14, fs.Options{})
	done := make(chan error)
	for g := range 4 {
		go func() {
			done <- func() error {
				dir := "/g" + itoa(uint32(g))
				if err := f.Mkdir(dir, 0o755); err != nil {
					return err
				}
				for i := range 50 {
					p := dir + "/f" + itoa(uint32(i))
					data := bytes.Repeat([]byte{byte(g), byte(i)}, 1000*i)
					if err := f.WriteFile(p, data, 0o644); err != nil {
						return err
					}
					got, err := f.ReadFile(p)
					if err != nil {
						return err
					}
					if !bytes.Equal(got, data) {
						return errors.New(p + ": read back something else")
					}
					if i%10 == 0 {
						if err := f.Sync(); err != nil {
							return err
						}
					}
					if i%3 == 0 {
						if err := f.Rename(p, dir+"/r"+itoa(uint32(i))); err != nil {
							return err
						}
					}
				}
				return nil
			}()
		}()
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	must(t, f.Unmount())
	if r := clean(t, dev); r.Files != 200 {
		t.Errorf("%d files, want 200", r.Files)
	}
}
