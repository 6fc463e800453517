package fs_test

import (
	"fmt"
	"hash/crc32"
	"os"
	"path"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"valence.dev/servers/fs/blockdev"
	"valence.dev/servers/fs/fs"
	"valence.dev/servers/fs/fsck"
)

// long reports whether the full-size versions of the large tests were
// asked for (VALENCE_LONG=1). Without it they run reduced, so that
// go test ./... stays fast.
func long() bool { return os.Getenv("VALENCE_LONG") == "1" }

// clock is a deterministic time source: every call is a microsecond
// after the previous one.
type clock struct{ t atomic.Int64 }

func (c *clock) now() time.Time { return time.Unix(1700000000, c.t.Add(1000)) }

// newFS makes and mounts a filesystem of the given size in memory.
func newFS(t testing.TB, blocks uint64, opts fs.Options) (*fs.FS, *blockdev.Mem) {
	t.Helper()
	dev := blockdev.NewMem(blocks)
	c := &clock{}
	if err := fs.Mkfs(dev, fs.MkfsOptions{Volume: 0x5eed, Now: c.now}); err != nil {
		t.Fatal(err)
	}
	if opts.Now == nil {
		opts.Now = c.now
	}
	f, err := fs.Mount(dev, opts)
	if err != nil {
		t.Fatal(err)
	}
	return f, dev
}

// remount unmounts f and mounts dev again.
func remount(t testing.TB, f *fs.FS, dev blockdev.Device) *fs.FS {
	t.Helper()
	if err := f.Unmount(); err != nil {
		t.Fatal(err)
	}
	g, err := fs.Mount(dev, fs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return g
}

// clean runs fsck and fails the test on any problem.
func clean(t testing.TB, dev blockdev.Device) *fsck.Report {
	t.Helper()
	r, err := fsck.Check(dev)
	if err != nil {
		t.Fatalf("fsck: %v", err)
	}
	return r
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// snapshot describes every name in the filesystem: its type, inode,
// permissions, link count, size and a hash of its contents or target.
// Two snapshots are equal exactly when the trees are.
func snapshot(t testing.TB, f *fs.FS) map[string]string {
	t.Helper()
	out := map[string]string{}
	var walk func(dir string)
	walk = func(dir string) {
		ents, err := f.ReadDir(dir)
		if err != nil {
			t.Fatalf("snapshot: %v", err)
		}
		for _, e := range ents {
			p := path.Join(dir, e.Name)
			st, err := f.Lstat(p)
			if err != nil {
				t.Fatalf("snapshot: %v", err)
			}
			desc := fmt.Sprintf("ino=%d mode=%o nlink=%d size=%d", st.Ino, st.Mode, st.Nlink, st.Size)
			switch {
			case st.IsDir():
				walk(p)
			case st.IsSymlink():
				target, err := f.Readlink(p)
				if err != nil {
					t.Fatalf("snapshot: %v", err)
				}
				desc += " -> " + strconv.Quote(target)
			default:
				data, err := f.ReadFile(p)
				if err != nil {
					t.Fatalf("snapshot: %v", err)
				}
				desc += " crc=" + checksum(data)
			}
			out[p] = desc
		}
	}
	walk("/")
	return out
}

// checksum identifies contents in snapshots.
func checksum(b []byte) string {
	return fmt.Sprintf("%08x", crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)))
}
