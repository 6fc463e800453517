package tests

import (
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"valence.dev/tests/qemu"
)

// TestRootDisk boots with the image's own root disk (root.img, which
// mkimage builds from the image's tree) as an NVMe drive, in QEMU's
// snapshot mode so the image is never written: pcid starts nvmed, fsd
// mounts the disk as it is, and the files read through the file protocol
// are the initfs's, byte for byte.
func TestRootDisk(t *testing.T) {
	root, err := qemu.Root()
	if err != nil {
		t.Fatal(err)
	}
	img := filepath.Join(filepath.Dir(qemu.ImagePaths(root).Kernel), "root.img")
	if _, err := os.Stat(img); err != nil {
		t.Fatalf("no root disk: %v (make image builds it)", err)
	}
	out := runVerdictArgs(t, "drvtests", "init=/bin/drvtests DRVTESTS=fsd-root debug", bootTimeout, []string{
		"-drive", "file=" + img + ",if=none,id=nvm,format=raw,snapshot=on",
		"-device", "nvme,serial=valence-root,drive=nvm",
	})
	for _, re := range []string{
		`fsd: mounted QEMU NVMe Ctrl \(serial "valence-root"\), generation \d+`,
		`drvtests: fsd: the image's root disk mounted from nvme0: 4 files identical to the initfs`,
		`drvtests: fsd-root: ok`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("the console lacks %s", re)
		}
	}
	if t.Failed() {
		t.Logf("console:\n%s", out)
	}
}
