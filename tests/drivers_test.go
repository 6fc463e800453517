package tests

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"
)

// drvtests are the checks the drvtests program reports (userland/drvtests):
// pcid and the drivers it starts, reached through its registry.
var drvtests = []string{"pci-list", "nvme-identify", "nvme-patterns", "nvme-kill", "edu-factorial",
	"virtio-net-dhcp", "netd-restart", "virtio-blk-patterns", "block-peers", "fsd-persist", "fsd-restart"}

// driversConsole are lines that must appear: pcid's listing and driver
// starts, the NVMe driver's identification, and pcid noticing its death.
var driversConsole = []string{
	`drvtests: fsd-restart: \d+ files fsynced across a restart of fsd, \d+ calls failed with EIO while it was down, none hung`,
	`pcid: 00:\d\d\.0 Non-Volatile memory controller \[0108\]: Red Hat, Inc\. \[1b36:0010\].* -> nvmed`,
	`pcid: nvmed \(00:\d\d\.0\) started: pid \d+`,
	`nvmed: 00:\d\d\.0: nvme0: "QEMU NVMe Ctrl" serial "valence-test" .*32 MiB \(65536 blocks of 512 bytes\)`,
	`pcid: nvmed \(00:\d\d\.0\) registered nvme0 \(block\)`,
	`drvtests: nvme0: 32 MiB written in .* and read back intact`,
	`pcid: nvmed \(00:\d\d\.0\) exited: killed by SIGKILL`,
	`pcid: nvmed \(00:\d\d\.0\) restarting in 250ms`,
	`drvtests: nvme0: restarted by pcid as pid \d+; the whole disk written and read back through it`,
	`edud: 00:\d\d\.0: edu device version 1\.0, BAR0 1024 KiB, completion by its MSI interrupt`,
	`pcid: edud \(00:\d\d\.0\) registered edu0 \(edu\)`,
	`virtio-netd: 00:\d\d\.0: net0: MAC 52:54:00:12:34:56, link up`,
	`drvtests: net0: MAC 52:54:00:12:34:56, DHCP lease 10\.0\.2\.\d+/24 router 10\.0\.2\.2 `,
	`drvtests: netd-restart: netd killed after \d+ MiB sent; the sender got .*(connection reset by peer|broken pipe)`,
	`drvtests: netd-restart: a new netd \(pid \d+\) serves new connections`,
	`drvtests: netd-restart: virtio-netd killed after \d+ MiB sent; the sender got .*(connection reset by peer|broken pipe|network is down)`,
	`pcid: virtio-netd \(00:\d\d\.0\) exited: killed by SIGKILL`,
	`drvtests: netd-restart: virtio-netd restarted by pcid as pid \d+; netd \(pid \d+\) on it serves new connections`,
	`virtio-blkd: 00:\d\d\.0: vda: 16 MiB`,
	`drvtests: vda: 16 MiB written in .* and read back intact`,
	`fsd: QEMU NVMe Ctrl: no filesystem; formatting 32 MiB`,
	`fsd: mounted QEMU NVMe Ctrl \(serial "valence-test"\), generation \d+`,
	`drvtests: fsd: 50 fsynced files on nvme0 intact after fsd was killed and restarted`,
}

// scratchDisk returns a fresh sparse raw disk image of mib MiB.
func scratchDisk(t *testing.T, name string, mib int64) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(mib << 20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	return p
}

// driverDevices are the devices TestDrivers attaches: a 32 MiB NVMe disk,
// a virtio-net NIC on QEMU's user network, a 16 MiB virtio-blk disk, and
// QEMU's edu teaching device (the tutorial driver's).
func driverDevices(t *testing.T) []string {
	return []string{
		"-drive", "file=" + scratchDisk(t, "nvme.img", 32) + ",if=none,id=nvm,format=raw",
		"-device", "nvme,serial=valence-test,drive=nvm",
		"-netdev", "user,id=net0",
		"-device", "virtio-net-pci,netdev=net0,disable-legacy=on,mac=52:54:00:12:34:56",
		"-drive", "file=" + scratchDisk(t, "vblk.img", 16) + ",if=none,id=vblk,format=raw",
		"-device", "virtio-blk-pci,drive=vblk,disable-legacy=on",
		"-device", "edu",
	}
}

// TestDrivers boots drvtests as init in debug mode with an NVMe disk, a
// virtio NIC and a virtio disk: pcid lists them and starts their drivers;
// the NVMe disk is written whole with patterns by 32 requests in flight
// and read back; nvmed is killed mid-sweep and the client gets an error,
// not a hang, while the kernel and the rest go on.
func TestDrivers(t *testing.T) {
	out := runVerdictArgs(t, "drvtests", "init=/bin/drvtests debug", bootTimeout, driverDevices(t))
	for _, name := range drvtests {
		if !regexp.MustCompile(`drvtests: ` + regexp.QuoteMeta(name) + `: ok\b`).MatchString(out) {
			t.Errorf("no %q: ok line", name)
		}
	}
	for _, re := range driversConsole {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("the console lacks %s", re)
		}
	}
	if t.Failed() {
		t.Logf("console:\n%s", out)
	}
}
