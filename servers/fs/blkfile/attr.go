package blkfile

import (
	"context"
	"syscall"
	"time"

	"gvisor.dev/gvisor/pkg/abi/linux"

	"valence.dev/servers/fs/blockdev"
	"valence.dev/servers/fs/fileproto"
)

// attr is what can change of the device file: the attributes of the
// /dev node, kept in memory as devtmpfs keeps them.
type attr struct {
	mode                uint32 // permission bits only
	uid, gid            uint32
	atime, mtime, ctime fileproto.Timespec
}

// The constant parts of the file's Stat.
const (
	// devfsDev is st_dev: 0:5, the device number of /dev (devtmpfs) on
	// a typical Linux system.
	devfsDev = 5
	// ino is the file's inode number, the only one.
	ino = 1
	// devfsMagic is what Statfs reports as the filesystem type
	// (DEVFS_SUPER_MAGIC in linux/magic.h).
	devfsMagic = 0x1373
)

func timespec(t time.Time) fileproto.Timespec {
	n := t.UnixNano()
	return fileproto.Timespec{Sec: n / 1e9, Nsec: n % 1e9}
}

func (s *Server) attrs() attr {
	s.attrMu.Lock()
	defer s.attrMu.Unlock()
	return s.attr
}

// stat describes the device file.
func (s *Server) stat() fileproto.Stat {
	a := s.attrs()
	size := s.size()
	return fileproto.Stat{
		Dev: devfsDev, Ino: ino, Mode: linux.S_IFBLK | a.mode, Nlink: 1, Uid: a.uid, Gid: a.gid,
		Size: size, Blocks: size / 512, Blksize: blockdev.BlockSize,
		Atime: a.atime, Mtime: a.mtime, Ctime: a.ctime, Rdev: s.opts.Rdev,
	}
}

// Stat implements fileproto.Handler. Flags are ignored: the one file is
// no symlink, so AT_SYMLINK_NOFOLLOW changes nothing.
func (s *Server) Stat(ctx context.Context, badge uint64, req fileproto.StatRequest) (fileproto.Stat, error) {
	if err := s.resolveShared(badge, req.At); err != nil {
		return fileproto.Stat{}, err
	}
	return s.stat(), nil
}

// Fstat implements fileproto.Handler.
func (s *Server) Fstat(ctx context.Context, badge uint64, req fileproto.FidRequest) (fileproto.Stat, error) {
	if err := s.checkFid(badge, req.Fid); err != nil {
		return fileproto.Stat{}, err
	}
	return s.stat(), nil
}

// Access implements fileproto.Handler. Write access is granted by the
// bits even on a read-only server, as access(2) on Linux only refuses
// W_OK for a read-only filesystem, and the /dev node's is not.
func (s *Server) Access(ctx context.Context, badge uint64, req fileproto.AccessRequest) (fileproto.Empty, error) {
	if req.Mode&^7 != 0 || req.Flags&^(fileproto.AT_EACCESS|fileproto.AT_SYMLINK_NOFOLLOW) != 0 {
		return fileproto.Empty{}, s.errno(syscall.EINVAL, "access mode %#o flags %#x", req.Mode, req.Flags)
	}
	if err := s.checkCred(req.Cred); err != nil {
		return fileproto.Empty{}, err
	}
	if err := s.resolveShared(badge, req.At); err != nil {
		return fileproto.Empty{}, err
	}
	if !may(req.Cred, s.attrs(), req.Mode) {
		return fileproto.Empty{}, s.errno(syscall.EACCES, "access %#o denied", req.Mode)
	}
	return fileproto.Empty{}, nil
}

// attrTarget checks the arguments of an attribute change, which may
// only name the root.
func (s *Server) attrTarget(badge uint64, cred fileproto.Cred, at fileproto.At, flags uint32) error {
	if flags&^fileproto.AT_SYMLINK_NOFOLLOW != 0 {
		return s.errno(syscall.EINVAL, "flags %#x", flags)
	}
	if err := s.checkCred(cred); err != nil {
		return err
	}
	return s.resolveShared(badge, at)
}

