package block

import (
	"context"
	"fmt"
	"sync"

	"valence.dev/drivers/lib/dev"
	"valence.dev/ipc"
	"valence.dev/ipc/rpc"
)

// Sharer is DMA memory the server can hand to a client: Share returns a
// new capability for buffer b (dev.KernelDMA implements it).
type Sharer interface {
	dev.DMA
	Share(b *dev.Buffer) (ipc.Handle, error)
}

// Server exports a Device with the block protocol. Each peer (the badge
// of the capability it calls through) has its own buffers. Run Serve on
// several goroutines to have that many requests in flight.
type Server struct {
	dev  Device
	dma  Sharer
	info Info

	mu    sync.Mutex
	bufs  map[bufKey]*buffer
	next  uint32
	count map[uint64]int // buffers per peer
}

type bufKey struct {
	peer uint64
	id   uint32
}

// buffer is a shared buffer with the requests in flight on it: it is
// freed only when detached and none is left, so the device never writes
// into memory given back (without an IOMMU nothing else would stop it).
type buffer struct {
	b        *dev.Buffer
	inflight int
	detached bool
}

// NewServer returns a server for d, allocating buffers from dma.
func NewServer(d Device, dma Sharer) *Server {
	return &Server{dev: d, dma: dma, info: d.Info(), bufs: map[bufKey]*buffer{}, count: map[uint64]int{}}
}

// RPC returns the rpc.Server to Serve.
func (s *Server) RPC() *rpc.Server {
	r := rpc.NewServer(Protocol)
	rpc.Handle(r, Identify, func(ctx context.Context, peer uint64, _ Empty) (Info, error) { return s.info, nil })
	rpc.Handle(r, Attach, s.attach)
	rpc.Handle(r, Detach, s.detach)
	rpc.Handle(r, Read, func(ctx context.Context, peer uint64, io IO) (Empty, error) {
		return Empty{}, s.io(ctx, peer, OpRead, io)
	})
	rpc.Handle(r, Write, func(ctx context.Context, peer uint64, io IO) (Empty, error) {
		return Empty{}, s.io(ctx, peer, OpWrite, io)
	})
	rpc.Handle(r, Flush, func(ctx context.Context, peer uint64, _ Empty) (Empty, error) {
		return Empty{}, s.do(&Request{Op: OpFlush})
	})
	return r
}

func (s *Server) attach(ctx context.Context, peer uint64, req AttachRequest) (AttachReply, error) {
	if req.Size == 0 || req.Size > MaxBuffer {
		return AttachReply{}, &rpc.Error{Code: ErrBuffer.Code, Msg: fmt.Sprintf("block: a buffer of %d bytes (at most %d)", req.Size, MaxBuffer)}
	}
	s.mu.Lock()
	if s.count[peer] >= MaxBuffersPerPeer {
		s.mu.Unlock()
		return AttachReply{}, ErrTooMany
	}
	s.count[peer]++
	s.next++
	id := s.next
	s.mu.Unlock()
	b, err := s.dma.Alloc(req.Size, 4096)
	if err == nil {
		var h ipc.Handle
		if h, err = s.dma.Share(b); err == nil {
			s.mu.Lock()
			s.bufs[bufKey{peer, id}] = &buffer{b: b}
			s.mu.Unlock()
			return AttachReply{ID: id, Size: uint64(len(b.Bytes)), Mem: h}, nil
		}
		s.dma.Free(b)
	}
	s.mu.Lock()
	s.count[peer]--
	s.mu.Unlock()
	return AttachReply{}, err
}

func (s *Server) detach(ctx context.Context, peer uint64, req DetachRequest) (Empty, error) {
	s.mu.Lock()
	b, ok := s.bufs[bufKey{peer, req.ID}]
	free := false
	if ok {
		delete(s.bufs, bufKey{peer, req.ID})
		s.count[peer]--
		b.detached = true
		free = b.inflight == 0
	}
	s.mu.Unlock()
	if !ok {
		return Empty{}, ErrBuffer
	}
	if free {
		s.dma.Free(b.b)
	}
	return Empty{}, nil
}

func (s *Server) io(ctx context.Context, peer uint64, op Op, io IO) error {
	if io.Count == 0 || io.LBA >= s.info.Sectors || uint64(io.Count) > s.info.Sectors-io.LBA ||
		(s.info.MaxSectors != 0 && io.Count > s.info.MaxSectors) {
		return ErrRange
	}
	n := uint64(io.Count) * uint64(s.info.SectorSize)
	s.mu.Lock()
	b, ok := s.bufs[bufKey{peer, io.ID}]
	if !ok || io.Off > uint64(len(b.b.Bytes)) || n > uint64(len(b.b.Bytes))-io.Off {
		s.mu.Unlock()
		return ErrBuffer
	}
	b.inflight++
	s.mu.Unlock()
	err := s.do(&Request{Op: op, LBA: io.LBA, Count: io.Count, Buf: b.b, Off: io.Off})
	s.mu.Lock()
	b.inflight--
	free := b.detached && b.inflight == 0
	s.mu.Unlock()
	if free {
		s.dma.Free(b.b)
	}
	return err
}

// do submits r and waits for it: always to the end, since the device may
// be using the buffer until it completes (the Device fails requests it
// gives up on, so this does not hang on a dead device).
func (s *Server) do(r *Request) error {
	done := make(chan error, 1)
	r.Done = func(err error) { done <- err }
	s.dev.Submit(r)
	return <-done
}
