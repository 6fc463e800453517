package fsd

import (
	"context"
	"syscall"
	"time"

	"valence.dev/servers/fs/blockdev"
	"valence.dev/servers/fs/fileproto"
	"valence.dev/servers/fs/fs"
)

func timespec(t time.Time) fileproto.Timespec {
	n := t.UnixNano()
	return fileproto.Timespec{Sec: n / 1e9, Nsec: n % 1e9}
}

func (s *Server) volume() uint64 { return s.fs.StatFS().Volume }

// statOut is the protocol's form of a filesystem Stat.
func statOut(st fs.Stat, dev uint64) fileproto.Stat {
	return fileproto.Stat{
		Dev: dev, Ino: st.Ino, Mode: st.Mode, Nlink: st.Nlink, Uid: st.Uid, Gid: st.Gid,
		Size: st.Size, Blocks: st.Blocks, Blksize: blockdev.BlockSize,
		Atime: timespec(st.Atime), Mtime: timespec(st.Mtime), Ctime: timespec(st.Ctime),
	}
}

// existing resolves at, which must exist.
func (s *Server) existing(badge uint64, cred fileproto.Cred, at fileproto.At, follow bool) (loc, error) {
	l, err := s.resolve(badge, cred, at, follow)
	if err == nil && !l.exists {
		err = errno(syscall.ENOENT, "%s does not exist", l.path())
	}
	return l, err
}

// Stat implements fileproto.Handler.
func (s *Server) Stat(ctx context.Context, badge uint64, req fileproto.StatRequest) (fileproto.Stat, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.existing(badge, req.Cred, req.At, req.Flags&fileproto.AT_SYMLINK_NOFOLLOW == 0)
	if err != nil {
		return fileproto.Stat{}, err
	}
	return statOut(l.st, s.volume()), nil
}

