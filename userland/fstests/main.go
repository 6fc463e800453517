// Command fstests exercises the file system as an unmodified Go program
// sees it, through the os, io/fs, path/filepath, os/exec and syscall
// packages: the Linux file calls the kernel forwards to the file server
// (fsd) mounted at "/", with the read-only initfs at /boot
// (docs/filesystems.md). Run it as init= (through /bin/init, which
// mounts the root disk), so that "/" is writable.
//
// Each test works in a directory of its own, /tmp/fstests-<name>, made
// empty before it runs and removed after. It prints "fstests: <name>: ok"
// per test that passes and "fstests: FAIL <name>: <why>" per test that
// fails, goes on with the others, and finally prints "fstests: PASS" (exit
// 0) or "fstests: FAIL (<n> of <m> failed: <names>)" (exit 1).
//
// FSTESTS=a,b (or the names as arguments) runs only those ("default" stands
// for every test but the persist-* ones). The persist-*
// tests, for a machine that boots the same disk twice, run only when
// named: persist-write on the first boot, persist-check on the second.
package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"
)

type test struct {
	name     string
	run      func(dir string) error
	explicit bool // runs only when named
	ownDir   bool // works elsewhere than /tmp/fstests-<name>
}

var tests = []test{
	{name: "create-read", run: testCreateRead},
	{name: "append", run: testAppend},
	{name: "excl-trunc", run: testExclTrunc},
	{name: "dirs", run: testDirs},
	{name: "many-files", run: testManyFiles},
	{name: "seek-dir", run: testSeekDir},
	{name: "rename-link-symlink", run: testRenameLinkSymlink},
	{name: "attrs", run: testAttrs},
	{name: "cwd", run: testCwd},
	{name: "fsync-statfs", run: testFsyncStatfs},
	{name: "exec", run: testExec},
	{name: "errors", run: testErrors},
	{name: "proc", run: testProc},
	{name: "dev", run: testDev},
	{name: "persist-write", run: testPersistWrite, explicit: true, ownDir: true},
	{name: "persist-check", run: testPersistCheck, explicit: true, ownDir: true},
	{name: "tree-10k", run: testTree10k, explicit: true},
	{name: "crash-writer", run: testCrashWriter, explicit: true, ownDir: true},
	{name: "mount-disk", run: testMountDisk, explicit: true},
	{name: "dev-write", run: testDevWrite, explicit: true},
}

func main() {
	if childRole() {
		return
	}
	start := time.Now()
	only := os.Getenv("FSTESTS")
	if len(os.Args) > 1 {
		only = strings.Join(append([]string{only}, os.Args[1:]...), ",")
	}
	named := map[string]bool{}
	for _, n := range strings.Split(only, ",") {
		if n = strings.TrimSpace(n); n != "" {
			named[n] = true
		}
	}
	for n := range named {
		if !known(n) && n != "default" {
			fmt.Printf("fstests: FAIL %s: no such test\n", n)
			os.Exit(1)
		}
	}
	var failed []string
	ran := 0
	for _, t := range tests {
		// "default" names every test that is not run only when named.
		all := len(named) == 0 || named["default"] && !t.explicit
		if !all && !named[t.name] || t.explicit && !named[t.name] {
			continue
		}
		ran++
		t0 := time.Now()
		if err := runTest(t); err != nil {
			fmt.Printf("fstests: FAIL %s: %v\n", t.name, err)
			failed = append(failed, t.name)
			continue
		}
		fmt.Printf("fstests: %s: ok (%v)\n", t.name, time.Since(t0).Round(time.Millisecond))
	}
	if len(failed) > 0 {
		fmt.Printf("fstests: FAIL (%d of %d failed: %s)\n", len(failed), ran, strings.Join(failed, ", "))
		os.Exit(1)
	}
	fmt.Printf("fstests: PASS (%v)\n", time.Since(start).Round(time.Millisecond))
}

func known(name string) bool {
	for _, t := range tests {
		if t.name == name {
			return true
		}
	}
	return false
}

// runTest runs t in a fresh /tmp/fstests-<name> and removes it after. A
// panic in a test is its failure, not the end of the run.
func runTest(t test) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic: %v", r)
		}
	}()
	if t.ownDir {
		return t.run("")
	}
	dir, err := testDir(t.name)
	if err != nil {
		return fmt.Errorf("making the test directory: %w", err)
	}
	err = t.run(dir)
	os.Chdir("/") // in case a test left its directory as the cwd
	if rerr := os.RemoveAll(dir); rerr != nil && err == nil {
		err = fmt.Errorf("cleanup: %w", rerr)
	} else if _, serr := os.Lstat(dir); err == nil && !errors.Is(serr, os.ErrNotExist) {
		err = fmt.Errorf("cleanup: %s still there after RemoveAll: %v", dir, serr)
	}
	return err
}

// testDir makes /tmp (if missing, mode 1777) and an empty
// /tmp/fstests-<name>.
func testDir(name string) (string, error) {
	if _, err := os.Stat("/tmp"); errors.Is(err, os.ErrNotExist) {
		if err := os.Mkdir("/tmp", 0o777); err != nil && !errors.Is(err, os.ErrExist) {
			return "", err
		}
		if err := os.Chmod("/tmp", 0o777|os.ModeSticky); err != nil {
			return "", err
		}
	}
	dir := "/tmp/fstests-" + name
	if err := os.RemoveAll(dir); err != nil {
		return "", err
	}
	if err := os.Mkdir(dir, 0o755); err != nil {
		return "", err
	}
	return dir, nil
}

// pattern is n bytes derived from seed, never all zeros and not
// periodic on any block size, so that a misplaced block shows.
func pattern(seed, n int) []byte {
	b := make([]byte, n)
	x := uint64(seed)*0x9e3779b97f4a7c15 + 1
	for i := range b {
		x = x*6364136223846793005 + 1442695040888963407
		b[i] = byte(x>>56) | 1
	}
	return b
}

var errnoNames = map[syscall.Errno]string{
	syscall.EEXIST: "EEXIST", syscall.ENOENT: "ENOENT", syscall.ENOTDIR: "ENOTDIR",
	syscall.EISDIR: "EISDIR", syscall.ENOTEMPTY: "ENOTEMPTY", syscall.ENAMETOOLONG: "ENAMETOOLONG",
	syscall.EXDEV: "EXDEV", syscall.EROFS: "EROFS", syscall.EACCES: "EACCES",
	syscall.EINVAL: "EINVAL", syscall.ELOOP: "ELOOP", syscall.EBADF: "EBADF",
}

// wantErrno is nil when err is the errno want, and otherwise says what
// happened instead.
func wantErrno(what string, err error, want syscall.Errno) error {
	if errors.Is(err, want) {
		return nil
	}
	name := errnoNames[want]
	if name == "" {
		name = fmt.Sprintf("errno %d", int(want))
	}
	return fmt.Errorf("%s: got %v, want %s (%v)", what, err, name, want)
}

// firstErr returns the first non-nil error.
func firstErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
