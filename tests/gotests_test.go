package tests

import (
	"strings"
	"testing"
	"time"
)

// gotestsSuites are the packages whose test binaries /bin/gotests runs
// without a network (userland/gotests, docs/gotests.md).
var gotestsSuites = []string{"path/filepath", "io/fs", "os", "os/exec"}

// gotestsNetSuites need the network: TestGotestsNet boots with a NIC, so
// that init starts netd before the test program (docs/net.md).
var gotestsNetSuites = []string{"net", "net/http"}

// TestGotests boots with root=nvme0 and a NIC and runs Go's own test
// suites for path/filepath, io/fs, os and os/exec (go test -c binaries,
// with their package directories under /gotests on the root disk) as
// init, on a private copy of the image's root disk: every test must pass
// except the documented exceptions, and the disk must pass fsck
// afterwards. The NIC is for the few os and os/exec tests that use TCP.
// make test runs the quick set (GOTESTS_QUICK: the binaries from the
// in-memory initfs, without the tests that take minutes under TCG);
// TestSoakGotests runs everything.
func TestGotests(t *testing.T) {
	runGotests(t, gotestsSuites, "GOTESTS_QUICK=1", 15*time.Minute)
}

// TestGotestsNet is TestGotests for Go's net and net/http suites, in a
// boot of their own with a virtio-net NIC on QEMU's user network: the
// tests talk to themselves over 127.0.0.1 through netd, and skip what
// needs the outside network (-test.short).
func TestGotestsNet(t *testing.T) {
	runGotests(t, gotestsNetSuites, "GOTESTS_QUICK=1", 20*time.Minute)
}

// TestSoakGotests is the full run (make soak): every test of the four
// suites, the binaries executed from the root disk.
func TestSoakGotests(t *testing.T) {
	soak(t)
	runGotests(t, gotestsSuites, "", 2*time.Hour)
}

// TestSoakGotestsNet is TestGotestsNet's full run (make soak).
func TestSoakGotestsNet(t *testing.T) {
	soak(t)
	runGotests(t, gotestsNetSuites, "", 2*time.Hour)
}

// runGotests boots /bin/gotests with the suites, on a copy of the root
// disk and with a virtio-net NIC on QEMU's user network, as make run
// attaches it, so that init starts netd before the test program.
func runGotests(t *testing.T, suites []string, env string, timeout time.Duration) {
	disk := rootDiskCopy(t)
	cmdline := "root=nvme0 init=/bin/gotests GOTESTS=" + strings.Join(suites, ",") + " " + env
	extra := append(nvmeDisk(disk, "valence-root"), "-netdev", "user,id=net0",
		"-device", "virtio-net-pci,netdev=net0,disable-legacy=on,mac=52:54:00:12:34:56")
	out := runVerdictArgs(t, "gotests", cmdline, timeout, extra)
	var want []string
	for _, s := range suites {
		want = append(want, `gotests: `+s+`: ok \(\d+ passed`)
	}
	mustMatch(t, out, want...)
	fsck(t, disk)
}
