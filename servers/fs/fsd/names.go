package fsd

import (
	"context"
	"syscall"

	"valence.dev/servers/fs/fileproto"
	"valence.dev/servers/fs/fs"
)

// The calls that add and remove names. Each resolves its paths, checks
// every permission and precondition, and only then calls the
// filesystem, which checks again and changes the tree atomically.

// newEntry resolves at as a name to create, refusing one that exists.
func (s *Server) newEntry(badge uint64, cred fileproto.Cred, at fileproto.At) (loc, error) {
	l, err := s.resolve(badge, cred, at, false)
	if err != nil {
		return loc{}, err
	}
	if l.name == "" || l.exists {
		return loc{}, errno(syscall.EEXIST, "%s exists", l.path())
	}
	return l, mayChangeIn(cred, l.dir)
}

// Mkdir implements fileproto.Handler.
func (s *Server) Mkdir(ctx context.Context, badge uint64, req fileproto.MkdirRequest) (fileproto.Empty, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.newEntry(badge, req.Cred, req.At)
	if err != nil {
		return fileproto.Empty{}, err
	}
	mode := req.Mode & 0o1777
	if l.dir.st.Mode&modeSetgid != 0 {
		mode |= modeSetgid // inherited, as on Linux
	}
	path := l.path()
	if err := s.fs.Mkdir(path, mode); err != nil {
		return fileproto.Empty{}, fsErr(err)
	}
	return fileproto.Empty{}, s.setOwner(req.Cred, l.dir, path)
}

