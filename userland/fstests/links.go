package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"time"
	"unsafe"
)

// testRenameLinkSymlink checks rename, hard links and symbolic links,
// and the errors at the edges of the mounts.
func testRenameLinkSymlink(dir string) error {
	at := func(n string) string { return filepath.Join(dir, n) }
	// Rename over an existing file replaces it.
	if err := firstErr(os.WriteFile(at("a"), []byte("A"), 0o644), os.WriteFile(at("b"), []byte("B"), 0o644)); err != nil {
		return err
	}
	if err := os.Rename(at("a"), at("b")); err != nil {
		return fmt.Errorf("rename over a file: %v", err)
	}
	if b, err := os.ReadFile(at("b")); err != nil || string(b) != "A" {
		return fmt.Errorf("the target after rename: %q %v, want \"A\"", b, err)
	}
	if _, err := os.Lstat(at("a")); !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("the source after rename: %v, want fs.ErrNotExist", err)
	}
	// RENAME_NOREPLACE: EEXIST over a file, a rename otherwise.
	if err := os.WriteFile(at("c"), []byte("C"), 0o644); err != nil {
		return err
	}
	if err := wantErrno("RENAME_NOREPLACE over a file", renameNoReplace(at("c"), at("b")), syscall.EEXIST); err != nil {
		return err
	}
	if err := renameNoReplace(at("c"), at("c2")); err != nil {
		return fmt.Errorf("RENAME_NOREPLACE to a new name: %v", err)
	}
	// Rename a directory with a file in it, then into an empty directory
	// (replaced) but not into a non-empty one, nor into itself.
	if err := os.MkdirAll(at("d1/sub"), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(at("d1/sub/file"), []byte("in d1"), 0o644); err != nil {
		return err
	}
	if err := os.Rename(at("d1"), at("d2")); err != nil {
		return fmt.Errorf("rename of a directory: %v", err)
	}
	if b, err := os.ReadFile(at("d2/sub/file")); err != nil || string(b) != "in d1" {
		return fmt.Errorf("a file in the renamed directory: %q %v", b, err)
	}
	if _, err := os.Lstat(at("d1")); !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("the old directory name after rename: %v, want fs.ErrNotExist", err)
	}
	if err := os.Mkdir(at("empty"), 0o755); err != nil {
		return err
	}
	// (os.Rename refuses any existing directory as the target itself, so
	// these go to the kernel through syscall.Rename.)
	if err := syscall.Rename(at("d2"), at("empty")); err != nil {
		return fmt.Errorf("rename of a directory over an empty one: %v", err)
	}
	if err := os.Mkdir(at("d3"), 0o755); err != nil {
		return err
	}
	if err := firstErr(
		wantErrno("rename of a directory over a non-empty one", syscall.Rename(at("d3"), at("empty")), syscall.ENOTEMPTY),
		wantErrno("rename of a directory into itself", os.Rename(at("empty"), at("empty/sub/x")), syscall.EINVAL),
		wantErrno("rename of a directory over a file", os.Rename(at("d3"), at("b")), syscall.ENOTDIR),
		wantErrno("rename of a file over a directory", syscall.Rename(at("b"), at("d3")), syscall.EISDIR),
		wantErrno("rename of a missing file", os.Rename(at("none"), at("x")), syscall.ENOENT)); err != nil {
		return err
	}
	// A hard link: the same inode, two links, writes seen through both.
	if err := os.Link(at("b"), at("hard")); err != nil {
		return fmt.Errorf("link: %v", err)
	}
	sb, err1 := os.Stat(at("b"))
	sh, err2 := os.Stat(at("hard"))
	if err := firstErr(err1, err2); err != nil {
		return err
	}
	if !os.SameFile(sb, sh) {
		return fmt.Errorf("a file and its hard link are not the same file: %v, %v", sb.Sys(), sh.Sys())
	}
	if n := sb.Sys().(*syscall.Stat_t).Nlink; n != 2 {
		return fmt.Errorf("Nlink after link: %d, want 2", n)
	}
	if err := os.WriteFile(at("hard"), []byte("through the link"), 0o644); err != nil {
		return err
	}
	if b, err := os.ReadFile(at("b")); err != nil || string(b) != "through the link" {
		return fmt.Errorf("a write through a hard link, read through the other name: %q %v", b, err)
	}
	if err := wantErrno("link over an existing name", os.Link(at("b"), at("c2")), syscall.EEXIST); err != nil {
		return err
	}
	if err := os.Remove(at("hard")); err != nil {
		return err
	}
	if n, err := nlink(at("b")); err != nil || n != 1 {
		return fmt.Errorf("Nlink after removing the link: %d %v, want 1", n, err)
	}
	// Symbolic links: Readlink, Lstat, Stat through them, relative to the
	// directory holding the link.
	if err := os.Symlink("b", at("sym")); err != nil {
		return fmt.Errorf("symlink: %v", err)
	}
	if target, err := os.Readlink(at("sym")); err != nil || target != "b" {
		return fmt.Errorf("readlink: %q %v, want \"b\"", target, err)
	}
	ls, err := os.Lstat(at("sym"))
	if err != nil || ls.Mode()&fs.ModeSymlink == 0 || ls.Size() != 1 {
		return fmt.Errorf("lstat of a symlink: %v %v, want a symlink of size 1", ls, err)
	}
	if err := os.MkdirAll(at("links/deeper"), 0o755); err != nil {
		return err
	}
	if err := os.Symlink("../../d3/../b", at("links/deeper/rel")); err != nil {
		return err
	}
	st, err := os.Stat(at("links/deeper/rel"))
	if err != nil || !st.Mode().IsRegular() || !os.SameFile(st, sb) {
		return fmt.Errorf("stat through a relative symlink: %v %v, want the file b", st, err)
	}
	if err := os.Symlink("../empty", at("links/dirlink")); err != nil {
		return err
	}
	if b, err := os.ReadFile(at("links/dirlink/sub/file")); err != nil || string(b) != "in d1" {
		return fmt.Errorf("reading through a symlink to a directory: %q %v", b, err)
	}
	// Renaming a symlink moves the link, not its target.
	if err := os.Rename(at("sym"), at("sym2")); err != nil {
		return err
	}
	if target, err := os.Readlink(at("sym2")); err != nil || target != "b" {
		return fmt.Errorf("readlink of a renamed symlink: %q %v", target, err)
	}
	// Across mounts: EXDEV; on the initfs: EROFS.
	if err := firstErr(
		wantErrno("rename from /tmp to /boot", os.Rename(at("b"), "/boot/fstests-rename"), syscall.EXDEV),
		wantErrno("creating a file under /boot", os.WriteFile("/boot/fstests-new", []byte("x"), 0o644), syscall.EROFS),
		wantErrno("mkdir under /boot", os.Mkdir("/boot/fstests-dir", 0o755), syscall.EROFS)); err != nil {
		return err
	}
	if _, err := os.Lstat(at("b")); err != nil {
		return fmt.Errorf("the file after the failed rename: %v", err)
	}
	return nil
}

