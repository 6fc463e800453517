package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// testDev checks the kernel's devices and the disk files init
// attaches to /dev: /dev/full refuses writes, the root disk is a block
// device whose bytes read as the disk's (the valfs superblock's magic at
// the start, as fsd wrote it).
func testDev(dir string) error {
	full, err := os.OpenFile("/dev/full", os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer full.Close()
	if _, err := full.Write([]byte("x")); !errors.Is(err, syscall.ENOSPC) {
		return fmt.Errorf("write to /dev/full: %v, want ENOSPC", err)
	}
	b := []byte{1, 2, 3}
	if n, err := full.Read(b); n != 3 || err != nil || !bytes.Equal(b, make([]byte, 3)) {
		return fmt.Errorf("read of /dev/full: %d %v %v, want three zeros", n, err, b)
	}
	names, err := os.ReadDir("/dev")
	if err != nil {
		return err
	}
	listed := map[string]bool{}
	for _, e := range names {
		listed[e.Name()] = true
	}
	for _, want := range []string{"null", "zero", "full", "random", "urandom", "console", "tty"} {
		if !listed[want] {
			return fmt.Errorf("/dev lacks %s: %v", want, names)
		}
	}
	if !listed["nvme0n1"] {
		return fmt.Errorf("/dev lacks the root disk nvme0n1: %v", names)
	}
	var st syscall.Stat_t
	if err := syscall.Stat("/dev/nvme0n1", &st); err != nil {
		return err
	}
	if st.Mode&syscall.S_IFMT != syscall.S_IFBLK || st.Size == 0 || st.Rdev == 0 {
		return fmt.Errorf("/dev/nvme0n1: mode %#o size %d rdev %#x, want a block device with a size", st.Mode, st.Size, st.Rdev)
	}
	disk, err := os.Open("/dev/nvme0n1")
	if err != nil {
		return err
	}
	defer disk.Close()
	// The last byte is readable, the one after the end reads as EOF.
	one := make([]byte, 1)
	if n, err := disk.ReadAt(one, st.Size-1); n != 1 || err != nil {
		return fmt.Errorf("reading the last byte of /dev/nvme0n1: %d %v", n, err)
	}
	if n, _ := disk.ReadAt(one, st.Size); n != 0 {
		return fmt.Errorf("read past the end of /dev/nvme0n1 gave %d bytes", n)
	}
	if err := os.Remove("/dev/nvme0n1"); !errors.Is(err, syscall.EPERM) {
		return fmt.Errorf("removing /dev/nvme0n1: %v, want EPERM", err)
	}
	return nil
}

// mountDisk is the second disk TestMountDisk attaches (virtio-blk), which
// holds a valfs filesystem.
const mountDisk = "/dev/vda"

// testMountDisk mounts the second disk with mount(2), as mount(8) would,
// uses it from this process and from a child (which shares the mount
// namespace), checks that a busy mount cannot be unmounted, unmounts and
// mounts again to find what was written, and leaves mount-disk.txt on the
// disk for the host to read.
func testMountDisk(dir string) error {
	mnt := filepath.Join(dir, "mnt")
	if err := os.Mkdir(mnt, 0o755); err != nil {
		return err
	}
	refusals := []struct {
		what                 string
		source, target, kind string
		flags                uintptr
		want                 syscall.Errno
	}{
		{"unknown type", mountDisk, mnt, "ext4", 0, syscall.ENODEV},
		{"not a block device", "/dev/null", mnt, "valfs", 0, syscall.ENOTBLK},
		{"a regular file", "/etc/motd", mnt, "valfs", 0, syscall.ENOTBLK},
		{"no such device", "/dev/vdz", mnt, "valfs", 0, syscall.ENOENT},
		{"no such target", mountDisk, filepath.Join(dir, "nowhere"), "valfs", 0, syscall.ENOENT},
		{"read-only (not supported)", mountDisk, mnt, "valfs", syscall.MS_RDONLY, syscall.EINVAL},
		{"the root disk, mounted already", "/dev/nvme0n1", mnt, "valfs", 0, syscall.EBUSY},
		{"move (not supported)", mnt, mnt, "", syscall.MS_MOVE, syscall.EINVAL},
	}
	for _, r := range refusals {
		if err := syscall.Mount(r.source, r.target, r.kind, r.flags, ""); !errors.Is(err, r.want) {
			return fmt.Errorf("mount %s (%s): %v, want %v", r.source, r.what, err, r.want)
		}
	}
	if err := syscall.Unmount(mnt, 0); !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("umount of a directory that is no mount: %v, want EINVAL", err)
	}
	if err := syscall.Mount(mountDisk, mnt, "valfs", syscall.MS_NOSUID|syscall.MS_NODEV, ""); err != nil {
		return fmt.Errorf("mount %s: %w", mountDisk, err)
	}
	mounts, err := os.ReadFile("/proc/self/mounts")
	if err != nil || !strings.Contains(string(mounts), mountDisk+" "+mnt+" valfs rw") {
		return fmt.Errorf("/proc/self/mounts (%v) lacks %s on %s:\n%s", err, mountDisk, mnt, mounts)
	}
	if err := syscall.Mount(mountDisk, mnt, "valfs", 0, ""); !errors.Is(err, syscall.EBUSY) {
		return fmt.Errorf("mounting %s twice: %v, want EBUSY", mountDisk, err)
	}
	content := fmt.Sprintf("written through mount(2) by pid %d\n", os.Getpid())
	file := filepath.Join(mnt, "mount-disk.txt")
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(content); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	// Busy: a file is open below the mount point.
	if err := syscall.Unmount(mnt, 0); !errors.Is(err, syscall.EBUSY) {
		f.Close()
		return fmt.Errorf("umount with a file open: %v, want EBUSY", err)
	}
	f.Close()
	// A child shares the namespace: it sees the mount.
	out, err := runSelf("FSTESTS_CAT=" + file)
	if err != nil || string(out) != content {
		return fmt.Errorf("a child reading %s: %q (%v), want %q", file, out, err, content)
	}
	// ... and a child that unshares may unmount its copy only.
	if out, err := runSelf("FSTESTS_UNSHARE_UMOUNT=" + mnt); err != nil {
		return fmt.Errorf("a child unmounting its private copy: %v: %s", err, out)
	}
	if got, err := os.ReadFile(file); err != nil || string(got) != content {
		return fmt.Errorf("after a child unmounted its own copy: %q (%v)", got, err)
	}
	if err := syscall.Unmount(mnt, 0); err != nil {
		return fmt.Errorf("umount %s: %w", mnt, err)
	}
	if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("%s after umount: %v, want it gone with the mount", file, err)
	}
	// Mounted again (a new fsd): what was written is there.
	if err := syscall.Mount(mountDisk, mnt, "valfs", 0, ""); err != nil {
		return fmt.Errorf("mount %s again: %w", mountDisk, err)
	}
	if got, err := os.ReadFile(file); err != nil || string(got) != content {
		return fmt.Errorf("after mounting again: %q (%v), want %q", got, err, content)
	}
	if err := syscall.Unmount(mnt, 0); err != nil {
		return fmt.Errorf("the last umount: %w", err)
	}
	fmt.Printf("fstests: mount-disk: %q on %s, read back after a remount\n", strings.TrimSpace(content), mountDisk)
	return nil
}

