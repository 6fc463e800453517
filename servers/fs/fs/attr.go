package fs

import (
	iofs "io/fs"
	"slices"
	"strings"
	"time"
)

// Stat is what stat(2) reports about a file.
type Stat struct {
	Ino    uint64
	Mode   uint32 // type and permission bits, as st_mode
	Nlink  uint32
	Uid    uint32
	Gid    uint32
	Size   int64
	Blocks int64 // 512-byte units, as st_blocks
	Atime  time.Time
	Mtime  time.Time
	Ctime  time.Time
}

func statOf(ino uint64, in *Inode) Stat {
	return Stat{
		Ino: ino, Mode: in.Mode, Nlink: in.Nlink, Uid: in.Uid, Gid: in.Gid,
		Size: int64(in.Size), Blocks: int64(in.Blocks * (BlockSize / 512)),
		Atime: time.Unix(0, in.Atime), Mtime: time.Unix(0, in.Mtime), Ctime: time.Unix(0, in.Ctime),
	}
}

// IsDir, IsRegular and IsSymlink test the type bits.
func (s Stat) IsDir() bool     { return s.Mode&ModeType == ModeDir }
func (s Stat) IsRegular() bool { return s.Mode&ModeType == ModeRegular }
func (s Stat) IsSymlink() bool { return s.Mode&ModeType == ModeSymlink }

// FileMode converts Mode to an io/fs.FileMode.
func (s Stat) FileMode() iofs.FileMode {
	m := iofs.FileMode(s.Mode & 0o777)
	switch {
	case s.IsDir():
		m |= iofs.ModeDir
	case s.IsSymlink():
		m |= iofs.ModeSymlink
	case s.Mode&ModeType == ModeSocket:
		m |= iofs.ModeSocket
	case s.Mode&ModeType == ModeFIFO:
		m |= iofs.ModeNamedPipe
	}
	if s.Mode&0o4000 != 0 {
		m |= iofs.ModeSetuid
	}
	if s.Mode&0o2000 != 0 {
		m |= iofs.ModeSetgid
	}
	if s.Mode&0o1000 != 0 {
		m |= iofs.ModeSticky
	}
	return m
}

// Stat describes the file at path, following a final symlink.
func (f *FS) Stat(path string) (Stat, error) { return f.stat("stat", path, true) }

// Lstat describes the file at path; a final symlink is described itself.
func (f *FS) Lstat(path string) (Stat, error) { return f.stat("lstat", path, false) }

func (f *FS) stat(op, path string, follow bool) (Stat, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := f.resolve(path, follow)
	if err != nil {
		return Stat{}, pathErr(op, path, err)
	}
	return statOf(r.ino, &r.in), nil
}

// setAttr changes an inode's attributes with change, after resolving
// path (following symlinks).
func (f *FS) setAttr(op, path string, change func(in *Inode)) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := f.resolve(path, true)
	if err == nil {
		err = f.prepare(f.treeCost(1))
	}
	if err == nil {
		err = f.apply(func() error {
			change(&r.in)
			r.in.Ctime = f.now()
			return f.putInode(r.ino, &r.in)
		})
	}
	return pathErr(op, path, err)
}

// Chmod sets the permission bits of the file at path.
func (f *FS) Chmod(path string, perm uint32) error {
	return f.setAttr("chmod", path, func(in *Inode) { in.Mode = in.Mode&ModeType | perm&ModePerm })
}

// Chown sets the owner and group of the file at path. The filesystem
// stores them; it checks no permissions (fsd's clients hold
// capabilities, not user ids).
func (f *FS) Chown(path string, uid, gid uint32) error {
	return f.setAttr("chown", path, func(in *Inode) { in.Uid, in.Gid = uid, gid })
}

// SetTimes sets the access and modification times of the file at path.
// Reads never change the access time (as with noatime), so reading
// never dirties the tree; atime changes only here and at creation.
func (f *FS) SetTimes(path string, atime, mtime time.Time) error {
	return f.setAttr("chtimes", path, func(in *Inode) { in.Atime, in.Mtime = atime.UnixNano(), mtime.UnixNano() })
}

// Truncate sets the size of the file at path.
func (f *FS) Truncate(path string, size int64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := f.resolve(path, true)
	if err == nil {
		err = f.truncate(r.ino, &r.in, size)
	}
	return pathErr("truncate", path, err)
}

func (f *FS) truncate(ino uint64, in *Inode, size int64) error {
	switch {
	case in.IsDir():
		return ErrIsDir
	case !in.IsRegular() || size < 0:
		return ErrInvalid
	case size > MaxFileSize:
		return ErrTooLarge
	}
	var err error
	if uint64(size) < in.Size {
		err = f.prepareRemove(truncateCost(f))
	} else {
		err = f.prepare(f.treeCost(1))
	}
	if err != nil {
		return err
	}
	return f.apply(func() error { return f.setSize(ino, in, uint64(size)) })
}

// DirEntry is one entry of a directory listing.
type DirEntry struct {
	Name string
	Ino  uint64
	Type uint32 // ModeRegular, ModeDir, ModeSymlink, ModeSocket or ModeFIFO
}

func direntOut(e Dirent) DirEntry {
	t := uint32(ModeRegular)
	switch e.Type {
	case TypeDir:
		t = ModeDir
	case TypeSymlink:
		t = ModeSymlink
	case TypeSocket:
		t = ModeSocket
	case TypeFIFO:
		t = ModeFIFO
	}
	return DirEntry{Name: e.Name, Ino: e.Ino, Type: t}
}

// ReadDir lists the directory at path, sorted by name, without "." and
// "..", like os.ReadDir.
func (f *FS) ReadDir(path string) ([]DirEntry, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, err := f.resolve(path, true)
	if err == nil && !r.in.IsDir() {
		err = ErrNotDir
	}
	if err != nil {
		return nil, pathErr("readdir", path, err)
	}
	ents, _, err := f.readdir(r.ino, 0, 0)
	if err != nil {
		return nil, pathErr("readdir", path, err)
	}
	out := make([]DirEntry, len(ents))
	for i, e := range ents {
		out[i] = direntOut(e)
	}
	slices.SortFunc(out, func(a, b DirEntry) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}
