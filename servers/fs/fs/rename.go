package fs

// Rename moves oldpath to newpath, atomically: the new name appears and
// the old one goes in the same commit, and an existing newpath is
// replaced in that same commit, so no crash can show both names or
// neither. A directory may move to another parent but not under itself;
// it can replace only an empty directory, and a non-directory can
// replace only a non-directory. Renaming a name to another name of the
// same inode does nothing, as in POSIX.
func (f *FS) Rename(oldpath, newpath string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return pathErr("rename", oldpath, f.rename(oldpath, newpath))
}

// renameOp is a rename, decoded: both directories, both names, the
// entry being moved and the one being replaced (if replace).
type renameOp struct {
	od, nd       uint64
	oname, nname string
	src, dst     Dirent
	sin, din     Inode
	ndin         Inode // the new directory
	replace      bool
}

func (f *FS) rename(oldpath, newpath string) error {
	var r renameOp
	var err error
	if r.od, _, r.oname, err = f.resolveParent(oldpath); err != nil {
		return err
	}
	if r.nd, r.ndin, r.nname, err = f.resolveParent(newpath); err != nil {
		return err
	}
	if r.src, r.sin, err = f.lookupIn(r.od, r.oname); err != nil {
		return err
	}
	r.dst, r.din, err = f.lookupIn(r.nd, r.nname)
	r.replace = err == nil
	if err != nil && !notExist(err) {
		return err
	}
	if r.replace && r.dst.Ino == r.src.Ino {
		return nil
	}
	if err := f.checkRename(&r); err != nil {
		return err
	}
	if err := f.prepare(f.treeCost(10)); err != nil {
		return err
	}
	return f.apply(func() error { return f.doRename(&r) })
}

// checkRename checks the types and room that rename needs.
func (f *FS) checkRename(r *renameOp) error {
	if !r.replace {
		if err := f.canAdd(r.nd, r.nname); err != nil {
			return err
		}
	}
	if !r.sin.IsDir() {
		if r.replace && r.din.IsDir() {
			return ErrIsDir
		}
		return nil
	}
	if under, err := f.isAncestor(r.src.Ino, r.nd); err != nil || under {
		return firstErr(err, ErrInvalid)
	}
	if r.replace {
		if !r.din.IsDir() {
			return ErrNotDir
		}
		if empty, err := f.isEmpty(r.dst.Ino); err != nil || !empty {
			return firstErr(err, ErrNotEmpty)
		}
	}
	if r.od != r.nd && !r.replace && r.ndin.Nlink >= MaxLinks {
		return ErrTooManyLinks
	}
	return nil
}

// doRename changes the tree for rename. Every step is a Put or Delete of
// the working tree; none is durable until the commit, which takes them
// all or none. The replaced inode is dropped last, after the namespace
// is complete, because dropping a large file may checkpoint.
func (f *FS) doRename(r *renameOp) error {
	now := f.now()
	if err := f.removeEntry(r.od, r.oname); err != nil {
		return err
	}
	if r.replace {
		if err := f.removeEntry(r.nd, r.nname); err != nil {
			return err
		}
	}
	if err := f.addEntry(r.nd, r.nname, r.src.Ino, r.sin.Mode); err != nil {
		return err
	}
	sin := r.sin
	sin.Ctime = now
	odDelta, ndDelta := 0, 0
	if sin.IsDir() && r.od != r.nd {
		sin.Parent = r.nd // its ".." moves: one link from od to nd
		odDelta, ndDelta = -1, +1
	}
	if r.replace && r.din.IsDir() {
		ndDelta-- // the replaced directory's ".." goes
	}
	if err := f.putInode(r.src.Ino, &sin); err != nil {
		return err
	}
	if err := f.touchDirs(r.od, odDelta, r.nd, ndDelta, now); err != nil {
		return err
	}
	if r.replace {
		return f.dropLink(r.dst.Ino)
	}
	return nil
}

// touchDirs is touchDir for both directories of a rename, which may be
// the same one.
func (f *FS) touchDirs(od uint64, odDelta int, nd uint64, ndDelta int, now int64) error {
	if od == nd {
		return f.touchDir(od, odDelta+ndDelta, now)
	}
	if err := f.touchDir(od, odDelta, now); err != nil {
		return err
	}
	return f.touchDir(nd, ndDelta, now)
}
