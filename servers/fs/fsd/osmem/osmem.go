// Package osmem is fsd.SharedMemory in Valence: each buffer a client
// attaches is a memory object from the kernel, mapped into the server,
// with a copy of its capability (read, write, map, grant) for the client
// to map. A file server (fsd, blkfile in bootstrap) gives its clients
// buffers with it, so that bulk data crosses no message.
package osmem

import (
	"sync"
	"syscall"

	"valence.dev/ipc"
	"valence.dev/libos"
	"valence.dev/servers/fs/fsd"
)

// Memory allocates shared buffers. The zero value is not usable: call New.
type Memory struct {
	mu   sync.Mutex
	keep map[*fsd.Shared]ipc.Handle // the server's own handle on each buffer
}

// New returns an allocator.
func New() *Memory { return &Memory{keep: map[*fsd.Shared]ipc.Handle{}} }

// Alloc implements fsd.SharedMemory.
func (s *Memory) Alloc(size uint64) (*fsd.Shared, error) {
	h, err := libos.NewMemory(size)
	if err != nil {
		return nil, err
	}
	b, err := libos.Map(h, syscall.PROT_READ|syscall.PROT_WRITE)
	if err != nil {
		libos.Close(h)
		return nil, err
	}
	give, err := libos.Dup(h, ipc.RightRead|ipc.RightWrite|ipc.RightMap|ipc.RightGrant, 0)
	if err != nil {
		syscall.Munmap(b)
		libos.Close(h)
		return nil, err
	}
	sh := &fsd.Shared{Bytes: b, Handle: give}
	s.mu.Lock()
	s.keep[sh] = h
	s.mu.Unlock()
	return sh, nil
}

// Free implements fsd.SharedMemory.
func (s *Memory) Free(sh *fsd.Shared) {
	s.mu.Lock()
	h := s.keep[sh]
	delete(s.keep, sh)
	s.mu.Unlock()
	syscall.Munmap(sh.Bytes)
	libos.Close(h)
}
