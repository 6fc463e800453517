package blkfile

import (
	"context"
	"math"
	"sync"
	"syscall"
	"time"

	"valence.dev/ipc/rpc"
	"valence.dev/servers/fs/blockdev"
	"valence.dev/servers/fs/fileproto"
	"valence.dev/servers/fs/fsd"
)

// The defaults of a device file on Linux: owned by root, group "disk",
// read and write for both.
const (
	DefaultMode = 0o660
	DefaultUid  = 0
	DefaultGid  = 6 // "disk" in Debian's, Fedora's and Arch's /etc/group
)

// Options describe the device file and bound what clients may hold.
// Zero values and nil pointers mean the defaults.
type Options struct {
	// Name is the device's name (vda, nvme0n1) for messages.
	Name string
	// Rdev is the device number stat reports, in Linux's user-space
	// dev_t encoding: Makedev(major, minor), which is major<<8|minor for
	// majors below 4096 and minors below 256.
	Rdev uint64
	// Mode, Uid and Gid are the file's permission bits (0o7777 at most;
	// default 0660), owner (default 0) and group (default 6). Pointers,
	// so that 0 can be asked for: Gid: new(uint32(0)).
	Mode, Uid, Gid *uint32
	// ReadOnly refuses opening for writing (EROFS).
	ReadOnly bool
	// Memory allocates shared buffers; without it Attach fails with
	// EOPNOTSUPP and data travels inline only.
	Memory fsd.SharedMemory
	// MaxFilesPerClient bounds a client's open files: EMFILE beyond
	// (default 1024).
	MaxFilesPerClient int
	// MaxFiles bounds the open files of all clients: ENFILE beyond
	// (default 65536).
	MaxFiles int
	// MaxSharedBytes bounds the bytes of all clients' shared buffers:
	// ENOMEM beyond (default 256 MiB).
	MaxSharedBytes uint64
	// Now is the clock for the start time and UTIME_NOW (default
	// time.Now).
	Now func() time.Time
}

func (o Options) withDefaults() Options {
	if o.Name == "" {
		o.Name = "block device"
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

// Makedev encodes a device number as Linux's user-space dev_t does
// (glibc's gnu_dev_makedev): the low 8 bits of minor, then 12 bits of
// major, then the rest of minor from bit 20 and the rest of major from
// bit 44.
func Makedev(major, minor uint32) uint64 {
	ma, mi := uint64(major), uint64(minor)
	return ma&0xfff<<8 | ma&^0xfff<<32 | mi&0xff | mi&^0xff<<12
}

// Server serves a block device as a block-special file. It implements
// fileproto.Handler. See the package documentation for the locks.
type Server struct {
	dev  blockdev.Device
	opts Options

	mu        sync.RWMutex
	clients   map[uint64]*client // by badge
	nfiles    int                // open files of all clients
	shared    uint64             // bytes of all shared buffers
	exclusive int                // open files that claim the device (O_EXCL)

	io sync.RWMutex

	attrMu sync.Mutex
	attr   attr
}

// client is what one badge holds.
type client struct {
	files   map[uint32]*openFile
	nextFid uint32
	bufs    map[uint32]*fsd.Shared
	nextBuf uint32
}

// openFile is an open file: the device, with the flags it was opened
// with.
type openFile struct {
	flags uint32
}

func (f *openFile) readable() bool  { return f.flags&fileproto.O_ACCMODE != fileproto.O_WRONLY }
func (f *openFile) writable() bool  { return f.flags&fileproto.O_ACCMODE != fileproto.O_RDONLY }
func (f *openFile) sync() bool      { return f.flags&(oSync|oDsync) != 0 }
func (f *openFile) exclusive() bool { return f.flags&fileproto.O_EXCL != 0 }

var _ fileproto.Handler = (*Server)(nil)

// New returns a server for dev.
func New(dev blockdev.Device, opts Options) *Server {
	o := opts.withDefaults()
	s := &Server{dev: dev, opts: o, clients: make(map[uint64]*client)}
	start := timespec(o.Now())
	s.attr = attr{mode: DefaultMode, uid: DefaultUid, gid: DefaultGid, atime: start, mtime: start, ctime: start}
	if o.Mode != nil {
		s.attr.mode = *o.Mode & permBits
	}
	if o.Uid != nil {
		s.attr.uid = *o.Uid
	}
	if o.Gid != nil {
		s.attr.gid = *o.Gid
	}
	return s
}

// RPC returns the rpc.Server to Serve on the file endpoint.
func (s *Server) RPC() *rpc.Server { return fileproto.NewServer(s) }

// Shutdown closes every client's files and frees the buffers.
func (s *Server) Shutdown() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for badge := range s.clients {
		s.forget(badge)
	}
}

// size is the device's size in bytes, capped to what an offset can
// express.
func (s *Server) size() int64 {
	b := s.dev.Blocks()
	if b > math.MaxInt64/blockdev.BlockSize {
		b = math.MaxInt64 / blockdev.BlockSize
	}
	return int64(b) * blockdev.BlockSize
}

// clientFor returns badge's client, making it if needed. s.mu must be
// held exclusively.
func (s *Server) clientFor(badge uint64) *client {
	c, ok := s.clients[badge]
	if !ok {
		c = &client{files: make(map[uint32]*openFile), bufs: make(map[uint32]*fsd.Shared)}
		s.clients[badge] = c
	}
	return c
}

// dropIfIdle forgets a client that holds nothing, so that clients that
// come and go do not accumulate. s.mu must be held exclusively.
func (s *Server) dropIfIdle(badge uint64) {
	if c, ok := s.clients[badge]; ok && len(c.files) == 0 && len(c.bufs) == 0 {
		delete(s.clients, badge)
	}
}

// file returns badge's open file fid, or EBADF. s.mu must be held.
func (s *Server) file(badge uint64, fid uint32) (*openFile, error) {
	if c := s.clients[badge]; c != nil {
		if f, ok := c.files[fid]; ok {
			return f, nil
		}
	}
	return nil, fileproto.ErrBadFid
}

// buffer returns bytes [off, off+n) of badge's buffer id, or EFAULT.
// s.mu must be held.
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
	for fid := range c.files {
		s.closeFile(c, fid)
	}
	for id, b := range c.bufs {
		s.shared -= uint64(len(b.Bytes))
		s.opts.Memory.Free(b)
		delete(c.bufs, id)
	}
	delete(s.clients, badge)
}

