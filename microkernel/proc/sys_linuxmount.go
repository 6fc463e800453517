package proc

import (
	"context"
	"errors"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/ipc"
	"valence.dev/ipc/rpc"
	"valence.dev/microkernel/fsclient"
	"valence.dev/microkernel/kfile"
	"valence.dev/microkernel/klog"
	"valence.dev/microkernel/obj"
	"valence.dev/microkernel/vfs"
	"valence.dev/servers/fs/mountproto"
)

// Linux's mount(2) and umount2(2). The kernel serves bind mounts, "proc"
// and "devtmpfs" itself; any other filesystem type is a server to start,
// which is the mounter's business (bootstrap: servers/fs/mountproto): the
// kernel asks it for a server on the source device and mounts what it
// answers in the caller's namespace. A mount made so is given back to the
// mounter (Unmount, at which it syncs and stops the server) when
// umount2 removes it from the last namespace that had it.
//
// What is refused, and why (docs/filesystems.md):
//   - MS_RDONLY, MS_NOEXEC, MS_SYNCHRONOUS, MS_DIRSYNC, MS_MANDLOCK,
//     MS_NOSYMFOLLOW and MS_POSIXACL ask for behaviour the kernel would
//     not enforce: EINVAL, rather than a mount that pretends.
//   - MS_MOVE and MNT_EXPIRE: EINVAL (not implemented).
//   - Propagation (MS_SHARED, MS_PRIVATE, MS_SLAVE, MS_UNBINDABLE) is
//     accepted and changes nothing: namespaces never propagate mounts to
//     each other, which is MS_PRIVATE's meaning.
//   - MS_REMOUNT changes nothing either (no per-mount option is kept):
//     accepted on a mount point unless it asks for MS_RDONLY.

// mountIgnored are flags accepted and without effect: Valence has no
// setuid programs or device numbers on disks to ignore, and keeps no
// access times to relax.
const mountIgnored = linux.MS_NOSUID | linux.MS_NODEV | linux.MS_NOATIME | linux.MS_NODIRATIME |
	msSilent | linux.MS_RELATIME | linux.MS_STRICTATIME | linux.MS_I_VERSION | msLazytime | linux.MS_REC

// msSilent (MS_SILENT) and msLazytime (MS_LAZYTIME) are flags gvisor's ABI
// package does not name.
const msSilent = 1 << 15

const msLazytime = 1 << 25

const propagation = linux.MS_SHARED | linux.MS_PRIVATE | linux.MS_SLAVE | linux.MS_UNBINDABLE

// The mounter (ipc.SysMounter).
var (
	mounterMu    sync.Mutex
	mounterEP    *obj.Endpoint
	mounterBadge uint64
)

// Mounts the mounter started, by their server connection: the ID to give
// back at the last umount.
var (
	startedMu sync.Mutex
	started   = map[fsclient.FS]uint64{}
)

// sysMounter implements valence_mounter(endpoint).
func sysMounter(c *call) result {
	if !c.p.isFirst() {
		return fail(errno.EPERM)
	}
	ep, cp, e := lookup[*obj.Endpoint](c, 0, ipc.RightWrite)
	if e != 0 {
		return fail(e)
	}
	mounterMu.Lock()
	mounterEP, mounterBadge = ep, cp.Badge
	mounterMu.Unlock()
	return ok0()
}

// mounter returns a connection to the mounter, or nil.
func mounter() (fsclient.FS, bool) {
	mounterMu.Lock()
	defer mounterMu.Unlock()
	if mounterEP == nil || mounterEP.Dead() {
		return fsclient.FS{}, false
	}
	// The connection is the file client's: the same transport, to a
	// server of another protocol.
	return fsclient.New(mounterEP, mounterBadge, 0, "mounter"), true
}

