package fs

// The operations that change names: mkdir, rmdir, unlink, rename, link,
// symlink. Each resolves and checks everything first and reserves space
// (prepare), and only then changes the tree (apply); see FS.

// exists returns ErrExist if name is in directory dir.
func (f *FS) exists(dir uint64, name string) error {
	_, err := f.lookup(dir, name)
	switch {
	case err == nil:
		return ErrExist
	case notExist(err):
		return nil
	}
	return err
}

// newName resolves the parent of path for a new entry and checks that
// the name is free and can be added: what every operation that creates a
// name (create, mkdir, link, symlink) checks before reserving space.
func (f *FS) newName(path string) (dir uint64, din Inode, name string, err error) {
	if dir, din, name, err = f.resolveParent(path); err != nil {
		return 0, Inode{}, "", err
	}
	if err = f.exists(dir, name); err != nil { // a dangling symlink, say
		return 0, Inode{}, "", err
	}
	if err = f.canAdd(dir, name); err != nil {
		return 0, Inode{}, "", err
	}
	return dir, din, name, nil
}

// touchDir records a change to directory dir's entries: its times, and
// its link count changed by delta (subdirectories added or removed).
func (f *FS) touchDir(dir uint64, delta int, now int64) error {
	in, err := f.linkedInode(dir)
	if err != nil {
		return err
	}
	in.Nlink = uint32(int(in.Nlink) + delta)
	in.Mtime, in.Ctime = now, now
	return f.putInode(dir, &in)
}

// Mkdir creates a directory.
func (f *FS) Mkdir(path string, perm uint32) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return pathErr("mkdir", path, f.mkdir(path, perm))
}

func (f *FS) mkdir(path string, perm uint32) error {
	dir, din, name, err := f.newName(path)
	if err != nil {
		return err
	}
	if din.Nlink >= MaxLinks {
		return ErrTooManyLinks
	}
	if err := f.prepare(f.treeCost(3)); err != nil {
		return err
	}
	return f.apply(func() error {
		now := f.now()
		in := Inode{Mode: ModeDir | perm&ModePerm, Nlink: 2, Parent: dir, Atime: now, Mtime: now, Ctime: now}
		ino, err := f.newInode(&in)
		if err != nil {
			return err
		}
		if err := f.addEntry(dir, name, ino, in.Mode); err != nil {
			return err
		}
		return f.touchDir(dir, +1, now)
	})
}

// Rmdir removes an empty directory.
func (f *FS) Rmdir(path string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return pathErr("rmdir", path, f.remove(path, true))
}

// Unlink removes a name of a file or symlink. The file goes when its
// last name does and no handle has it open; its space is returned then.
func (f *FS) Unlink(path string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return pathErr("unlink", path, f.remove(path, false))
}

// Remove removes a file, symlink or empty directory.
func (f *FS) Remove(path string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	dir, _, name, err := f.resolveParent(path)
	if err == nil {
		var in Inode
		if _, in, err = f.lookupIn(dir, name); err == nil {
			err = f.remove(path, in.IsDir())
		}
	}
	return pathErr("remove", path, err)
}

func (f *FS) remove(path string, isDir bool) error {
	dir, _, name, err := f.resolveParent(path)
	if err != nil {
		return err
	}
	e, in, err := f.lookupIn(dir, name)
	if err != nil {
		return err
	}
	switch {
	case isDir && !in.IsDir():
		return ErrNotDir
	case !isDir && in.IsDir():
		return ErrIsDir
	case isDir:
		if empty, err := f.isEmpty(e.Ino); err != nil || !empty {
			return firstErr(err, ErrNotEmpty)
		}
	}
	if err := f.prepareRemove(removeCost(f)); err != nil {
		return err
	}
	return f.apply(func() error {
		if err := f.removeEntry(dir, name); err != nil {
			return err
		}
		delta := 0
		if isDir {
			delta = -1
		}
		if err := f.touchDir(dir, delta, f.now()); err != nil {
			return err
		}
		return f.dropLink(e.Ino)
	})
}

func firstErr(errs ...error) error {
	for _, e := range errs {
		if e != nil {
			return e
		}
	}
	return nil
}

// Link gives the file or symlink at oldpath the additional name newpath
// (a hard link). Directories cannot be linked.
func (f *FS) Link(oldpath, newpath string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return pathErr("link", newpath, f.link(oldpath, newpath))
}

func (f *FS) link(oldpath, newpath string) error {
	src, err := f.resolve(oldpath, false)
	if err != nil {
		return err
	}
	if src.in.IsDir() {
		return ErrIsDir
	}
	if src.in.Nlink >= MaxLinks {
		return ErrTooManyLinks
	}
	dir, _, name, err := f.newName(newpath)
	if err != nil {
		return err
	}
	if err := f.prepare(f.treeCost(3)); err != nil {
		return err
	}
	return f.apply(func() error {
		now := f.now()
		in := src.in
		in.Nlink++
		in.Ctime = now
		if err := f.putInode(src.ino, &in); err != nil {
			return err
		}
		if err := f.addEntry(dir, name, src.ino, in.Mode); err != nil {
			return err
		}
		return f.touchDir(dir, 0, now)
	})
}

// Symlink creates a symlink at path whose target is target. The target
// is stored as the symlink's data, like a small file, so it may be up to
// MaxSymlinkLen bytes.
func (f *FS) Symlink(target, path string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return pathErr("symlink", path, f.symlink(target, path))
}

func (f *FS) symlink(target, path string) error {
	switch {
	case target == "" || len(target) > MaxSymlinkLen:
		return ErrInvalid
	}
	dir, _, name, err := f.newName(path)
	if err != nil {
		return err
	}
	if err := f.prepare(f.treeCost(4) + f.writeCost(0, uint64(len(target)))); err != nil {
		return err
	}
	return f.apply(func() error {
		now := f.now()
		in := Inode{Mode: ModeSymlink | 0o777, Nlink: 1, Size: uint64(len(target)), Atime: now, Mtime: now, Ctime: now}
		ino, err := f.newInode(&in)
		if err != nil {
			return err
		}
		if err := f.writeData(ino, &in, []byte(target), 0); err != nil {
			return err
		}
		if err := f.putInode(ino, &in); err != nil {
			return err
		}
		if err := f.addEntry(dir, name, ino, in.Mode); err != nil {
			return err
		}
		return f.touchDir(dir, 0, now)
	})
}

// Readlink returns the target of the symlink at path.
func (f *FS) Readlink(path string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := f.resolve(path, false)
	if err == nil && !r.in.IsSymlink() {
		err = ErrInvalid
	}
	if err != nil {
		return "", pathErr("readlink", path, err)
	}
	target, err := f.readLink(r.ino, &r.in)
	return target, pathErr("readlink", path, err)
}
