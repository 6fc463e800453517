package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// valfsMagic is what statfs reports as the type of a filesystem fsd
// serves ("VALF").
const valfsMagic = 0x56414c46

// testFsyncStatfs syncs files and directories, and reads statfs of the
// root, of a file on it, and of the initfs.
func testFsyncStatfs(dir string) error {
	name := filepath.Join(dir, "synced")
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Write(pattern(9, 100000)); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("fsync: %v", err)
	}
	if _, err := f.Write([]byte("more")); err != nil {
		return err
	}
	if err := syscall.Fdatasync(int(f.Fd())); err != nil {
		return fmt.Errorf("fdatasync: %v", err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync of a directory: %v", err)
	}
	syscall.Sync()
	var root, boot, file, sub syscall.Statfs_t
	if err := syscall.Statfs("/", &root); err != nil {
		return fmt.Errorf("statfs /: %v", err)
	}
	if root.Type != valfsMagic {
		return fmt.Errorf("statfs /: type %#x, want valfs %#x", root.Type, valfsMagic)
	}
	if root.Blocks == 0 || root.Bsize <= 0 || root.Bfree > root.Blocks || root.Bavail > root.Blocks || root.Namelen != 255 {
		return fmt.Errorf("statfs /: %d blocks of %d bytes, %d free, %d available, names up to %d bytes",
			root.Blocks, root.Bsize, root.Bfree, root.Bavail, root.Namelen)
	}
	if err := syscall.Fstatfs(int(f.Fd()), &file); err != nil {
		return fmt.Errorf("fstatfs: %v", err)
	}
	if err := syscall.Statfs(dir, &sub); err != nil {
		return fmt.Errorf("statfs %s: %v", dir, err)
	}
	if file.Type != valfsMagic || sub.Type != valfsMagic || file.Blocks != root.Blocks {
		return fmt.Errorf("fstatfs of a file on /: type %#x, %d blocks; statfs %s: type %#x; statfs /: %d blocks",
			file.Type, file.Blocks, dir, sub.Type, root.Blocks)
	}
	if err := syscall.Statfs("/boot", &boot); err != nil {
		return fmt.Errorf("statfs /boot: %v", err)
	}
	if boot.Type == root.Type {
		return fmt.Errorf("statfs /boot: type %#x, the same as /", boot.Type)
	}
	if err := f.Close(); err != nil {
		return err
	}
	if st, err := os.Stat(name); err != nil || st.Size() != 100004 {
		return fmt.Errorf("the synced file: %v %v, want 100004 bytes", st, err)
	}
	fmt.Printf("fstests: fsync-statfs: / is valfs, %d blocks of %d bytes, %d free\n", root.Blocks, root.Bsize, root.Bfree)
	return nil
}

// hello is the program testExec runs; helloSays is what it prints.
const (
	hello     = "/bin/hello"
	helloSays = "hello: goroutines say [0 1 4 9 16 25 36 49]"
)

// testExec runs /bin/hello from the root disk, a copy of it the test
// writes, and a copy without execute permission.
func testExec(dir string) error {
	if err := runHello(exec.Command(hello, "one"), hello, "one"); err != nil {
		return err
	}
	prog, err := os.ReadFile(hello)
	if err != nil {
		return err
	}
	cp := filepath.Join(dir, "hello-copy")
	if err := os.WriteFile(cp, prog, 0o644); err != nil {
		return err
	}
	if err := os.Chmod(cp, 0o755); err != nil {
		return err
	}
	if err := runHello(exec.Command(cp, "two", "args"), cp, "two", "args"); err != nil {
		return fmt.Errorf("the copy: %w", err)
	}
	// By a relative path, in the directory the child starts in.
	cmd := exec.Command("./hello-copy")
	cmd.Dir = dir
	if err := runHello(cmd, "./hello-copy"); err != nil {
		return fmt.Errorf("the copy by a relative path: %w", err)
	}
	// Without an execute bit, even root may not run it.
	noexec := filepath.Join(dir, "hello-noexec")
	if err := os.WriteFile(noexec, prog, 0o644); err != nil {
		return err
	}
	err = exec.Command(noexec).Run()
	if !errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("running a file without an execute bit: %v, want fs.ErrPermission", err)
	}
	return wantErrno("running a file without an execute bit", err, syscall.EACCES)
}

// runHello runs cmd, a /bin/hello, and checks what it prints.
func runHello(cmd *exec.Cmd, args ...string) error {
	cmd.Env = []string{"HOME=/fstests-home"}
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%s: %v; output %q", cmd.Path, err, out)
	}
	quoted := fmt.Sprintf("%q", args)
	if !strings.Contains(string(out), helloSays) || !strings.Contains(string(out), "args "+quoted+`, HOME="/fstests-home"`) {
		return fmt.Errorf("%s printed %q; want args %s, HOME=\"/fstests-home\" and %q", cmd.Path, out, quoted, helloSays)
	}
	return nil
}

