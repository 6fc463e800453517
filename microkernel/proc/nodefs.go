package proc

import (
	"strings"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"
)

// nodeFS serves the kernel's own tree (fs.go): the initfs, read-only,
// with the character devices under dev/. It is mounted at "/" until a
// root filesystem is mounted, at /dev, and wherever it is bound.
type nodeFS struct{ readOnly }

// walk resolves at in the tree; follow says whether a final symlink is
// followed.
func (nodeFS) walk(at fsAt, follow bool) (*node, errno.Errno) {
	if at.f != nil {
		switch f := at.f.(type) {
		case *dirFile:
			return f.n, 0
		case *regularFile:
			return f.n, 0
		}
		return nil, errno.EINVAL
	}
	mustDir := strings.HasSuffix(at.rel, "/") || strings.HasSuffix(at.rel, "/.")
	n, _, e := root.resolve("/", "/"+at.rel, follow || mustDir)
	if e != 0 {
		return nil, e
	}
	if mustDir && !n.isDir() {
		return nil, errno.ENOTDIR
	}
	return n, 0
}

func (fs nodeFS) open(c *call, at fsAt, flags, mode uint32) (file, errno.Errno) {
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

func (fs nodeFS) stat(c *call, at fsAt, flags uint32) (linux.Stat, errno.Errno) {
	n, e := fs.walk(at, flags&linux.AT_SYMLINK_NOFOLLOW == 0)
	if e != 0 {
		return linux.Stat{}, e
	}
	return nodeStat(n), 0
}

func (fs nodeFS) readlink(c *call, at fsAt) (string, errno.Errno) {
	n, e := fs.walk(at, false)
	if e != 0 {
		return "", e
	}
	if n.kind != kindSymlink {
		return "", errno.EINVAL
	}
	return n.link, 0
}

// access: everything that exists is readable; only executables and
// directories are executable; nothing is writable but devices.
func (fs nodeFS) access(c *call, at fsAt, mode, flags uint32) errno.Errno {
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
func (fs nodeFS) exists(at fsAt) errno.Errno {
	if _, e := fs.walk(at, false); e == 0 {
		return errno.EEXIST
	}
	return errno.EROFS
}

func (fs nodeFS) mkdir(c *call, at fsAt, mode uint32) errno.Errno { return fs.exists(at) }
func (fs nodeFS) symlink(c *call, target string, at fsAt) errno.Errno {
	return fs.exists(at)
}

func (fs nodeFS) unlink(c *call, at fsAt, flags uint32) errno.Errno {
	if _, e := fs.walk(at, false); e != 0 {
		return e
	}
	return errno.EROFS
}

func (nodeFS) statfs(c *call) (linux.Statfs, errno.Errno) {
	return linux.Statfs{Type: linux.RAMFS_MAGIC, BlockSize: 4096, NameLength: 255, FragmentSize: 4096,
		Flags: linux.ST_RDONLY}, 0
}

// readdir lists a directory of the tree: ".", "..", then its children in
// name order; position i is the i-th of them.
func (f *dirFile) readdir(c *call, pos int64) ([]dirent, errno.Errno) {
	d := f.n
	names := append([]string{".", ".."}, d.sorted...)
	if pos < 0 || pos >= int64(len(names)) {
		return nil, 0
	}
	out := make([]dirent, 0, len(names)-int(pos))
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
		out = append(out, dirent{ino: child.ino, next: int64(i + 1), typ: direntType(child), name: name})
	}
	return out, 0
}
