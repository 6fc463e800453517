package epoll

import (
	"encoding/binary"
	"sync"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile"
)

// EventFD is an eventfd(2) counter.
type EventFD struct {
	mu        sync.Mutex
	count     uint64
	semaphore bool
	ev        *kfile.Event
}

// NewEventFD returns an eventfd counting from count; in semaphore mode
// (EFD_SEMAPHORE) a read takes one from the counter rather than all of it.
func NewEventFD(count uint64, semaphore bool) *EventFD {
	return &EventFD{count: count, semaphore: semaphore, ev: kfile.NewEvent()}
}

func (e *EventFD) Read(c kfile.Caller, b []byte, _ int64, nonblock bool) (int, errno.Errno) {
	if len(b) < 8 {
		return 0, errno.EINVAL
	}
	return kfile.WaitUntil(c, e.ev, nonblock, func() (int, errno.Errno, bool) {
		e.mu.Lock()
		defer e.mu.Unlock()
		if e.count == 0 {
			return 0, 0, false
		}
		v := e.count
		if e.semaphore {
			v = 1
		}
		e.count -= v
		binary.LittleEndian.PutUint64(b, v)
		defer e.ev.Signal()
		return 8, 0, true
	})
}

func (e *EventFD) Write(_ kfile.Caller, b []byte, _ int64, nonblock bool) (int, errno.Errno) {
	if len(b) < 8 {
		return 0, errno.EINVAL
	}
	v := binary.LittleEndian.Uint64(b)
	if v == ^uint64(0) {
		return 0, errno.EINVAL
	}
	e.mu.Lock()
	if e.count+v < e.count || e.count+v == ^uint64(0) {
		e.mu.Unlock()
		return 0, errno.EAGAIN // would overflow; blocking writers are not supported
	}
	e.count += v
	e.mu.Unlock()
	e.ev.Signal()
	return 8, 0
}

func (e *EventFD) Seekable() bool { return false }
func (e *EventFD) Stat() linux.Stat {
	return linux.Stat{Dev: 3, Mode: 0o600, Nlink: 1, Blksize: 4096}
}
func (e *EventFD) Poll() (uint32, *kfile.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ev := uint32(linux.EPOLLOUT)
	if e.count > 0 {
		ev |= linux.EPOLLIN
	}
	return ev, e.ev
}
func (e *EventFD) Release() {}
