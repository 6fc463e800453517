package vfs

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func table(t *testing.T, mounts ...Mount) *Table {
	t.Helper()
	tb := New(&Mount{FS: "initfs"})
	for i := range mounts {
		var ok bool
		if tb, ok = tb.With(&mounts[i]); !ok {
			t.Fatalf("With(%s) refused", mounts[i].Target)
		}
	}
	return tb
}

func TestFind(t *testing.T) {
	tb := table(t,
		Mount{Target: "/", FS: "fsd"},
		Mount{Target: "/boot", FS: "initfs"},
		Mount{Target: "/dev", FS: "initfs", Root: "dev"},
		Mount{Target: "/proc", FS: "proc"},
		Mount{Target: "/mnt/disk2/", FS: "fsd2"},
	)
	for _, tc := range []struct {
		path, fs, rel string
	}{
		{"/", "fsd", ""},
		{"/etc/motd", "fsd", "etc/motd"},
		{"/boot", "initfs", ""},
		{"/boot/bin/hello", "initfs", "bin/hello"},
		{"/bootx/y", "fsd", "bootx/y"},
		{"/dev", "initfs", "dev"},
		{"/dev/null", "initfs", "dev/null"},
		{"/dev/../etc", "fsd", "etc"},
		{"/proc/self/stat", "proc", "self/stat"},
		{"//proc///1/", "proc", "1"},
		{"/mnt/disk2/a", "fsd2", "a"},
		{"/mnt/disk", "fsd", "mnt/disk"},
		{"/../..", "fsd", ""},
		{"relative/x", "fsd", "relative/x"},
	} {
		m, rel := tb.Find(tc.path)
		if m == nil {
			t.Errorf("Find(%q): no mount", tc.path)
			continue
		}
		if diff := cmp.Diff([2]string{tc.fs, tc.rel}, [2]string{m.FS.(string), rel}); diff != "" {
			t.Errorf("Find(%q) (-want +got):\n%s", tc.path, diff)
		}
	}
}

func TestWithWithoutAreCopies(t *testing.T) {
	a := table(t, Mount{Target: "/boot", FS: "initfs"})
	b, _ := a.With(&Mount{Target: "/", FS: "fsd"})
	if m, _ := a.Find("/etc"); m.FS != "initfs" {
		t.Errorf("a changed by With: / is %v", m.FS)
	}
	if m, _ := b.Find("/etc"); m.FS != "fsd" {
		t.Errorf("b: / is %v", m.FS)
	}
	c, ok := b.Without("/boot")
	if !ok {
		t.Fatal("Without(/boot) found nothing")
	}
	if _, ok := b.Lookup("/boot"); !ok {
		t.Error("b changed by Without")
	}
	if _, ok := c.Lookup("/boot"); ok {
		t.Error("c still has /boot")
	}
	if _, ok := c.Without("/nothing"); ok {
		t.Error("Without(/nothing) found something")
	}
	var targets []string
	for _, m := range b.Mounts() {
		targets = append(targets, m.Target)
	}
	if diff := cmp.Diff([]string{"/", "/boot"}, targets); diff != "" {
		t.Errorf("Mounts (-want +got):\n%s", diff)
	}
}

func TestLimit(t *testing.T) {
	tb := New(&Mount{FS: "root"})
	var ok bool
	for i := 1; i < MaxMounts; i++ {
		if tb, ok = tb.With(&Mount{Target: fmt.Sprintf("/m%d", i), FS: i}); !ok {
			t.Fatalf("mount %d refused", i)
		}
	}
	if _, ok := tb.With(&Mount{Target: "/one-too-many", FS: 0}); ok {
		t.Error("mount beyond MaxMounts accepted")
	}
	if _, ok := tb.With(&Mount{Target: "/m3", FS: "again"}); !ok {
		t.Error("replacing a mount in a full table refused")
	}
}

func TestBindRoot(t *testing.T) {
	tb := table(t, Mount{Target: "/dev", FS: "initfs", Root: "/dev/./"})
	m, rel := tb.Find("/dev/zero")
	if m.Root != "dev" || rel != "dev/zero" {
		t.Errorf("Root %q rel %q, want dev and dev/zero", m.Root, rel)
	}
}
