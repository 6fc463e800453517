package blockdev_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/google/go-cmp/cmp"

	"valence.dev/servers/fs/blockdev"
	"valence.dev/servers/fs/fs"
	"valence.dev/servers/fs/fsck"
)

// TestCacheUnderFilesystem runs the filesystem on a cache far smaller
// than what it touches, as fsd does on the disk, and checks the medium
// beneath: fsck finds it sound, and the filesystem mounted on it without
// the cache has every file.
func TestCacheUnderFilesystem(t *testing.T) {
	mem := blockdev.NewMem(4096)
	c := blockdev.NewCache(mem, 64*blockdev.BlockSize)
	if err := fs.Mkfs(c, fs.MkfsOptions{}); err != nil {
		t.Fatal(err)
	}
	f, err := fs.Mount(c, fs.Options{})
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	fill := rand.NewChaCha8([32]byte{1})
	want := map[string][]byte{}
	for i := range 60 {
		name := fmt.Sprintf("/f%d", rng.IntN(16))
		switch {
		case i%7 == 6:
			if _, ok := want[name]; ok {
				if err := f.Remove(name); err != nil {
					t.Fatal(err)
				}
				delete(want, name)
			}
		default:
			data := make([]byte, rng.IntN(100_000))
			fill.Read(data)
			if err := f.WriteFile(name, data, 0o644); err != nil {
				t.Fatal(err)
			}
			want[name] = data
		}
		if i%10 == 0 {
			if err := f.Sync(); err != nil {
				t.Fatal(err)
			}
		}
		for name, data := range want {
			if rng.IntN(3) != 0 {
				continue
			}
			got, err := f.ReadFile(name)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, data) {
				t.Fatalf("op %d: %s read through the cache differs from what was written", i, name)
			}
		}
	}
	if err := f.Unmount(); err != nil {
		t.Fatal(err)
	}
	st := c.Stats()
	t.Logf("%+v", st)
	if st.Hits == 0 || st.Evictions == 0 {
		t.Errorf("no hits or no evictions: the test tests little")
	}
	if _, err := fsck.Check(mem); err != nil {
		t.Fatalf("fsck of the medium: %v", err)
	}
	raw, err := fs.Mount(mem, fs.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string][]byte{}
	for name := range want {
		if got[name], err = raw.ReadFile(name); err != nil {
			t.Fatal(err)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("files on the medium (-want +got):\n%s", diff)
	}
}
