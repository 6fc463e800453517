package proc

import (
	"encoding/binary"
	"path"
	"strings"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile"
	"valence.dev/servers/fs/fileproto"
)

// The system calls that change the namespace's files: making, removing
// and renaming names, and changing attributes.

// resolveArg resolves the path argument at index pathIdx relative to the
// descriptor at index dirIdx (-1: the current directory).
func (c *call) resolveArg(dirIdx, pathIdx int) (resolved, errno.Errno) {
	p, e := c.pathArg(pathIdx)
	if e != 0 {
		return resolved{}, e
	}
	dirfd := int32(linux.AT_FDCWD)
	if dirIdx >= 0 {
		dirfd = c.i32(dirIdx)
	}
	return c.resolveAt(dirfd, p)
}

// pathAt is resolveArg for the calls that take AT_EMPTY_PATH: with
// emptyOK, an empty path names the descriptor at dirIdx itself (the
// current directory for AT_FDCWD). The descriptor's open file, if it is
// the target, is returned held, for the caller to drop once done with it.
func (c *call) pathAt(dirIdx, pathIdx int, emptyOK bool) (resolved, *kfile.OpenFile, errno.Errno) {
	p, e := c.pathArg(pathIdx)
	if e == errno.ENOENT && emptyOK {
		if c.i32(dirIdx) != linux.AT_FDCWD {
			return c.fileAt(dirIdx)
		}
		p, e = ".", 0
	}
	if e != 0 {
		return resolved{}, nil, e
	}
	r, e := c.resolveAt(c.i32(dirIdx), p)
	return r, nil, e
}

// sysMkdirat implements mkdirat(2); sysMkdir, mkdir(2).
func sysMkdirat(c *call) result {
	r, e := c.resolveArg(0, 1)
	if e != 0 {
		return fail(e)
	}
	return result{err: r.fs.Mkdir(c.t, r.at, uint32(c.arg(2))&0o7777&^c.p.getUmask())}
}

func sysMkdir(c *call) result {
	c.args = [6]uint64{atFDCWD, c.args[0], c.args[1]}
	return sysMkdirat(c)
}

// sysUnlinkat implements unlinkat(2); sysUnlink and sysRmdir, unlink(2)
// and rmdir(2).
func sysUnlinkat(c *call) result {
	flags := uint32(c.arg(2))
	if flags&^linux.AT_REMOVEDIR != 0 {
		return fail(errno.EINVAL)
	}
	p, e := c.pathArg(1)
	if e != 0 {
		return fail(e)
	}
	// The lexical resolution would turn "dir/." into "dir": Linux
	// refuses to remove "." (EINVAL) and ".." (ENOTEMPTY) by name.
	switch path.Base(strings.TrimRight(p, "/")) {
	case ".":
		if flags&linux.AT_REMOVEDIR != 0 {
			return fail(errno.EINVAL)
		}
		return fail(errno.EISDIR)
	case "..":
		if flags&linux.AT_REMOVEDIR != 0 {
			return fail(errno.ENOTEMPTY)
		}
		return fail(errno.EISDIR)
	}
	r, e := c.resolveAt(c.i32(0), p)
	if e != 0 {
		return fail(e)
	}
	if r.at.Rel == "" || r.at.Rel == "/" {
		// The root of a mount: Linux says EBUSY for a mount point.
		if flags&linux.AT_REMOVEDIR != 0 {
			return fail(errno.EBUSY)
		}
		return fail(errno.EISDIR)
	}
	return result{err: r.fs.Unlink(c.t, r.at, flags)}
}

func sysUnlink(c *call) result {
	c.args = [6]uint64{atFDCWD, c.args[0], 0}
	return sysUnlinkat(c)
}

func sysRmdir(c *call) result {
	c.args = [6]uint64{atFDCWD, c.args[0], linux.AT_REMOVEDIR}
	return sysUnlinkat(c)
}

// twoPaths resolves the two paths of rename and link; they must be on
// the same mount (EXDEV otherwise, as between Linux's mounts).
func (c *call) twoPaths(dir1, path1, dir2, path2 int) (resolved, resolved, errno.Errno) {
	a, e := c.resolveArg(dir1, path1)
	if e != 0 {
		return a, a, e
	}
	b, e := c.resolveArg(dir2, path2)
	if e != 0 {
		return a, b, e
	}
	if a.mnt != b.mnt {
		return a, b, errno.EXDEV
	}
	return a, b, 0
}

