package proc

import (
	"strings"
	"sync"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/vfs"
	"valence.dev/servers/fs/fileproto"
)

// The file namespace. Each process has a mount table (vfs.Table,
// inherited by the processes it creates); a path is resolved by picking
// its mount and handing the rest of the path to that mount's filesystem:
// the initfs tree (nodefs.go), /proc (procfs.go), or a server of the
// file protocol over IPC (remotefs.go). Pipes, the console, eventfd and
// epoll are not in the namespace and stay in the kernel.

// filesystem is what a mount serves. Every method takes a target inside
// the filesystem (fsAt) and returns the errno Linux would.
type filesystem interface {
	open(c *call, at fsAt, flags, mode uint32) (file, errno.Errno)
	stat(c *call, at fsAt, flags uint32) (linux.Stat, errno.Errno)
	readlink(c *call, at fsAt) (string, errno.Errno)
	access(c *call, at fsAt, mode, flags uint32) errno.Errno
	mkdir(c *call, at fsAt, mode uint32) errno.Errno
	unlink(c *call, at fsAt, flags uint32) errno.Errno
	rename(c *call, from, to fsAt, flags uint32) errno.Errno
	link(c *call, from, to fsAt, flags uint32) errno.Errno
	symlink(c *call, target string, at fsAt) errno.Errno
	chmod(c *call, at fsAt, mode, flags uint32) errno.Errno
	chown(c *call, at fsAt, uid, gid, flags uint32) errno.Errno
	utimens(c *call, at fsAt, atime, mtime fileproto.Timespec, flags uint32) errno.Errno
	truncate(c *call, at fsAt, size int64) errno.Errno
	fsync(c *call, f file) errno.Errno
	statfs(c *call) (linux.Statfs, errno.Errno)
	sync(c *call) errno.Errno
}

// fsAt is a file of a filesystem: a path relative to its root (a clean
// path, "" for the root; a trailing "/" when the caller's path had one,
// so that the filesystem can insist on a directory), or, when f is set,
// an open file of that filesystem (fchmod, the *at calls with
// AT_EMPTY_PATH).
type fsAt struct {
	rel string
	f   file
}

// directory is an open directory: getdents64 reads it.
type directory interface {
	// readdir returns entries starting at stream position pos (0 is the
	// first, "."): at least one unless the directory has no more. Each
	// entry's next is the position of the entry after it.
	readdir(c *call, pos int64) ([]dirent, errno.Errno)
}

type dirent struct {
	ino  uint64
	next int64
	typ  uint8
	name string
}

// resolved is a path resolved against the caller's namespace.
type resolved struct {
	fs  filesystem
	at  fsAt
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
	fsys, _ := m.FS.(filesystem)
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
	return resolved{fs: fsys, at: fsAt{rel: rel}, abs: abs, mnt: m}, 0
}

// dirOf returns the directory a *at call resolves relative paths in.
func dirOf(c *call, dirfd int32, p string) (string, errno.Errno) {
	if strings.HasPrefix(p, "/") || dirfd == linux.AT_FDCWD {
		c.p.mu.Lock()
		defer c.p.mu.Unlock()
		return c.p.cwd, 0
	}
	of, ok := c.p.fdTable().get(dirfd)
	if !ok {
		return "", errno.EBADF
	}
	defer of.drop()
	if _, isDir := of.f.(directory); !isDir {
		return "", errno.ENOTDIR
	}
	return of.path, 0
}

// fsCred is the identity file servers check a call against. Every
// process is root until the kernel has users (docs/processes.md).
func (c *call) fsCred() fileproto.Cred { return fileproto.Cred{} }

// readOnly is the part of filesystem that a read-only filesystem
// answers the same way for every change: EROFS (or EEXIST, when the name
// a creation would make is already there, as Linux checks first).
type readOnly struct{}

func (readOnly) rename(*call, fsAt, fsAt, uint32) errno.Errno          { return errno.EROFS }
func (readOnly) link(*call, fsAt, fsAt, uint32) errno.Errno            { return errno.EROFS }
func (readOnly) chmod(*call, fsAt, uint32, uint32) errno.Errno         { return errno.EROFS }
func (readOnly) chown(*call, fsAt, uint32, uint32, uint32) errno.Errno { return errno.EROFS }
func (readOnly) utimens(*call, fsAt, fileproto.Timespec, fileproto.Timespec, uint32) errno.Errno {
	return errno.EROFS
}
func (readOnly) truncate(*call, fsAt, int64) errno.Errno { return errno.EROFS }
func (readOnly) fsync(*call, file) errno.Errno           { return 0 }
func (readOnly) sync(*call) errno.Errno                  { return 0 }

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
	seen := map[filesystem]bool{}
	ns.Each(func(m *vfs.Mount) {
		fs, _ := m.FS.(filesystem)
		if fs == nil || seen[fs] {
			return
		}
		seen[fs] = true
		fs.sync(c)
	})
}
