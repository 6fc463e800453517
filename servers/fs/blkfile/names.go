package blkfile

import (
	"context"
	"strings"
	"syscall"

	"valence.dev/servers/fs/fileproto"
)

// The namespace holds one file, the root (see the package
// documentation). resolve checks that an At names it: nil if it does,
// EBADF for a Dir that is not the caller's Fid, ENOTDIR for a path that
// goes on below the root (Linux's answer for a path through a
// non-directory), ENAMETOOLONG for a path over PATH_MAX. s.mu must be
// held.
func (s *Server) resolve(badge uint64, at fileproto.At) error {
	p := at.Path
	switch {
	case len(p) > fileproto.MaxPathLen:
		return s.errno(syscall.ENAMETOOLONG, "path of %d bytes", len(p))
	case strings.HasPrefix(p, "/"):
		// Absolute: Dir does not matter, as dirfd does not on Linux.
		if p == "/" {
			return nil
		}
	case at.Dir != 0:
		if _, err := s.file(badge, at.Dir); err != nil {
			return err
		}
		if p == "" {
			return nil // AT_EMPTY_PATH: the open file itself
		}
	case p == "" || p == ".":
		return nil
	}
	return s.errno(syscall.ENOTDIR, "%q: the root is a block device, not a directory", p)
}

// resolveShared is resolve for a caller that does not hold s.mu.
func (s *Server) resolveShared(badge uint64, at fileproto.At) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.resolve(badge, at)
}

// checkFid returns EBADF unless fid is open for badge.
func (s *Server) checkFid(badge uint64, fid uint32) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	_, err := s.file(badge, fid)
	return err
}

// Getdents implements fileproto.Handler: the file is no directory.
func (s *Server) Getdents(ctx context.Context, badge uint64, req fileproto.GetdentsRequest) (fileproto.GetdentsReply, error) {
	if err := s.checkFid(badge, req.Fid); err != nil {
		return fileproto.GetdentsReply{}, err
	}
	return fileproto.GetdentsReply{}, s.errno(syscall.ENOTDIR, "getdents: not a directory")
}

// Mkdir implements fileproto.Handler. Where the root is, something
// exists already: EEXIST, as mkdir(2) answers for any existing name.
func (s *Server) Mkdir(ctx context.Context, badge uint64, req fileproto.MkdirRequest) (fileproto.Empty, error) {
	if err := s.checkCred(req.Cred); err != nil {
		return fileproto.Empty{}, err
	}
	if err := s.resolveShared(badge, req.At); err != nil {
		return fileproto.Empty{}, err
	}
	return fileproto.Empty{}, s.errno(syscall.EEXIST, "mkdir: the device file exists")
}

// Unlink implements fileproto.Handler. The root is a mount point: unlink
// is EBUSY (vfs_unlink refuses a mount point), rmdir ENOTDIR (vfs_rmdir
// checks the type, in may_delete, before the mount). Neither checks the
// caller's permission: the directory the mount point is in is not this
// server's, and the kernel checks it if it forwards such a call at all.
func (s *Server) Unlink(ctx context.Context, badge uint64, req fileproto.UnlinkRequest) (fileproto.Empty, error) {
	if req.Flags&^fileproto.AT_REMOVEDIR != 0 {
		return fileproto.Empty{}, s.errno(syscall.EINVAL, "unlink flags %#x", req.Flags)
	}
	if err := s.checkCred(req.Cred); err != nil {
		return fileproto.Empty{}, err
	}
	if err := s.resolveShared(badge, req.At); err != nil {
		return fileproto.Empty{}, err
	}
	if req.Flags&fileproto.AT_REMOVEDIR != 0 {
		return fileproto.Empty{}, s.errno(syscall.ENOTDIR, "rmdir: not a directory")
	}
	return fileproto.Empty{}, s.errno(syscall.EBUSY, "unlink: the device file is a mount point")
}

