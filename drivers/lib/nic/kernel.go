package nic

import (
	"fmt"
	"syscall"

	"valence.dev/ipc"
	"valence.dev/libos"
)

// Notification is one notification capability: Wait (for one's own,
// which needs Read) and Signal.
type Notification interface {
	Signal(bits uint64) error
	// Wait blocks until bits are set, and returns and clears them.
	Wait() (uint64, error)
	Close() error
}

// Kernel is what the server and Conn need of the OS, so that both run
// hosted over a fake (package nictest). LibOS is Valence's.
type Kernel interface {
	// NewShared creates size bytes of zeroed memory, mapped read-write,
	// and a capability on it for a peer (read, write, map, grant) to be
	// moved into a message; free unmaps and releases the caller's own.
	NewShared(size uint64) (mem []byte, peer ipc.Handle, free func(), err error)
	// NewNotification creates a notification the caller waits on, and a
	// capability for a peer that may only signal it (and be granted).
	NewNotification() (n Notification, peer ipc.Handle, err error)
	// Adopt takes over a notification capability received in a message,
	// checking it is one and may be signalled (ErrBadHandle otherwise;
	// the handle is closed then).
	Adopt(h ipc.Handle) (Notification, error)
	// Map maps a memory capability received in a message read-write;
	// unmap unmaps it and closes the handle.
	Map(h ipc.Handle) (mem []byte, unmap func(), err error)
	// Close closes a handle received and not kept.
	Close(h ipc.Handle)
}

// LibOS is the Kernel of a Valence process: native calls through libos.
type LibOS struct{}

var _ Kernel = LibOS{}

type notification struct{ h ipc.Handle }

func (n notification) Signal(bits uint64) error { return libos.NotifySignal(n.h, bits) }
func (n notification) Wait() (uint64, error)    { return libos.NotifyWait(n.h) }
func (n notification) Close() error             { return libos.Close(n.h) }

// NewShared implements Kernel.
func (LibOS) NewShared(size uint64) ([]byte, ipc.Handle, func(), error) {
	h, err := libos.NewMemory(size)
	if err != nil {
		return nil, 0, nil, err
	}
	mem, err := libos.Map(h, syscall.PROT_READ|syscall.PROT_WRITE)
	if err != nil {
		libos.Close(h)
		return nil, 0, nil, err
	}
	peer, err := libos.Dup(h, ipc.RightRead|ipc.RightWrite|ipc.RightMap|ipc.RightGrant, 0)
	if err != nil {
		syscall.Munmap(mem)
		libos.Close(h)
		return nil, 0, nil, err
	}
	return mem, peer, func() { syscall.Munmap(mem); libos.Close(h) }, nil
}

// NewNotification implements Kernel.
func (LibOS) NewNotification() (Notification, ipc.Handle, error) {
	h, err := libos.NewNotification()
	if err != nil {
		return nil, 0, err
	}
	peer, err := libos.Dup(h, ipc.RightSignal|ipc.RightGrant, 0)
	if err != nil {
		libos.Close(h)
		return nil, 0, err
	}
	return notification{h}, peer, nil
}

// Adopt implements Kernel.
func (LibOS) Adopt(h ipc.Handle) (Notification, error) {
	info, err := libos.Info(h)
	if err != nil || info.Type != ipc.TypeNotification || info.Rights&ipc.RightSignal == 0 {
		if err == nil {
			libos.Close(h)
		}
		return nil, ErrBadHandle
	}
	return notification{h}, nil
}

// Map implements Kernel.
func (LibOS) Map(h ipc.Handle) ([]byte, func(), error) {
	info, err := libos.Info(h)
	if err != nil {
		return nil, nil, err
	}
	if info.Type != ipc.TypeMemory {
		libos.Close(h)
		return nil, nil, fmt.Errorf("nic: ring handle is of type %d, not memory", info.Type)
	}
	mem, err := libos.Map(h, syscall.PROT_READ|syscall.PROT_WRITE)
	if err != nil {
		libos.Close(h)
		return nil, nil, err
	}
	return mem, func() { syscall.Munmap(mem); libos.Close(h) }, nil
}

// Close implements Kernel.
func (LibOS) Close(h ipc.Handle) { libos.Close(h) }
