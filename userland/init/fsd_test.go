package main

import (
	"errors"
	"fmt"
	"syscall"
	"testing"
	"time"

	"valence.dev/ipc/rpc"
	fp "valence.dev/servers/fs/fileproto"
)

func TestFixFor(t *testing.T) {
	dir := func(perm uint32) fp.Stat { return fp.Stat{Mode: fp.S_IFDIR | perm} }
	enoent := fmt.Errorf("rpc: Stat: %w", &rpc.Error{Code: int32(syscall.ENOENT)})
	tests := []struct {
		name string
		st   fp.Stat
		err  error
		mode uint32
		want pointFix
	}{
		{"present", dir(0o755), nil, 0o755, pointOK},
		{"present with another mode: kept", dir(0o700), nil, 0o755, pointOK},
		{"missing (the server's ENOENT)", fp.Stat{}, enoent, 0o755, pointCreate},
		{"missing (errno)", fp.Stat{}, syscall.ENOENT, 0o1777, pointCreate},
		{"tmp right", dir(0o1777), nil, 0o1777, pointOK},
		{"tmp without the sticky bit", dir(0o777), nil, 0o1777, pointChmod},
		{"tmp private", dir(0o755), nil, 0o1777, pointChmod},
		{"a file", fp.Stat{Mode: fp.S_IFREG | 0o644}, nil, 0o755, pointNotDir},
		{"a symlink's target is a file", fp.Stat{Mode: fp.S_IFREG | 0o755}, nil, 0o1777, pointNotDir},
		{"server broken", fp.Stat{}, errors.New("rpc: Stat: call: owner died"), 0o755, pointError},
		{"permission", fp.Stat{}, &rpc.Error{Code: int32(syscall.EACCES)}, 0o755, pointError},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := fixFor(tc.st, tc.err, tc.mode); got != tc.want {
				t.Errorf("fixFor(%#o, %v, %#o) = %d, want %d", tc.st.Mode, tc.err, tc.mode, got, tc.want)
			}
		})
	}
}

func TestMountPoints(t *testing.T) {
	want := map[string]uint32{"boot": 0o755, "dev": 0o755, "proc": 0o755, "tmp": 0o1777}
	got := map[string]uint32{}
	for _, mp := range mountPoints {
		got[mp.name] = mp.mode
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("mount points %v, want %v", got, want)
	}
	if bootDir != "/boot" {
		t.Errorf("bootDir = %q, want /boot", bootDir)
	}
}

func TestReasonTracker(t *testing.T) {
	tests := []struct {
		name  string
		lines []string
		want  string
	}{
		{"refused disk", []string{"fsd: QEMU NVMe Ctrl: no valid Valence filesystem superblock"},
			"QEMU NVMe Ctrl: no valid Valence filesystem superblock"},
		{"the last fsd line wins", []string{"fsd: warning: slow disk", "fsd: the disk: attach: out of memory\r"},
			"the disk: attach: out of memory"},
		{"a crash", []string{"panic: runtime error: index out of range [3] with length 3", "", "goroutine 1 [running]:",
			"main.main()", "\t/src/main.go:10 +0x1d", "exit status 2"},
			"panic: runtime error: index out of range [3] with length 3"},
		{"a fatal runtime error", []string{"fatal error: out of memory", "runtime stack:"}, "fatal error: out of memory"},
		{"fsd's own line beats a crash", []string{"fsd: the disk: timeout", "panic: later"}, "the disk: timeout"},
		{"other programs' lines", []string{"nvmed: 00:03.0: controller fatal status", "fsd:"}, ""},
		{"nothing", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tr := reasonTracker{prefix: "fsd: "}
			for _, l := range tc.lines {
				tr.add(l)
			}
			if got := tr.reason(); got != tc.want {
				t.Errorf("reason = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestStartError(t *testing.T) {
	tests := []struct {
		name string
		err  *startError
		want string
	}{
		{"refusal quoted", &startError{name: "fsd", status: exitedWith(1), reason: "QEMU NVMe Ctrl: no valid Valence filesystem superblock"},
			"QEMU NVMe Ctrl: no valid Valence filesystem superblock (fsd exit status 1)"},
		{"no words", &startError{name: "pcid", status: exitedWith(1)}, "pcid ended before serving (exit status 1)"},
		{"killed by someone", &startError{name: "fsd", status: signaled(syscall.SIGKILL)}, "fsd ended before serving (killed by SIGKILL)"},
		{"timed out", &startError{name: "fsd", status: signaled(syscall.SIGKILL), timedOut: 20 * time.Second},
			"fsd did not start serving within 20s; killed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.err.Error(); got != tc.want {
				t.Errorf("Error() = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestSystemPath(t *testing.T) {
	tests := []struct {
		path           string
		mounted, bound bool
		want           string
	}{
		{"/bin/fsd", false, false, "/bin/fsd"},    // before the root is mounted: "/" is the initfs
		{"/bin/fsd", true, true, "/boot/bin/fsd"}, // after: the initfs's copy (a restart: "/" is the dead fsd's)
		{"/bin/netd", true, false, "/bin/netd"},   // the initfs unreachable: nowhere better to look
		{"/bin/../bin/x", true, true, "/boot/bin/x"},
	}
	for _, tc := range tests {
		if got := systemPath(tc.path, tc.mounted, tc.bound); got != tc.want {
			t.Errorf("systemPath(%q, mounted %v, bound %v) = %q, want %q", tc.path, tc.mounted, tc.bound, got, tc.want)
		}
	}
}
