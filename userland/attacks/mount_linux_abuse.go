package main

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"syscall"

	"valence.dev/ipc"
	"valence.dev/libos"
)

// linux-mount-abuse: Linux's mount(2), umount2(2) and unshare(2), and the
// first process's calls behind them (attaching device files, naming the
// mounter), attacked. This program is the first process, so it attaches
// a lying block device at /dev/liar0 and serves a lying mounter itself
// (mount_linux_mounter.go): errors with overlong messages, replies
// without a server, with a memory object, with a server that speaks no
// file protocol, and no reply at all. Then bind mounts raced against
// lookups and unshare, and bind mounts until the table is full.
//
// The checks are independent: each failure is collected, and all are
// reported at the end, so that one kernel bug does not hide the others.

func init() {
	addTest("linux-mount-abuse", testLinuxMountAbuse)
	addRole("lm-first-only", roleLMFirstOnly)
	addRole("lm-hang", roleLMHang)
	addRole("lm-unshare", roleLMUnshare)
	addRole("lm-keep-ns", roleLMKeepNS)
}

// lmDevice is the lying block device this test attaches.
const lmDevice = "/dev/liar0"

// Linux constants package syscall lacks.
const (
	lmMntExpire    = 4          // MNT_EXPIRE
	lmCloneNewUser = 0x10000000 // CLONE_NEWUSER
	lmCloneNewNet  = 0x40000000 // CLONE_NEWNET
)

// lmChecks collects the failures of independent checks.
type lmChecks struct{ errs []error }

func (c *lmChecks) failf(format string, args ...any) {
	c.errs = append(c.errs, fmt.Errorf(format, args...))
}

// expect records a failure unless got is want.
func (c *lmChecks) expect(what string, got, want syscall.Errno) {
	if got != want {
		c.failf("%s: %s, want %s", what, errnoName(got), errnoName(want))
	}
}

func testLinuxMountAbuse() error {
	var c lmChecks
	lmBadArguments(&c)
	dev, err := lmAttachLiar()
	if err != nil {
		return err
	}
	lmAttachChecks(&c, dev)
	lmFirstOnly(&c)
	lmNoMounter(&c)
	fm, err := lmMounterChecks(&c)
	if err != nil {
		c.errs = append(c.errs, err)
	}
	if err := lmRaces(&c); err != nil {
		c.errs = append(c.errs, err)
	}
	if err := lmFlood(&c, fm); err != nil {
		c.errs = append(c.errs, err)
	}
	if err := libos.DetachDevice(lmDevice); err != nil {
		c.failf("detaching %s at the end: %v", lmDevice, err)
	}
	return errors.Join(c.errs...)
}