// renameNoReplace is renameat2(RENAME_NOREPLACE), which the syscall
// package does not wrap.
func renameNoReplace(from, to string) error {
	const sysRenameat2, renameNoreplace = 316, 1
	f, err := syscall.BytePtrFromString(from)
	if err != nil {
		return err
	}
	t, err := syscall.BytePtrFromString(to)
	if err != nil {
		return err
	}
	atFdcwd := -100
	_, _, e := syscall.Syscall6(sysRenameat2, uintptr(atFdcwd), uintptr(unsafe.Pointer(f)),
		uintptr(atFdcwd), uintptr(unsafe.Pointer(t)), renameNoreplace, 0)
	if e != 0 {
		return &os.LinkError{Op: "renameat2", Old: from, New: to, Err: e}
	}
	return nil
}

// testAttrs checks chmod, utimes, chown and the umask.
func testAttrs(dir string) error {
	name := filepath.Join(dir, "f")
	if err := os.WriteFile(name, []byte("attrs"), 0o644); err != nil {
		return err
	}
	for _, m := range []fs.FileMode{0o600, 0o755, 0o444, 0o000, 0o777, 0o640 | fs.ModeSetgid, 0o644} {
		if err := os.Chmod(name, m); err != nil {
			return fmt.Errorf("chmod %v: %v", m, err)
		}
		st, err := os.Stat(name)
		if err != nil {
			return err
		}
		if got := st.Mode() & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky); got != m {
			return fmt.Errorf("chmod %v: stat says %v", m, st.Mode())
		}
	}
	// fchmod on an open file.
	f, err := os.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Chmod(0o604); err != nil {
		return fmt.Errorf("fchmod: %v", err)
	}
	if st, err := f.Stat(); err != nil || st.Mode().Perm() != 0o604 {
		return fmt.Errorf("fstat after fchmod 0604: %v %v", st, err)
	}
	// Chtimes: both times reported back.
	mtime := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
	atime := time.Date(2010, 11, 12, 13, 14, 15, 0, time.UTC)
	if err := os.Chtimes(name, atime, mtime); err != nil {
		return fmt.Errorf("chtimes: %v", err)
	}
	st, err := os.Stat(name)
	if err != nil {
		return err
	}
	sys := st.Sys().(*syscall.Stat_t)
	if st.ModTime().Unix() != mtime.Unix() || sys.Atim.Sec != atime.Unix() {
		return fmt.Errorf("after chtimes: mtime %v atime %d, want %v and %d", st.ModTime(), sys.Atim.Sec, mtime, atime.Unix())
	}
	// A write moves the mtime to now.
	before := time.Now().Add(-time.Minute)
	if err := os.WriteFile(name, []byte("again"), 0o644); err != nil {
		return err
	}
	if st, err := os.Stat(name); err != nil || st.ModTime().Before(before) {
		return fmt.Errorf("mtime after a write: %v %v, want about now (%v)", st.ModTime(), err, time.Now())
	}
	// chown to root, by path and on the descriptor; the owner reported.
	if err := firstErr(os.Chown(name, 0, 0), f.Chown(0, 0), os.Lchown(name, 0, 0)); err != nil {
		return fmt.Errorf("chown 0 0: %v", err)
	}
	if st, err := os.Stat(name); err != nil || st.Sys().(*syscall.Stat_t).Uid != 0 || st.Sys().(*syscall.Stat_t).Gid != 0 {
		return fmt.Errorf("owner after chown 0 0: %v", err)
	}
	// Lstat of a symlink is the link; Stat is its target.
	link := filepath.Join(dir, "link")
	if err := os.Symlink("f", link); err != nil {
		return err
	}
	if st, err := os.Lstat(link); err != nil || st.Mode().Type() != fs.ModeSymlink {
		return fmt.Errorf("lstat of a symlink: %v %v", st, err)
	}
	if st, err := os.Stat(link); err != nil || !st.Mode().IsRegular() || st.Mode().Perm() != 0o604 {
		return fmt.Errorf("stat through a symlink: %v %v, want the regular file, mode 0604", st, err)
	}
	// The umask applies to creation modes.
	old := syscall.Umask(0o027)
	defer syscall.Umask(old)
	if err := os.WriteFile(filepath.Join(dir, "masked"), nil, 0o666); err != nil {
		return err
	}
	if err := os.Mkdir(filepath.Join(dir, "maskeddir"), 0o777); err != nil {
		return err
	}
	if prev := syscall.Umask(old); prev != 0o027 {
		return fmt.Errorf("umask read back as %#o, want 027", prev)
	}
	if st, err := os.Stat(filepath.Join(dir, "masked")); err != nil || st.Mode().Perm() != 0o640 {
		return fmt.Errorf("a file created 0666 under umask 027: %v %v, want 0640", st, err)
	}
	if st, err := os.Stat(filepath.Join(dir, "maskeddir")); err != nil || st.Mode().Perm() != 0o750 {
		return fmt.Errorf("a directory made 0777 under umask 027: %v %v, want 0750", st, err)
	}
	return nil
}

