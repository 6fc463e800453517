package kfile

import (
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/servers/fs/fileproto"
)

// FS is what a mount serves: the initfs tree and /proc in package proc,
// a file server through package fsclient. Every method takes the calling
// thread (nil: the kernel's own call) and a target inside the filesystem
// (At), and returns the errno Linux would.
type FS interface {
	Open(c Caller, at At, flags, mode uint32) (File, errno.Errno)
	Stat(c Caller, at At, flags uint32) (linux.Stat, errno.Errno)
	Readlink(c Caller, at At) (string, errno.Errno)
	Access(c Caller, at At, mode, flags uint32) errno.Errno
	Mkdir(c Caller, at At, mode uint32) errno.Errno
	Unlink(c Caller, at At, flags uint32) errno.Errno
	Rename(c Caller, from, to At, flags uint32) errno.Errno
	Link(c Caller, from, to At, flags uint32) errno.Errno
	Symlink(c Caller, target string, at At) errno.Errno
	Chmod(c Caller, at At, mode, flags uint32) errno.Errno
	Chown(c Caller, at At, uid, gid, flags uint32) errno.Errno
	Utimens(c Caller, at At, atime, mtime fileproto.Timespec, flags uint32) errno.Errno
	Truncate(c Caller, at At, size int64) errno.Errno
	Fsync(c Caller, f File) errno.Errno
	Statfs(c Caller) (linux.Statfs, errno.Errno)
	Sync(c Caller) errno.Errno
}

// At is a file of a filesystem: a path relative to its root (a clean
// path, "" for the root; a trailing "/" when the caller's path had one,
// so that the filesystem can insist on a directory), or, when File is
// set, an open file of that filesystem (fchmod, the *at calls with
// AT_EMPTY_PATH).
type At struct {
	Rel  string
	File File
}

// Directory is an open directory: getdents64 reads it.
type Directory interface {
	// Readdir returns entries starting at stream position pos (0 is the
	// first, "."): at least one unless the directory has no more. Each
	// entry's Next is the position of the entry after it.
	Readdir(c Caller, pos int64) ([]Dirent, errno.Errno)
}

// Dirent is one directory entry.
type Dirent struct {
	Ino  uint64
	Next int64
	Type uint8 // DT_REG, DT_DIR, ...
	Name string
}

// Statter is a file whose stat can fail (a file server's): fstat asks
// it rather than File.Stat, which has no way to say so.
type Statter interface {
	Fstat(c Caller) (linux.Stat, errno.Errno)
}

// EndWriter is a file whose O_APPEND writes say where the file now ends,
// so that the descriptor's offset follows (a file server's).
type EndWriter interface {
	WriteEnd(c Caller, b []byte, off int64) (int, int64, errno.Errno)
}

// StatOf describes an open file, asking a Statter so that its errno is
// kept.
func StatOf(c Caller, f File) (linux.Stat, errno.Errno) {
	if s, ok := f.(Statter); ok {
		return s.Fstat(c)
	}
	return f.Stat(), 0
}

// Mknoder is a filesystem that makes special files (mknodat(2)): the
// node of a bound AF_UNIX socket (S_IFSOCK), a FIFO (S_IFIFO), an empty
// regular file. mode holds the type and the permission bits (umask
// applied). A filesystem without it has no such nodes: the kernel's
// read-only trees.
type Mknoder interface {
	Mknod(c Caller, at At, mode uint32) errno.Errno
}
