package fs_test

import (
	"errors"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"valence.dev/servers/fs/fs"
)

// TestMknod: socket and FIFO nodes are names with a type and no data:
// stat and readdir report the type, they survive a remount and fsck, they
// cannot be opened, unlink removes them, and no other type is made.
func TestMknod(t *testing.T) {
	f, dev := newFS(t, 4096, fs.Options{})
	must(t, f.Mkdir("/tmp", 0o777))
	tests := []struct {
		path string
		mode uint32
		want error
	}{
		{"/tmp/sock", fs.ModeSocket | 0o755, nil},
		{"/tmp/fifo", fs.ModeFIFO | 0o600, nil},
		{"/tmp/sock", fs.ModeSocket | 0o755, fs.ErrExist},
		{"/tmp/reg", fs.ModeRegular | 0o644, fs.ErrInvalid},
		{"/tmp/dir", fs.ModeDir | 0o755, fs.ErrInvalid},
		{"/missing/sock", fs.ModeSocket, fs.ErrNotExist},
	}
	for _, tc := range tests {
		if err := f.Mknod(tc.path, tc.mode); !errors.Is(err, tc.want) {
			t.Errorf("Mknod(%s, %#o) = %v, want %v", tc.path, tc.mode, err, tc.want)
		}
	}
	f = remount(t, f, dev)
	got := map[string]uint32{}
	ents, err := f.ReadDir("/tmp")
	must(t, err)
	for _, e := range ents {
		st, err := f.Lstat("/tmp/" + e.Name)
		must(t, err)
		if st.Mode&fs.ModeType != e.Type {
			t.Errorf("%s: readdir says type %#o, stat %#o", e.Name, e.Type, st.Mode)
		}
		got[e.Name] = st.Mode
	}
	want := map[string]uint32{"sock": fs.ModeSocket | 0o755, "fifo": fs.ModeFIFO | 0o600}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("nodes after a remount (-want +got):\n%s", diff)
	}
	if st, _ := f.Stat("/tmp/sock"); st.FileMode()&os.ModeSocket == 0 {
		t.Errorf("FileMode %v lacks ModeSocket", st.FileMode())
	}
	if _, err := f.Open("/tmp/sock"); err == nil {
		t.Error("a socket node opened as a file")
	}
	clean(t, dev)
	must(t, f.Remove("/tmp/sock"))
	if _, err := f.Stat("/tmp/sock"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stat after unlink: %v", err)
	}
	clean(t, dev)
}
