package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"
)

// lockedBuffer is a console the relay and the test can share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func fdIdentity(t *testing.T, fd int) [2]uint64 {
	t.Helper()
	var st syscall.Stat_t
	if err := syscall.Fstat(fd, &st); err != nil {
		t.Fatal(err)
	}
	return [2]uint64{st.Dev, st.Ino}
}

// TestSpawnTapped runs a host child that fails as fsd does: the child's
// stderr is the pipe, its line reaches the console, the reason is
// quoted, and descriptor 2 is init's own again afterwards.
func TestSpawnTapped(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	var out lockedBuffer
	old := console
	console = &out
	defer func() { console = old }()
	before, before1 := fdIdentity(t, 2), fdIdentity(t, 1)

	var cmd *exec.Cmd
	var kept []string
	tap, err := spawnTapped("fsd", func(l string) { kept = append(kept, l) }, func() error {
		cmd = exec.Command("sh", "-c", `echo "fsd: starting"; echo "fsd: QEMU NVMe Ctrl: no valid Valence filesystem superblock" >&2; exit 1`)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr // descriptors 1 and 2, as ProcSpawn gives the child
		return cmd.Start()
	})
	if err != nil {
		t.Fatal(err)
	}
	if after := fdIdentity(t, 2); after != before {
		t.Errorf("descriptor 2 is %v after the spawn, was %v", after, before)
	}
	if after := fdIdentity(t, 1); after != before1 {
		t.Errorf("descriptor 1 is %v after the spawn, was %v", after, before1)
	}
	cmd.Wait()
	if got, want := tap.reason(5*time.Second), "QEMU NVMe Ctrl: no valid Valence filesystem superblock"; got != want {
		t.Errorf("reason = %q, want %q", got, want)
	}
	if got, want := out.String(), "fsd: starting\nfsd: QEMU NVMe Ctrl: no valid Valence filesystem superblock\n"; got != want {
		t.Errorf("console got %q, want %q", got, want)
	}
	if want := []string{"fsd: starting", "fsd: QEMU NVMe Ctrl: no valid Valence filesystem superblock"}; !slices.Equal(kept, want) {
		t.Errorf("the log kept %q, want %q", kept, want)
	}
}

func TestSpawnTappedSpawnFails(t *testing.T) {
	before := fdIdentity(t, 2)
	want := errors.New("spawn /bin/fsd: no such file or directory")
	tap, err := spawnTapped("fsd", nil, func() error { return want })
	if err != want || tap != nil {
		t.Errorf("spawnTapped = %v, %v; want nil, %v", tap, err, want)
	}
	if after := fdIdentity(t, 2); after != before {
		t.Errorf("descriptor 2 is %v after a failed spawn, was %v", after, before)
	}
	if got := (*stderrTap)(nil).reason(time.Millisecond); got != "" {
		t.Errorf("a nil tap's reason = %q", got)
	}
}
