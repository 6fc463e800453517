package fsclient

import (
	"context"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile"
	"valence.dev/servers/fs/fileproto"
)

// FS is a mount served by a file server: the kfile.FS it is mounted as.
type FS struct{ m *mount }

func (fs FS) client(c kfile.Caller) fileproto.Client {
	return fileproto.Client{T: kernelTransport{m: fs.m, t: c}}
}

var bg = context.Background()

// target is at in the protocol's terms: a path from the mount's root,
// or an open file (an empty path at its id).
func (fs FS) target(c kfile.Caller, at kfile.At) (fileproto.At, errno.Errno) {
	if at.File == nil {
		return fileproto.At{Path: at.Rel}, 0
	}
	var rf *file
	switch f := at.File.(type) {
	case *file:
		rf = f
	case *dir:
		rf = f.file
	}
	if rf == nil || rf.fs.m != fs.m {
		return fileproto.At{}, errno.EXDEV
	}
	fid, e := rf.id(c)
	if e != 0 {
		return fileproto.At{}, e
	}
	return fileproto.At{Dir: fid}, 0
}

func (fs FS) Open(c kfile.Caller, at kfile.At, flags, mode uint32) (kfile.File, errno.Errno) {
	a, e := fs.target(c, at)
	if e != 0 {
		return nil, e
	}
	_, _, gen := fs.m.current()
	rep, err := fs.client(c).Open(bg, fileproto.OpenRequest{Cred: cred(c), At: a,
		Flags: flags &^ (linux.O_CLOEXEC | linux.O_NONBLOCK | linux.O_NOCTTY | linux.O_LARGEFILE), Mode: mode})
	if err != nil {
		return nil, rpcErrno(err)
	}
	f := &file{fs: fs, fid: rep.Fid, gen: gen, rel: at.Rel, flags: flags,
		isDir: rep.Stat.Mode&linux.S_IFMT == linux.S_IFDIR}
	fs.m.nopen.Add(1)
	if f.isDir {
		return &dir{file: f}, 0
	}
	return f, 0
}

func (fs FS) Stat(c kfile.Caller, at kfile.At, flags uint32) (linux.Stat, errno.Errno) {
	if at.File != nil {
		return kfile.StatOf(c, at.File)
	}
	st, err := fs.client(c).Stat(bg, fileproto.StatRequest{Cred: cred(c), At: fileproto.At{Path: at.Rel},
		Flags: flags & linux.AT_SYMLINK_NOFOLLOW})
	if err != nil {
		return linux.Stat{}, rpcErrno(err)
	}
	return linuxStat(st), 0
}

func (fs FS) Readlink(c kfile.Caller, at kfile.At) (string, errno.Errno) {
	a, e := fs.target(c, at)
	if e != 0 {
		return "", e
	}
	s, err := fs.client(c).Readlink(bg, fileproto.PathRequest{Cred: cred(c), At: a})
	return s, rpcErrno(err)
}

func (fs FS) Access(c kfile.Caller, at kfile.At, mode, flags uint32) errno.Errno {
	a, e := fs.target(c, at)
	if e != 0 {
		return e
	}
	return rpcErrno(fs.client(c).Access(bg, fileproto.AccessRequest{Cred: cred(c), At: a, Mode: mode,
		Flags: flags & (linux.AT_SYMLINK_NOFOLLOW | linux.AT_EACCESS)}))
}

func (fs FS) Mkdir(c kfile.Caller, at kfile.At, mode uint32) errno.Errno {
	return rpcErrno(fs.client(c).Mkdir(bg, fileproto.MkdirRequest{Cred: cred(c), At: fileproto.At{Path: at.Rel}, Mode: mode}))
}

func (fs FS) Unlink(c kfile.Caller, at kfile.At, flags uint32) errno.Errno {
	return rpcErrno(fs.client(c).Unlink(bg, fileproto.UnlinkRequest{Cred: cred(c), At: fileproto.At{Path: at.Rel},
		Flags: flags & linux.AT_REMOVEDIR}))
}

func (fs FS) Rename(c kfile.Caller, from, to kfile.At, flags uint32) errno.Errno {
	return rpcErrno(fs.client(c).Rename(bg, fileproto.RenameRequest{Cred: cred(c),
		Old: fileproto.At{Path: from.Rel}, New: fileproto.At{Path: to.Rel}, Flags: flags}))
}

func (fs FS) Link(c kfile.Caller, from, to kfile.At, flags uint32) errno.Errno {
	a, e := fs.target(c, from)
	if e != 0 {
		return e
	}
	return rpcErrno(fs.client(c).Link(bg, fileproto.LinkRequest{Cred: cred(c), Old: a,
		New: fileproto.At{Path: to.Rel}, Flags: flags & linux.AT_SYMLINK_FOLLOW}))
}