// testCwd works in the test directory by relative paths.
func testCwd(dir string) error {
	home, err := os.Getwd()
	if err != nil {
		return err
	}
	defer os.Chdir(home)
	if err := os.Chdir(dir); err != nil {
		return err
	}
	if wd, err := os.Getwd(); err != nil || wd != dir {
		return fmt.Errorf("getwd after chdir %s: %q %v", dir, wd, err)
	}
	if err := os.WriteFile("rel.txt", []byte("relative"), 0o644); err != nil {
		return fmt.Errorf("creating a file by a relative path: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "rel.txt")); err != nil || string(b) != "relative" {
		return fmt.Errorf("the file made by a relative path, read by its absolute one: %q %v", b, err)
	}
	if err := os.Mkdir("sub", 0o755); err != nil {
		return err
	}
	if err := os.Chdir("sub"); err != nil {
		return err
	}
	if wd, err := os.Getwd(); err != nil || wd != dir+"/sub" {
		return fmt.Errorf("getwd after chdir sub: %q %v", wd, err)
	}
	if b, err := os.ReadFile("../rel.txt"); err != nil || string(b) != "relative" {
		return fmt.Errorf("reading ../rel.txt: %q %v", b, err)
	}
	if abs, err := filepath.Abs("x/y"); err != nil || abs != dir+"/sub/x/y" {
		return fmt.Errorf("filepath.Abs(x/y): %q %v", abs, err)
	}
	// fchdir back to the test directory.
	d, err := os.Open("..")
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Chdir(); err != nil {
		return fmt.Errorf("fchdir: %v", err)
	}
	if wd, err := syscall.Getwd(); err != nil || wd != dir { // the kernel's getcwd, not $PWD
		return fmt.Errorf("getcwd after fchdir: %q %v", wd, err)
	}
	if err := firstErr(
		wantErrno("chdir into a file", os.Chdir("rel.txt"), syscall.ENOTDIR),
		wantErrno("chdir into a missing directory", os.Chdir("none"), syscall.ENOENT)); err != nil {
		return err
	}
	// "." and ".." as path components.
	if b, err := os.ReadFile("./sub/../rel.txt"); err != nil || string(b) != "relative" {
		return fmt.Errorf("reading ./sub/../rel.txt: %q %v", b, err)
	}
	if err := os.Chdir(home); err != nil {
		return err
	}
	if wd, err := os.Getwd(); err != nil || wd != home {
		return fmt.Errorf("getwd after chdir back: %q %v, want %q", wd, err, home)
	}
	return nil
}