// Rename implements fileproto.Handler. Both names can only be the root,
// and renaming a file onto itself does nothing (vfs_rename returns 0
// when source and target are the same, before it looks for mounts),
// unless RENAME_NOREPLACE, which finds the target there (EEXIST).
// RENAME_EXCHANGE is EINVAL, as for fsd.
func (s *Server) Rename(ctx context.Context, badge uint64, req fileproto.RenameRequest) (fileproto.Empty, error) {
	if req.Flags&^fileproto.RENAME_NOREPLACE != 0 {
		return fileproto.Empty{}, s.errno(syscall.EINVAL, "rename flags %#x", req.Flags)
	}
	if err := s.checkCred(req.Cred); err != nil {
		return fileproto.Empty{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.resolve(badge, req.Old); err != nil {
		return fileproto.Empty{}, err
	}
	if err := s.resolve(badge, req.New); err != nil {
		return fileproto.Empty{}, err
	}
	if req.Flags&fileproto.RENAME_NOREPLACE != 0 {
		return fileproto.Empty{}, s.errno(syscall.EEXIST, "rename: the device file exists")
	}
	return fileproto.Empty{}, nil
}

// Link implements fileproto.Handler: the new name can only be the root,
// which exists (EEXIST).
func (s *Server) Link(ctx context.Context, badge uint64, req fileproto.LinkRequest) (fileproto.Empty, error) {
	if req.Flags&^fileproto.AT_SYMLINK_FOLLOW != 0 {
		return fileproto.Empty{}, s.errno(syscall.EINVAL, "link flags %#x", req.Flags)
	}
	if err := s.checkCred(req.Cred); err != nil {
		return fileproto.Empty{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if err := s.resolve(badge, req.Old); err != nil {
		return fileproto.Empty{}, err
	}
	if err := s.resolve(badge, req.New); err != nil {
		return fileproto.Empty{}, err
	}
	return fileproto.Empty{}, s.errno(syscall.EEXIST, "link: the device file exists")
}

// Mknod implements fileproto.Handler: the only name is the device
// file's, which exists.
func (s *Server) Mknod(ctx context.Context, badge uint64, req fileproto.MknodRequest) (fileproto.Empty, error) {
	if err := s.checkCred(req.Cred); err != nil {
		return fileproto.Empty{}, err
	}
	if err := s.resolveShared(badge, req.At); err != nil {
		return fileproto.Empty{}, err
	}
	return fileproto.Empty{}, s.errno(syscall.EEXIST, "mknod: the device file exists")
}

// Symlink implements fileproto.Handler: the name can only be the root,
// which exists (EEXIST). The target is checked first, as symlinkat(2)
// reads it before it looks the name up.
func (s *Server) Symlink(ctx context.Context, badge uint64, req fileproto.SymlinkRequest) (fileproto.Empty, error) {
	switch {
	case req.Target == "":
		return fileproto.Empty{}, s.errno(syscall.ENOENT, "empty symlink target")
	case len(req.Target) > fileproto.MaxPathLen:
		return fileproto.Empty{}, s.errno(syscall.ENAMETOOLONG, "symlink target of %d bytes", len(req.Target))
	}
	if err := s.checkCred(req.Cred); err != nil {
		return fileproto.Empty{}, err
	}
	if err := s.resolveShared(badge, req.At); err != nil {
		return fileproto.Empty{}, err
	}
	return fileproto.Empty{}, s.errno(syscall.EEXIST, "symlink: the device file exists")
}

// Readlink implements fileproto.Handler: the file is no symlink
// (EINVAL, as readlink(2)).
func (s *Server) Readlink(ctx context.Context, badge uint64, req fileproto.PathRequest) (fileproto.ReadlinkReply, error) {
	if err := s.checkCred(req.Cred); err != nil {
		return fileproto.ReadlinkReply{}, err
	}
	if err := s.resolveShared(badge, req.At); err != nil {
		return fileproto.ReadlinkReply{}, err
	}
	return fileproto.ReadlinkReply{}, s.errno(syscall.EINVAL, "readlink: not a symlink")
}

// Truncate implements fileproto.Handler: a device has the size it has.
// truncate(2) and ftruncate(2) are EINVAL for anything but a regular
// file (vfs_truncate, do_ftruncate), before any permission check.
func (s *Server) Truncate(ctx context.Context, badge uint64, req fileproto.TruncateRequest) (fileproto.Empty, error) {
	if err := s.checkCred(req.Cred); err != nil {
		return fileproto.Empty{}, err
	}
	if err := s.resolveShared(badge, req.At); err != nil {
		return fileproto.Empty{}, err
	}
	return fileproto.Empty{}, s.errno(syscall.EINVAL, "truncate: not a regular file")
}