func (fs FS) Symlink(c kfile.Caller, target string, at kfile.At) errno.Errno {
	return rpcErrno(fs.client(c).Symlink(bg, fileproto.SymlinkRequest{Cred: cred(c), Target: target,
		At: fileproto.At{Path: at.Rel}}))
}

func (fs FS) Chmod(c kfile.Caller, at kfile.At, mode, flags uint32) errno.Errno {
	a, e := fs.target(c, at)
	if e != 0 {
		return e
	}
	return rpcErrno(fs.client(c).Chmod(bg, fileproto.ChmodRequest{Cred: cred(c), At: a, Mode: mode,
		Flags: flags & linux.AT_SYMLINK_NOFOLLOW}))
}

func (fs FS) Chown(c kfile.Caller, at kfile.At, uid, gid, flags uint32) errno.Errno {
	a, e := fs.target(c, at)
	if e != 0 {
		return e
	}
	return rpcErrno(fs.client(c).Chown(bg, fileproto.ChownRequest{Cred: cred(c), At: a, Uid: uid, Gid: gid,
		Flags: flags & linux.AT_SYMLINK_NOFOLLOW}))
}

func (fs FS) Utimens(c kfile.Caller, at kfile.At, atime, mtime fileproto.Timespec, flags uint32) errno.Errno {
	a, e := fs.target(c, at)
	if e != 0 {
		return e
	}
	return rpcErrno(fs.client(c).Utimens(bg, fileproto.UtimensRequest{Cred: cred(c), At: a,
		Atime: atime, Mtime: mtime, Flags: flags & linux.AT_SYMLINK_NOFOLLOW}))
}

func (fs FS) Truncate(c kfile.Caller, at kfile.At, size int64) errno.Errno {
	a, e := fs.target(c, at)
	if e != 0 {
		return e
	}
	return rpcErrno(fs.client(c).Truncate(bg, fileproto.TruncateRequest{Cred: cred(c), At: a, Size: size}))
}

func (fs FS) Fsync(c kfile.Caller, f kfile.File) errno.Errno {
	a, e := fs.target(c, kfile.At{File: f})
	if e != 0 {
		return e
	}
	return rpcErrno(fs.client(c).Fsync(bg, a.Dir))
}

func (fs FS) Statfs(c kfile.Caller) (linux.Statfs, errno.Errno) {
	s, err := fs.client(c).Statfs(bg)
	if err != nil {
		return linux.Statfs{}, rpcErrno(err)
	}
	return linux.Statfs{Type: s.Type, BlockSize: s.Bsize, Blocks: s.Blocks, BlocksFree: s.Bfree,
		BlocksAvailable: s.Bavail, Files: s.Files, FilesFree: s.Ffree,
		FSID: [2]int32{int32(s.Fsid), int32(s.Fsid >> 32)}, NameLength: uint64(s.Namelen),
		FragmentSize: s.Frsize, Flags: linux.ST_VALID}, 0
}

func (fs FS) Sync(c kfile.Caller) errno.Errno {
	return rpcErrno(fs.client(c).Sync(bg))
}

// linuxStat is a protocol Stat as stat(2) reports it.
func linuxStat(s fileproto.Stat) linux.Stat {
	return linux.Stat{Dev: s.Dev, Ino: s.Ino, Nlink: uint64(s.Nlink), Mode: s.Mode, UID: s.Uid, GID: s.Gid, Rdev: s.Rdev,
		Size: s.Size, Blksize: int64(s.Blksize), Blocks: s.Blocks,
		ATime: linux.Timespec{Sec: s.Atime.Sec, Nsec: s.Atime.Nsec},
		MTime: linux.Timespec{Sec: s.Mtime.Sec, Nsec: s.Mtime.Nsec},
		CTime: linux.Timespec{Sec: s.Ctime.Sec, Nsec: s.Ctime.Nsec}}
}

// FSOf returns the filesystem an open file of a file server belongs to,
// and false for any other file.
func FSOf(f kfile.File) (FS, bool) {
	switch f := f.(type) {
	case *file:
		return f.fs, true
	case *dir:
		return f.file.fs, true
	}
	return FS{}, false
}

// Mknod implements kfile.Mknoder: the server makes the node.
func (fs FS) Mknod(c kfile.Caller, at kfile.At, mode uint32) errno.Errno {
	return rpcErrno(fs.client(c).Mknod(bg, fileproto.MknodRequest{Cred: cred(c), At: fileproto.At{Path: at.Rel}, Mode: mode}))
}
