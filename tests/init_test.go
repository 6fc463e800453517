package tests

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"valence.dev/tests/qemu"
)

// hangdService is added to the image's manifest for TestInit: svctests'
// echo service, checked every second and given 5 s to answer.
const hangdService = `
# TestInit's: an echo service that stops answering on SIGUSR1.
[service.hangd]
program = "/bin/svctests"
args = ["-echo-service"]
caps = ["register"]
serves = "echo"
restart = "always"
backoff = { initial = "250ms", max = "1s" }
heartbeat = "1s"
timeout = "5s"
`

// initfsWith returns boot image paths whose initfs is the image's with
// the file name (as the archive names it, "etc/init.toml") replaced by
// edit's answer to its contents: init reads its manifest from the initfs.
func initfsWith(t *testing.T, name string, edit func(old []byte) []byte) qemu.Paths {
	t.Helper()
	p := qemu.Image(t)
	in, err := os.Open(p.Initfs)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	var out bytes.Buffer
	tr, tw := tar.NewReader(in), tar.NewWriter(&out)
	found := false
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("reading %s: %v", p.Initfs, err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if strings.TrimPrefix(h.Name, "./") == name {
			data, found = edit(data), true
			h.Size = int64(len(data))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	if !found {
		t.Fatalf("%s has no %s", p.Initfs, name)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	p.Initfs = filepath.Join(t.TempDir(), "initfs.tar")
	if err := os.WriteFile(p.Initfs, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestInit boots init (pid 1) with the image's manifest plus hangd, on a
// copy of the root disk and with a NIC, and runs svctests as the console
// program: svc lists pcid, nvmed, virtio-netd, fsd, netd and hangd
// running; netd killed with SIGKILL comes back with a new pid and svc
// counts the restart; hangd, once it stops answering, is killed at its
// heartbeat deadline and restarted; svc stop, start and restart; svc's
// refusals; virtio-netd killed, restarted by pcid, and netd with it;
// hostile bytes on init's control socket. svctests' exit ends the run
// (init stops the services and exits with its status), and the disk
// passes fsck after the clean shutdown.
func TestInit(t *testing.T) {
	if testing.Short() {
		t.Skip("boots the kernel under QEMU; skipped with -short")
	}
	paths := initfsWith(t, "etc/init.toml", func(old []byte) []byte { return append(old, hangdService...) })
	disk := rootDiskCopy(t)
	extra := append(nvmeDisk(disk, "valence-root"),
		"-netdev", "user,id=net0",
		"-device", "virtio-net-pci,netdev=net0,disable-legacy=on,mac=52:54:00:12:34:56")
	m := qemu.Boot(t, qemu.Options{Cmdline: "root=nvme0 init=/bin/svctests", Timeout: 3 * bootTimeout, ExtraArgs: extra, Paths: &paths})
	verdict := m.Expect(`svctests: (PASS|FAIL)\b.*`, 3*bootTimeout)
	t.Logf("QEMU launch to %q: %v", verdict[0], m.Elapsed())
	code := m.ExpectExit(stepTimeout)
	out := m.Output()
	if verdict[1] != "PASS" {
		t.Errorf("svctests said %q", verdict[0])
	}
	if code != 0 {
		t.Errorf("QEMU exited with status %d, want 0", code)
	}
	if i := strings.Index(out, "Kernel panic"); i >= 0 {
		t.Errorf("the kernel panicked:\n%s", out[i:])
	}
	mustMatch(t, out,
		`init: root=nvme0: /bin/init mounts it and starts the services, then runs /bin/svctests`,
		`init: root is nvme0 \(valfs\), the initfs is at /boot`,
		// svc list, as svctests printed it once everything ran.
		`(?m)^nvmed\s+running\s+\d+\s+0\s+\S+\s+pcid\s+-`,
		`(?m)^virtio-netd\s+running\s+\d+\s+0\s+\S+\s+pcid\s+-`,
		`(?m)^hangd\s+running\s+\d+\s+0\s+\S+\s+init\s+-`,
		`init: netd \(pid \d+\) killed by SIGKILL; restart 1 in 250ms`,
		`init: netd restarted \(pid \d+\)`,
		`svctests: echo service \(pid \d+\): SIGUSR1: answering no more`,
		`init: hangd \(pid \d+\) missed its heartbeat: no answer to Echo within 5s; killing it`,
		`init: hangd \(pid \d+\) killed by SIGKILL \(missed its heartbeat\); restart 1 in 250ms`,
		`pcid: virtio-netd \(00:\d\d\.0\) exited: killed by SIGKILL`,
		`init: netd \(pid \d+\) [^;\n]+; restart 2 in \d+m?s`,
		`init: /bin/svctests \(pid \d+\) ended: exit status 0; exiting with status 0`,
	)
	fsck(t, disk)
}
