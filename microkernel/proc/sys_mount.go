package proc

import (
	"strings"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/ipc"
	"valence.dev/microkernel/fsclient"
	"valence.dev/microkernel/obj"
	"valence.dev/microkernel/vfs"
	"valence.dev/servers/fs/fileproto"
)

// The native mount calls (ipc.SysMount, ipc.SysUnmount). They change the
// caller's namespace, which it shares with the processes it shares it
// with (namespace.go), as mount(2) does; a process that wants a private
// view unshares first. Mounting needs a capability on the server and, as
// on Linux, root (every process is uid 0 for now: docs/processes.md).

// mountTarget reads and checks a mount target: an existing directory,
// returned as a clean absolute path.
func mountTarget(c *call, addr uint64) (string, errno.Errno) {
	p, e := userPath(c, addr)
	if e != 0 {
		return "", e
	}
	r, e := c.resolveAt(linux.AT_FDCWD, p)
	if e != 0 {
		return "", e
	}
	if e := isDir(c, r); e != 0 {
		return "", e
	}
	return r.abs, 0
}

// isDir checks that r is a directory.
func isDir(c *call, r resolved) errno.Errno {
	st, e := r.fs.Stat(c.t, r.at, 0)
	if e != 0 {
		return e
	}
	if st.Mode&linux.S_IFMT != linux.S_IFDIR {
		return errno.ENOTDIR
	}
	return 0
}

// sysMount implements valence_mount(target, endpoint, flags, source).
func sysMount(c *call) result {
	flags := uint32(c.arg(2))
	if flags&^(ipc.MountBind|ipc.MountReplace|ipc.MountDevice) != 0 ||
		flags&ipc.MountBind != 0 && flags&(ipc.MountReplace|ipc.MountDevice) != 0 {
		return fail(errno.EINVAL)
	}
	if flags&ipc.MountDevice != 0 {
		return mountDevice(c, flags&ipc.MountReplace != 0)
	}
	if flags&ipc.MountReplace != 0 {
		// The mount's server may be dead: the target is found in the
		// table, not asked of the server.
		target, e := absPath(c, c.arg(0))
		if e != 0 {
			return fail(e)
		}
		return replaceServer(c, target)
	}
	target, e := mountTarget(c, c.arg(0))
	if e != 0 {
		return fail(e)
	}
	var m *vfs.Mount
	if flags&ipc.MountBind != 0 {
		src, e := c.resolveArg(-1, 3)
		if e != 0 {
			return fail(e)
		}
		if e := isDir(c, src); e != 0 {
			return fail(e)
		}
		m = &vfs.Mount{Target: target, FS: src.fs, Root: src.at.Rel, Source: src.mnt.Source, Type: src.mnt.Type}
	} else {
		ep, cp, e := lookup[*obj.Endpoint](c, 1, ipc.RightWrite)
		if e != 0 {
			return fail(e)
		}
		fs := fsclient.New(ep, cp.Badge, c.p.PID, processName(ep.Owner))
		// The server must answer the file protocol before it is
		// mounted: a wrong endpoint is refused here, not at the first
		// open.
		st, e := fs.Statfs(c.t)
		if e != 0 {
			return fail(e)
		}
		typ := "fileproto"
		if st.Type == fileproto.Magic {
			typ = "valfs"
		}
		m = &vfs.Mount{Target: target, FS: fs, Source: fs.Source(), Type: typ}
	}
	if e := addMount(c, c.p.namespace(), m); e != 0 {
		return fail(e)
	}
	return ok0()
}

// replaceServer gives the remote mount at target a new server.
func replaceServer(c *call, target string) result {
	m, found := c.p.mounts().Lookup(target)
	if !found {
		return fail(errno.EINVAL)
	}
	fs, remote := m.FS.(fsclient.FS)
	if !remote {
		return fail(errno.EINVAL)
	}
	c.p.mu.Lock()
	first := c.p.first
	c.p.mu.Unlock()
	if fs.Owner() != c.p.PID && !first {
		return fail(errno.EPERM)
	}
	ep, cp, e := lookup[*obj.Endpoint](c, 1, ipc.RightWrite)
	if e != 0 {
		return fail(e)
	}
	probe := fsclient.New(ep, cp.Badge, 0, "")
	if _, e := probe.Statfs(c.t); e != 0 {
		return fail(e)
	}
	fs.Replace(ep, cp.Badge)
	return ok0()
}

// mountDevice attaches a device file server at /dev/NAME (MountDevice).
func mountDevice(c *call, replace bool) result {
	if !c.p.isFirst() {
		return fail(errno.EPERM)
	}
	target, e := absPath(c, c.arg(0))
	if e != 0 {
		return fail(e)
	}
	name, inDev := devName(target)
	if !inDev {
		return fail(errno.EINVAL)
	}
	ep, cp, e := lookup[*obj.Endpoint](c, 1, ipc.RightWrite)
	if e != 0 {
		return fail(e)
	}
	rm := fsclient.New(ep, cp.Badge, c.p.PID, processName(ep.Owner))
	if _, e := rm.Statfs(c.t); e != 0 {
		return fail(e)
	}
	return result{err: attachDevice(name, rm, ep, cp.Badge, replace)}
}

// devName returns NAME for target "/dev/NAME".
func devName(target string) (string, bool) {
	name, ok := strings.CutPrefix(target, "/dev/")
	return name, ok && name != "" && !strings.Contains(name, "/")
}

// sysUnmount implements valence_unmount(target, flags).
func sysUnmount(c *call) result {
	flags := c.arg(1)
	if flags&^ipc.MountDevice != 0 {
		return fail(errno.EINVAL)
	}
	target, e := absPath(c, c.arg(0))
	if e != 0 {
		return fail(e)
	}
	if flags&ipc.MountDevice != 0 {
		if !c.p.isFirst() {
			return fail(errno.EPERM)
		}
		name, inDev := devName(target)
		if !inDev {
			return fail(errno.EINVAL)
		}
		return result{err: detachDevice(name)}
	}
	if target == "/" {
		return fail(errno.EBUSY)
	}
	e = c.p.namespace().change(func(t *vfs.Table) (*vfs.Table, errno.Errno) {
		t, found := t.Without(target)
		if !found {
			return nil, errno.EINVAL
		}
		return t, 0
	})
	return result{err: e}
}

// absPath reads a path argument and makes it a clean absolute path,
// lexically, without asking any filesystem.
func absPath(c *call, addr uint64) (string, errno.Errno) {
	p, e := userPath(c, addr)
	if e != 0 {
		return "", e
	}
	if p[0] != '/' {
		c.p.mu.Lock()
		p = c.p.cwd + "/" + p
		c.p.mu.Unlock()
	}
	return vfs.Clean(p), 0
}

// processName is the name of process pid, for /proc/mounts.
func processName(pid int) string {
	tableMu.Lock()
	p := procs[pid]
	tableMu.Unlock()
	if p == nil {
		return "server"
	}
	return p.Name
}