// sysLinuxMount implements mount(2).
func sysLinuxMount(c *call) result {
	flags := c.arg(3)
	if flags&linux.MS_MGC_MSK == linux.MS_MGC_VAL {
		flags &^= linux.MS_MGC_MSK // the old magic number, to be ignored
	}
	target, e := mountTarget(c, c.arg(1))
	if e != 0 {
		return fail(e)
	}
	ns := c.p.namespace()
	switch {
	case flags&linux.MS_REMOUNT != 0:
		if _, found := ns.table().Lookup(target); !found {
			return fail(errno.EINVAL)
		}
		if flags&linux.MS_RDONLY != 0 {
			return fail(errno.EINVAL)
		}
		return ok0()
	case flags&propagation != 0:
		if flags&^(propagation|linux.MS_REC|msSilent) != 0 {
			return fail(errno.EINVAL)
		}
		return ok0()
	case flags&linux.MS_MOVE != 0:
		return fail(errno.EINVAL)
	case flags&^(mountIgnored|linux.MS_BIND) != 0:
		return fail(errno.EINVAL)
	case flags&linux.MS_BIND != 0:
		src, e := c.resolveArg(-1, 0)
		if e != 0 {
			return fail(e)
		}
		if e := isDir(c, src); e != 0 {
			return fail(e)
		}
		m := &vfs.Mount{Target: target, FS: src.fs, Root: src.at.Rel, Source: src.mnt.Source, Type: src.mnt.Type}
		return result{err: addMount(c, ns, m)}
	}
	fstype, e := userString(c, c.arg(2), mountproto.MaxFSType, errno.ENODEV)
	if e != 0 {
		return fail(e)
	}
	switch fstype {
	case "":
		return fail(errno.EINVAL)
	case "proc":
		return result{err: addMount(c, ns, &vfs.Mount{Target: target, FS: procFS{}, Source: "proc", Type: "proc"})}
	case "devtmpfs":
		return result{err: addMount(c, ns, &vfs.Mount{Target: target, FS: devFS{}, Root: devTree, Source: "dev", Type: "devtmpfs"})}
	}
	return mountServed(c, ns, target, fstype, flags)
}

// userString reads an optional string argument of at most max bytes:
// NULL is "", a longer one is tooLong.
func userString(c *call, addr uint64, max int, tooLong errno.Errno) (string, errno.Errno) {
	if addr == 0 {
		return "", 0
	}
	s, err := c.as().ReadString(addr, max)
	if err != nil {
		if strings.Contains(err.Error(), "longer") {
			return "", tooLong
		}
		return "", errno.EFAULT
	}
	return s, 0
}

// mountServed mounts a filesystem of type fstype on the source device:
// the mounter starts its server.
func mountServed(c *call, ns *mountNS, target, fstype string, flags uint64) result {
	data, e := userString(c, c.arg(4), mountproto.MaxData, errno.EINVAL)
	if e != 0 {
		return fail(e)
	}
	source, e := blockSource(c)
	if e != 0 {
		return fail(e)
	}
	mr, ok := mounter()
	if !ok {
		return fail(errno.ENODEV)
	}
	var tr fsclient.Handles
	cl := mountproto.Client{T: mr.Transport(c.t, &tr)}
	rep, err := cl.Mount(context.Background(), mountproto.MountRequest{Source: source, FSType: fstype, Flags: flags, Data: data})
	defer func() {
		if tr != nil {
			tr.Drop() // the kernel keeps the endpoint, not the handle
		}
	}()
	if err != nil {
		e := fsclient.Errno(err)
		var re *rpc.Error
		if errors.As(err, &re) && re.Msg != "" {
			klog.Printf("proc: pid %d (%s): mount %s (%s) on %s refused (%s): %s",
				c.p.PID, c.p.Name, source, fstype, target, unix.ErrnoName(syscall.Errno(e)), re.Msg)
		}
		return fail(e)
	}
	rm, e := mountedServer(c, tr, rep)
	if e == 0 {
		// The server must answer the file protocol, as for valence_mount.
		_, e = rm.Statfs(c.t)
	}
	if e == 0 {
		e = addMount(c, ns, &vfs.Mount{Target: target, FS: rm, Source: rep.Source, Type: fstype})
	}
	if e != 0 {
		giveBack(c, rep.ID)
		return fail(e)
	}
	startedMu.Lock()
	started[rm] = rep.ID
	startedMu.Unlock()
	return ok0()
}

// mountedServer takes the server the mounter answered with.
func mountedServer(c *call, tr fsclient.Handles, rep mountproto.MountReply) (fsclient.FS, errno.Errno) {
	t, ok := tr.(*transit)
	if !ok || t == nil {
		return fsclient.FS{}, errno.EIO
	}
	cp, err := t.table.Lookup(rep.Server, ipc.RightWrite)
	if err != nil {
		return fsclient.FS{}, errno.EIO
	}
	ep, isEP := cp.Object.(*obj.Endpoint)
	if !isEP {
		return fsclient.FS{}, errno.EIO
	}
	return fsclient.New(ep, cp.Badge, c.p.PID, rep.Source), 0
}

// blockSource reads mount(2)'s source: a block device, which must
// exist (ENOENT) and be one (ENOTBLK). It returns its canonical name,
// "/dev/NAME", which is what the mounter knows devices by.
func blockSource(c *call) (string, errno.Errno) {
	if c.arg(0) == 0 {
		return "", errno.EINVAL
	}
	src, e := c.resolveArg(-1, 0)
	if e != 0 {
		return "", e
	}
	st, e := src.fs.Stat(c.t, src.at, 0)
	if e != 0 {
		return "", e
	}
	if st.Mode&linux.S_IFMT != linux.S_IFBLK {
		return "", errno.ENOTBLK
	}
	if _, isDev := src.fs.(devFS); !isDev {
		return "", errno.ENOTBLK
	}
	name, ok := strings.CutPrefix(src.at.Rel, devTree+"/")
	if !ok {
		return "", errno.ENOTBLK
	}
	return "/dev/" + name, 0
}