// testErrors checks the errnos of common mistakes.
func testErrors(dir string) error {
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("a file"), 0o644); err != nil {
		return err
	}
	_, err := os.Open(filepath.Join(dir, "missing"))
	if !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("open of a missing file: %v, want fs.ErrNotExist", err)
	}
	open := func(name string, flag int) error {
		f, err := os.OpenFile(name, flag, 0o644)
		if err == nil {
			f.Close()
		}
		return err
	}
	_, statErr := os.Stat(file + "/x")
	long := strings.Repeat("n", 256)
	_, longStatErr := os.Stat(filepath.Join(dir, long))
	if err := firstErr(
		wantErrno("open of a missing file", err, syscall.ENOENT),
		wantErrno("open of \"\"", open("", os.O_RDONLY), syscall.ENOENT),
		wantErrno("open of a file with a trailing slash", open(file+"/", os.O_RDONLY), syscall.ENOTDIR),
		wantErrno("open of file/x", open(file+"/x", os.O_RDONLY), syscall.ENOTDIR),
		wantErrno("create of file/x", open(file+"/x", os.O_WRONLY|os.O_CREATE), syscall.ENOTDIR),
		wantErrno("stat of file/x", statErr, syscall.ENOTDIR),
		wantErrno("mkdir of file/x", os.Mkdir(file+"/x", 0o755), syscall.ENOTDIR),
		wantErrno("create of a 256-byte name", open(filepath.Join(dir, long), os.O_WRONLY|os.O_CREATE), syscall.ENAMETOOLONG),
		wantErrno("stat of a 256-byte name", longStatErr, syscall.ENAMETOOLONG),
		wantErrno("mkdir of a 256-byte name", os.Mkdir(filepath.Join(dir, long), 0o755), syscall.ENAMETOOLONG),
		wantErrno("O_DIRECTORY on a file", open(file, os.O_RDONLY|syscall.O_DIRECTORY), syscall.ENOTDIR),
		wantErrno("opening a directory for writing", open(dir, os.O_WRONLY), syscall.EISDIR),
		wantErrno("O_CREAT of a new name with a trailing slash", open(filepath.Join(dir, "new")+"/", os.O_WRONLY|os.O_CREATE), syscall.EISDIR),
		wantErrno("truncate of a directory", os.Truncate(dir, 0), syscall.EISDIR),
		wantErrno("readlink of a file", readlinkErr(file), syscall.EINVAL),
		wantErrno("remove of a missing file", os.Remove(filepath.Join(dir, "missing")), syscall.ENOENT)); err != nil {
		return err
	}
	// 255 bytes is allowed, and listed.
	longest := filepath.Join(dir, strings.Repeat("n", 255))
	if err := os.WriteFile(longest, []byte("long"), 0o644); err != nil {
		return fmt.Errorf("creating a 255-byte name: %v", err)
	}
	if names, err := getdentsNames(dir, 4096); err != nil || len(names) != 2 {
		return fmt.Errorf("listing the 255-byte name: %d names, %v", len(names), err)
	}
	if err := os.Remove(longest); err != nil {
		return err
	}
	// Symlinks: O_NOFOLLOW on one, and a loop.
	if err := firstErr(os.Symlink("file", filepath.Join(dir, "sym")),
		os.Symlink("loop2", filepath.Join(dir, "loop1")), os.Symlink("loop1", filepath.Join(dir, "loop2"))); err != nil {
		return err
	}
	_, loopErr := os.Stat(filepath.Join(dir, "loop1"))
	if err := firstErr(
		wantErrno("O_NOFOLLOW on a symlink", open(filepath.Join(dir, "sym"), os.O_RDONLY|syscall.O_NOFOLLOW), syscall.ELOOP),
		wantErrno("stat of a symlink loop", loopErr, syscall.ELOOP)); err != nil {
		return err
	}
	// Reading a directory as a file: EISDIR.
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	_, err = d.Read(make([]byte, 100))
	if err := wantErrno("read of a directory", err, syscall.EISDIR); err != nil {
		return err
	}
	// getdents into a buffer too small for one entry: EINVAL.
	fd, err := syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	_, err = syscall.Getdents(fd, make([]byte, 16))
	syscall.Close(fd)
	if err := wantErrno("getdents64 into 16 bytes", err, syscall.EINVAL); err != nil {
		return err
	}
	// Descriptors used against their mode; a negative offset.
	r, err := os.Open(file)
	if err != nil {
		return err
	}
	defer r.Close()
	w, err := os.OpenFile(file, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer w.Close()
	_, werr := r.Write([]byte("x"))
	_, rerr := w.Read(make([]byte, 1))
	_, serr := r.Seek(-1, io.SeekStart)
	if err := firstErr(
		wantErrno("write on a read-only descriptor", werr, syscall.EBADF),
		wantErrno("read on a write-only descriptor", rerr, syscall.EBADF),
		wantErrno("seek to a negative offset", serr, syscall.EINVAL)); err != nil {
		return err
	}
	if b, err := os.ReadFile(file); err != nil || !bytes.Equal(b, []byte("a file")) {
		return fmt.Errorf("the file after the failed calls: %q %v", b, err)
	}
	return nil
}

func readlinkErr(name string) error {
	_, err := os.Readlink(name)
	return err
}
