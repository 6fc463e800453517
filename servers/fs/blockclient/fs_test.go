package blockclient

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"

	"valence.dev/servers/fs/fs"
	"valence.dev/servers/fs/fsck"
)

// TestFilesystem runs the whole filesystem on a Device: mkfs, files and
// directories, unmount, then a fresh Device on the same driver (as after
// a restart of fsd), mount, read back and fsck.
func TestFilesystem(t *testing.T) {
	disk := newDisk(512, 8*4096, 64) // 16 MiB
	r := newRig(t, disk)
	d := r.open(t, Options{BufferSize: 256 << 10})
	if err := fs.Mkfs(d, fs.MkfsOptions{}); err != nil {
		t.Fatalf("Mkfs: %v", err)
	}
	f, err := fs.Mount(d, fs.Options{})
	if err != nil {
		t.Fatalf("Mount: %v", err)
	}
	want := map[string][]byte{}
	for i := range 20 {
		dir := fmt.Sprintf("/d%d", i%4)
		if i < 4 {
			if err := f.Mkdir(dir, 0o755); err != nil {
				t.Fatal(err)
			}
		}
		name := fmt.Sprintf("%s/f%d", dir, i)
		data := make([]byte, 1000+i*37000) // up to ~700 KiB: many pieces
		for j := range data {
			data[j] = byte(i + j*31)
		}
		if err := f.WriteFile(name, data, 0o644); err != nil {
			t.Fatalf("WriteFile %s: %v", name, err)
		}
		want[name] = data
	}
	if err := f.Unmount(); err != nil {
		t.Fatalf("Unmount: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	d = r.open(t, Options{Concurrency: 3})
	defer d.Close()
	if _, err := fsck.Check(d); err != nil {
		t.Fatalf("fsck: %v", err)
	}
	f, err = fs.Mount(d, fs.Options{})
	if err != nil {
		t.Fatalf("remount: %v", err)
	}
	got, err := f.ReadDir("/d1")
	if err != nil {
		t.Fatal(err)
	}
	names := []string{}
	for _, e := range got {
		names = append(names, e.Name)
	}
	if diff := cmp.Diff([]string{"f1", "f13", "f17", "f5", "f9"}, names); diff != "" {
		t.Errorf("ReadDir /d1 (-want +got):\n%s", diff)
	}
	for name, data := range want {
		b, err := f.ReadFile(name)
		if err != nil {
			t.Errorf("ReadFile %s: %v", name, err)
		} else if !bytes.Equal(b, data) {
			t.Errorf("%s after remount: %d bytes differ from the %d written", name, len(b), len(data))
		}
	}
}
