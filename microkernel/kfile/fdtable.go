package kfile

import (
	"sync"

	"gvisor.dev/gvisor/pkg/abi/linux/errno"
)

// fdEntry is one descriptor.
type fdEntry struct {
	of      *OpenFile
	cloexec bool
}

// FDTable maps descriptor numbers to open files.
type FDTable struct {
	mu  sync.Mutex
	fds []fdEntry
}

// MaxFDs is RLIMIT_NOFILE.
const MaxFDs = 1024

// NewFDTable returns an empty table.
func NewFDTable() *FDTable { return &FDTable{} }

// Get returns the open file at fd, retained: the caller drops it.
func (t *FDTable) Get(fd int32) (*OpenFile, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if fd < 0 || int(fd) >= len(t.fds) || t.fds[fd].of == nil {
		return nil, false
	}
	return t.fds[fd].of.Retain(), true
}

// Install puts of at the lowest free descriptor >= min.
func (t *FDTable) Install(of *OpenFile, min int32, cloexec bool) (int32, errno.Errno) {
	if min < 0 {
		return -1, errno.EINVAL
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for fd := int(min); fd < MaxFDs; fd++ {
		if fd >= len(t.fds) {
			t.fds = append(t.fds, make([]fdEntry, fd+1-len(t.fds))...)
		}
		if t.fds[fd].of == nil {
			t.fds[fd] = fdEntry{of: of, cloexec: cloexec}
			return int32(fd), 0
		}
	}
	return -1, errno.EMFILE
}

// InstallAt puts of at fd, closing what was there (dup2/dup3).
func (t *FDTable) InstallAt(of *OpenFile, fd int32, cloexec bool) errno.Errno {
	if fd < 0 || fd >= MaxFDs {
		return errno.EBADF
	}
	t.mu.Lock()
	if int(fd) >= len(t.fds) {
		t.fds = append(t.fds, make([]fdEntry, int(fd)+1-len(t.fds))...)
	}
	old := t.fds[fd].of
	t.fds[fd] = fdEntry{of: of, cloexec: cloexec}
	t.mu.Unlock()
	if old != nil {
		old.Drop()
	}
	return 0
}

// Close closes descriptor fd.
func (t *FDTable) Close(fd int32) errno.Errno {
	t.mu.Lock()
	if fd < 0 || int(fd) >= len(t.fds) || t.fds[fd].of == nil {
		t.mu.Unlock()
		return errno.EBADF
	}
	of := t.fds[fd].of
	t.fds[fd] = fdEntry{}
	t.mu.Unlock()
	of.Drop()
	return 0
}

// SetCloexec sets or clears fd's close-on-exec flag.
func (t *FDTable) SetCloexec(fd int32, on bool) errno.Errno {
	t.mu.Lock()
	defer t.mu.Unlock()
	if fd < 0 || int(fd) >= len(t.fds) || t.fds[fd].of == nil {
		return errno.EBADF
	}
	t.fds[fd].cloexec = on
	return 0
}

// Cloexec reports fd's close-on-exec flag.
func (t *FDTable) Cloexec(fd int32) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return fd >= 0 && int(fd) < len(t.fds) && t.fds[fd].cloexec
}

// Fork copies the table, sharing the open files (fork and vfork without
// CLONE_FILES).
func (t *FDTable) Fork() *FDTable {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := &FDTable{fds: make([]fdEntry, len(t.fds))}
	for i, e := range t.fds {
		if e.of != nil {
			n.fds[i] = fdEntry{of: e.of.Retain(), cloexec: e.cloexec}
		}
	}
	return n
}

// CloseOnExec closes the descriptors marked close-on-exec.
func (t *FDTable) CloseOnExec() {
	t.mu.Lock()
	var drop []*OpenFile
	for i, e := range t.fds {
		if e.of != nil && e.cloexec {
			drop = append(drop, e.of)
			t.fds[i] = fdEntry{}
		}
	}
	t.mu.Unlock()
	for _, of := range drop {
		of.Drop()
	}
}

// CloseAll closes every descriptor.
func (t *FDTable) CloseAll() {
	t.mu.Lock()
	fds := t.fds
	t.fds = nil
	t.mu.Unlock()
	for _, e := range fds {
		if e.of != nil {
			e.of.Drop()
		}
	}
}

// Count returns the number of open descriptors.
func (t *FDTable) Count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, e := range t.fds {
		if e.of != nil {
			n++
		}
	}
	return n
}

// Each calls fn for every open descriptor in order, with the table
// locked: fn must not use the table (/proc/<pid>/fd lists it this way).
func (t *FDTable) Each(fn func(fd int, of *OpenFile)) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for i, e := range t.fds {
		if e.of != nil {
			fn(i, e.of)
		}
	}
}
