package fsd

import (
	"context"
	"errors"
	"io"
	"os"
	"syscall"

	"valence.dev/servers/fs/fileproto"
	"valence.dev/servers/fs/fs"
)

// openFile is an open file of a client.
type openFile struct {
	f     *fs.File
	ino   uint64
	path  []string // its path when opened, kept up to date across renames
	flags uint32
	dir   bool
	// The directory stream (Getdents).
	started bool               // "." and ".." are in pending
	pending []fileproto.Dirent // read from the filesystem, not yet sent
	pos     int64              // entries sent
	eof     bool               // the filesystem has no more
}

func (f *openFile) readable() bool { return f.flags&fileproto.O_ACCMODE != fileproto.O_WRONLY }
func (f *openFile) writable() bool { return f.flags&fileproto.O_ACCMODE != fileproto.O_RDONLY }

// openFlags are the open(2) flags the server accepts; the kernel's own
// (O_CLOEXEC, O_NONBLOCK, O_NOCTTY, O_LARGEFILE) are ignored, O_SYNC and
// O_DSYNC make every write commit.
const openFlags = fileproto.O_ACCMODE | fileproto.O_CREAT | fileproto.O_EXCL | fileproto.O_TRUNC |
	fileproto.O_APPEND | fileproto.O_DIRECTORY | fileproto.O_NOFOLLOW | fileproto.O_CLOEXEC |
	fileproto.O_NONBLOCK | fileproto.O_NOCTTY | fileproto.O_LARGEFILE | oSync | oDsync | oNoatime

const (
	oSync    = 0o4010000
	oDsync   = 0o10000
	oNoatime = 0o1000000
)

