package pipe

import (
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile"
)

// For splice(2): the kernel moves bytes between a pipe and another file
// without a trip through user memory, and without losing any when the
// other side takes fewer than offered. Linux moves page references; here
// the bytes are copied once through a kernel buffer, but with the same
// guarantee: bytes leave a pipe only once their destination has taken
// them, and enter one only when there is room for all of them.

// ReadTo offers up to n bytes from the front of the pipe (e must be its
// read end) to put, which writes them somewhere and returns how many it
// took; exactly those leave the pipe. It waits for data unless nonblock
// (EAGAIN), and returns 0 at end of file (no writers and no data).
// Readers of the pipe wait while put runs.
func (e *End) ReadTo(c kfile.Caller, n int, nonblock bool, put func([]byte) (int, errno.Errno)) (int, errno.Errno) {
	if e.isWriter {
		return 0, errno.EBADF
	}
	p := e.p
	for {
		// Wait for data without holding readMu, so a reader blocked here
		// keeps no other reader out.
		more, err := kfile.WaitUntil(c, p.ev, nonblock, func() (int, errno.Errno, bool) {
			p.mu.Lock()
			defer p.mu.Unlock()
			if len(p.buf) > 0 {
				return 1, 0, true
			}
			return 0, 0, p.writers == 0
		})
		if err != 0 || more == 0 {
			return 0, err
		}
		p.readMu.Lock()
		p.mu.Lock()
		chunk := append([]byte(nil), p.buf[:min(n, len(p.buf))]...)
		p.mu.Unlock()
		if len(chunk) == 0 { // another reader took it first
			p.readMu.Unlock()
			continue
		}
		took, err := put(chunk)
		took = max(min(took, len(chunk)), 0)
		if took > 0 {
			p.mu.Lock()
			p.buf = p.buf[took:]
			if len(p.buf) == 0 {
				p.buf = nil
			}
			p.recharge()
			p.mu.Unlock()
			p.ev.Signal() // room for writers
		}
		p.readMu.Unlock()
		if took > 0 {
			return took, 0
		}
		return 0, err
	}
}

// WriteFrom fills the pipe (e must be its write end) with up to n bytes
// that get produces into the buffer it is given, which is never larger
// than the room the pipe has: whatever get produces fits, so nothing it
// took from its source is lost. It waits for room unless nonblock
// (EAGAIN); with no readers it raises SIGPIPE and fails with EPIPE, as a
// write does. Writers of the pipe wait while get runs, so get must not
// block for long (the kernel reads sources non-blocking).
func (e *End) WriteFrom(c kfile.Caller, n int, nonblock bool, get func([]byte) (int, errno.Errno)) (int, errno.Errno) {
	if !e.isWriter {
		return 0, errno.EBADF
	}
	p := e.p
	for {
		_, err := kfile.WaitUntil(c, p.ev, nonblock, func() (int, errno.Errno, bool) {
			p.mu.Lock()
			defer p.mu.Unlock()
			return 0, 0, p.readers == 0 || p.room() > 0
		})
		if err != 0 {
			return 0, err
		}
		p.writeMu.Lock()
		p.mu.Lock()
		if p.readers == 0 {
			p.mu.Unlock()
			p.writeMu.Unlock()
			c.Raise(linux.SIGPIPE)
			return 0, errno.EPIPE
		}
		room := min(p.room(), n)
		p.mu.Unlock()
		if room == 0 { // another writer filled it first
			p.writeMu.Unlock()
			continue
		}
		buf := make([]byte, room)
		got, err := get(buf)
		got = max(min(got, room), 0)
		if got > 0 {
			p.mu.Lock()
			// Only readers ran since room was measured: it only grew.
			p.buf = append(p.buf, buf[:got]...)
			p.recharge()
			p.mu.Unlock()
			p.ev.Signal()
		}
		p.writeMu.Unlock()
		return got, err
	}
}

// room is how many bytes a write could add now (as Write computes it:
// at most Min in all once the creator's quota is used or the kernel is
// short of memory); p.mu held.
func (p *pipe) room() int {
	space := Capacity - len(p.buf)
	if space > 0 && (p.overQuota(space) || !p.canGrow(uint64(space))) {
		space = max(Min-len(p.buf), 0)
	}
	return space
}

// SamePipe reports whether a and b are ends of one pipe (splice from a
// pipe into itself is EINVAL).
func SamePipe(a, b *End) bool { return a != nil && b != nil && a.p == b.p }