// sysRenameat2 implements renameat2(2); sysRenameat and sysRename,
// renameat(2) and rename(2).
func sysRenameat2(c *call) result {
	flags := uint32(c.arg(4))
	if flags&^(linux.RENAME_NOREPLACE|linux.RENAME_EXCHANGE|linux.RENAME_WHITEOUT) != 0 {
		return fail(errno.EINVAL)
	}
	if flags&(linux.RENAME_EXCHANGE|linux.RENAME_WHITEOUT) != 0 {
		return fail(errno.EINVAL) // not supported by the file protocol (docs/filesystems.md)
	}
	for _, i := range []int{1, 3} {
		p, e := c.pathArg(i)
		if e != 0 {
			return fail(e)
		}
		if b := path.Base(strings.TrimRight(p, "/")); b == "." || b == ".." {
			return fail(errno.EBUSY) // as Linux, for "." and ".." as the last component
		}
	}
	a, b, e := c.twoPaths(0, 1, 2, 3)
	if e != 0 {
		return fail(e)
	}
	if a.at.Rel == "" || b.at.Rel == "" {
		return fail(errno.EBUSY) // a mount point
	}
	return result{err: a.fs.Rename(c.t, a.at, b.at, flags)}
}

func sysRenameat(c *call) result {
	c.args[4] = 0
	return sysRenameat2(c)
}

func sysRename(c *call) result {
	c.args = [6]uint64{atFDCWD, c.args[0], atFDCWD, c.args[1], 0}
	return sysRenameat2(c)
}

// sysLinkat implements linkat(2); sysLink, link(2).
func sysLinkat(c *call) result {
	flags := uint32(c.arg(4))
	if flags&^(linux.AT_SYMLINK_FOLLOW|linux.AT_EMPTY_PATH) != 0 {
		return fail(errno.EINVAL)
	}
	if flags&linux.AT_EMPTY_PATH != 0 {
		return fail(errno.ENOENT) // linking an open file by descriptor is not supported
	}
	a, b, e := c.twoPaths(0, 1, 2, 3)
	if e != 0 {
		return fail(e)
	}
	return result{err: a.fs.Link(c.t, a.at, b.at, flags)}
}

func sysLink(c *call) result {
	c.args = [6]uint64{atFDCWD, c.args[0], atFDCWD, c.args[1], 0}
	return sysLinkat(c)
}

// sysSymlinkat implements symlinkat(target, newdirfd, linkpath);
// sysSymlink, symlink(2).
func sysSymlinkat(c *call) result {
	target, e := c.pathArg(0)
	if e != 0 {
		return fail(e)
	}
	r, e := c.resolveArg(1, 2)
	if e != 0 {
		return fail(e)
	}
	return result{err: r.fs.Symlink(c.t, target, r.at)}
}

func sysSymlink(c *call) result {
	c.args = [6]uint64{c.args[0], atFDCWD, c.args[1]}
	return sysSymlinkat(c)
}

// fileAt is the target of a call on an open descriptor (fchmod and the
// like): only files in the namespace have attributes to change.
func (c *call) fileAt(i int) (resolved, *kfile.OpenFile, errno.Errno) {
	of, e := c.file(i)
	if e != 0 {
		return resolved{}, nil, e
	}
	if of.FS == nil {
		of.Drop()
		return resolved{}, nil, errno.EINVAL
	}
	return resolved{fs: of.FS, at: kfile.At{File: of.File}, abs: of.Path}, of, 0
}

// sysFchmodat implements fchmodat(2) (and fchmodat2's flags); sysChmod
// and sysFchmod, chmod(2) and fchmod(2).
func sysFchmodat(c *call) result {
	flags := uint32(c.arg(3))
	if flags&^linux.AT_SYMLINK_NOFOLLOW != 0 {
		return fail(errno.EINVAL)
	}
	r, e := c.resolveArg(0, 1)
	if e != 0 {
		return fail(e)
	}
	return result{err: r.fs.Chmod(c.t, r.at, uint32(c.arg(2))&0o7777, flags)}
}

func sysChmod(c *call) result {
	c.args = [6]uint64{atFDCWD, c.args[0], c.args[1], 0}
	return sysFchmodat(c)
}

