package pipe

import (
	"sync"
	"sync/atomic"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile"
)

// Capacity is the pipe buffer size, Linux's default.
const Capacity = 64 << 10

// Min is what a pipe may always hold, however short of memory the
// kernel is (write): a page, so that a reader always gets something.
const Min = 4096

// Quota is how many bytes of pipe buffers a process's pipes may hold
// in all before each of its pipes holds only Min: the buffers are
// kernel heap, and a process that fills pipes nobody reads must not spend
// more of it than this (Linux's pipe-user-pages-soft plays this part).
const Quota = 16 << 20

// pipe is the buffer shared by a pipe's two ends. The bytes it holds are
// charged to the process that created it (charge), which the out-of-memory
// killer counts, until they are read or the pipe goes.
type pipe struct {
	// readMu and writeMu order the consumers and the producers of the
	// buffer for splice (splice.go): a splice from the pipe holds readMu
	// from looking at the bytes to taking those its destination took, a
	// splice into it holds writeMu from measuring the room to filling
	// it; Read and Write take them for each step. Taken before mu.
	readMu  sync.Mutex
	writeMu sync.Mutex
	mu      sync.Mutex
	buf     []byte
	charged int           // bytes of buf charged to charge
	charge  *atomic.Int64 // the creator's pipe bytes; nil: not charged
	canGrow func(bytes uint64) bool
	readers int
	writers int
	ev      *kfile.Event // any change: data, space, an end closed
	ino     uint64
}

// recharge brings the creator's charge in line with the buffer; p.mu held.
func (p *pipe) recharge() {
	if d := len(p.buf) - p.charged; d != 0 && p.charge != nil {
		p.charge.Add(int64(d))
	}
	p.charged = len(p.buf)
}

// overQuota reports whether the creator's pipes hold their quota; p.mu
// held.
func (p *pipe) overQuota(more int) bool {
	return p.charge != nil && p.charge.Load()+int64(more) > Quota
}

// End is one end of a pipe, a kfile.File.
type End struct {
	p        *pipe
	isWriter bool
}

// New makes a pipe with inode number ino. charge counts the bytes its
// buffer holds (nil: none is counted); canGrow reports whether the
// kernel heap may grow by so many bytes (mm.KernelCanGrow), and when it
// may not, the buffer holds at most Min.
func New(ino uint64, charge *atomic.Int64, canGrow func(bytes uint64) bool) (r, w *End) {
	p := &pipe{readers: 1, writers: 1, ev: kfile.NewEvent(), ino: ino, charge: charge, canGrow: canGrow}
	return &End{p: p}, &End{p: p, isWriter: true}
}

// Ino is the pipe's inode number (/proc/<pid>/fd shows it).
func (e *End) Ino() uint64 { return e.p.ino }

func (e *End) Read(c kfile.Caller, b []byte, _ int64, nonblock bool) (int, errno.Errno) {
	if e.isWriter {
		return 0, errno.EBADF
	}
	p := e.p
	return kfile.WaitUntil(c, p.ev, nonblock, func() (int, errno.Errno, bool) {
		p.readMu.Lock()
		defer p.readMu.Unlock()
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

func (e *End) Write(c kfile.Caller, b []byte, _ int64, nonblock bool) (int, errno.Errno) {
	if !e.isWriter {
		return 0, errno.EBADF
	}
	p := e.p
	done := 0
	for done < len(b) {
		wait := p.ev.Wait()
		p.writeMu.Lock()
		p.mu.Lock()
		if p.readers == 0 {
			p.mu.Unlock()
			p.writeMu.Unlock()
			c.Raise(linux.SIGPIPE)
			if done > 0 {
				return done, 0
			}
			return 0, errno.EPIPE
		}
		space := Capacity - len(p.buf)
		if want := min(space, len(b)-done); want > 0 && (p.overQuota(want) || !p.canGrow(uint64(want))) {
			// The kernel is short of memory, or the creator's pipes hold
			// their quota: the buffer, which is kernel heap, holds at most
			// a page, so a process cannot spend the kernel's memory on
			// pipes nobody reads (its readers still get data, and room
			// comes back as they read).
			space = max(Min-len(p.buf), 0)
		}
		if space > 0 {
			n := min(space, len(b)-done)
			p.buf = append(p.buf, b[done:done+n]...)
			p.recharge()
			done += n
			p.mu.Unlock()
			p.writeMu.Unlock()
			p.ev.Signal()
			continue
		}
		p.mu.Unlock()
		p.writeMu.Unlock()
		if nonblock {
			if done > 0 {
				return done, 0
			}
			return 0, errno.EAGAIN
		}
		if !c.CanBlock() {
			if done > 0 {
				return done, 0
			}
			return 0, errno.EINTR
		}
		select {
		case <-wait:
		case <-c.Interrupted():
			if done > 0 {
				return done, 0
			}
			return 0, errno.EINTR
		}
	}
	return done, 0
}

func (e *End) Seekable() bool { return false }

func (e *End) Stat() linux.Stat {
	return linux.Stat{Dev: 2, Ino: e.p.ino, Mode: linux.S_IFIFO | 0o600, Nlink: 1, Blksize: 4096}
}

func (e *End) Poll() (uint32, *kfile.Event) {
	p := e.p
	p.mu.Lock()
	defer p.mu.Unlock()
	var ev uint32
	if e.isWriter {
		if p.readers == 0 {
			ev |= linux.EPOLLERR
		} else if len(p.buf) < Capacity {
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

func (e *End) Release() {
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
