// Package osmem is netd.SharedMemory in Valence: each buffer a client
// attaches is a memory object from the kernel, mapped into netd, with a
// copy of its capability (read, write, map, grant) for the client to map.
// It is servers/fs/fsd/osmem for the socket protocol (the two modules do
// not import each other).
package osmem

import (
	"sync"
	"syscall"

	"valence.dev/ipc"
	"valence.dev/libos"
	"valence.dev/servers/net/netd"
)

// Memory allocates shared buffers. The zero value is not usable: call New.
type Memory struct {
	mu   sync.Mutex
	keep map[*netd.Shared]ipc.Handle // netd's own handle on each buffer
}

// New returns an allocator.
func New() *Memory { return &Memory{keep: map[*netd.Shared]ipc.Handle{}} }

// Alloc implements netd.SharedMemory.
func (m *Memory) Alloc(size uint64) (*netd.Shared, error) {
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
	sh := &netd.Shared{Bytes: b, Handle: give}
	m.mu.Lock()
	m.keep[sh] = h
	m.mu.Unlock()
	return sh, nil
}

// Free implements netd.SharedMemory.
func (m *Memory) Free(sh *netd.Shared) {
	m.mu.Lock()
	h := m.keep[sh]
	delete(m.keep, sh)
	m.mu.Unlock()
	syscall.Munmap(sh.Bytes)
	libos.Close(h)
}
