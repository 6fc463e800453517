// Package osmem is fsd.SharedMemory in Valence: each buffer a client
// attaches is a memory object from the kernel, mapped into the server,
// with a copy of its capability (read, write, map, grant) for the client
// to map. A file server (fsd, blkfile in bootstrap) gives its clients
// buffers with it, so that bulk data crosses no message.
package osmem

import (
	"sync"

	"valence.dev/libos"
	"valence.dev/servers/fs/fsd"
)

// Memory allocates shared buffers (libos.SharedBuffer). The zero value
// is not usable: call New.
type Memory struct {
	mu   sync.Mutex
	keep map[*fsd.Shared]*libos.SharedBuffer
}

// New returns an allocator.
func New() *Memory { return &Memory{keep: map[*fsd.Shared]*libos.SharedBuffer{}} }

// Alloc implements fsd.SharedMemory.
func (s *Memory) Alloc(size uint64) (*fsd.Shared, error) {
	b, err := libos.NewSharedBuffer(size)
	if err != nil {
		return nil, err
	}
	sh := &fsd.Shared{Bytes: b.Bytes, Handle: b.Give}
	s.mu.Lock()
	s.keep[sh] = b
	s.mu.Unlock()
	return sh, nil
}

// Free implements fsd.SharedMemory.
func (s *Memory) Free(sh *fsd.Shared) {
	s.mu.Lock()
	b := s.keep[sh]
	delete(s.keep, sh)
	s.mu.Unlock()
	if b != nil {
		b.Free()
	}
}
