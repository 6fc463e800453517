package tests

import (
	"testing"
	"time"
)

// gotestsSuites are the packages whose test binaries /bin/gotests runs
// (userland/gotests, docs/gotests.md).
var gotestsSuites = []string{"path/filepath", "io/fs", "os", "os/exec"}

// TestGotests boots with root=nvme0 and runs Go's own test suites for
// path/filepath, io/fs, os and os/exec (go test -c binaries, with their
// package directories under /gotests on the root disk) as init, on a
// private copy of the image's root disk: every test must pass except the
// documented exceptions, and the disk must pass fsck afterwards. make test
// runs the quick set (GOTESTS_QUICK: the binaries from the in-memory
// initfs, without the tests that take minutes under TCG);
// TestSoakGotests runs everything.
func TestGotests(t *testing.T) {
	runGotests(t, "GOTESTS_QUICK=1", 15*time.Minute)
}

// TestSoakGotests is the full run (make soak): every test of the four
// suites, the binaries executed from the root disk.
func TestSoakGotests(t *testing.T) {
	soak(t)
	runGotests(t, "", 2*time.Hour)
}

func runGotests(t *testing.T, env string, timeout time.Duration) {
	disk := rootDiskCopy(t)
	out := runVerdictArgs(t, "gotests", "root=nvme0 init=/bin/gotests "+env, timeout,
		nvmeDisk(disk, "valence-root"))
	var want []string
	for _, s := range gotestsSuites {
		want = append(want, `gotests: `+s+`: ok \(\d+ passed`)
	}
	mustMatch(t, out, want...)
	fsck(t, disk)
}
