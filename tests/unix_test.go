package tests

import (
	"regexp"
	"testing"
)

// unixTests are nettests' AF_UNIX checks (userland/nettests/unix*.go).
var unixTests = []string{"unix-stream", "unix-gram", "unix-abstract", "unix-rights", "unix-http", "unix-calls"}

// TestUnix boots with root=nvme0 and runs nettests' AF_UNIX tests as
// init, in debug mode: Go's net package over kernel-served unix sockets
// (pathname listeners whose nodes live on the fsd root, abstract names,
// datagrams, seqpacket, descriptors and credentials passed, HTTP over a
// socket) and the errnos a program checks, each as Linux gives it. They
// need no network: no NIC, no netd. The disk must pass fsck afterwards
// (socket nodes are inodes of a new type).
func TestUnix(t *testing.T) {
	disk := rootDiskCopy(t)
	names := ""
	for i, n := range unixTests {
		if i > 0 {
			names += ","
		}
		names += n
	}
	out := runVerdictArgs(t, "nettests", "root=nvme0 init=/bin/nettests debug NETTESTS="+names, bootTimeout,
		nvmeDisk(disk, "valence-root"))
	for _, name := range unixTests {
		if !regexp.MustCompile(`nettests: ` + regexp.QuoteMeta(name) + `: ok\b`).MatchString(out) {
			t.Errorf("no %q: ok line", name)
		}
	}
	fsck(t, disk)
	if t.Failed() {
		t.Logf("console:\n%s", out)
	}
}
