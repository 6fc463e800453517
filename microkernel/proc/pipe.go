package proc

import (
	"sync"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/mm"
)

// pipeCapacity is the pipe buffer size, Linux's default.
const pipeCapacity = 64 << 10

// pipeMin is what a pipe may always hold, however short of memory the
// kernel is (write): a page, so that a reader always gets something.
const pipeMin = 4096

// pipe is the buffer shared by a pipe's two ends.
type pipe struct {
	mu      sync.Mutex
	buf     []byte
	readers int
	writers int
	ev      *event // any change: data, space, an end closed
	ino     uint64
}

type pipeEnd struct {
	p        *pipe
	isWriter bool
}

func newPipe() (r, w *pipeEnd) {
	root.mu.Lock()
	root.ino++
	ino := root.ino
	root.mu.Unlock()
	p := &pipe{readers: 1, writers: 1, ev: newEvent(), ino: ino}
	return &pipeEnd{p: p}, &pipeEnd{p: p, isWriter: true}
}

func (e *pipeEnd) read(t *Thread, b []byte, _ int64, nonblock bool) (int, errno.Errno) {
	if e.isWriter {
		return 0, errno.EBADF
	}
	p := e.p
	return t.waitUntil(p.ev, nonblock, func() (int, errno.Errno, bool) {
		p.mu.Lock()
		defer p.mu.Unlock()
		if len(p.buf) > 0 {
			n := copy(b, p.buf)
			p.buf = p.buf[n:]
			if len(p.buf) == 0 {
				p.buf = nil
			}
			defer p.ev.Signal() // room for writers
			return n, 0, true
		}
		return 0, 0, p.writers == 0 // end of file once the writers are gone
	})
}

func (e *pipeEnd) write(t *Thread, b []byte, _ int64, nonblock bool) (int, errno.Errno) {
	if !e.isWriter {
		return 0, errno.EBADF
	}
	p := e.p
	done := 0
	for done < len(b) {
		wait := p.ev.Wait()
		p.mu.Lock()
		if p.readers == 0 {
			p.mu.Unlock()
			t.postSignal(linux.SIGPIPE, sigDetail{code: linux.SI_USER, pid: int32(t.proc.PID)})
			if done > 0 {
				return done, 0
			}
			return 0, errno.EPIPE
		}
		space := pipeCapacity - len(p.buf)
		if len(p.buf) >= pipeMin && space > 0 && !mm.KernelCanGrow(uint64(min(space, len(b)-done))) {
			// The kernel is short of memory: the buffer, which is kernel
			// heap, is full at what it holds, so a process cannot spend
			// the kernel's reserve on pipes nobody reads (its readers
			// still get data, and room comes back as they read).
			space = 0
		}
		if space > 0 {
			n := min(space, len(b)-done)
			p.buf = append(p.buf, b[done:done+n]...)
			done += n
			p.mu.Unlock()
			p.ev.Signal()
			continue
		}
		p.mu.Unlock()
		if nonblock {
			if done > 0 {
				return done, 0
			}
			return 0, errno.EAGAIN
		}
		if !t.canBlock() {
			if done > 0 {
				return done, 0
			}
			return 0, errno.EINTR
		}
		select {
		case <-wait:
		case <-t.intr:
			if done > 0 {
				return done, 0
			}
			return 0, errno.EINTR
		}
	}
	return done, 0
}

func (e *pipeEnd) seekable() bool { return false }

func (e *pipeEnd) stat() linux.Stat {
	return linux.Stat{Dev: 2, Ino: e.p.ino, Mode: linux.S_IFIFO | 0o600, Nlink: 1, Blksize: 4096}
}

func (e *pipeEnd) poll() (uint32, *event) {
	p := e.p
	p.mu.Lock()
	defer p.mu.Unlock()
	var ev uint32
	if e.isWriter {
		if p.readers == 0 {
			ev |= linux.EPOLLERR
		} else if len(p.buf) < pipeCapacity {
			ev |= linux.EPOLLOUT
		}
	} else {
		if len(p.buf) > 0 {
			ev |= linux.EPOLLIN
		}
		if p.writers == 0 {
			ev |= linux.EPOLLHUP
		}
	}
	return ev, p.ev
}

func (e *pipeEnd) release() {
	p := e.p
	p.mu.Lock()
	if e.isWriter {
		p.writers--
	} else {
		p.readers--
		if p.readers == 0 {
			p.buf = nil
		}
	}
	p.mu.Unlock()
	p.ev.Signal()
}