// childRole runs the parts of testMountDisk that a child process plays,
// and reports whether this process was one.
func childRole() bool {
	if p := os.Getenv("FSTESTS_CAT"); p != "" {
		b, err := os.ReadFile(p)
		if err != nil {
			fmt.Print(err)
			os.Exit(1)
		}
		os.Stdout.Write(b)
		os.Exit(0)
	}
	if p := os.Getenv("FSTESTS_UNSHARE_UMOUNT"); p != "" {
		if err := syscall.Unshare(syscall.CLONE_NEWNS); err != nil {
			fmt.Printf("unshare: %v", err)
			os.Exit(1)
		}
		if err := syscall.Unmount(p, 0); err != nil {
			fmt.Printf("umount: %v", err)
			os.Exit(1)
		}
		if _, err := os.Stat(filepath.Join(p, "mount-disk.txt")); !errors.Is(err, os.ErrNotExist) {
			fmt.Printf("still mounted in the child after its umount: %v", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	return false
}

// runSelf runs this program again with env added, for a child's role.
func runSelf(env string) ([]byte, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe)
	cmd.Env = append(os.Environ(), env)
	return cmd.CombinedOutput()
}

// rawDisk is the third disk TestMountDisk attaches: blank, for writes.
const rawDisk = "/dev/vdb"

// devWritePattern is what testDevWrite writes at byte off of rawDisk
// (tests/rootfs_test.go checks the image for it).
func devWritePattern(off, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte((off + i) * 7 % 251)
	}
	return b
}

// testDevWrite writes a block device through its file at unaligned
// offsets, up to and past its end, and reads it back.
func testDevWrite(dir string) error {
	f, err := os.OpenFile(rawDisk, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	size, err := f.Seek(0, io.SeekEnd)
	if err != nil || size <= 0 {
		return fmt.Errorf("the size of %s: %d %v", rawDisk, size, err)
	}
	writes := []struct{ off, n int }{{1000, 10000}, {5000, 1 << 20}, {int(size) - 100, 100}}
	for _, w := range writes {
		if n, err := f.WriteAt(devWritePattern(w.off, w.n), int64(w.off)); n != w.n || err != nil {
			return fmt.Errorf("writing %d bytes at %d of %s: %d %v", w.n, w.off, rawDisk, n, err)
		}
	}
	if n, err := f.WriteAt([]byte("x"), size); n != 0 || !errors.Is(err, syscall.ENOSPC) {
		return fmt.Errorf("writing past the end of %s: %d %v, want ENOSPC", rawDisk, n, err)
	}
	if err := f.Sync(); err != nil {
		return err
	}
	for _, w := range writes {
		got := make([]byte, w.n)
		if n, err := f.ReadAt(got, int64(w.off)); n != w.n || err != nil && err != io.EOF || !bytes.Equal(got, devWritePattern(w.off, w.n)) {
			return fmt.Errorf("reading back %d bytes at %d of %s: %d %v", w.n, w.off, rawDisk, n, err)
		}
	}
	// One big read (through a shared buffer) and small ones (inline)
	// see the same bytes (the disk is idle: nothing else writes it).
	big := make([]byte, 1<<20+5000)
	if n, err := f.ReadAt(big, 0); n != len(big) || err != nil {
		return fmt.Errorf("reading %d bytes of %s: %d %v", len(big), rawDisk, n, err)
	}
	for off := 0; off < len(big); off += 3000 {
		small := make([]byte, min(3000, len(big)-off))
		if n, err := f.ReadAt(small, int64(off)); n != len(small) || err != nil || !bytes.Equal(small, big[off:off+n]) {
			return fmt.Errorf("%s at %d: a 3000-byte read (%d, %v) differs from the big read", rawDisk, off, n, err)
		}
	}
	fmt.Printf("fstests: dev-write: %s: 3 writes read back, ENOSPC past its end (%d bytes)\n", rawDisk, size)
	return nil
}
