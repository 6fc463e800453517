package proc

import (
	"strings"
	"sync"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile"
	"valence.dev/microkernel/vfs"
	"valence.dev/servers/fs/fileproto"
)

// The file namespace. Each process has a mount table (vfs.Table,
// inherited by the processes it creates); a path is resolved by picking
// its mount and handing the rest of the path to that mount's filesystem:
// the initfs tree (nodefs.go), /proc (procfs.go), or a server of the
// file protocol over IPC (package fsclient). Pipes, the console, eventfd and
// epoll are not in the namespace and stay in the kernel.

// resolved is a path resolved against the caller's namespace.
type resolved struct {
	fs  kfile.FS
	at  kfile.At
	abs string // the clean absolute path ("" for an open file)
	mnt *vfs.Mount
}

// mounts returns the process's mount table.
func (p *Process) mounts() *vfs.Table { return p.namespace().table() }

// resolveAt resolves path argument p of a *at call: relative to the
// current directory (dirfd AT_FDCWD) or to the open directory dirfd.
func (c *call) resolveAt(dirfd int32, p string) (resolved, errno.Errno) {
	dir, e := dirOf(c, dirfd, p)
	if e != 0 {
		return resolved{}, e
	}
	return c.p.resolve(dir, p)
}

// resolve resolves path (relative to dir unless absolute) in p's
// namespace.
func (p *Process) resolve(dir, path string) (resolved, errno.Errno) {
	return resolveIn(p.mounts(), dir, path)
}

// resolveIn resolves path (relative to dir unless absolute) in ns.
func resolveIn(ns *vfs.Table, dir, path string) (resolved, errno.Errno) {
	if path == "" {
		return resolved{}, errno.ENOENT
	}
	if len(path) >= linux.PATH_MAX {
		return resolved{}, errno.ENAMETOOLONG
	}
	if strings.IndexByte(path, 0) >= 0 {
		return resolved{}, errno.EINVAL
	}
	abs := path
	if !strings.HasPrefix(path, "/") {
		abs = dir + "/" + path
	}
	abs = vfs.Clean(abs)
	if len(abs) >= linux.PATH_MAX {
		return resolved{}, errno.ENAMETOOLONG // relative to a deep directory
	}
	if ns == nil {
		return resolved{}, errno.ENOENT
	}
	m, rel := ns.Find(abs)
	if m == nil {
		return resolved{}, errno.ENOENT
	}
	fsys, _ := m.FS.(kfile.FS)
	if fsys == nil {
		return resolved{}, errno.EIO
	}
	// Cleaning loses what a trailing "/" or "/." says: that the name
	// must be a directory (a symlink to one is followed). The filesystem
	// is told.
	switch {
	case rel == "":
	case strings.HasSuffix(path, "/.") || path == ".":
		rel += "/."
	case strings.HasSuffix(path, "/"):
		rel += "/"
	}
	return resolved{fs: fsys, at: kfile.At{Rel: rel}, abs: abs, mnt: m}, 0
}

// dirOf returns the directory a *at call resolves relative paths in.
func dirOf(c *call, dirfd int32, p string) (string, errno.Errno) {
	if strings.HasPrefix(p, "/") || dirfd == linux.AT_FDCWD {
		c.p.mu.Lock()
		defer c.p.mu.Unlock()
		return c.p.cwd, 0
	}
	of, ok := c.p.fdTable().Get(dirfd)
	if !ok {
		return "", errno.EBADF
	}
	defer of.Drop()
	if _, isDir := of.File.(kfile.Directory); !isDir {
		return "", errno.ENOTDIR
	}
	return of.Path, 0
}

// fsCred is the identity file servers check a call against. Every
// process is root until the kernel has users (docs/processes.md).
func (c *call) fsCred() fileproto.Cred { return fileproto.Cred{} }

// readOnly is the part of filesystem that a read-only filesystem
// answers the same way for every change: EROFS (or EEXIST, when the name
// a creation would make is already there, as Linux checks first).
type readOnly struct{}

func (readOnly) Rename(kfile.Caller, kfile.At, kfile.At, uint32) errno.Errno      { return errno.EROFS }
func (readOnly) Link(kfile.Caller, kfile.At, kfile.At, uint32) errno.Errno        { return errno.EROFS }
func (readOnly) Chmod(kfile.Caller, kfile.At, uint32, uint32) errno.Errno         { return errno.EROFS }
func (readOnly) Chown(kfile.Caller, kfile.At, uint32, uint32, uint32) errno.Errno { return errno.EROFS }
func (readOnly) Utimens(kfile.Caller, kfile.At, fileproto.Timespec, fileproto.Timespec, uint32) errno.Errno {
	return errno.EROFS
}
func (readOnly) Truncate(kfile.Caller, kfile.At, int64) errno.Errno { return errno.EROFS }
func (readOnly) Fsync(kfile.Caller, kfile.File) errno.Errno         { return 0 }
func (readOnly) Sync(kfile.Caller) errno.Errno                      { return 0 }

// The namespace the first process starts with: the initfs at "/", its
// devices at /dev, and /proc.
var (
	initialMu sync.Mutex
	initial   *vfs.Table
)

func initialNS() *vfs.Table {
	initialMu.Lock()
	defer initialMu.Unlock()
	return initial
}

func setInitialNS(t *vfs.Table) {
	initialMu.Lock()
	initial = t
	initialMu.Unlock()
}

// nsOf is p's namespace, or the initial one for the kernel (p nil).
func nsOf(p *Process) *vfs.Table {
	if p == nil {
		return initialNS()
	}
	return p.mounts()
}

// buildInitialNS makes the first namespace.
func buildInitialNS() *vfs.Table {
	t := vfs.New(&vfs.Mount{FS: nodeFS{}, Source: "initfs", Type: "initfs"})
	t, _ = t.With(&vfs.Mount{Target: "/dev", FS: devFS{}, Root: devTree, Source: "dev", Type: "devtmpfs"})
	t, _ = t.With(&vfs.Mount{Target: "/proc", FS: procFS{}, Source: "proc", Type: "proc"})
	return t
}

// syncAll commits every file server in ns, each once.
func syncAll(c *call, ns *vfs.Table) {
	if ns == nil {
		return
	}
	seen := map[kfile.FS]bool{}
	ns.Each(func(m *vfs.Mount) {
		fs, _ := m.FS.(kfile.FS)
		if fs == nil || seen[fs] {
			return
		}
		seen[fs] = true
		fs.Sync(c.t)
	})
}