// Open implements fileproto.Handler.
func (s *Server) Open(ctx context.Context, badge uint64, req fileproto.OpenRequest) (fileproto.OpenReply, error) {
	fl := req.Flags
	if fl&^openFlags != 0 || fl&fileproto.O_ACCMODE == fileproto.O_ACCMODE {
		return fileproto.OpenReply{}, errno(syscall.EINVAL, "open flags %#o", fl)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.clientFor(badge, true)
	if err != nil {
		return fileproto.OpenReply{}, err
	}
	defer s.dropIfIdle(badge)
	switch {
	case len(c.files) >= s.opts.MaxFilesPerClient:
		return fileproto.OpenReply{}, errno(syscall.EMFILE, "%d files open", len(c.files))
	case s.nfiles >= s.opts.MaxFiles:
		return fileproto.OpenReply{}, errno(syscall.ENFILE, "%d files open in all", s.nfiles)
	}
	creat, excl := fl&fileproto.O_CREAT != 0, fl&fileproto.O_EXCL != 0
	follow := fl&fileproto.O_NOFOLLOW == 0 && !(creat && excl)
	l, err := s.resolve(badge, req.Cred, req.At, follow)
	if err != nil {
		return fileproto.OpenReply{}, err
	}
	var h *fs.File
	if l.exists {
		h, err = s.openExisting(req.Cred, l, fl)
	} else {
		h, err = s.create(req.Cred, l, fl, req.Mode)
	}
	if err != nil {
		return fileproto.OpenReply{}, err
	}
	st, err := h.Stat()
	if err != nil {
		h.Close()
		return fileproto.OpenReply{}, fsErr(err)
	}
	c.nextFid++
	for c.nextFid == 0 || c.files[c.nextFid] != nil {
		c.nextFid++
	}
	c.files[c.nextFid] = &openFile{f: h, ino: st.Ino, path: l.comps(), flags: fl, dir: st.IsDir()}
	s.nfiles++
	return fileproto.OpenReply{Fid: c.nextFid, Stat: statOut(st, s.volume())}, nil
}

// accessFlags is the os package's access mode for fl.
func accessFlags(fl uint32) int {
	switch fl & fileproto.O_ACCMODE {
	case fileproto.O_WRONLY:
		return os.O_WRONLY
	case fileproto.O_RDWR:
		return os.O_RDWR
	}
	return os.O_RDONLY
}

func (s *Server) openExisting(cred fileproto.Cred, l loc, fl uint32) (*fs.File, error) {
	st := l.st
	write := fl&fileproto.O_ACCMODE != fileproto.O_RDONLY
	switch {
	case fl&fileproto.O_CREAT != 0 && fl&fileproto.O_EXCL != 0:
		return nil, errno(syscall.EEXIST, "%s exists", l.path())
	case st.IsSymlink():
		return nil, errno(syscall.ELOOP, "%s is a symlink (O_NOFOLLOW)", l.path())
	case fl&fileproto.O_DIRECTORY != 0 && !st.IsDir():
		return nil, errno(syscall.ENOTDIR, "%s is not a directory", l.path())
	case st.IsDir() && (write || fl&fileproto.O_TRUNC != 0):
		return nil, errno(syscall.EISDIR, "%s is a directory", l.path())
	case fs.IsSpecialMode(st.Mode):
		// Linux opens a socket node with ENXIO; a FIFO would be the
		// kernel's pipe, which is not joined to FIFO nodes yet.
		return nil, errno(syscall.ENXIO, "%s is a socket or FIFO", l.path())
	}
	var want uint32
	if fl&fileproto.O_ACCMODE != fileproto.O_WRONLY {
		want |= fileproto.MayRead
	}
	if write || fl&fileproto.O_TRUNC != 0 {
		want |= fileproto.MayWrite
	}
	if !may(cred, st, want) {
		return nil, errno(syscall.EACCES, "open %s: permission denied", l.path())
	}
	flag := accessFlags(fl)
	if fl&fileproto.O_TRUNC != 0 {
		flag |= os.O_TRUNC
	}
	h, err := s.fs.OpenFile(l.path(), flag, 0)
	return h, fsErr(err)
}

func (s *Server) create(cred fileproto.Cred, l loc, fl uint32, mode uint32) (*fs.File, error) {
	switch {
	case fl&fileproto.O_CREAT == 0:
		return nil, errno(syscall.ENOENT, "%s does not exist", l.path())
	case l.mustDir:
		return nil, errno(syscall.EISDIR, "create %s/: a name ending in /", l.path())
	case fl&fileproto.O_DIRECTORY != 0:
		return nil, errno(syscall.EINVAL, "O_CREAT with O_DIRECTORY")
	}
	if err := mayChangeIn(cred, l.dir); err != nil {
		return nil, err
	}
	path := l.path()
	h, err := s.fs.OpenFile(path, accessFlags(fl)|os.O_CREATE|os.O_EXCL, mode&fs.ModePerm)
	if err != nil {
		return nil, fsErr(err)
	}
	if err := s.setOwner(cred, l.dir, path); err != nil {
		h.Close()
		return nil, err
	}
	return h, nil
}

// setOwner gives a file just created at path its creator's ownership.
func (s *Server) setOwner(cred fileproto.Cred, dir node, path string) error {
	uid, gid := newOwner(cred, dir)
	if uid == 0 && gid == 0 {
		return nil // as the filesystem made it
	}
	return fsErr(s.fs.Chown(path, uid, gid))
}

// Close implements fileproto.Handler.
func (s *Server) Close(ctx context.Context, badge uint64, req fileproto.FidRequest) (fileproto.Empty, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.file(badge, req.Fid)
	if err != nil {
		return fileproto.Empty{}, err
	}
	delete(s.clients[badge].files, req.Fid)
	s.nfiles--
	s.dropIfIdle(badge)
	return fileproto.Empty{}, fsErr(f.f.Close())
}

// Read implements fileproto.Handler.
func (s *Server) Read(ctx context.Context, badge uint64, req fileproto.ReadRequest) (fileproto.ReadReply, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.file(badge, req.Fid)
	switch {
	case err != nil:
		return fileproto.ReadReply{}, err
	case !f.readable():
		return fileproto.ReadReply{}, errno(syscall.EBADF, "file %d is not open for reading", req.Fid)
	case f.dir:
		return fileproto.ReadReply{}, errno(syscall.EISDIR, "file %d is a directory", req.Fid)
	case req.Off < 0:
		return fileproto.ReadReply{}, errno(syscall.EINVAL, "offset %d", req.Off)
	}
	var p []byte
	if req.Buf == 0 {
		if req.Len > fileproto.MaxInline {
			return fileproto.ReadReply{}, errno(syscall.EINVAL, "%d bytes inline (at most %d)", req.Len, fileproto.MaxInline)
		}
		p = make([]byte, req.Len)
	} else if p, err = s.buffer(badge, req.Buf, req.BufOff, req.Len); err != nil {
		return fileproto.ReadReply{}, err
	}
	n, err := f.f.ReadAt(p, req.Off)
	if err != nil && !errors.Is(err, io.EOF) {
		return fileproto.ReadReply{}, fsErr(err)
	}
	rep := fileproto.ReadReply{N: uint32(n)}
	if req.Buf == 0 {
		rep.Data = p[:n]
	}
	return rep, nil
}

// Write implements fileproto.Handler.
func (s *Server) Write(ctx context.Context, badge uint64, req fileproto.WriteRequest) (fileproto.WriteReply, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.file(badge, req.Fid)
	switch {
	case err != nil:
		return fileproto.WriteReply{}, err
	case !f.writable():
		return fileproto.WriteReply{}, errno(syscall.EBADF, "file %d is not open for writing", req.Fid)
	case req.Off < 0:
		return fileproto.WriteReply{}, errno(syscall.EINVAL, "offset %d", req.Off)
	}
	p := req.Data
	if req.Buf == 0 {
		if len(p) > fileproto.MaxInline {
			return fileproto.WriteReply{}, errno(syscall.EINVAL, "%d bytes inline (at most %d)", len(p), fileproto.MaxInline)
		}
	} else if p, err = s.buffer(badge, req.Buf, req.BufOff, req.Len); err != nil {
		return fileproto.WriteReply{}, err
	}
	off := req.Off
	if f.flags&fileproto.O_APPEND != 0 {
		st, err := f.f.Stat()
		if err != nil {
			return fileproto.WriteReply{}, fsErr(err)
		}
		off = st.Size
	}
	n, err := f.f.WriteAt(p, off)
	if err != nil && n == 0 {
		return fileproto.WriteReply{}, fsErr(err)
	}
	if f.flags&(oSync|oDsync) != 0 {
		if err := s.fs.Sync(); err != nil {
			return fileproto.WriteReply{}, fsErr(err)
		}
	}
	return fileproto.WriteReply{N: uint32(n), End: off + int64(n)}, nil
}

// Fstat implements fileproto.Handler.
func (s *Server) Fstat(ctx context.Context, badge uint64, req fileproto.FidRequest) (fileproto.Stat, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, err := s.file(badge, req.Fid)
	if err != nil {
		return fileproto.Stat{}, err
	}
	st, err := f.f.Stat()
	return statOut(st, s.volume()), fsErr(err)
}

// Fsync implements fileproto.Handler: the filesystem commits as a whole.
func (s *Server) Fsync(ctx context.Context, badge uint64, req fileproto.FidRequest) (fileproto.Empty, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.file(badge, req.Fid); err != nil {
		return fileproto.Empty{}, err
	}
	return fileproto.Empty{}, fsErr(s.fs.Sync())
}

// Sync implements fileproto.Handler.
func (s *Server) Sync(ctx context.Context, badge uint64, _ fileproto.Empty) (fileproto.Empty, error) {
	return fileproto.Empty{}, s.Commit()
}
