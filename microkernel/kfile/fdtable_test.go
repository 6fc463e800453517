package kfile

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"
)

// countFile is a File that counts its releases.
type countFile struct{ releases int }

func (f *countFile) Read(Caller, []byte, int64, bool) (int, errno.Errno)  { return 0, 0 }
func (f *countFile) Write(Caller, []byte, int64, bool) (int, errno.Errno) { return 0, 0 }
func (f *countFile) Seekable() bool                                       { return false }
func (f *countFile) Stat() linux.Stat                                     { return linux.Stat{} }
func (f *countFile) Poll() (uint32, *Event)                               { return 0, nil }
func (f *countFile) Release()                                             { f.releases++ }

func newCounted() (*OpenFile, *countFile) {
	f := &countFile{}
	return NewOpenFile(f, 0, "/x"), f
}

// fdsOf lists the open descriptors of t with their close-on-exec flags.
func fdsOf(t *FDTable) map[int32]bool {
	out := map[int32]bool{}
	t.Each(func(fd int, _ *OpenFile) { out[int32(fd)] = t.cloexecLocked(int32(fd)) })
	return out
}

// cloexecLocked reads the flag with t.mu held (inside Each).
func (t *FDTable) cloexecLocked(fd int32) bool { return t.fds[fd].cloexec }

// TestInstallBounds: the lowest-free-descriptor search refuses a negative
// or too-large start instead of indexing out of the table (sysfuzz found
// fcntl(fd, F_DUPFD, -2145386496) panicking the kernel).
func TestInstallBounds(t *testing.T) {
	tests := []struct {
		name   string
		min    int32
		wantFD int32
		want   errno.Errno
	}{
		{"zero", 0, 0, 0},
		{"above the first", 5, 5, 0},
		{"last", MaxFDs - 1, MaxFDs - 1, 0},
		{"negative", -2145386496, -1, errno.EINVAL},
		{"minus one", -1, -1, errno.EINVAL},
		{"past the limit", MaxFDs, -1, errno.EMFILE},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tab := NewFDTable()
			fd, e := tab.Install(NewOpenFile(nil, 0, "/x"), tc.min, false)
			if fd != tc.wantFD || e != tc.want {
				t.Errorf("Install(min %d) = %d, %v; want %d, %v", tc.min, fd, e, tc.wantFD, tc.want)
			}
		})
	}
}

// TestInstallLowest: Install takes the lowest free descriptor at or
// above min, reusing closed ones.
func TestInstallLowest(t *testing.T) {
	tests := []struct {
		name   string
		open   []int32 // descriptors open beforehand (each at its own number)
		min    int32
		wantFD int32
	}{
		{"empty table", nil, 0, 0},
		{"after 0 1 2", []int32{0, 1, 2}, 0, 3},
		{"a hole", []int32{0, 2}, 0, 1},
		{"a hole below min", []int32{0, 2}, 2, 3},
		{"min in a hole", []int32{0, 1, 2, 4}, 3, 3},
		{"min past the end", []int32{0}, 10, 10},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tab := NewFDTable()
			for _, fd := range tc.open {
				if got, e := tab.Install(NewOpenFile(&countFile{}, 0, "/x"), fd, false); got != fd || e != 0 {
					t.Fatalf("setup: Install at %d = %d, %v", fd, got, e)
				}
			}
			fd, e := tab.Install(NewOpenFile(&countFile{}, 0, "/x"), tc.min, false)
			if fd != tc.wantFD || e != 0 {
				t.Errorf("Install(min %d) = %d, %v; want %d, 0", tc.min, fd, e, tc.wantFD)
			}
			if got, want := tab.Count(), len(tc.open)+1; got != want {
				t.Errorf("Count = %d, want %d", got, want)
			}
		})
	}
}

