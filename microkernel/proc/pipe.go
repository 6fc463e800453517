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

// pipeQuota is how many bytes of pipe buffers a process's pipes may hold
// in all before each of its pipes holds only pipeMin: the buffers are
// kernel heap, and a process that fills pipes nobody reads must not spend
// more of it than this (Linux's pipe-user-pages-soft plays this part).
const pipeQuota = 16 << 20

// pipe is the buffer shared by a pipe's two ends. The bytes it holds are
// charged to the process that created it (acct), which the out-of-memory
// killer counts, until they are read or the pipe goes.
type pipe struct {
	mu      sync.Mutex
	buf     []byte
	charged int // bytes of buf charged to acct
	acct    *account
	readers int
	writers int
	ev      *event // any change: data, space, an end closed
	ino     uint64
}

// recharge brings the creator's charge in line with the buffer; p.mu held.
func (p *pipe) recharge() {
	if d := len(p.buf) - p.charged; d != 0 && p.acct != nil {
		p.acct.pipeBytes.Add(int64(d))
	}
	p.charged = len(p.buf)
}

// overQuota reports whether the creator's pipes hold their quota; p.mu
// held.
func (p *pipe) overQuota(more int) bool {
	return p.acct != nil && p.acct.pipeBytes.Load()+int64(more) > pipeQuota
}

type pipeEnd struct {
	p        *pipe
	isWriter bool
}

func newPipe(acct *account) (r, w *pipeEnd) {
	root.mu.Lock()
	root.ino++
	ino := root.ino
	root.mu.Unlock()
	p := &pipe{readers: 1, writers: 1, ev: newEvent(), ino: ino, acct: acct}
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
			p.recharge()
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
		if want := min(space, len(b)-done); want > 0 && (p.overQuota(want) || !mm.KernelCanGrow(uint64(want))) {
			// The kernel is short of memory, or the creator's pipes hold
			// their quota: the buffer, which is kernel heap, holds at most
			// a page, so a process cannot spend the kernel's memory on
			// pipes nobody reads (its readers still get data, and room
			// comes back as they read).
			space = max(pipeMin-len(p.buf), 0)
		}
		if space > 0 {
			n := min(space, len(b)-done)
			p.buf = append(p.buf, b[done:done+n]...)
			p.recharge()
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
			p.recharge()
		}
	}
	p.mu.Unlock()
	p.ev.Signal()
}
