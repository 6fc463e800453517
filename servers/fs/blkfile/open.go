package blkfile

import (
	"context"
	"syscall"

	"gvisor.dev/gvisor/pkg/abi/linux"

	"valence.dev/servers/fs/fileproto"
)

// Open flags beyond fileproto's.
const (
	oSync    = linux.O_SYNC // includes O_DSYNC's bit
	oDsync   = linux.O_DSYNC
	oDirect  = linux.O_DIRECT
	oNoatime = linux.O_NOATIME
)

// openFlags are the open(2) flags the server accepts. The kernel's own
// (O_CLOEXEC, O_NONBLOCK, O_NOCTTY, O_LARGEFILE) and O_DIRECT (there is
// no cache to bypass) change nothing; O_SYNC and O_DSYNC flush after
// every write; O_TRUNC needs write permission and truncates nothing, as
// on Linux for a device. Others (O_PATH, O_TMPFILE, O_ASYNC) are EINVAL.
const openFlags = fileproto.O_ACCMODE | fileproto.O_CREAT | fileproto.O_EXCL | fileproto.O_TRUNC |
	fileproto.O_APPEND | fileproto.O_DIRECTORY | fileproto.O_NOFOLLOW | fileproto.O_CLOEXEC |
	fileproto.O_NONBLOCK | fileproto.O_NOCTTY | fileproto.O_LARGEFILE | oSync | oDsync | oDirect | oNoatime

// Open implements fileproto.Handler.
func (s *Server) Open(ctx context.Context, badge uint64, req fileproto.OpenRequest) (fileproto.OpenReply, error) {
	fl := req.Flags
	if fl&^openFlags != 0 || fl&fileproto.O_ACCMODE == fileproto.O_ACCMODE {
		return fileproto.OpenReply{}, s.errno(syscall.EINVAL, "open flags %#o", fl)
	}
	if err := s.checkCred(req.Cred); err != nil {
		return fileproto.OpenReply{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.clients[badge]; c != nil && len(c.files) >= s.opts.MaxFilesPerClient {
		return fileproto.OpenReply{}, s.errno(syscall.EMFILE, "%d files open", len(c.files))
	}
	if s.nfiles >= s.opts.MaxFiles {
		return fileproto.OpenReply{}, s.errno(syscall.ENFILE, "%d files open in all", s.nfiles)
	}
	if err := s.resolve(badge, req.At); err != nil {
		return fileproto.OpenReply{}, err
	}
	if err := s.mayOpen(req.Cred, fl); err != nil {
		return fileproto.OpenReply{}, err
	}
	f := &openFile{flags: fl}
	if f.exclusive() && s.exclusive > 0 {
		// blkdev_open's exclusive claim (BLK_OPEN_EXCL) of a device
		// someone has claimed already.
		return fileproto.OpenReply{}, s.errno(syscall.EBUSY, "open O_EXCL: the device is claimed")
	}
	c := s.clientFor(badge)
	c.nextFid++
	for c.nextFid == 0 || c.files[c.nextFid] != nil {
		c.nextFid++
	}
	c.files[c.nextFid] = f
	s.nfiles++
	if f.exclusive() {
		s.exclusive++
	}
	return fileproto.OpenReply{Fid: c.nextFid, Stat: s.stat()}, nil
}

// mayOpen checks an open of the root with flags fl, in Linux's order:
// the type (do_open), the permission bits and O_NOATIME (may_open),
// then the device's write protection (sd_open's EROFS).
func (s *Server) mayOpen(cred fileproto.Cred, fl uint32) error {
	switch {
	case fl&fileproto.O_CREAT != 0 && fl&fileproto.O_EXCL != 0:
		return s.errno(syscall.EEXIST, "open O_CREAT|O_EXCL: the device file exists")
	case fl&fileproto.O_DIRECTORY != 0:
		return s.errno(syscall.ENOTDIR, "open O_DIRECTORY: not a directory")
	}
	write := fl&fileproto.O_ACCMODE != fileproto.O_RDONLY
	var want uint32
	if fl&fileproto.O_ACCMODE != fileproto.O_WRONLY {
		want |= fileproto.MayRead
	}
	if write || fl&fileproto.O_TRUNC != 0 {
		want |= fileproto.MayWrite
	}
	a := s.attrs()
	switch {
	case !may(cred, a, want):
		return s.errno(syscall.EACCES, "open: permission denied")
	case fl&oNoatime != 0 && !owns(cred, a):
		return s.errno(syscall.EPERM, "open O_NOATIME: not the owner")
	case write && s.opts.ReadOnly:
		return s.errno(syscall.EROFS, "open for writing: the device is read-only")
	}
	return nil
}

// Close implements fileproto.Handler.
func (s *Server) Close(ctx context.Context, badge uint64, req fileproto.FidRequest) (fileproto.Empty, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, err := s.file(badge, req.Fid); err != nil {
		return fileproto.Empty{}, err
	}
	s.closeFile(s.clients[badge], req.Fid)
	s.dropIfIdle(badge)
	return fileproto.Empty{}, nil
}
