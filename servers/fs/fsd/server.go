package fsd

import (
	"context"
	"sync"
	"syscall"
	"time"

	"valence.dev/ipc"
	"valence.dev/ipc/rpc"
	"valence.dev/servers/fs/fileproto"
	"valence.dev/servers/fs/fs"
)

// SharedMemory allocates the buffers clients attach: memory the server
// can use as bytes and share through a handle. In the OS it is a memory
// object from the kernel; hosted tests fake it.
type SharedMemory interface {
	Alloc(size uint64) (*Shared, error)
	Free(s *Shared)
}

// Shared is one shared buffer.
type Shared struct {
	Bytes  []byte
	Handle ipc.Handle
}

// Options bound what clients may hold and set the commit policy. Zero
// values mean the defaults.
type Options struct {
	MaxClients        int    // clients holding files or buffers (default 1024)
	MaxFilesPerClient int    // open files per client: EMFILE beyond (default 1024)
	MaxFiles          int    // open files in all: ENFILE beyond (default 65536)
	MaxSharedBytes    uint64 // bytes of all shared buffers: ENOMEM beyond (default 256 MiB)
	// Memory allocates shared buffers; without it Attach fails with
	// EOPNOTSUPP and data travels inline only.
	Memory SharedMemory
	// Now is the clock for UTIME_NOW (default time.Now).
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.MaxClients <= 0 {
		o.MaxClients = 1024
	}
	if o.MaxFilesPerClient <= 0 {
		o.MaxFilesPerClient = 1024
	}
	if o.MaxFiles <= 0 {
		o.MaxFiles = 65536
	}
	if o.MaxSharedBytes == 0 {
		o.MaxSharedBytes = 256 << 20
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}

// Server serves the file protocol on a mounted filesystem. It
// implements fileproto.Handler.
type Server struct {
	fs   *fs.FS
	opts Options

	// mu serialises every request: the filesystem serialises its
	// operations anyway, and holding mu across the several calls one
	// request makes (resolve, check, change, chown) makes the request
	// atomic with respect to the others and to periodic commits.
	mu      sync.Mutex
	clients map[uint64]*client
	nfiles  int    // open files of all clients
	shared  uint64 // bytes of all shared buffers
}

// client is what one badge holds.
type client struct {
	files   map[uint32]*openFile
	nextFid uint32
	bufs    map[uint32]*Shared
	nextBuf uint32
}

var _ fileproto.Handler = (*Server)(nil)

// New returns a server for f.
func New(f *fs.FS, o Options) *Server {
	return &Server{fs: f, opts: o.withDefaults(), clients: make(map[uint64]*client)}
}

// RPC returns the rpc.Server to Serve on the file endpoint.
func (s *Server) RPC() *rpc.Server { return fileproto.NewServer(s) }

// Commit commits the filesystem: everything done so far becomes durable.
func (s *Server) Commit() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.fs.Sync()
}

// CommitEvery commits every interval until ctx ends: the bound on what
// a crash can lose of work nobody fsynced. A failed commit stops the
// filesystem (see fs.FS), which later requests report as EIO; the loop
// goes on, harmlessly.
func (s *Server) CommitEvery(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			_ = s.Commit()
		}
	}
}

// Shutdown closes every client's files and frees the buffers; then the
// filesystem may be unmounted.
func (s *Server) Shutdown() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for badge := range s.clients {
		s.forget(badge)
	}
}

// clientFor returns badge's client, making it if create is set.
func (s *Server) clientFor(badge uint64, create bool) (*client, error) {
	if c, ok := s.clients[badge]; ok {
		return c, nil
	}
	if !create {
		return nil, nil
	}
	if len(s.clients) >= s.opts.MaxClients {
		return nil, errno(syscall.ENFILE, "too many clients")
	}
	c := &client{files: make(map[uint32]*openFile), bufs: make(map[uint32]*Shared)}
	s.clients[badge] = c
	return c, nil
}

