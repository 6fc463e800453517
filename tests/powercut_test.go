package tests

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"valence.dev/tests/qemu"
)

var (
	valfsOnce sync.Once
	valfsPath string
	valfsErr  error
)

// valfs builds the host tool that checks and reads Valence disks
// (servers/fs/cmd/valfs) once per test run.
func valfs(t *testing.T) string {
	t.Helper()
	valfsOnce.Do(func() {
		root, err := qemu.Root()
		if err != nil {
			valfsErr = err
			return
		}
		dir, err := os.MkdirTemp("", "valfs")
		if err != nil {
			valfsErr = err
			return
		}
		valfsPath = filepath.Join(dir, "valfs")
		cmd := exec.Command("go", "build", "-o", valfsPath, "./cmd/valfs")
		cmd.Dir = filepath.Join(root, "servers", "fs")
		if out, err := cmd.CombinedOutput(); err != nil {
			valfsErr = fmt.Errorf("building valfs: %v\n%s", err, out)
		}
	})
	if valfsErr != nil {
		t.Fatal(valfsErr)
	}
	return valfsPath
}

// fsck runs valfs fsck on a disk image and fails the test unless it is
// clean.
func fsck(t *testing.T, disk string) {
	t.Helper()
	out, err := exec.Command(valfs(t), "fsck", disk).CombinedOutput()
	if err != nil {
		t.Errorf("valfs fsck %s: %v\n%s", disk, err, out)
		return
	}
	t.Logf("valfs fsck: %s", bytes.TrimSpace(out))
}

// crashContent is what fstests' crash-writer puts in f-<k>
// (userland/fstests/crash.go).
func crashContent(k int) []byte {
	line := []byte(fmt.Sprintf("crash file %d\n", k))
	n := 1000 + k*997%50000
	return bytes.Repeat(line, n/len(line)+1)[:n]
}

// TestPowerCut kills QEMU at random moments while fstests' crash-writer
// writes and fsyncs files on the root disk: every time, the disk must
// pass fsck and hold every file the writer said was fsynced, intact.
// make test cuts 3 times; make soak (VALENCE_LONG) 50.
func TestPowerCut(t *testing.T) {
	if testing.Short() {
		t.Skip("boots the kernel under QEMU; skipped with -short")
	}
	cuts := 3
	if os.Getenv("VALENCE_LONG") != "" {
		cuts = 50
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	synced := regexp.MustCompile(`fstests: crash-writer: synced (\d+)`)
	for i := range cuts {
		disk := rootDiskCopy(t)
		m := qemu.Boot(t, qemu.Options{Cmdline: "root=nvme0 init=/bin/fstests FSTESTS=crash-writer",
			Timeout: bootTimeout, ExtraArgs: nvmeDisk(disk, "valence-cut")})
		// Cut after a random number of fsynced files, a random while
		// into the next.
		after := rng.IntN(12)
		m.Expect(fmt.Sprintf(`fstests: crash-writer: synced %d\b`, after), bootTimeout)
		time.Sleep(time.Duration(rng.IntN(1500)) * time.Millisecond)
		m.Kill()
		last := -1
		for _, g := range synced.FindAllStringSubmatch(m.Output(), -1) {
			last, _ = strconv.Atoi(g[1])
		}
		t.Logf("cut %d: after file %d was fsynced", i+1, last)
		fsck(t, disk)
		for k := 0; k <= last; k++ {
			got, err := exec.Command(valfs(t), "cat", disk, fmt.Sprintf("/var/crash/f-%d", k)).Output()
			if err != nil {
				t.Errorf("cut %d: fsynced file f-%d: %v", i+1, k, err)
				continue
			}
			if !bytes.Equal(got, crashContent(k)) {
				t.Errorf("cut %d: fsynced file f-%d: %d bytes differ from the %d written", i+1, k, len(got), len(crashContent(k)))
			}
		}
		if t.Failed() {
			t.Logf("console:\n%s", m.Output())
			return
		}
	}
}