// Mknod implements fileproto.Handler: a socket or FIFO node.
func (s *Server) Mknod(ctx context.Context, badge uint64, req fileproto.MknodRequest) (fileproto.Empty, error) {
	if !fs.IsSpecialMode(req.Mode) {
		return fileproto.Empty{}, errno(syscall.EPERM, "mknod of mode %#o", req.Mode)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.newEntry(badge, req.Cred, req.At)
	if err != nil {
		return fileproto.Empty{}, err
	}
	path := l.path()
	if err := s.fs.Mknod(path, req.Mode&(fs.ModeType|0o777)); err != nil {
		return fileproto.Empty{}, fsErr(err)
	}
	return fileproto.Empty{}, s.setOwner(req.Cred, l.dir, path)
}

// Symlink implements fileproto.Handler.
func (s *Server) Symlink(ctx context.Context, badge uint64, req fileproto.SymlinkRequest) (fileproto.Empty, error) {
	switch {
	case req.Target == "":
		return fileproto.Empty{}, errno(syscall.ENOENT, "empty symlink target")
	case len(req.Target) > fs.MaxSymlinkLen:
		return fileproto.Empty{}, errno(syscall.ENAMETOOLONG, "symlink target of %d bytes", len(req.Target))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.newEntry(badge, req.Cred, req.At)
	if err != nil {
		return fileproto.Empty{}, err
	}
	path := l.path()
	if err := s.fs.Symlink(req.Target, path); err != nil {
		return fileproto.Empty{}, fsErr(err)
	}
	return fileproto.Empty{}, s.setOwner(req.Cred, l.dir, path)
}

// Link implements fileproto.Handler.
func (s *Server) Link(ctx context.Context, badge uint64, req fileproto.LinkRequest) (fileproto.Empty, error) {
	if req.Flags&^fileproto.AT_SYMLINK_FOLLOW != 0 {
		return fileproto.Empty{}, errno(syscall.EINVAL, "link flags %#x", req.Flags)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, err := s.resolve(badge, req.Cred, req.Old, req.Flags&fileproto.AT_SYMLINK_FOLLOW != 0)
	switch {
	case err != nil:
		return fileproto.Empty{}, err
	case !old.exists:
		return fileproto.Empty{}, errno(syscall.ENOENT, "%s does not exist", old.path())
	case old.st.IsDir():
		return fileproto.Empty{}, errno(syscall.EPERM, "%s is a directory", old.path())
	}
	l, err := s.newEntry(badge, req.Cred, req.New)
	if err != nil {
		return fileproto.Empty{}, err
	}
	return fileproto.Empty{}, fsErr(s.fs.Link(old.path(), l.path()))
}

// Readlink implements fileproto.Handler.
func (s *Server) Readlink(ctx context.Context, badge uint64, req fileproto.PathRequest) (fileproto.ReadlinkReply, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.resolve(badge, req.Cred, req.At, false)
	switch {
	case err != nil:
		return fileproto.ReadlinkReply{}, err
	case !l.exists:
		return fileproto.ReadlinkReply{}, errno(syscall.ENOENT, "%s does not exist", l.path())
	case !l.st.IsSymlink():
		return fileproto.ReadlinkReply{}, errno(syscall.EINVAL, "%s is not a symlink", l.path())
	}
	target, err := s.fs.Readlink(l.path())
	return fileproto.ReadlinkReply{Target: target}, fsErr(err)
}

// Unlink implements fileproto.Handler.
func (s *Server) Unlink(ctx context.Context, badge uint64, req fileproto.UnlinkRequest) (fileproto.Empty, error) {
	if req.Flags&^fileproto.AT_REMOVEDIR != 0 {
		return fileproto.Empty{}, errno(syscall.EINVAL, "unlink flags %#x", req.Flags)
	}
	rmdir := req.Flags&fileproto.AT_REMOVEDIR != 0
	s.mu.Lock()
	defer s.mu.Unlock()
	l, err := s.resolve(badge, req.Cred, req.At, false)
	switch {
	case err != nil:
		return fileproto.Empty{}, err
	case l.name == "" && rmdir:
		return fileproto.Empty{}, errno(syscall.EINVAL, "rmdir of %q", req.At.Path)
	case l.name == "":
		return fileproto.Empty{}, errno(syscall.EISDIR, "unlink of %q", req.At.Path)
	case !l.exists:
		return fileproto.Empty{}, errno(syscall.ENOENT, "%s does not exist", l.path())
	case rmdir && !l.st.IsDir():
		return fileproto.Empty{}, errno(syscall.ENOTDIR, "%s is not a directory", l.path())
	case !rmdir && l.st.IsDir():
		return fileproto.Empty{}, errno(syscall.EISDIR, "%s is a directory", l.path())
	}
	if err := mayRemove(req.Cred, l); err != nil {
		return fileproto.Empty{}, err
	}
	if rmdir {
		return fileproto.Empty{}, fsErr(s.fs.Rmdir(l.path()))
	}
	return fileproto.Empty{}, fsErr(s.fs.Unlink(l.path()))
}

// Rename implements fileproto.Handler. RENAME_NOREPLACE is checked here,
// under mu, so no other request can create the new name in between;
// RENAME_EXCHANGE the filesystem cannot do, and it is EINVAL as on a
// Linux filesystem without it.
func (s *Server) Rename(ctx context.Context, badge uint64, req fileproto.RenameRequest) (fileproto.Empty, error) {
	if req.Flags&^fileproto.RENAME_NOREPLACE != 0 {
		return fileproto.Empty{}, errno(syscall.EINVAL, "rename flags %#x", req.Flags)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, err := s.resolve(badge, req.Cred, req.Old, false)
	if err != nil {
		return fileproto.Empty{}, err
	}
	nw, err := s.resolve(badge, req.Cred, req.New, false)
	switch {
	case err != nil:
		return fileproto.Empty{}, err
	case old.name == "" || nw.name == "":
		return fileproto.Empty{}, errno(syscall.EBUSY, "rename of a directory by . or ..")
	case !old.exists:
		return fileproto.Empty{}, errno(syscall.ENOENT, "%s does not exist", old.path())
	case (old.mustDir || nw.mustDir) && !old.st.IsDir():
		return fileproto.Empty{}, errno(syscall.ENOTDIR, "%s is not a directory", old.path())
	case nw.exists && req.Flags&fileproto.RENAME_NOREPLACE != 0:
		return fileproto.Empty{}, errno(syscall.EEXIST, "%s exists", nw.path())
	}
	if err := s.mayRename(req.Cred, old, nw); err != nil {
		return fileproto.Empty{}, err
	}
	if err := s.fs.Rename(old.path(), nw.path()); err != nil {
		return fileproto.Empty{}, fsErr(err)
	}
	s.renamed(old.comps(), nw.comps())
	return fileproto.Empty{}, nil
}

// mayRename checks the permissions rename needs: removing the old name,
// adding (or replacing) the new one, and, to move a directory to
// another parent, writing it (its ".." changes).
func (s *Server) mayRename(cred fileproto.Cred, old, nw loc) error {
	if err := mayRemove(cred, old); err != nil {
		return err
	}
	if nw.exists {
		if err := mayRemove(cred, nw); err != nil {
			return err
		}
	} else if err := mayChangeIn(cred, nw.dir); err != nil {
		return err
	}
	if old.st.IsDir() && old.dir.st.Ino != nw.dir.st.Ino && !may(cred, old.st, fileproto.MayWrite) {
		return errno(syscall.EACCES, "moving directory %s needs write permission on it", old.path())
	}
	return nil
}