// lmBadArguments checks mount(2), umount2(2) and unshare(2) on bad
// pointers, overlong strings and unknown flags.
func lmBadArguments(c *lmChecks) {
	tmp, valfs := lmStr("/tmp"), lmStr("valfs")
	c.expect("mount(2) with target pointer 1", lmMount(0, 1, 0, 0, 0), syscall.EFAULT)
	c.expect("mount(2) with a kernel target pointer", lmMount(0, 0xffff800000000000, 0, 0, 0), syscall.EFAULT)
	c.expect("mount(2) with fstype pointer 1", lmMount(0, tmp, 1, 0, 0), syscall.EFAULT)
	long := lmStr(strings.Repeat("t", 1000))
	c.expect("mount(2) with a 1000-byte fstype", lmMount(lmStr("/dev/null"), tmp, long, 0, 0), syscall.ENODEV)
	// 65 bytes is over the 64-byte limit (mountproto.MaxFSType) too,
	// wherever the string lies in memory: here at the start of a
	// 256-byte block, which the kernel reads in one piece.
	c.expect("mount(2) with a 65-byte fstype", lmMount(lmStr("/dev/null"), tmp, lmStrAt(strings.Repeat("t", 65), 0), 0, 0), syscall.ENODEV)
	data := lmStr(strings.Repeat("d", 3000))
	c.expect("mount(2) with 3000 bytes of data", lmMount(lmStr("/dev/null"), tmp, valfs, 0, data), syscall.EINVAL)
	for _, at := range []uintptr{0, 1} {
		c.expect(fmt.Sprintf("mount(2) with 2049 bytes of data at %d past a 256-byte boundary", at),
			lmMount(lmStr("/dev/null"), tmp, valfs, 0, lmStrAt(strings.Repeat("d", 2049), at)), syscall.EINVAL)
	}
	c.expect("mount(2) with data pointer 1", lmMount(lmStr("/dev/null"), tmp, valfs, 0, 1), syscall.EFAULT)
	c.expect("mount(2) of a NULL source with fstype valfs", lmMount(0, tmp, valfs, 0, 0), syscall.EINVAL)
	c.expect("mount(2) with source pointer 1", lmMountSrc(1, tmp, valfs), syscall.EFAULT)
	c.expect("mount(2) with an empty fstype", lmMount(lmStr("/dev/null"), tmp, lmStr(""), 0, 0), syscall.EINVAL)
	c.expect("mount(2) with MS_MOVE", lmMount(lmStr("/etc"), tmp, 0, syscall.MS_MOVE, 0), syscall.EINVAL)
	c.expect("mount(2) with MS_RDONLY", lmMount(lmStr("/etc"), tmp, 0, syscall.MS_BIND|syscall.MS_RDONLY, 0), syscall.EINVAL)
	c.expect("bind mount(2) on a file", lmMount(lmStr("/etc"), lmStr("/etc/motd"), 0, syscall.MS_BIND, 0), syscall.ENOTDIR)
	c.expect("bind mount(2) of a file", lmMount(lmStr("/etc/motd"), tmp, 0, syscall.MS_BIND, 0), syscall.ENOTDIR)

	c.expect("umount2 with unknown flags", lmUmount2("/tmp", 0x100), syscall.EINVAL)
	c.expect("umount2 with MNT_EXPIRE", lmUmount2("/tmp", lmMntExpire), syscall.EINVAL)
	c.expect("umount2 of /", lmUmount2("/", 0), syscall.EBUSY)
	c.expect("umount2 of /etc (not a mount point)", lmUmount2("/etc", 0), syscall.EINVAL)
	c.expect("umount2 of /tmp/../etc/.. (/, cleaned)", lmUmount2("/tmp/../etc/..", 0), syscall.EBUSY)
	_, _, e := syscall.Syscall(syscall.SYS_UMOUNT2, 1, 0, 0)
	c.expect("umount2 with target pointer 1", e, syscall.EFAULT)

	_, _, e = syscall.RawSyscall(syscall.SYS_UNSHARE, lmCloneNewUser, 0, 0)
	c.expect("unshare(CLONE_NEWUSER)", e, syscall.EINVAL)
	_, _, e = syscall.RawSyscall(syscall.SYS_UNSHARE, lmCloneNewNet, 0, 0)
	c.expect("unshare(CLONE_NEWNET)", e, syscall.EINVAL)
	_, _, e = syscall.RawSyscall(syscall.SYS_UNSHARE, syscall.CLONE_NEWNS|lmCloneNewNet, 0, 0)
	c.expect("unshare(CLONE_NEWNS|CLONE_NEWNET)", e, syscall.EINVAL)
}

// lmAttachLiar attaches the lying block device at lmDevice and returns
// a client capability on its server.
func lmAttachLiar() (ipc.Handle, error) {
	ep, err := blockLiar()
	if err != nil {
		return 0, err
	}
	dev, err := libos.Dup(ep, ipc.RightWrite, 0)
	if err != nil {
		return 0, err
	}
	if err := libos.AttachDevice(lmDevice, dev, false); err != nil {
		return 0, err
	}
	return dev, nil
}

