package proc

import (
	"sync"
	"sync/atomic"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"
)

// file is an open object: a regular file, directory, device, pipe end,
// eventfd or epoll instance.
type file interface {
	// read and write transfer at off for positional files (seekable
	// reports whether the offset is used); blocking files may block,
	// watching t for interruption unless nonblock.
	read(t *Thread, b []byte, off int64, nonblock bool) (int, errno.Errno)
	write(t *Thread, b []byte, off int64, nonblock bool) (int, errno.Errno)
	seekable() bool
	stat() linux.Stat
	// poll returns the current readiness (EPOLLIN, EPOLLOUT, EPOLLHUP...)
	// and an event signalled when it may have changed (nil: never).
	poll() (uint32, *event)
	release()
}

// openFile is an open file description: shared by dup'd descriptors and
// across fork, with its offset and status flags.
type openFile struct {
	f     file
	refs  atomic.Int32
	mu    sync.Mutex
	off   int64
	flags uint32     // O_NONBLOCK, O_APPEND, access mode
	path  string     // the absolute path it was opened at
	fs    filesystem // the filesystem it belongs to; nil outside the namespace (pipes, eventfd)
}

func newOpenFile(f file, flags uint32, path string) *openFile {
	of := &openFile{f: f, flags: flags, path: path}
	of.refs.Store(1)
	return of
}

func (of *openFile) retain() *openFile { of.refs.Add(1); return of }

func (of *openFile) drop() {
	if of.refs.Add(-1) == 0 {
		of.f.release()
	}
}

func (of *openFile) nonblock() bool {
	of.mu.Lock()
	defer of.mu.Unlock()
	return of.flags&linux.O_NONBLOCK != 0
}

// fdEntry is one descriptor.
type fdEntry struct {
	of      *openFile
	cloexec bool
}

// FDTable maps descriptor numbers to open files.
type FDTable struct {
	mu  sync.Mutex
	fds []fdEntry
}

// maxFDs is RLIMIT_NOFILE.
const maxFDs = 1024

func newFDTable() *FDTable { return &FDTable{} }

// consoleFiles returns a table with the console on 0, 1 and 2.
func consoleFiles() *FDTable {
	t := newFDTable()
	c := newOpenFile(theConsole, linux.O_RDWR, "/dev/console")
	t.fds = []fdEntry{{of: c}, {of: c.retain()}, {of: c.retain()}}
	return t
}

// ConsoleFiles is consoleFiles for other kernel packages.
func ConsoleFiles() *FDTable { return consoleFiles() }

func (t *FDTable) get(fd int32) (*openFile, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if fd < 0 || int(fd) >= len(t.fds) || t.fds[fd].of == nil {
		return nil, false
	}
	return t.fds[fd].of.retain(), true
}

// install puts of at the lowest free descriptor >= min.
func (t *FDTable) install(of *openFile, min int32, cloexec bool) (int32, errno.Errno) {
	if min < 0 {
		return -1, errno.EINVAL
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for fd := int(min); fd < maxFDs; fd++ {
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

// installAt puts of at fd, closing what was there (dup2/dup3).
func (t *FDTable) installAt(of *openFile, fd int32, cloexec bool) errno.Errno {
	if fd < 0 || fd >= maxFDs {
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
		old.drop()
	}
	return 0
}

func (t *FDTable) close(fd int32) errno.Errno {
	t.mu.Lock()
	if fd < 0 || int(fd) >= len(t.fds) || t.fds[fd].of == nil {
		t.mu.Unlock()
		return errno.EBADF
	}
	of := t.fds[fd].of
	t.fds[fd] = fdEntry{}
	t.mu.Unlock()
	of.drop()
	return 0
}

func (t *FDTable) setCloexec(fd int32, on bool) errno.Errno {
	t.mu.Lock()
	defer t.mu.Unlock()
	if fd < 0 || int(fd) >= len(t.fds) || t.fds[fd].of == nil {
		return errno.EBADF
	}
	t.fds[fd].cloexec = on
	return 0
}

func (t *FDTable) cloexec(fd int32) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return fd >= 0 && int(fd) < len(t.fds) && t.fds[fd].cloexec
}

// fork copies the table, sharing the open files (fork and vfork without
// CLONE_FILES).
func (t *FDTable) fork() *FDTable {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := &FDTable{fds: make([]fdEntry, len(t.fds))}
	for i, e := range t.fds {
		if e.of != nil {
			n.fds[i] = fdEntry{of: e.of.retain(), cloexec: e.cloexec}
		}
	}
	return n
}

// closeOnExec closes the descriptors marked close-on-exec.
func (t *FDTable) closeOnExec() {
	t.mu.Lock()
	var drop []*openFile
	for i, e := range t.fds {
		if e.of != nil && e.cloexec {
			drop = append(drop, e.of)
			t.fds[i] = fdEntry{}
		}
	}
	t.mu.Unlock()
	for _, of := range drop {
		of.drop()
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
			e.of.drop()
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