// Access implements fileproto.Handler. Which ids Cred holds (real or
// effective, AT_EACCESS) is the kernel's choice.
func (s *Server) Access(ctx context.Context, badge uint64, req fileproto.AccessRequest) (fileproto.Empty, error) {
	if req.Mode&^7 != 0 || req.Flags&^(fileproto.AT_EACCESS|fileproto.AT_SYMLINK_NOFOLLOW) != 0 {
		return fileproto.Empty{}, errno(syscall.EINVAL, "access mode %#o flags %#x", req.Mode, req.Flags)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.existing(badge, req.Cred, req.At, req.Flags&fileproto.AT_SYMLINK_NOFOLLOW == 0)
	if err != nil {
		return fileproto.Empty{}, err
	}
	if !may(req.Cred, l.st, req.Mode) {
		return fileproto.Empty{}, errno(syscall.EACCES, "%s: access %#o denied", l.path(), req.Mode)
	}
	return fileproto.Empty{}, nil
}

// attrTarget resolves the file an attribute change applies to. The
// filesystem changes attributes by path only and follows a final
// symlink, so a symlink itself cannot be changed (EOPNOTSUPP, which
// Linux also answers for fchmodat of a symlink).
func (s *Server) attrTarget(badge uint64, cred fileproto.Cred, at fileproto.At, flags uint32) (loc, error) {
	if flags&^fileproto.AT_SYMLINK_NOFOLLOW != 0 {
		return loc{}, errno(syscall.EINVAL, "flags %#x", flags)
	}
	l, err := s.existing(badge, cred, at, flags&fileproto.AT_SYMLINK_NOFOLLOW == 0)
	if err == nil && l.st.IsSymlink() {
		err = errno(syscall.EOPNOTSUPP, "%s: attributes of a symlink", l.path())
	}
	return l, err
}

// Chmod implements fileproto.Handler.
func (s *Server) Chmod(ctx context.Context, badge uint64, req fileproto.ChmodRequest) (fileproto.Empty, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.attrTarget(badge, req.Cred, req.At, req.Flags)
	if err != nil {
		return fileproto.Empty{}, err
	}
	if !owns(req.Cred, l.st) {
		return fileproto.Empty{}, errno(syscall.EPERM, "chmod %s: not the owner", l.path())
	}
	mode := req.Mode & fs.ModePerm
	if req.Cred.Uid != 0 && !inGroup(req.Cred, l.st.Gid) {
		mode &^= modeSetgid
	}
	return fileproto.Empty{}, fsErr(s.fs.Chmod(l.path(), mode))
}

// Chown implements fileproto.Handler. Only root gives a file away; an
// owner may change its group to one of its own groups. A change clears
// setuid, and setgid on a group-executable file, as Linux does.
func (s *Server) Chown(ctx context.Context, badge uint64, req fileproto.ChownRequest) (fileproto.Empty, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.attrTarget(badge, req.Cred, req.At, req.Flags)
	if err != nil {
		return fileproto.Empty{}, err
	}
	uid, gid := l.st.Uid, l.st.Gid
	if req.Uid != fileproto.NoChange {
		uid = req.Uid
	}
	if req.Gid != fileproto.NoChange {
		gid = req.Gid
	}
	c := req.Cred
	if c.Uid != 0 && (uid != l.st.Uid || c.Uid != l.st.Uid || (gid != l.st.Gid && !inGroup(c, gid))) {
		return fileproto.Empty{}, errno(syscall.EPERM, "chown %s: not permitted", l.path())
	}
	path := l.path()
	if err := s.fs.Chown(path, uid, gid); err != nil {
		return fileproto.Empty{}, fsErr(err)
	}
	mode := l.st.Mode & fs.ModePerm
	if !l.st.IsDir() {
		mode &^= modeSetuid
		if mode&0o010 != 0 {
			mode &^= modeSetgid
		}
	}
	if mode != l.st.Mode&fs.ModePerm {
		return fileproto.Empty{}, fsErr(s.fs.Chmod(path, mode))
	}
	return fileproto.Empty{}, nil
}

// Utimens implements fileproto.Handler. Setting both times to now needs
// ownership or write permission; setting anything else, ownership.
func (s *Server) Utimens(ctx context.Context, badge uint64, req fileproto.UtimensRequest) (fileproto.Empty, error) {
	for _, t := range []fileproto.Timespec{req.Atime, req.Mtime} {
		if t.Nsec != fileproto.UTIME_NOW && t.Nsec != fileproto.UTIME_OMIT && (t.Nsec < 0 || t.Nsec >= 1e9) {
			return fileproto.Empty{}, errno(syscall.EINVAL, "nanoseconds %d", t.Nsec)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.attrTarget(badge, req.Cred, req.At, req.Flags)
	if err != nil {
		return fileproto.Empty{}, err
	}
	omit := func(t fileproto.Timespec) bool { return t.Nsec == fileproto.UTIME_OMIT }
	now := func(t fileproto.Timespec) bool { return t.Nsec == fileproto.UTIME_NOW }
	if omit(req.Atime) && omit(req.Mtime) {
		return fileproto.Empty{}, nil
	}
	switch {
	case owns(req.Cred, l.st):
	case now(req.Atime) && now(req.Mtime):
		if !may(req.Cred, l.st, fileproto.MayWrite) {
			return fileproto.Empty{}, errno(syscall.EACCES, "utimens %s: permission denied", l.path())
		}
	default:
		return fileproto.Empty{}, errno(syscall.EPERM, "utimens %s: not the owner", l.path())
	}
	t := s.opts.Now()
	pick := func(ts fileproto.Timespec, old time.Time) time.Time {
		switch {
		case omit(ts):
			return old
		case now(ts):
			return t
		}
		return time.Unix(ts.Sec, ts.Nsec)
	}
	return fileproto.Empty{}, fsErr(s.fs.SetTimes(l.path(), pick(req.Atime, l.st.Atime), pick(req.Mtime, l.st.Mtime)))
}

// Truncate implements fileproto.Handler.
func (s *Server) Truncate(ctx context.Context, badge uint64, req fileproto.TruncateRequest) (fileproto.Empty, error) {
	if req.Size < 0 {
		return fileproto.Empty{}, errno(syscall.EINVAL, "size %d", req.Size)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if req.At.Path == "" && req.At.Dir != 0 { // ftruncate
		f, err := s.file(badge, req.At.Dir)
		switch {
		case err != nil:
			return fileproto.Empty{}, err
		case f.dir || !f.writable():
			return fileproto.Empty{}, errno(syscall.EINVAL, "file %d is not open for writing", req.At.Dir)
		}
		return fileproto.Empty{}, fsErr(f.f.Truncate(req.Size))
	}
	l, err := s.existing(badge, req.Cred, req.At, true)
	switch {
	case err != nil:
		return fileproto.Empty{}, err
	case l.st.IsDir():
		return fileproto.Empty{}, errno(syscall.EISDIR, "%s is a directory", l.path())
	case !may(req.Cred, l.st, fileproto.MayWrite):
		return fileproto.Empty{}, errno(syscall.EACCES, "truncate %s: permission denied", l.path())
	}
	return fileproto.Empty{}, fsErr(s.fs.Truncate(l.path(), req.Size))
}

// Statfs implements fileproto.Handler. Inodes are not preallocated: any
// free block could hold some, so the free blocks stand for free inodes.
func (s *Server) Statfs(ctx context.Context, badge uint64, _ fileproto.Empty) (fileproto.Statfs, error) {
	st := s.fs.StatFS()
	return fileproto.Statfs{
		Type: fileproto.Magic, Bsize: blockdev.BlockSize, Frsize: blockdev.BlockSize,
		Blocks: st.Blocks, Bfree: st.FreeBlocks, Bavail: st.FreeBlocks,
		Files: st.Inodes + st.FreeBlocks, Ffree: st.FreeBlocks,
		Fsid: st.Volume, Namelen: fs.MaxNameLen,
	}, nil
}