// lmAttachChecks attacks the device attachment: names the kernel has or
// refuses, twice the same name, the limit, removal.
func lmAttachChecks(c *lmChecks, dev ipc.Handle) {
	var st syscall.Stat_t
	if err := syscall.Stat(lmDevice, &st); err != nil || st.Mode&syscall.S_IFMT != syscall.S_IFBLK {
		c.failf("stat %s (attached): mode %#o, %v; want a block device", lmDevice, st.Mode, err)
	}
	if names, err := lmDevNames(); err != nil || !slices.Contains(names, "liar0") {
		c.failf("/dev lists %v (%v) while %s is attached", names, err, lmDevice)
	}
	attach := func(what, target string, replace bool, want syscall.Errno) {
		c.expect(what, lmErrno(libos.AttachDevice(target, dev, replace)), want)
	}
	attach("attaching /dev/null (the kernel's)", "/dev/null", false, syscall.EEXIST)
	attach("attaching /dev/a/b", "/dev/a/b", false, syscall.EINVAL)
	attach("attaching /tmp/x", "/tmp/x", false, syscall.EINVAL)
	attach("attaching /dev/", "/dev/", false, syscall.EINVAL)
	attach("attaching "+lmDevice+" twice", lmDevice, false, syscall.EEXIST)
	attach("replacing /dev/nonesuch (not attached)", "/dev/nonesuch", true, syscall.EINVAL)
	n, err := libos.NewNotification()
	if err == nil {
		c.expect("attaching a notification", lmErrno(libos.AttachDevice("/dev/liarn", n, false)), syscall.EINVAL)
		libos.Close(n)
	}
	c.expect("detaching /dev/nonesuch", lmErrno(libos.DetachDevice("/dev/nonesuch")), syscall.EINVAL)
	c.expect("rm "+lmDevice, lmErrno(syscall.Unlink(lmDevice)), syscall.EPERM)
	c.expect("rename "+lmDevice, lmErrno(syscall.Rename(lmDevice, "/dev/liarz")), syscall.EPERM)
	c.expect("mkdir "+lmDevice, lmErrno(syscall.Mkdir(lmDevice, 0o755)), syscall.EEXIST)

	// The limit: 64 attached devices, liar0 among them.
	var extra []string
	var last error
	for i := 1; i <= 70; i++ {
		name := fmt.Sprintf("/dev/liar%d", i)
		if last = libos.AttachDevice(name, dev, false); last != nil {
			break
		}
		extra = append(extra, name)
	}
	if len(extra) != 63 || !errors.Is(last, syscall.ENOSPC) {
		c.failf("attaching devices beyond %s: %d attached, then %v; want 63, then ENOSPC", lmDevice, len(extra), last)
	}
	for _, name := range extra {
		if err := libos.DetachDevice(name); err != nil {
			c.failf("detaching %s: %v", name, err)
		}
	}
	names, err := lmDevNames()
	for _, name := range extra {
		if slices.Contains(names, strings.TrimPrefix(name, "/dev/")) {
			c.failf("/dev still lists %s after it was detached (%v)", name, err)
			break
		}
	}
	if !slices.Contains(names, "liar0") {
		c.failf("/dev lost liar0 when the others were detached: %v (%v)", names, err)
	}
}

