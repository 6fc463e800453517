package fs

import (
	"errors"
	"fmt"
	"strings"
)

// Paths are resolved from the root of the filesystem; a leading "/" is
// optional. "." and ".." are handled here (directories store no entries
// for them; ".." is the directory inode's Parent). Symlinks met on the
// way are followed, at most maxSymlinks in one resolution; a relative
// target is taken from the symlink's directory.

const maxSymlinks = 40

// maxPathComponents bounds the work one resolution can do, even with
// symlinks that expand into long paths.
const maxPathComponents = 1 << 14

func splitPath(p string) []string {
	var out []string
	for _, c := range strings.Split(p, "/") {
		if c != "" {
			out = append(out, c)
		}
	}
	return out
}

// resolved is where a path led: the inode, and the directory and name
// of its last component ("" for the root).
type resolved struct {
	ino  uint64
	in   Inode
	dir  uint64
	name string
}

// resolve walks path. With follow, a symlink as the last component is
// followed too (stat, open); without, it is the result (lstat, unlink).
func (f *FS) resolve(path string, follow bool) (resolved, error) {
	comps := splitPath(path)
	cur := resolved{ino: RootIno, dir: RootIno}
	var err error
	if cur.in, err = f.inode(RootIno); err != nil {
		return resolved{}, err
	}
	links, steps := 0, 0
	for len(comps) > 0 {
		if steps++; steps > maxPathComponents {
			return resolved{}, ErrNameTooLong
		}
		name := comps[0]
		comps = comps[1:]
		if !cur.in.IsDir() {
			return resolved{}, ErrNotDir
		}
		switch name {
		case ".":
			continue
		case "..":
			parent := cur.in.Parent
			pin, err := f.linkedInode(parent)
			if err != nil {
				return resolved{}, err
			}
			if !pin.IsDir() {
				return resolved{}, fmt.Errorf("parent %d of a directory is not one: %w", parent, ErrCorrupt)
			}
			cur = resolved{ino: parent, in: pin, dir: parent}
			continue
		}
		if len(name) > MaxNameLen {
			return resolved{}, ErrNameTooLong
		}
		e, err := f.lookup(cur.ino, name)
		if err != nil {
			return resolved{}, err
		}
		in, err := f.linkedInode(e.Ino)
		if err != nil {
			return resolved{}, err
		}
		if in.IsSymlink() && (follow || len(comps) > 0) {
			if links++; links > maxSymlinks {
				return resolved{}, ErrLoop
			}
			if comps, err = f.expandLink(&cur, e.Ino, &in, comps); err != nil {
				return resolved{}, err
			}
			continue
		}
		cur = resolved{ino: e.Ino, in: in, dir: cur.ino, name: name}
	}
	return cur, nil
}

// expandLink replaces symlink ino, met in directory cur, by its target:
// it returns the target's components followed by the rest of the path,
// and moves cur to the root if the target is absolute.
func (f *FS) expandLink(cur *resolved, ino uint64, in *Inode, rest []string) ([]string, error) {
	target, err := f.readLink(ino, in)
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(target, "/") {
		root, err := f.inode(RootIno)
		if err != nil {
			return nil, err
		}
		*cur = resolved{ino: RootIno, in: root, dir: RootIno}
	}
	return append(splitPath(target), rest...), nil
}

// resolveParent resolves all of path but its last component, which must
// be a name that can be looked up or created in the resulting
// directory. It returns the directory and the name.
func (f *FS) resolveParent(path string) (uint64, Inode, string, error) {
	comps := splitPath(path)
	if len(comps) == 0 {
		return 0, Inode{}, "", ErrInvalid // the root has no parent entry
	}
	name := comps[len(comps)-1]
	if err := validName(name); err != nil {
		return 0, Inode{}, "", err
	}
	dir, err := f.resolve(strings.Join(comps[:len(comps)-1], "/"), true)
	if err != nil {
		return 0, Inode{}, "", err
	}
	if !dir.in.IsDir() {
		return 0, Inode{}, "", ErrNotDir
	}
	return dir.ino, dir.in, name, nil
}

// lookupIn returns the entry name in directory dir and its inode, or
// ErrNotExist.
func (f *FS) lookupIn(dir uint64, name string) (Dirent, Inode, error) {
	e, err := f.lookup(dir, name)
	if err != nil {
		return Dirent{}, Inode{}, err
	}
	in, err := f.linkedInode(e.Ino)
	if err != nil {
		return Dirent{}, Inode{}, err
	}
	if TypeOf(in.Mode) != e.Type {
		return Dirent{}, Inode{}, fmt.Errorf("entry %q: type %d, inode %d has mode %#o: %w", name, e.Type, e.Ino, in.Mode, ErrCorrupt)
	}
	return e, in, nil
}

// readLink returns the target of symlink ino.
func (f *FS) readLink(ino uint64, in *Inode) (string, error) {
	if in.Size == 0 || in.Size > MaxSymlinkLen {
		return "", fmt.Errorf("symlink %d of %d bytes: %w", ino, in.Size, ErrCorrupt)
	}
	b := make([]byte, in.Size)
	if err := f.readData(ino, b, 0); err != nil {
		return "", err
	}
	return string(b), nil
}

// notExist reports whether err says a name is missing.
func notExist(err error) bool { return errors.Is(err, ErrNotExist) }
