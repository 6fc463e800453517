package libos

import (
	"syscall"

	"valence.dev/ipc"
)

// SharedBuffer is memory a server shares with a client: a new memory
// object mapped here (Bytes), with a copy of its capability (read,
// write, map, grant) in Give for the client to map. File servers and
// netd hand such buffers out through their protocols' Attach, so that
// bulk data crosses no message.
type SharedBuffer struct {
	Bytes []byte
	Give  ipc.Handle
	own   ipc.Handle
}

// NewSharedBuffer allocates and maps size bytes of shared memory.
func NewSharedBuffer(size uint64) (*SharedBuffer, error) {
	h, err := NewMemory(size)
	if err != nil {
		return nil, err
	}
	b, err := Map(h, syscall.PROT_READ|syscall.PROT_WRITE)
	if err != nil {
		Close(h)
		return nil, err
	}
	give, err := Dup(h, ipc.RightRead|ipc.RightWrite|ipc.RightMap|ipc.RightGrant, 0)
	if err != nil {
		syscall.Munmap(b)
		Close(h)
		return nil, err
	}
	return &SharedBuffer{Bytes: b, Give: give, own: h}, nil
}

// Free unmaps the buffer and lets go of this process's handle. Give is
// the caller's (it was sent to the client, or it is closed with it).
func (s *SharedBuffer) Free() {
	syscall.Munmap(s.Bytes)
	Close(s.own)
}