func sysFchmod(c *call) result {
	r, of, e := c.fileAt(0)
	if e != 0 {
		return fail(e)
	}
	defer of.Drop()
	return result{err: r.fs.Chmod(c.t, r.at, uint32(c.arg(1))&0o7777, 0)}
}

// sysFchownat implements fchownat(2); sysChown, sysLchown and sysFchown,
// chown(2), lchown(2) and fchown(2). An id of -1 leaves it as it is.
func sysFchownat(c *call) result {
	flags := uint32(c.arg(4))
	if flags&^(linux.AT_SYMLINK_NOFOLLOW|linux.AT_EMPTY_PATH) != 0 {
		return fail(errno.EINVAL)
	}
	r, of, e := c.pathAt(0, 1, flags&linux.AT_EMPTY_PATH != 0)
	if e != 0 {
		return fail(e)
	}
	if of != nil {
		defer of.Drop()
	}
	return result{err: r.fs.Chown(c.t, r.at, uint32(c.arg(2)), uint32(c.arg(3)), flags&linux.AT_SYMLINK_NOFOLLOW)}
}

func sysChown(c *call) result {
	c.args = [6]uint64{atFDCWD, c.args[0], c.args[1], c.args[2], 0}
	return sysFchownat(c)
}

func sysLchown(c *call) result {
	c.args = [6]uint64{atFDCWD, c.args[0], c.args[1], c.args[2], linux.AT_SYMLINK_NOFOLLOW}
	return sysFchownat(c)
}

func sysFchown(c *call) result {
	r, of, e := c.fileAt(0)
	if e != 0 {
		return fail(e)
	}
	defer of.Drop()
	return result{err: r.fs.Chown(c.t, r.at, uint32(c.arg(1)), uint32(c.arg(2)), 0)}
}

// sysUtimensat implements utimensat(2): a NULL path is the descriptor
// itself (futimens); NULL times set both to now.
func sysUtimensat(c *call) result {
	flags := uint32(c.arg(3))
	if flags&^(linux.AT_SYMLINK_NOFOLLOW|linux.AT_EMPTY_PATH) != 0 {
		return fail(errno.EINVAL)
	}
	now := fileproto.Timespec{Nsec: linux.UTIME_NOW}
	atime, mtime := now, now
	if c.arg(2) != 0 {
		var b [32]byte
		if err := c.as().CopyIn(c.arg(2), b[:]); err != nil {
			return fail(errno.EFAULT)
		}
		ts := func(o int) (fileproto.Timespec, bool) {
			t := fileproto.Timespec{Sec: int64(binary.LittleEndian.Uint64(b[o:])), Nsec: int64(binary.LittleEndian.Uint64(b[o+8:]))}
			valid := t.Nsec == linux.UTIME_NOW || t.Nsec == linux.UTIME_OMIT || t.Nsec >= 0 && t.Nsec < 1e9
			return t, valid
		}
		var ok1, ok2 bool
		atime, ok1 = ts(0)
		mtime, ok2 = ts(16)
		if !ok1 || !ok2 {
			return fail(errno.EINVAL)
		}
	}
	var r resolved
	var of *kfile.OpenFile
	var e errno.Errno
	switch {
	case c.arg(1) == 0 && c.i32(0) == linux.AT_FDCWD:
		return fail(errno.EFAULT)
	case c.arg(1) == 0:
		r, of, e = c.fileAt(0) // futimens
	default:
		r, of, e = c.pathAt(0, 1, flags&linux.AT_EMPTY_PATH != 0)
	}
	if e != 0 {
		return fail(e)
	}
	if of != nil {
		defer of.Drop()
	}
	return result{err: r.fs.Utimens(c.t, r.at, atime, mtime, flags&linux.AT_SYMLINK_NOFOLLOW)}
}

// sysTruncate implements truncate(2); sysFtruncate, ftruncate(2).
func sysTruncate(c *call) result {
	if c.iarg(1) < 0 {
		return fail(errno.EINVAL)
	}
	r, e := c.resolveArg(-1, 0)
	if e != 0 {
		return fail(e)
	}
	return result{err: r.fs.Truncate(c.t, r.at, c.iarg(1))}
}

