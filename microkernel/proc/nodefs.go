package proc

import (
	"strings"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile"
)

// nodeFS serves the kernel's own tree (fs.go): the initfs, read-only,
// with the character devices under dev/. It is mounted at "/" until a
// root filesystem is mounted, at /dev, and wherever it is bound.
type nodeFS struct{ readOnly }

// walk resolves at in the tree; follow says whether a final symlink is
// followed.
func (nodeFS) walk(at kfile.At, follow bool) (*node, errno.Errno) {
	if at.File != nil {
		switch f := at.File.(type) {
		case *dirFile:
			return f.n, 0
		case *regularFile:
			return f.n, 0
		}
		return nil, errno.EINVAL
	}
	mustDir := strings.HasSuffix(at.Rel, "/") || strings.HasSuffix(at.Rel, "/.")
	n, _, e := root.resolve("/", "/"+at.Rel, follow || mustDir)
	if e != 0 {
		return nil, e
	}
	if mustDir && !n.isDir() {
		return nil, errno.ENOTDIR
	}
	return n, 0
}

func (fs nodeFS) Open(c kfile.Caller, at kfile.At, flags, mode uint32) (kfile.File, errno.Errno) {
	n, e := fs.walk(at, flags&linux.O_NOFOLLOW == 0)
	if e != 0 {
		if e == errno.ENOENT && flags&linux.O_CREAT != 0 {
			return nil, errno.EROFS
		}
		return nil, e
	}
	if flags&(linux.O_CREAT|linux.O_EXCL) == linux.O_CREAT|linux.O_EXCL {
		return nil, errno.EEXIST
	}
	acc := flags & linux.O_ACCMODE
	if flags&linux.O_DIRECTORY != 0 && n.kind != kindDir {
		if n.kind == kindSymlink {
			return nil, errno.ELOOP
		}
		return nil, errno.ENOTDIR
	}
	switch n.kind {
	case kindDir:
		if acc != linux.O_RDONLY {
			return nil, errno.EISDIR
		}
		return &dirFile{n: n}, 0
	case kindFile:
		if acc != linux.O_RDONLY || flags&linux.O_TRUNC != 0 {
			return nil, errno.EROFS // the initfs is read-only
		}
		return &regularFile{n: n}, 0
	case kindSymlink:
		return nil, errno.ELOOP // O_NOFOLLOW on a symlink
	}
	return n.dev, 0
}

func (fs nodeFS) Stat(c kfile.Caller, at kfile.At, flags uint32) (linux.Stat, errno.Errno) {
	n, e := fs.walk(at, flags&linux.AT_SYMLINK_NOFOLLOW == 0)
	if e != 0 {
		return linux.Stat{}, e
	}
	return nodeStat(n), 0
}

func (fs nodeFS) Readlink(c kfile.Caller, at kfile.At) (string, errno.Errno) {
	n, e := fs.walk(at, false)
	if e != 0 {
		return "", e
	}
	if n.kind != kindSymlink {
		return "", errno.EINVAL
	}
	return n.link, 0
}

// Access: everything that exists is readable; only executables and
// directories are executable; nothing is writable but devices.
func (fs nodeFS) Access(c kfile.Caller, at kfile.At, mode, flags uint32) errno.Errno {
	n, e := fs.walk(at, flags&linux.AT_SYMLINK_NOFOLLOW == 0)
	if e != 0 {
		return e
	}
	if mode&2 != 0 && n.kind != kindDevice {
		return errno.EROFS
	}
	if mode&1 != 0 && n.mode&0o111 == 0 {
		return errno.EACCES
	}
	return 0
}

// exists turns a change that would create at into EEXIST when at is
// there, EROFS otherwise.
func (fs nodeFS) exists(at kfile.At) errno.Errno {
	if _, e := fs.walk(at, false); e == 0 {
		return errno.EEXIST
	}
	return errno.EROFS
}

func (fs nodeFS) Mkdir(c kfile.Caller, at kfile.At, mode uint32) errno.Errno { return fs.exists(at) }
func (fs nodeFS) Symlink(c kfile.Caller, target string, at kfile.At) errno.Errno {
	return fs.exists(at)
}

func (fs nodeFS) Unlink(c kfile.Caller, at kfile.At, flags uint32) errno.Errno {
	if _, e := fs.walk(at, false); e != 0 {
		return e
	}
	return errno.EROFS
}

func (nodeFS) Statfs(c kfile.Caller) (linux.Statfs, errno.Errno) {
	return linux.Statfs{Type: linux.RAMFS_MAGIC, BlockSize: 4096, NameLength: 255, FragmentSize: 4096,
		Flags: linux.ST_RDONLY}, 0
}

// readdir lists a directory of the tree: ".", "..", then its children in
// name order; position i is the i-th of them.
func (f *dirFile) Readdir(c kfile.Caller, pos int64) ([]kfile.Dirent, errno.Errno) {
	d := f.n
	names := append([]string{".", ".."}, d.sorted...)
	if pos < 0 || pos >= int64(len(names)) {
		return nil, 0
	}
	out := make([]kfile.Dirent, 0, len(names)-int(pos))
	for i := int(pos); i < len(names); i++ {
		name := names[i]
		var child *node
		switch name {
		case ".":
			child = d
		case "..":
			child = d.parent
		default:
			child = d.children[name]
		}
		out = append(out, kfile.Dirent{Ino: child.ino, Next: int64(i + 1), Type: direntType(child), Name: name})
	}
	return out, 0
}