// giveBack tells the mounter that mount id is gone; c is nil when no
// thread waits for it (a process's end, the last close after a lazy
// umount2).
func giveBack(c *call, id uint64) {
	mr, ok := mounter()
	if !ok {
		return
	}
	var t kfile.Caller
	if c != nil {
		t = callerOf(c.t)
	}
	cl := mountproto.Client{T: mr.Transport(t, nil)}
	if err := cl.Unmount(context.Background(), id); err != nil {
		klog.Printf("proc: the mounter did not take back mount %d: %v", id, err)
	}
}

// sysUmount2 implements umount2(2).
func sysUmount2(c *call) result {
	flags := c.arg(1)
	if flags&^(linux.MNT_FORCE|linux.MNT_DETACH|linux.MNT_EXPIRE|linux.UMOUNT_NOFOLLOW) != 0 ||
		flags&linux.MNT_EXPIRE != 0 {
		return fail(errno.EINVAL)
	}
	target, e := absPath(c, c.arg(0))
	if e != 0 {
		return fail(e)
	}
	if target == "/" {
		return fail(errno.EBUSY)
	}
	ns := c.p.namespace()
	var gone []*vfs.Mount
	e = ns.change(func(t *vfs.Table) (*vfs.Table, errno.Errno) {
		gone = gone[:0]
		m, found := t.Lookup(target)
		if !found {
			return nil, errno.EINVAL
		}
		var below []string
		for _, o := range t.Mounts() {
			if o.Target != target && strings.HasPrefix(o.Target, target+"/") {
				below = append(below, o.Target)
			}
		}
		if flags&linux.MNT_DETACH == 0 && (len(below) > 0 || inUse(ns, m, target)) {
			return nil, errno.EBUSY
		}
		// MNT_DETACH takes what is mounted below with it, as Linux's lazy
		// unmount does; files open there keep working until closed.
		for _, b := range below {
			o, _ := t.Lookup(b)
			t, _ = t.Without(b)
			gone = append(gone, o)
		}
		t, _ = t.Without(target)
		gone = append(gone, m)
		return t, 0
	})
	if e != 0 {
		return fail(e)
	}
	for _, m := range gone {
		release(c, m)
	}
	return ok0()
}

// inUse reports whether mount m at target is busy in ns: some process
// of ns works in it, or has files open on its server (a remote mount's
// open files: open counts them).
func inUse(ns *mountNS, m *vfs.Mount, target string) bool {
	if rfs, remote := m.FS.(fsclient.FS); remote && rfs.OpenFiles() > 0 {
		return true
	}
	tableMu.Lock()
	ps := make([]*Process, 0, len(procs))
	for _, p := range procs {
		if p != nil { // a thread's reserved number
			ps = append(ps, p)
		}
	}
	tableMu.Unlock()
	for _, p := range ps {
		p.mu.Lock()
		same, cwd := p.ns == ns, p.cwd
		p.mu.Unlock()
		if same && (cwd == target || strings.HasPrefix(cwd, target+"/")) {
			return true
		}
	}
	return false
}

// release gives a mount the mounter started back to it once no
// namespace has it any more and no file is open on it (a lazy umount2
// leaves files open: the server is given back at the last close). c is
// nil when no thread made the call.
func release(c *call, m *vfs.Mount) {
	rm, remote := m.FS.(fsclient.FS)
	if !remote {
		return
	}
	startedMu.Lock()
	_, ours := started[rm]
	startedMu.Unlock()
	if !ours || stillMounted(rm) {
		return
	}
	switch {
	case rm.WhenIdle(func() { takeBack(nil, rm) }):
	case c == nil:
		go takeBack(nil, rm) // a process's end does not wait for the mounter
	default:
		takeBack(c, rm)
	}
}

// takeBack gives the mounter back the server of rm, once.
func takeBack(c *call, rm fsclient.FS) {
	startedMu.Lock()
	id, ours := started[rm]
	delete(started, rm)
	startedMu.Unlock()
	if ours {
		giveBack(c, id)
	}
}

// stillMounted reports whether any namespace still has a mount of rm.
func stillMounted(rm fsclient.FS) bool {
	for _, ns := range allNamespaces() {
		for _, m := range ns.table().Mounts() {
			if rfs, remote := m.FS.(fsclient.FS); remote && rfs.Same(rm) {
				return true
			}
		}
	}
	return false
}