func sysFtruncate(c *call) result {
	if c.iarg(1) < 0 {
		return fail(errno.EINVAL)
	}
	r, of, e := c.fileAt(0)
	if e != 0 {
		return fail(e)
	}
	defer of.Drop()
	if of.Flags&linux.O_ACCMODE == linux.O_RDONLY {
		return fail(errno.EINVAL)
	}
	return result{err: r.fs.Truncate(c.t, r.at, c.iarg(1))}
}

// sysFallocate implements fallocate(2) for mode 0: the file grows to
// cover the range (the filesystem allocates its blocks when they are
// written; space is not reserved ahead).
func sysFallocate(c *call) result {
	off, n := c.iarg(2), c.iarg(3)
	if off < 0 || n <= 0 || off+n < off {
		return fail(errno.EINVAL)
	}
	if c.arg(1) != 0 {
		return fail(errno.EOPNOTSUPP)
	}
	r, of, e := c.fileAt(0)
	if e != 0 {
		return fail(e)
	}
	defer of.Drop()
	if of.Flags&linux.O_ACCMODE == linux.O_RDONLY {
		return fail(errno.EBADF)
	}
	st, e := kfile.StatOf(c.t, of.File)
	if e != 0 {
		return fail(e)
	}
	if st.Size >= off+n {
		return ok0()
	}
	return result{err: r.fs.Truncate(c.t, r.at, off+n)}
}

// sysFsync implements fsync(2) and fdatasync(2): what was written
// through the descriptor's file is durable when it returns.
func sysFsync(c *call) result {
	r, of, e := c.fileAt(0)
	if e != 0 {
		return fail(e)
	}
	defer of.Drop()
	return result{err: r.fs.Fsync(c.t, of.File)}
}

// sysSync implements sync(2): every filesystem in the caller's
// namespace commits.
func sysSync(c *call) result {
	syncAll(c, c.p.mounts())
	return ok0()
}

// sysSyncfs implements syncfs(2).
func sysSyncfs(c *call) result {
	r, of, e := c.fileAt(0)
	if e != 0 {
		return fail(e)
	}
	defer of.Drop()
	return result{err: r.fs.Sync(c.t)}
}

// sysStatfs implements statfs(2); sysFstatfs, fstatfs(2).
func sysStatfs(c *call) result {
	r, e := c.resolveArg(-1, 0)
	if e != 0 {
		return fail(e)
	}
	if _, e := r.fs.Stat(c.t, r.at, 0); e != 0 {
		return fail(e)
	}
	return writeStatfs(c, r.fs)
}

func sysFstatfs(c *call) result {
	r, of, e := c.fileAt(0)
	if e != 0 {
		return fail(e)
	}
	defer of.Drop()
	return writeStatfs(c, r.fs)
}

func writeStatfs(c *call, fs kfile.FS) result {
	st, e := fs.Statfs(c.t)
	if e != 0 {
		return fail(e)
	}
	b := make([]byte, st.SizeBytes())
	st.MarshalBytes(b)
	return copyOutStruct(c, c.arg(1), b)
}

// sysUmask implements umask(2).
func sysUmask(c *call) result {
	c.p.mu.Lock()
	defer c.p.mu.Unlock()
	old := c.p.umask
	c.p.umask = uint32(c.arg(0)) & 0o777
	return ok(uint64(old))
}

func (p *Process) getUmask() uint32 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.umask
}

// sysSetID implements setuid(2) and setgid(2) while every process is
// root: becoming root (0) again is allowed, any other id is EPERM, since
// the kernel has no users yet (docs/processes.md).
func sysSetID(c *call) result {
	if uint32(c.arg(0)) != 0 {
		return fail(errno.EPERM)
	}
	return ok0()
}

// sysSetgroups implements setgroups(2) likewise: only the empty list or
// group 0.
func sysSetgroups(c *call) result {
	n := c.arg(0)
	if n > 65536 {
		return fail(errno.EINVAL)
	}
	if n == 0 {
		return ok0()
	}
	b := make([]byte, 4*n)
	if err := c.as().CopyIn(c.arg(1), b); err != nil {
		return fail(errno.EFAULT)
	}
	for i := uint64(0); i < n; i++ {
		if binary.LittleEndian.Uint32(b[4*i:]) != 0 {
			return fail(errno.EPERM)
		}
	}
	return ok0()
}
