package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"valence.dev/tests/qemu"
)

// rootDiskCopy returns a private, writable copy of the image's root disk
// (root.img, sparse), so that a test can boot it more than once.
func rootDiskCopy(t *testing.T) string {
	t.Helper()
	root, err := qemu.Root()
	if err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(filepath.Dir(qemu.ImagePaths(root).Kernel), "root.img")
	if _, err := os.Stat(img); err != nil {
		t.Fatalf("no root disk: %v (make image builds it)", err)
	}
	dst := filepath.Join(t.TempDir(), "root.img")
	if out, err := exec.Command("cp", "--sparse=always", img, dst).CombinedOutput(); err != nil {
		t.Fatalf("copying the root disk: %v\n%s", err, out)
	}
	return dst
}

func nvmeDisk(path, serial string) []string {
	return []string{
		"-drive", "file=" + path + ",if=none,id=nvm,format=raw",
		"-device", "nvme,serial=" + serial + ",drive=nvm",
	}
}

// mustMatch checks that the console shows every pattern.
func mustMatch(t *testing.T, out string, patterns ...string) {
	t.Helper()
	for _, re := range patterns {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("the console lacks %s", re)
		}
	}
	if t.Failed() {
		t.Logf("console:\n%s", out)
	}
}

// TestRootFS boots with root=nvme0: /bin/init starts pcid, nvmed and
// fsd, mounts the image's root disk at "/" (the initfs at /boot), and runs
// fstests on it: Go's os package on a writable root, through the kernel's
// forwarding of Linux file calls. A second boot of the same disk reads
// back what the first fsynced (after a boot that makes and removes a tree
// of 10,000 files), and the disk passes valfs fsck on the host after each
// boot.
func TestRootFS(t *testing.T) {
	disk := rootDiskCopy(t)
	out := runVerdictArgs(t, "fstests", "root=nvme0 init=/bin/fstests FSTESTS=default,persist-write", bootTimeout,
		nvmeDisk(disk, "valence-root"))
	mustMatch(t, out,
		`init: root is nvme0 \(valfs\), the initfs is at /boot`,
		`fstests: persist-write: ok`,
	)
	fsck(t, disk)
	// 10,000 files take minutes under TCG on a busy machine.
	out = runVerdictArgs(t, "fstests", "root=nvme0 init=/bin/fstests FSTESTS=tree-10k", 2*bootTimeout,
		nvmeDisk(disk, "valence-root"))
	mustMatch(t, out, `fstests: tree-10k: 10000 files in 100 directories created, listed, renamed, walked and removed`)
	fsck(t, disk)
	out = runVerdictArgs(t, "fstests", "root=nvme0 init=/bin/fstests FSTESTS=persist-check debug", bootTimeout,
		nvmeDisk(disk, "valence-root"))
	mustMatch(t, out, `fstests: persist-check: ok`)
	fsck(t, disk)
}

// TestRootFallback: a disk that holds no filesystem is refused with the
// reason, and init still runs, on the initfs.
func TestRootFallback(t *testing.T) {
	disk := filepath.Join(t.TempDir(), "blank.img")
	if err := os.WriteFile(disk, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(disk, 16<<20); err != nil {
		t.Fatal(err)
	}
	out := runVerdictArgs(t, "usertests", "root=nvme0 init=/bin/usertests USERTESTS=files debug", bootTimeout,
		nvmeDisk(disk, "valence-blank"))
	mustMatch(t, out, `init: root disk nvme0 not mounted: .*; the initfs stays the root`)
}

// TestMountDisk boots with a second disk (virtio-blk, /dev/vda) holding
// an empty valfs filesystem made on the host, and runs fstests' dev and
// mount-disk tests: the disks are block device files in /dev, mount(2)
// asks init (the mounter) for an fsd on /dev/vda, the mount is
// shared with children, busy mounts are refused, and what was written
// survives umount and a second mount. On the host, the disk then passes
// fsck and holds the file.
func TestMountDisk(t *testing.T) {
	disk := rootDiskCopy(t)
	second := filepath.Join(t.TempDir(), "second.img")
	if out, err := exec.Command(valfs(t), "mkfs", "-size", "32M", second).CombinedOutput(); err != nil {
		t.Fatalf("valfs mkfs: %v\n%s", err, out)
	}
	raw := filepath.Join(t.TempDir(), "raw.img")
	if err := os.WriteFile(raw, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(raw, rawSize); err != nil {
		t.Fatal(err)
	}
	extra := append(nvmeDisk(disk, "valence-root"),
		"-drive", "file="+second+",if=none,id=second,format=raw",
		"-device", "virtio-blk-pci,drive=second,disable-legacy=on",
		"-drive", "file="+raw+",if=none,id=raw,format=raw",
		"-device", "virtio-blk-pci,drive=raw,disable-legacy=on")
	out := runVerdictArgs(t, "fstests", "root=nvme0 init=/bin/fstests FSTESTS=dev,mount-disk,dev-write", bootTimeout, extra)
	mustMatch(t, out,
		`init: disk files: \[/dev/nvme0n1 /dev/vda /dev/vdb\]`,
		`fstests: dev-write: /dev/vdb: 3 writes read back, ENOSPC past its end \(4194304 bytes\)`,
		`init: /dev/vda \(valfs\) served by fsd \(pid \d+\) for mount\(2\)`,
		`fstests: dev: ok`,
		`fstests: mount-disk: "written through mount\(2\) by pid \d+" on /dev/vda, read back after a remount`,
		`proc: pid \d+ \(fstests\): mount /dev/vda \(ext4\) on \S+ refused \(ENODEV\): filesystem type "ext4" is not known`,
	)
	fsck(t, second)
	got, err := exec.Command(valfs(t), "cat", second, "/mount-disk.txt").CombinedOutput()
	if err != nil || !regexp.MustCompile(`^written through mount\(2\) by pid \d+\n$`).Match(got) {
		t.Errorf("valfs cat /mount-disk.txt on the second disk: %q (%v)", got, err)
	}
	// What dev-write wrote through /dev/vdb is on the image
	// (userland/fstests/mount.go: devWritePattern).
	img, err := os.ReadFile(raw)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []struct{ off, n int }{{1000, 10000}, {5000, 1 << 20}, {rawSize - 100, 100}} {
		for i := w.off; i < w.off+w.n; i++ {
			if img[i] != byte(i*7%251) {
				t.Errorf("raw disk byte %d is %d, want %d (dev-write's pattern)", i, img[i], byte(i*7%251))
				break
			}
		}
	}
	if img[999] != 0 || img[rawSize-101] != 0 && rawSize-101 >= 5000+1<<20 {
		t.Errorf("dev-write wrote outside its ranges")
	}
}

// rawSize is the blank disk TestMountDisk gives dev-write.
const rawSize = 4 << 20
