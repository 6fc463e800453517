package fsd

import (
	"errors"
	"slices"
	"strings"
	"syscall"

	"valence.dev/servers/fs/fileproto"
	"valence.dev/servers/fs/fs"
)

// Paths are resolved here, one component at a time, rather than by the
// filesystem: every directory passed through must grant the caller
// search permission, and a symlink met on the way may send the walk
// elsewhere. Each step is an Lstat of the symlink-free path walked so
// far, so what reaches the filesystem afterwards is a path with no
// symlinks in it, naming exactly what was checked (mu is held
// throughout, so nothing changes in between).

// node is a directory reached by a walk: its symlink-free path from
// the root of the mount, and its attributes.
type node struct {
	path []string
	st   fs.Stat
}

// loc is where a walk ended. If name is "", the path named the
// directory dir itself (the root, ".", "..", or an empty path) and st
// is dir's. Otherwise name is the last component in dir, and st is its
// attributes if exists.
type loc struct {
	dir     node
	name    string
	st      fs.Stat
	exists  bool
	mustDir bool // the path ended in "/"
}

// path returns what l names, as a path for the filesystem.
func (l loc) path() string {
	if l.name == "" {
		return join(l.dir.path)
	}
	return join(append(slices.Clip(l.dir.path), l.name))
}

// comps returns what l names, as components.
func (l loc) comps() []string {
	if l.name == "" {
		return slices.Clone(l.dir.path)
	}
	return append(slices.Clone(l.dir.path), l.name)
}

func join(comps []string) string { return "/" + strings.Join(comps, "/") }

// lstat is the filesystem's Lstat of a component path.
func (s *Server) lstat(comps []string) (fs.Stat, error) {
	return s.fs.Lstat(join(comps))
}

// base returns the node a walk of at starts from: the root, or the open
// directory at.Dir of the caller.
func (s *Server) base(badge uint64, dir uint32) (node, error) {
	if dir == 0 {
		st, err := s.lstat(nil)
		return node{st: st}, fsErr(err)
	}
	f, err := s.file(badge, dir)
	if err != nil {
		return node{}, err
	}
	st, err := s.current(f)
	if err != nil {
		return node{}, errno(syscall.ENOENT, "directory %d was removed", dir)
	}
	return node{path: slices.Clone(f.path), st: st}, nil
}

// resolve walks at for the caller. With follow, a final symlink is
// followed. An empty path names at.Dir itself.
func (s *Server) resolve(badge uint64, cred fileproto.Cred, at fileproto.At, follow bool) (loc, error) {
	if err := checkCred(cred); err != nil {
		return loc{}, err
	}
	p := at.Path
	switch {
	case len(p) >= fileproto.MaxPathLen:
		return loc{}, errno(syscall.ENAMETOOLONG, "path of %d bytes", len(p))
	case strings.IndexByte(p, 0) >= 0:
		return loc{}, errno(syscall.EINVAL, "NUL in path")
	}
	start, err := s.base(badge, at.Dir)
	if err != nil {
		return loc{}, err
	}
	if p == "" {
		return s.itself(badge, at.Dir, start)
	}
	mustDir := strings.HasSuffix(p, "/")
	if strings.HasPrefix(p, "/") {
		if start, err = s.base(badge, 0); err != nil {
			return loc{}, err
		}
	}
	l, err := s.walk(cred, start, splitPath(p), follow || mustDir)
	if err != nil {
		return loc{}, err
	}
	l.mustDir = mustDir
	if mustDir && l.exists && !l.st.IsDir() {
		return loc{}, errno(syscall.ENOTDIR, "%s is not a directory", p)
	}
	return l, nil
}

// itself returns the loc of an open file named by an empty path.
func (s *Server) itself(badge uint64, fid uint32, n node) (loc, error) {
	if fid == 0 || len(n.path) == 0 {
		return loc{dir: n, st: n.st, exists: true}, nil
	}
	parent := n.path[:len(n.path)-1]
	pst, err := s.lstat(parent)
	if err != nil {
		return loc{}, fsErr(err)
	}
	return loc{dir: node{path: parent, st: pst}, name: n.path[len(n.path)-1], st: n.st, exists: true}, nil
}

// walk resolves comps from cur.
func (s *Server) walk(cred fileproto.Cred, cur node, comps []string, follow bool) (loc, error) {
	links := 0
	for len(comps) > 0 {
		name := comps[0]
		comps = comps[1:]
		last := len(comps) == 0
		if !may(cred, cur.st, fileproto.MayExec) {
			return loc{}, errno(syscall.EACCES, "search permission denied in %s", join(cur.path))
		}
		switch name {
		case ".":
			continue
		case "..":
			if len(cur.path) > 0 {
				up := cur.path[:len(cur.path)-1]
				st, err := s.lstat(up)
				if err != nil {
					return loc{}, fsErr(err)
				}
				cur = node{path: up, st: st}
			}
			continue
		}
		if len(name) > fileproto.MaxNameLen {
			return loc{}, errno(syscall.ENAMETOOLONG, "name of %d bytes", len(name))
		}
		child := append(slices.Clip(cur.path), name)
		st, err := s.lstat(child)
		if errors.Is(err, fs.ErrNotExist) && last {
			return loc{dir: cur, name: name}, nil
		}
		if err != nil {
			return loc{}, fsErr(err)
		}
		if st.IsSymlink() && (follow || !last) {
			if links++; links > fileproto.MaxSymlinks {
				return loc{}, errno(syscall.ELOOP, "more than %d symlinks", fileproto.MaxSymlinks)
			}
			target, err := s.fs.Readlink(join(child))
			if err != nil {
				return loc{}, fsErr(err)
			}
			if strings.HasPrefix(target, "/") {
				root, err := s.lstat(nil)
				if err != nil {
					return loc{}, fsErr(err)
				}
				cur = node{st: root}
			}
			comps = append(splitPath(target), comps...)
			continue
		}
		if last {
			return loc{dir: cur, name: name, st: st, exists: true}, nil
		}
		if !st.IsDir() {
			return loc{}, errno(syscall.ENOTDIR, "%s is not a directory", join(child))
		}
		cur = node{path: child, st: st}
	}
	return loc{dir: cur, st: cur.st, exists: true}, nil
}

func splitPath(p string) []string {
	var out []string
	for c := range strings.SplitSeq(p, "/") {
		if c != "" {
			out = append(out, c)
		}
	}
	return out
}

// current returns the attributes of what f's path names now, and fails
// if that is no longer f's inode (it was removed, or replaced).
func (s *Server) current(f *openFile) (fs.Stat, error) {
	st, err := s.lstat(f.path)
	if err != nil {
		return fs.Stat{}, fsErr(err)
	}
	if st.Ino != f.ino {
		return fs.Stat{}, errno(syscall.ESTALE, "file was renamed over or removed")
	}
	return st, nil
}

// renamed moves the paths of open files from under old to under new.
func (s *Server) renamed(old, new []string) {
	for _, c := range s.clients {
		for _, f := range c.files {
			if len(f.path) >= len(old) && slices.Equal(f.path[:len(old)], old) {
				f.path = append(slices.Clone(new), f.path[len(old):]...)
			}
		}
	}
}