// TestInstallFull: a full table refuses with EMFILE, and a closed
// descriptor makes room again.
func TestInstallFull(t *testing.T) {
	tab := NewFDTable()
	for i := range MaxFDs {
		if fd, e := tab.Install(NewOpenFile(&countFile{}, 0, "/x"), 0, false); fd != int32(i) || e != 0 {
			t.Fatalf("Install #%d = %d, %v", i, fd, e)
		}
	}
	of, f := newCounted()
	if fd, e := tab.Install(of, 0, false); fd != -1 || e != errno.EMFILE {
		t.Errorf("Install into a full table = %d, %v; want -1, EMFILE", fd, e)
	}
	if f.releases != 0 {
		t.Errorf("a refused file was released %d times; the caller still holds it", f.releases)
	}
	if e := tab.Close(17); e != 0 {
		t.Fatalf("Close(17) = %v", e)
	}
	if fd, e := tab.Install(of, 0, false); fd != 17 || e != 0 {
		t.Errorf("Install after closing 17 = %d, %v; want 17, 0", fd, e)
	}
}

// TestInstallAt: dup2 semantics: the old file at the descriptor is
// released exactly once, the new one kept; out-of-range numbers are
// EBADF.
func TestInstallAt(t *testing.T) {
	tab := NewFDTable()
	oldOF, old := newCounted()
	if _, e := tab.Install(oldOF, 3, false); e != 0 {
		t.Fatal(e)
	}
	newOF, nf := newCounted()
	if e := tab.InstallAt(newOF, 3, true); e != 0 {
		t.Fatalf("InstallAt(3) = %v", e)
	}
	if old.releases != 1 || nf.releases != 0 {
		t.Errorf("releases: old %d, new %d; want 1, 0", old.releases, nf.releases)
	}
	if got, ok := tab.Get(3); !ok || got != newOF {
		t.Errorf("Get(3) = %p, %v; want the new file", got, ok)
	} else {
		got.Drop()
	}
	if !tab.Cloexec(3) {
		t.Error("InstallAt(cloexec) left close-on-exec clear")
	}
	for _, fd := range []int32{-1, MaxFDs, 1 << 30} {
		if e := tab.InstallAt(NewOpenFile(&countFile{}, 0, "/x"), fd, false); e != errno.EBADF {
			t.Errorf("InstallAt(%d) = %v, want EBADF", fd, e)
		}
	}
	if e := tab.InstallAt(NewOpenFile(&countFile{}, 0, "/x"), 40, false); e != 0 {
		t.Errorf("InstallAt past the end = %v", e)
	}
	if diff := cmp.Diff(map[int32]bool{3: true, 40: false}, fdsOf(tab)); diff != "" {
		t.Errorf("descriptors (-want +got):\n%s", diff)
	}
}

// TestClose: closing releases the file once; closing what is not open
// is EBADF.
func TestClose(t *testing.T) {
	tests := []struct {
		name string
		fd   int32
		want errno.Errno
	}{
		{"open", 0, 0},
		{"never opened", 5, errno.EBADF},
		{"negative", -1, errno.EBADF},
		{"past the table", MaxFDs + 7, errno.EBADF},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tab := NewFDTable()
			of, f := newCounted()
			if _, e := tab.Install(of, 0, false); e != 0 {
				t.Fatal(e)
			}
			if e := tab.Close(tc.fd); e != tc.want {
				t.Errorf("Close(%d) = %v, want %v", tc.fd, e, tc.want)
			}
			wantReleases := 0
			if tc.want == 0 {
				wantReleases = 1
				if e := tab.Close(tc.fd); e != errno.EBADF {
					t.Errorf("second Close(%d) = %v, want EBADF", tc.fd, e)
				}
			}
			if f.releases != wantReleases {
				t.Errorf("releases %d, want %d", f.releases, wantReleases)
			}
		})
	}
}

