package proc

import (
	"encoding/binary"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile"
	"valence.dev/servers/fs/fileproto"
)

// The system calls that name files by path, resolved against the
// caller's namespace (fsys.go) and answered by the filesystem of the
// mount the path is in.

// pathArg reads path argument i.
func (c *call) pathArg(i int) (string, errno.Errno) { return userPath(c, c.arg(i)) }

// openPath opens p (relative to dirfd) with open(2)'s flags and mode.
func openPath(c *call, dirfd int32, p string, flags, mode uint32) (*kfile.OpenFile, errno.Errno) {
	r, e := c.resolveAt(dirfd, p)
	if e != 0 {
		return nil, e
	}
	if flags&linux.O_CREAT != 0 {
		mode &^= c.p.getUmask()
	}
	f, e := r.fs.Open(c.t, r.at, flags, mode&0o7777)
	if e != 0 {
		return nil, e
	}
	of := kfile.NewOpenFile(f, flags&(linux.O_ACCMODE|linux.O_NONBLOCK|linux.O_APPEND), r.abs)
	of.FS = r.fs
	return of, 0
}

// sysOpenat implements openat(2).
func sysOpenat(c *call) result {
	p, e := c.pathArg(1)
	if e != 0 {
		return fail(e)
	}
	flags := uint32(c.arg(2))
	of, e := openPath(c, c.i32(0), p, flags, uint32(c.arg(3)))
	if e != 0 {
		return fail(e)
	}
	fd, e := c.p.fdTable().Install(of, 0, flags&linux.O_CLOEXEC != 0)
	if e != 0 {
		of.Drop()
		return fail(e)
	}
	return ok(uint64(fd))
}

// sysOpen implements open(2).
func sysOpen(c *call) result {
	c.args = [6]uint64{atFDCWD, c.args[0], c.args[1], c.args[2]}
	return sysOpenat(c)
}

// sysCreat implements creat(2).
func sysCreat(c *call) result {
	c.args = [6]uint64{atFDCWD, c.args[0], linux.O_CREAT | linux.O_WRONLY | linux.O_TRUNC, c.args[1]}
	return sysOpenat(c)
}

// statAt resolves and describes a file for the stat family.
func statAt(c *call, dirfd int32, pathAddr uint64, flags uint32) (linux.Stat, errno.Errno) {
	if flags&^(linux.AT_SYMLINK_NOFOLLOW|linux.AT_EMPTY_PATH|linux.AT_NO_AUTOMOUNT|linux.AT_STATX_SYNC_TYPE) != 0 {
		return linux.Stat{}, errno.EINVAL
	}
	p, e := userPath(c, pathAddr)
	if e == errno.ENOENT && flags&linux.AT_EMPTY_PATH != 0 {
		if dirfd != linux.AT_FDCWD {
			// Any descriptor, in the namespace or not (a pipe): fstat.
			of, ok := c.p.fdTable().Get(dirfd)
			if !ok {
				return linux.Stat{}, errno.EBADF
			}
			defer of.Drop()
			return kfile.StatOf(c.t, of.File)
		}
		p, e = ".", 0
	}
	if e != 0 {
		return linux.Stat{}, e
	}
	r, e := c.resolveAt(dirfd, p)
	if e != 0 {
		return linux.Stat{}, e
	}
	return r.fs.Stat(c.t, r.at, flags&linux.AT_SYMLINK_NOFOLLOW)
}

// sysNewfstatat implements newfstatat(2) (fstatat).
func sysNewfstatat(c *call) result {
	st, e := statAt(c, c.i32(0), c.arg(1), uint32(c.arg(3)))
	if e != 0 {
		return fail(e)
	}
	return writeStat(c, c.arg(2), st)
}

// sysStat implements stat(2); sysLstat, lstat(2).
func sysStat(c *call) result {
	c.args = [6]uint64{atFDCWD, c.args[0], c.args[1], 0}
	return sysNewfstatat(c)
}

func sysLstat(c *call) result {
	c.args = [6]uint64{atFDCWD, c.args[0], c.args[1], linux.AT_SYMLINK_NOFOLLOW}
	return sysNewfstatat(c)
}

// sysStatx implements statx(2): the basic fields, from stat.
func sysStatx(c *call) result {
	flags := uint32(c.arg(2))
	st, e := statAt(c, c.i32(0), c.arg(1), flags)
	if e != 0 {
		return fail(e)
	}
	x := linux.Statx{
		Mask:    linux.STATX_BASIC_STATS,
		Blksize: uint32(st.Blksize), Nlink: uint32(st.Nlink), UID: st.UID, GID: st.GID,
		Mode: uint16(st.Mode), Ino: st.Ino, Size: uint64(st.Size), Blocks: uint64(st.Blocks),
		Atime:     linux.StatxTimestamp{Sec: st.ATime.Sec, Nsec: uint32(st.ATime.Nsec)},
		Ctime:     linux.StatxTimestamp{Sec: st.CTime.Sec, Nsec: uint32(st.CTime.Nsec)},
		Mtime:     linux.StatxTimestamp{Sec: st.MTime.Sec, Nsec: uint32(st.MTime.Nsec)},
		RdevMajor: uint32(st.Rdev >> 8), RdevMinor: uint32(st.Rdev & 0xff),
		DevMajor: uint32(st.Dev >> 8), DevMinor: uint32(st.Dev & 0xff),
	}
	b := make([]byte, x.SizeBytes())
	x.MarshalBytes(b)
	return copyOutStruct(c, c.arg(4), b)
}

