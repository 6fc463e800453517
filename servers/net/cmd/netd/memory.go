package main

import (
	"sync"

	"valence.dev/libos"
	"valence.dev/servers/net/netd"
)

// memory is netd.SharedMemory in Valence: each buffer the kernel
// attaches is a libos.SharedBuffer, the memory fsd's buffers are made of
// too (servers/fs/fsd/osmem; the two modules do not import each other).
type memory struct {
	mu   sync.Mutex
	keep map[*netd.Shared]*libos.SharedBuffer
}

func newMemory() *memory { return &memory{keep: map[*netd.Shared]*libos.SharedBuffer{}} }

// Alloc implements netd.SharedMemory.
func (m *memory) Alloc(size uint64) (*netd.Shared, error) {
	b, err := libos.NewSharedBuffer(size)
	if err != nil {
		return nil, err
	}
	sh := &netd.Shared{Bytes: b.Bytes, Handle: b.Give}
	m.mu.Lock()
	m.keep[sh] = b
	m.mu.Unlock()
	return sh, nil
}

// Free implements netd.SharedMemory.
func (m *memory) Free(sh *netd.Shared) {
	m.mu.Lock()
	b := m.keep[sh]
	delete(m.keep, sh)
	m.mu.Unlock()
	if b != nil {
		b.Free()
	}
}