// TestCloseOnExec: only descriptors marked close-on-exec go at exec,
// whichever way they were marked.
func TestCloseOnExec(t *testing.T) {
	tab := NewFDTable()
	files := make([]*countFile, 5)
	for i := range files {
		of, f := newCounted()
		files[i] = f
		if _, e := tab.Install(of, 0, i == 1); e != 0 {
			t.Fatal(e)
		}
	}
	if e := tab.SetCloexec(3, true); e != 0 {
		t.Fatal(e)
	}
	if e := tab.SetCloexec(1, false); e != 0 {
		t.Fatal(e)
	}
	if e := tab.SetCloexec(4, true); e != 0 {
		t.Fatal(e)
	}
	if e := tab.SetCloexec(9, true); e != errno.EBADF {
		t.Errorf("SetCloexec on a closed descriptor = %v, want EBADF", e)
	}
	if tab.Cloexec(9) || tab.Cloexec(-1) {
		t.Error("Cloexec true for a descriptor that is not open")
	}
	tab.CloseOnExec()
	if diff := cmp.Diff(map[int32]bool{0: false, 1: false, 2: false}, fdsOf(tab)); diff != "" {
		t.Errorf("descriptors after exec (-want +got):\n%s", diff)
	}
	var got []int
	for _, f := range files {
		got = append(got, f.releases)
	}
	if diff := cmp.Diff([]int{0, 0, 0, 1, 1}, got); diff != "" {
		t.Errorf("releases per descriptor (-want +got):\n%s", diff)
	}
}

// TestForkShares: a forked table shares the open file descriptions,
// flags included, and the file is released once, when the last table
// lets go of it.
func TestForkShares(t *testing.T) {
	parent := NewFDTable()
	of, f := newCounted()
	if _, e := parent.Install(of, 0, false); e != 0 {
		t.Fatal(e)
	}
	if _, e := parent.Install(of.Retain(), 0, true); e != 0 { // dup
		t.Fatal(e)
	}
	child := parent.Fork()
	if diff := cmp.Diff(fdsOf(parent), fdsOf(child)); diff != "" {
		t.Errorf("child's descriptors differ from the parent's (-parent +child):\n%s", diff)
	}
	if got, ok := child.Get(0); !ok || got != of {
		t.Errorf("child's 0 is %p, want the parent's description %p", got, of)
	} else {
		got.Drop()
	}
	child.CloseOnExec()
	parent.CloseAll()
	if f.releases != 0 {
		t.Fatalf("released with the child's descriptor 0 still open (%d)", f.releases)
	}
	if parent.Count() != 0 || child.Count() != 1 {
		t.Errorf("counts: parent %d, child %d; want 0, 1", parent.Count(), child.Count())
	}
	if e := child.Close(0); e != 0 {
		t.Fatal(e)
	}
	if f.releases != 1 {
		t.Errorf("releases after the last close: %d, want 1", f.releases)
	}
}

// TestGetRetains: Get's reference keeps the file after its descriptor
// is closed.
func TestGetRetains(t *testing.T) {
	tab := NewFDTable()
	of, f := newCounted()
	if _, e := tab.Install(of, 0, false); e != 0 {
		t.Fatal(e)
	}
	got, ok := tab.Get(0)
	if !ok {
		t.Fatal("Get(0) found nothing")
	}
	if _, ok := tab.Get(1); ok {
		t.Error("Get(1) found a file in an unused slot")
	}
	tab.CloseAll()
	if f.releases != 0 {
		t.Fatal("released while Get's reference was held")
	}
	got.Drop()
	if f.releases != 1 {
		t.Errorf("releases %d, want 1", f.releases)
	}
	if tab.Count() != 0 {
		t.Errorf("Count after CloseAll = %d", tab.Count())
	}
}

// TestNonblock follows the description's O_NONBLOCK flag.
func TestNonblock(t *testing.T) {
	of := NewOpenFile(&countFile{}, linux.O_RDWR|linux.O_NONBLOCK, "/x")
	if !of.Nonblock() {
		t.Error("Nonblock false with O_NONBLOCK set")
	}
	of.Mu.Lock()
	of.Flags &^= linux.O_NONBLOCK
	of.Mu.Unlock()
	if of.Nonblock() {
		t.Error("Nonblock true after clearing O_NONBLOCK")
	}
}