// dropIfIdle forgets a client that holds nothing, so that clients that
// come and go do not accumulate.
func (s *Server) dropIfIdle(badge uint64) {
	if c, ok := s.clients[badge]; ok && len(c.files) == 0 && len(c.bufs) == 0 {
		delete(s.clients, badge)
	}
}

// file returns badge's open file fid, or EBADF.
func (s *Server) file(badge uint64, fid uint32) (*openFile, error) {
	if c := s.clients[badge]; c != nil {
		if f, ok := c.files[fid]; ok {
			return f, nil
		}
	}
	return nil, fileproto.ErrBadFid
}

// Forget implements fileproto.Handler: the client is gone.
func (s *Server) Forget(ctx context.Context, badge uint64, _ fileproto.Empty) (fileproto.Empty, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.forget(badge)
	return fileproto.Empty{}, nil
}

func (s *Server) forget(badge uint64) {
	c := s.clients[badge]
	if c == nil {
		return
	}
	for fid, f := range c.files {
		_ = f.f.Close()
		delete(c.files, fid)
		s.nfiles--
	}
	for id, b := range c.bufs {
		s.shared -= uint64(len(b.Bytes))
		s.opts.Memory.Free(b)
		delete(c.bufs, id)
	}
	delete(s.clients, badge)
}

// Attach implements fileproto.Handler.
func (s *Server) Attach(ctx context.Context, badge uint64, req fileproto.AttachRequest) (fileproto.AttachReply, error) {
	if s.opts.Memory == nil {
		return fileproto.AttachReply{}, errno(syscall.EOPNOTSUPP, "no shared memory")
	}
	if req.Size == 0 || req.Size > fileproto.MaxBuffer {
		return fileproto.AttachReply{}, errno(syscall.EINVAL, "buffer of %d bytes (1 to %d)", req.Size, fileproto.MaxBuffer)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.clientFor(badge, true)
	if err != nil {
		return fileproto.AttachReply{}, err
	}
	defer s.dropIfIdle(badge)
	if len(c.bufs) >= fileproto.MaxBuffers {
		return fileproto.AttachReply{}, errno(syscall.ENOSPC, "%d buffers already", len(c.bufs))
	}
	if s.shared+req.Size > s.opts.MaxSharedBytes {
		return fileproto.AttachReply{}, errno(syscall.ENOMEM, "shared buffers exhausted")
	}
	b, err := s.opts.Memory.Alloc(req.Size)
	if err != nil {
		return fileproto.AttachReply{}, errno(syscall.ENOMEM, "allocate buffer: %v", err)
	}
	c.nextBuf++
	for c.nextBuf == 0 || c.bufs[c.nextBuf] != nil {
		c.nextBuf++
	}
	c.bufs[c.nextBuf] = b
	s.shared += uint64(len(b.Bytes))
	return fileproto.AttachReply{ID: c.nextBuf, Size: uint64(len(b.Bytes)), Mem: b.Handle}, nil
}

// Detach implements fileproto.Handler.
func (s *Server) Detach(ctx context.Context, badge uint64, req fileproto.DetachRequest) (fileproto.Empty, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.clients[badge]
	if c == nil || c.bufs[req.ID] == nil {
		return fileproto.Empty{}, fileproto.ErrBuffer
	}
	b := c.bufs[req.ID]
	delete(c.bufs, req.ID)
	s.shared -= uint64(len(b.Bytes))
	s.opts.Memory.Free(b)
	s.dropIfIdle(badge)
	return fileproto.Empty{}, nil
}

// buffer returns bytes [off, off+n) of badge's buffer id, or EFAULT.
func (s *Server) buffer(badge uint64, id uint32, off uint64, n uint32) ([]byte, error) {
	c := s.clients[badge]
	if c == nil || c.bufs[id] == nil {
		return nil, fileproto.ErrBuffer
	}
	b := c.bufs[id].Bytes
	if off > uint64(len(b)) || uint64(n) > uint64(len(b))-off {
		return nil, fileproto.ErrBuffer
	}
	return b[off : off+uint64(n)], nil
}