// closeFile drops fid from c's table. s.mu must be held exclusively.
func (s *Server) closeFile(c *client, fid uint32) {
	if c.files[fid].exclusive() {
		s.exclusive--
	}
	delete(c.files, fid)
	s.nfiles--
}

// Attach implements fileproto.Handler.
func (s *Server) Attach(ctx context.Context, badge uint64, req fileproto.AttachRequest) (fileproto.AttachReply, error) {
	if s.opts.Memory == nil {
		return fileproto.AttachReply{}, s.errno(syscall.EOPNOTSUPP, "no shared memory")
	}
	if req.Size == 0 || req.Size > fileproto.MaxBuffer {
		return fileproto.AttachReply{}, s.errno(syscall.EINVAL, "buffer of %d bytes (1 to %d)", req.Size, fileproto.MaxBuffer)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.clientFor(badge)
	defer s.dropIfIdle(badge)
	if len(c.bufs) >= fileproto.MaxBuffers {
		return fileproto.AttachReply{}, s.errno(syscall.ENOSPC, "%d buffers already", len(c.bufs))
	}
	if s.shared > s.opts.MaxSharedBytes || req.Size > s.opts.MaxSharedBytes-s.shared {
		return fileproto.AttachReply{}, s.errno(syscall.ENOMEM, "shared buffers exhausted")
	}
	b, err := s.opts.Memory.Alloc(req.Size)
	if err != nil || b == nil {
		return fileproto.AttachReply{}, s.errno(syscall.ENOMEM, "allocate buffer: %v", err)
	}
	c.nextBuf++
	for c.nextBuf == 0 || c.bufs[c.nextBuf] != nil {
		c.nextBuf++
	}
	c.bufs[c.nextBuf] = b
	s.shared += uint64(len(b.Bytes))
	return fileproto.AttachReply{ID: c.nextBuf, Size: uint64(len(b.Bytes)), Mem: b.Handle}, nil
}

// Detach implements fileproto.Handler. It waits for the transfers in
// flight (they hold s.mu shared), so none is using the buffer it frees.
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