// sysFaccessat2 implements faccessat2(2); sysFaccessat and sysAccess,
// faccessat(2) and access(2) (no flags).
func sysFaccessat2(c *call) result {
	flags := uint32(c.arg(3))
	if flags&^(linux.AT_SYMLINK_NOFOLLOW|linux.AT_EACCESS|linux.AT_EMPTY_PATH) != 0 || c.arg(2)&^7 != 0 {
		return fail(errno.EINVAL)
	}
	r, of, e := c.pathAt(0, 1, flags&linux.AT_EMPTY_PATH != 0)
	if e != 0 {
		return fail(e)
	}
	if of != nil {
		defer of.Drop()
	}
	return result{err: r.fs.Access(c.t, r.at, uint32(c.arg(2)), flags)}
}

func sysFaccessat(c *call) result {
	c.args[3] = 0
	return sysFaccessat2(c)
}

func sysAccess(c *call) result {
	c.args = [6]uint64{atFDCWD, c.args[0], c.args[1]}
	return sysFaccessat2(c)
}

// sysReadlinkat implements readlinkat(2).
func sysReadlinkat(c *call) result {
	if int64(c.arg(3)) <= 0 {
		return fail(errno.EINVAL)
	}
	p, e := c.pathArg(1)
	if e != 0 {
		return fail(e)
	}
	r, e := c.resolveAt(c.i32(0), p)
	if e != 0 {
		return fail(e)
	}
	target, e := r.fs.Readlink(c.t, r.at)
	if e != 0 {
		return fail(e)
	}
	b := []byte(target)
	if uint64(len(b)) > c.arg(3) {
		b = b[:c.arg(3)]
	}
	if err := c.as().CopyOut(c.arg(2), b); err != nil {
		return fail(errno.EFAULT)
	}
	return ok(uint64(len(b)))
}

func sysReadlink(c *call) result {
	c.args = [6]uint64{atFDCWD, c.args[0], c.args[1], c.args[2]}
	return sysReadlinkat(c)
}

// sysGetdents64 implements getdents64(2): as many whole entries as fit
// in the buffer; the file offset is the position of the next entry.
func sysGetdents64(c *call) result {
	of, e := c.file(0)
	if e != 0 {
		return fail(e)
	}
	defer of.Drop()
	d, isDir := of.File.(kfile.Directory)
	if !isDir {
		return fail(errno.ENOTDIR)
	}
	size := min(c.arg(2), maxIO)
	if !userRange(c.arg(1), size) {
		return fail(errno.EFAULT)
	}
	of.Mu.Lock()
	defer of.Mu.Unlock()
	ents, e := d.Readdir(c.t, of.Off)
	if e != 0 {
		return fail(e)
	}
	var out []byte
	next := of.Off
	for _, ent := range ents {
		reclen := (19 + len(ent.Name) + 1 + 7) &^ 7
		if uint64(len(out)+reclen) > size {
			break
		}
		rec := make([]byte, reclen)
		binary.LittleEndian.PutUint64(rec[0:], ent.Ino)
		binary.LittleEndian.PutUint64(rec[8:], uint64(ent.Next))
		binary.LittleEndian.PutUint16(rec[16:], uint16(reclen))
		rec[18] = ent.Type
		copy(rec[19:], ent.Name)
		out = append(out, rec...)
		next = ent.Next
	}
	if len(out) == 0 && len(ents) > 0 {
		return fail(errno.EINVAL) // buffer too small for one entry
	}
	if err := c.as().CopyOut(c.arg(1), out); err != nil {
		return fail(errno.EFAULT)
	}
	of.Off = next
	return ok(uint64(len(out)))
}

// sysGetcwd implements getcwd(2).
func sysGetcwd(c *call) result {
	c.p.mu.Lock()
	cwd := c.p.cwd
	c.p.mu.Unlock()
	b := append([]byte(cwd), 0)
	if uint64(len(b)) > c.arg(1) {
		return fail(errno.ERANGE)
	}
	if err := c.as().CopyOut(c.arg(0), b); err != nil {
		return fail(errno.EFAULT)
	}
	return ok(uint64(len(b)))
}

// chdirTo makes r the current directory if it is a searchable
// directory.
func chdirTo(c *call, r resolved) result {
	st, e := r.fs.Stat(c.t, r.at, 0)
	if e != 0 {
		return fail(e)
	}
	if st.Mode&linux.S_IFMT != linux.S_IFDIR {
		return fail(errno.ENOTDIR)
	}
	if e := r.fs.Access(c.t, r.at, fileproto.MayExec, 0); e != 0 {
		return fail(e)
	}
	c.p.mu.Lock()
	c.p.cwd = r.abs
	c.p.mu.Unlock()
	return ok0()
}

// sysChdir implements chdir(2).
func sysChdir(c *call) result {
	p, e := c.pathArg(0)
	if e != 0 {
		return fail(e)
	}
	r, e := c.resolveAt(linux.AT_FDCWD, p)
	if e != 0 {
		return fail(e)
	}
	return chdirTo(c, r)
}

// sysFchdir implements fchdir(2).
func sysFchdir(c *call) result {
	of, e := c.file(0)
	if e != 0 {
		return fail(e)
	}
	defer of.Drop()
	if _, isDir := of.File.(kfile.Directory); !isDir || of.FS == nil {
		return fail(errno.ENOTDIR)
	}
	c.p.mu.Lock()
	c.p.cwd = of.Path
	c.p.mu.Unlock()
	return ok0()
}
