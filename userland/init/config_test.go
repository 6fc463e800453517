package main

import (
	"syscall"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseArgs(t *testing.T) {
	tests := []struct {
		name string
		argv []string
		want consoleCommand
	}{
		{"no program: the manifest's console", []string{"/bin/init"}, consoleCommand{}},
		{"empty program", []string{"/bin/init", ""}, consoleCommand{}},
		{"init itself (init=/bin/init)", []string{"/bin/init", "/bin/init"}, consoleCommand{}},
		{"init itself, unclean", []string{"/bin/init", "/bin//init", "-x"}, consoleCommand{}},
		{"program alone", []string{"/bin/init", "/bin/sh"}, consoleCommand{"/bin/sh", []string{"/bin/sh"}}},
		{"program with arguments", []string{"/bin/init", "/bin/sysfuzz", "-time", "10m"},
			consoleCommand{"/bin/sysfuzz", []string{"/bin/sysfuzz", "-time", "10m"}}},
		{"nothing at all", nil, consoleCommand{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, parseArgs(tc.argv)); diff != "" {
				t.Errorf("parseArgs(%q) (-want +got):\n%s", tc.argv, diff)
			}
		})
	}
}

func TestParseRoot(t *testing.T) {
	tests := []struct {
		root string
		want rootChoice
		text string
	}{
		{"", rootChoice{Disks: []string{"nvme0", "vda"}}, "nvme0 or vda"},
		{"  ", rootChoice{Disks: []string{"nvme0", "vda"}}, "nvme0 or vda"},
		{"initfs", rootChoice{Initfs: true}, "initfs"},
		{"nvme0", rootChoice{Disks: []string{"nvme0"}, Named: true}, "nvme0"},
		{"vda", rootChoice{Disks: []string{"vda"}, Named: true}, "vda"},
		{"/dev/nvme1", rootChoice{Disks: []string{"nvme1"}, Named: true}, "nvme1"},
		{"/dev/", rootChoice{Disks: []string{"nvme0", "vda"}}, "nvme0 or vda"},
	}
	for _, tc := range tests {
		t.Run(tc.root, func(t *testing.T) {
			got := parseRoot(func(name string) string {
				if name == "root" {
					return tc.root
				}
				return "unexpected"
			})
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("parseRoot(root=%q) (-want +got):\n%s", tc.root, diff)
			}
			if got.String() != tc.text {
				t.Errorf("parseRoot(root=%q).String() = %q, want %q", tc.root, got.String(), tc.text)
			}
		})
	}
}

func TestInitEnv(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"the kernel's", []string{"HOME=/", "PATH=/bin", "TERM=linux", "root=nvme0", "VALENCE_DEVICE_ROOT=0x10001"},
			[]string{"HOME=/", "PATH=/bin", "TERM=linux", "root=nvme0"}},
		{"handles dropped too", []string{"VALENCE_HANDLES=0x1,0x2", "A=1"}, []string{"A=1"}},
		{"only whole names", []string{"VALENCE_DEVICE_ROOTX=1", "XVALENCE_HANDLES=2"},
			[]string{"VALENCE_DEVICE_ROOTX=1", "XVALENCE_HANDLES=2"}},
		{"empty", nil, []string{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, initEnv(tc.in)); diff != "" {
				t.Errorf("initEnv(%q) (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func TestChooseInit(t *testing.T) {
	type result struct{ File, Note string }
	tests := []struct {
		name              string
		path              string
		onDisk, bootBound bool
		files             []string // what exists
		want              result
	}{
		{"initfs root", "/bin/init", false, false, nil, result{"/bin/init", ""}},
		{"on the disk", "/bin/init", true, true, []string{"/bin/init", "/boot/bin/init"}, result{"/bin/init", ""}},
		{"only in the initfs", "/bin/init", true, true, []string{"/boot/bin/init"},
			result{"/boot/bin/init", "/bin/init is not on the root disk; running /boot/bin/init from the initfs"}},
		{"initfs not bound", "/bin/init", true, false, []string{"/boot/bin/init"}, result{"/bin/init", ""}},
		{"nowhere", "/bin/init", true, true, nil, result{"/bin/init", ""}},
		{"relative path", "bin/init", true, true, []string{"/boot/bin/init"}, result{"bin/init", ""}},
		{"unclean path", "/bin/../bin/init", true, true, []string{"/boot/bin/init"},
			result{"/boot/bin/init", "/bin/../bin/init is not on the root disk; running /boot/bin/init from the initfs"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			exists := func(p string) bool {
				for _, f := range tc.files {
					if f == p {
						return true
					}
				}
				return false
			}
			file, note := chooseInit(tc.path, tc.onDisk, tc.bootBound, exists)
			if diff := cmp.Diff(tc.want, result{file, note}); diff != "" {
				t.Errorf("chooseInit (-want +got):\n%s", diff)
			}
		})
	}
}

// exited and signaled encode a status as wait(2) does.
func exitedWith(code int) syscall.WaitStatus         { return syscall.WaitStatus(code << 8) }
func signaled(sig syscall.Signal) syscall.WaitStatus { return syscall.WaitStatus(sig) }

func TestExitCode(t *testing.T) {
	tests := []struct {
		name string
		st   syscall.WaitStatus
		code int
		text string
	}{
		{"success", exitedWith(0), 0, "exit status 0"},
		{"failure", exitedWith(3), 3, "exit status 3"},
		{"killed", signaled(syscall.SIGKILL), 137, "killed by SIGKILL"},
		{"segfault", signaled(syscall.SIGSEGV), 139, "killed by SIGSEGV"},
		{"terminated", signaled(syscall.SIGTERM), 143, "killed by SIGTERM"},
		{"stopped (not an end)", syscall.WaitStatus(0x137f), 1, "wait status 0x137f"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := exitCode(tc.st); got != tc.code {
				t.Errorf("exitCode(%#x) = %d, want %d", uint32(tc.st), got, tc.code)
			}
			if got := describeStatus(tc.st); got != tc.text {
				t.Errorf("describeStatus(%#x) = %q, want %q", uint32(tc.st), got, tc.text)
			}
		})
	}
}