// lmDevNames lists /dev.
func lmDevNames() ([]string, error) {
	f, err := os.Open("/dev")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

// lmFirstOnly checks that a child (not the first process) may neither
// attach nor detach device files nor name the mounter.
func lmFirstOnly(c *lmChecks) {
	out, err := omRun(nil, "lm-first-only")
	if err != nil {
		c.failf("%v", err)
		return
	}
	if want := "attach=EPERM replace=EPERM detach=EPERM mounter=EPERM"; out != want {
		c.failf("a child's first-process calls: %q, want %q", out, want)
	}
}

// roleLMFirstOnly tries the first process's calls and prints their
// errnos.
func roleLMFirstOnly([]string) int {
	ep, err := libos.NewEndpoint()
	if err != nil {
		fmt.Println(err)
		return 1
	}
	client, err := libos.Dup(ep, ipc.RightWrite, 0)
	if err != nil {
		fmt.Println(err)
		return 1
	}
	fmt.Printf("attach=%s replace=%s detach=%s mounter=%s\n",
		lmName(libos.AttachDevice("/dev/child0", client, false)),
		lmName(libos.AttachDevice(lmDevice, client, true)),
		lmName(libos.DetachDevice(lmDevice)),
		lmName(libos.SetMounter(client)))
	return 0
}

// lmNoMounter checks mount(2) of a device before any mounter is
// registered (the kernel has no call to unregister one), and the
// source's checks.
func lmNoMounter(c *lmChecks) {
	c.expect("mount(2) of "+lmDevice+" with no mounter", lmMountFS(lmDevice, "/tmp", "valfs"), syscall.ENODEV)
	c.expect("mount(2) of /dev/null (a char device)", lmMountFS("/dev/null", "/tmp", "valfs"), syscall.ENOTBLK)
	c.expect("mount(2) of /etc (a directory)", lmMountFS("/etc", "/tmp", "valfs"), syscall.ENOTBLK)
	c.expect("mount(2) of /dev/nonesuch", lmMountFS("/dev/nonesuch", "/tmp", "valfs"), syscall.ENOENT)
	c.expect("mount(2) of "+lmDevice+" on a file", lmMountFS(lmDevice, "/etc/motd", "valfs"), syscall.ENOTDIR)
	c.expect("mount(2) of "+lmDevice+" on nothing", lmMountFS(lmDevice, "/tmp/nonesuch", "valfs"), syscall.ENOENT)
}

// lmErrno is the errno in err (0 for nil, EIO for one without).
func lmErrno(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	var e syscall.Errno
	if errors.As(err, &e) {
		return e
	}
	return syscall.EIO
}

// lmName is the errno name of err, as the roles print it.
func lmName(err error) string {
	switch e := lmErrno(err); e {
	case 0:
		return "ok"
	case syscall.EPERM:
		return "EPERM"
	default:
		return e.Error()
	}
}

// lmKept holds the strings passed to raw calls as addresses, so that
// the collector never frees one before its call.
var lmKept [][]byte

// lmStr returns the address of a NUL-terminated copy of s.
func lmStr(s string) uintptr {
	b := append([]byte(s), 0)
	lmKept = append(lmKept, b)
	return uintptr(unsafePointer(&b[0]))
}

// lmStrAt returns the address of a NUL-terminated copy of s that lies
// off bytes past a 256-byte boundary: the kernel reads user strings in
// pieces that end at such boundaries.
func lmStrAt(s string, off uintptr) uintptr {
	b := make([]byte, len(s)+1+512)
	lmKept = append(lmKept, b)
	base := uintptr(unsafePointer(&b[0]))
	skip := (256 - base%256 + off) % 256
	copy(b[skip:], s)
	b[skip+uintptr(len(s))] = 0
	return base + skip
}

// lmMount is a raw mount(2): each string argument is an address (0 for
// NULL), data included.
func lmMount(src, target, fstype, flags, data uintptr) syscall.Errno {
	_, _, e := syscall.Syscall6(syscall.SYS_MOUNT, src, target, fstype, flags, data, 0)
	return e
}

// lmMountSrc is mount(2) with flags 0 and no data.
func lmMountSrc(src, target, fstype uintptr) syscall.Errno {
	return lmMount(src, target, fstype, 0, 0)
}

// lmMountFS mounts source on target as fstype, with no flags or data.
func lmMountFS(source, target, fstype string) syscall.Errno {
	return lmErrno(syscall.Mount(source, target, fstype, 0, ""))
}

// lmUmount2 is umount2(2).
func lmUmount2(target string, flags int) syscall.Errno {
	return lmErrno(syscall.Unmount(target, flags))
}