// Chmod implements fileproto.Handler. Only root or the owner may; a
// caller not in the file's group loses the setgid bit it asked for, as
// in Linux's setattr_prepare.
func (s *Server) Chmod(ctx context.Context, badge uint64, req fileproto.ChmodRequest) (fileproto.Empty, error) {
	if err := s.attrTarget(badge, req.Cred, req.At, req.Flags); err != nil {
		return fileproto.Empty{}, err
	}
	s.attrMu.Lock()
	defer s.attrMu.Unlock()
	if !owns(req.Cred, s.attr) {
		return fileproto.Empty{}, s.errno(syscall.EPERM, "chmod: not the owner")
	}
	mode := req.Mode & permBits
	if req.Cred.Uid != 0 && !inGroup(req.Cred, s.attr.gid) {
		mode &^= modeSetgid
	}
	s.attr.mode = mode
	s.attr.ctime = timespec(s.opts.Now())
	return fileproto.Empty{}, nil
}

// Chown implements fileproto.Handler. Only root gives the file away; the
// owner may change its group to one of its own groups. Any chown clears
// setuid, and setgid if the group may execute, as Linux's chown_common
// asks for a non-directory.
func (s *Server) Chown(ctx context.Context, badge uint64, req fileproto.ChownRequest) (fileproto.Empty, error) {
	if err := s.attrTarget(badge, req.Cred, req.At, req.Flags); err != nil {
		return fileproto.Empty{}, err
	}
	s.attrMu.Lock()
	defer s.attrMu.Unlock()
	a := s.attr
	uid, gid := a.uid, a.gid
	if req.Uid != fileproto.NoChange {
		uid = req.Uid
	}
	if req.Gid != fileproto.NoChange {
		gid = req.Gid
	}
	c := req.Cred
	if c.Uid != 0 && (uid != a.uid || c.Uid != a.uid || (gid != a.gid && !inGroup(c, gid))) {
		return fileproto.Empty{}, s.errno(syscall.EPERM, "chown to %d:%d: not permitted", uid, gid)
	}
	s.attr.uid, s.attr.gid = uid, gid
	s.attr.mode &^= modeSetuid
	if s.attr.mode&0o010 != 0 {
		s.attr.mode &^= modeSetgid
	}
	s.attr.ctime = timespec(s.opts.Now())
	return fileproto.Empty{}, nil
}

// Utimens implements fileproto.Handler. Setting both times to now needs
// ownership or write permission (EACCES); any other change, ownership
// (EPERM), as utimensat(2) documents and fsd does; omitting both
// changes nothing and checks nothing.
func (s *Server) Utimens(ctx context.Context, badge uint64, req fileproto.UtimensRequest) (fileproto.Empty, error) {
	for _, t := range []fileproto.Timespec{req.Atime, req.Mtime} {
		if t.Nsec != fileproto.UTIME_NOW && t.Nsec != fileproto.UTIME_OMIT && (t.Nsec < 0 || t.Nsec >= 1e9) {
			return fileproto.Empty{}, s.errno(syscall.EINVAL, "nanoseconds %d", t.Nsec)
		}
	}
	if err := s.attrTarget(badge, req.Cred, req.At, req.Flags); err != nil {
		return fileproto.Empty{}, err
	}
	omit := func(t fileproto.Timespec) bool { return t.Nsec == fileproto.UTIME_OMIT }
	now := func(t fileproto.Timespec) bool { return t.Nsec == fileproto.UTIME_NOW }
	if omit(req.Atime) && omit(req.Mtime) {
		return fileproto.Empty{}, nil
	}
	s.attrMu.Lock()
	defer s.attrMu.Unlock()
	switch {
	case owns(req.Cred, s.attr):
	case now(req.Atime) && now(req.Mtime):
		if !may(req.Cred, s.attr, fileproto.MayWrite) {
			return fileproto.Empty{}, s.errno(syscall.EACCES, "utimens: permission denied")
		}
	default:
		return fileproto.Empty{}, s.errno(syscall.EPERM, "utimens: not the owner")
	}
	t := timespec(s.opts.Now())
	pick := func(ts, old fileproto.Timespec) fileproto.Timespec {
		switch {
		case omit(ts):
			return old
		case now(ts):
			return t
		}
		return ts
	}
	s.attr.atime = pick(req.Atime, s.attr.atime)
	s.attr.mtime = pick(req.Mtime, s.attr.mtime)
	s.attr.ctime = t
	return fileproto.Empty{}, nil
}

// Statfs implements fileproto.Handler. The device file lives in a
// filesystem of its own with no blocks at all, which df(1) leaves out
// by default, as it would an empty devtmpfs.
func (s *Server) Statfs(ctx context.Context, badge uint64, _ fileproto.Empty) (fileproto.Statfs, error) {
	return fileproto.Statfs{
		Type: devfsMagic, Bsize: blockdev.BlockSize, Frsize: blockdev.BlockSize,
		Files: 1, Fsid: devfsDev, Namelen: fileproto.MaxNameLen,
	}, nil
}
