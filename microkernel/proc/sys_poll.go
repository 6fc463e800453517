package proc

import (
	"encoding/binary"
	"time"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/epoll"
	"valence.dev/microkernel/kfile"
)

// poll(2), ppoll(2), select(2) and pselect6(2), over epoll.Poll: each
// call is a level-triggered epoll instance over its descriptors for the
// duration of the call. The signal mask of ppoll and pselect6 is not
// applied (as epoll_pwait's is not): the calls wait with the thread's
// own mask.

// poll(2) bits beyond epoll's: POLLRDNORM and POLLWRNORM mean what
// POLLIN and POLLOUT do; POLLNVAL is a descriptor that is not open.
const (
	pollRdNorm = 0x40
	pollWrNorm = 0x100
	pollNval   = 0x20
)

// pollWait waits on the descriptors fds with the events asked for; a
// descriptor that is not open reports POLLNVAL (poll) — the caller
// decides what that means.
func pollWait(c *call, fds []int32, events []uint32, timeout time.Duration) ([]uint32, errno.Errno) {
	files := make([]*kfile.OpenFile, len(fds))
	out := make([]uint32, len(fds))
	defer func() {
		for _, of := range files {
			if of != nil {
				of.Drop()
			}
		}
	}()
	nval := false
	for i, fd := range fds {
		if fd < 0 {
			continue
		}
		of, ok := c.p.fdTable().Get(fd)
		if !ok {
			out[i] = pollNval
			nval = true
			continue
		}
		files[i] = of
	}
	if nval {
		timeout = 0 // an invalid descriptor is an event: do not wait
	}
	got, e := epoll.Poll(c.t, files, events, timeout)
	if e != 0 {
		return nil, e
	}
	for i := range out {
		if files[i] != nil {
			out[i] = got[i]
		}
	}
	return out, 0
}

// sysPoll implements poll(2).
func sysPoll(c *call) result {
	timeout := time.Duration(-1)
	if ms := c.i32(2); ms >= 0 {
		timeout = time.Duration(ms) * time.Millisecond
	}
	return doPoll(c, c.arg(0), c.arg(1), timeout)
}

// sysPpoll implements ppoll(2).
func sysPpoll(c *call) result {
	timeout := time.Duration(-1)
	if c.arg(2) != 0 {
		ns, e := readTimespec(c, c.arg(2))
		if e != 0 {
			return fail(e)
		}
		timeout = time.Duration(ns)
	}
	return doPoll(c, c.arg(0), c.arg(1), timeout)
}

func doPoll(c *call, addr, n uint64, timeout time.Duration) result {
	if n > kfile.MaxFDs {
		return fail(errno.EINVAL)
	}
	b := make([]byte, n*8)
	if err := c.as().CopyIn(addr, b); err != nil {
		return fail(errno.EFAULT)
	}
	fds := make([]int32, n)
	events := make([]uint32, n)
	for i := range fds {
		fds[i] = int32(binary.LittleEndian.Uint32(b[i*8:]))
		ev := uint32(binary.LittleEndian.Uint16(b[i*8+4:]))
		if ev&pollRdNorm != 0 {
			ev |= linux.EPOLLIN
		}
		if ev&pollWrNorm != 0 {
			ev |= linux.EPOLLOUT
		}
		events[i] = ev
	}
	got, e := pollWait(c, fds, events, timeout)
	if e != 0 {
		return fail(e)
	}
	ready := 0
	for i, r := range got {
		asked := events[i] | linux.EPOLLERR | linux.EPOLLHUP | pollNval
		r &= asked
		if r&linux.EPOLLIN != 0 && events[i]&pollRdNorm != 0 {
			r |= pollRdNorm
		}
		if r&linux.EPOLLOUT != 0 && events[i]&pollWrNorm != 0 {
			r |= pollWrNorm
		}
		if r != 0 {
			ready++
		}
		binary.LittleEndian.PutUint16(b[i*8+6:], uint16(r))
	}
	if err := c.as().CopyOut(addr, b); err != nil {
		return fail(errno.EFAULT)
	}
	return ok(uint64(ready))
}

// sysSelect implements select(2); the timeval is updated with the time
// left, as Linux does.
func sysSelect(c *call) result {
	timeout := time.Duration(-1)
	if tv := c.arg(4); tv != 0 {
		var b [16]byte
		if err := c.as().CopyIn(tv, b[:]); err != nil {
			return fail(errno.EFAULT)
		}
		sec, usec := int64(binary.LittleEndian.Uint64(b[:])), int64(binary.LittleEndian.Uint64(b[8:]))
		if sec < 0 || usec < 0 || usec >= 1e6 {
			return fail(errno.EINVAL)
		}
		timeout = time.Duration(sec)*time.Second + time.Duration(usec)*time.Microsecond
	}
	start := time.Now()
	r := doSelect(c, timeout)
	if tv := c.arg(4); tv != 0 && r.err != errno.EFAULT {
		left := max(timeout-time.Since(start), 0)
		var b [16]byte
		binary.LittleEndian.PutUint64(b[:], uint64(left/time.Second))
		binary.LittleEndian.PutUint64(b[8:], uint64(left%time.Second/time.Microsecond))
		c.as().CopyOut(tv, b[:])
	}
	return r
}

// sysPselect6 implements pselect6(2).
func sysPselect6(c *call) result {
	timeout := time.Duration(-1)
	if c.arg(4) != 0 {
		ns, e := readTimespec(c, c.arg(4))
		if e != 0 {
			return fail(e)
		}
		timeout = time.Duration(ns)
	}
	return doSelect(c, timeout)
}

// doSelect waits on the fd_sets at arguments 1-3 for nfds (argument 0)
// descriptors.
func doSelect(c *call, timeout time.Duration) result {
	nfds := c.i32(0)
	if nfds < 0 || nfds > kfile.MaxFDs {
		return fail(errno.EINVAL)
	}
	words := (int(nfds) + 63) / 64
	var sets [3][]uint64
	for k := range sets {
		addr := c.arg(1 + k)
		if addr == 0 {
			continue
		}
		b := make([]byte, words*8)
		if err := c.as().CopyIn(addr, b); err != nil {
			return fail(errno.EFAULT)
		}
		sets[k] = make([]uint64, words)
		for w := range sets[k] {
			sets[k][w] = binary.LittleEndian.Uint64(b[w*8:])
		}
	}
	isSet := func(k, fd int) bool { return sets[k] != nil && sets[k][fd/64]&(1<<(fd%64)) != 0 }
	var fds []int32
	var events []uint32
	for fd := 0; fd < int(nfds); fd++ {
		var ev uint32
		if isSet(0, fd) {
			ev |= linux.EPOLLIN
		}
		if isSet(1, fd) {
			ev |= linux.EPOLLOUT
		}
		if isSet(2, fd) {
			ev |= linux.EPOLLPRI
		}
		if ev != 0 {
			fds = append(fds, int32(fd))
			events = append(events, ev)
		}
	}
	got, e := pollWait(c, fds, events, timeout)
	if e != 0 {
		return fail(e)
	}
	var out [3][]uint64
	for k := range out {
		if sets[k] != nil {
			out[k] = make([]uint64, words)
		}
	}
	ready := 0
	for i, fd := range fds {
		r := got[i]
		if r&pollNval != 0 {
			return fail(errno.EBADF)
		}
		mark := func(k int, yes bool) {
			if yes && out[k] != nil {
				out[k][fd/64] |= 1 << (fd % 64)
				ready++
			}
		}
		mark(0, events[i]&linux.EPOLLIN != 0 && r&(linux.EPOLLIN|linux.EPOLLHUP|linux.EPOLLERR) != 0)
		mark(1, events[i]&linux.EPOLLOUT != 0 && r&(linux.EPOLLOUT|linux.EPOLLERR) != 0)
		mark(2, events[i]&linux.EPOLLPRI != 0 && r&linux.EPOLLPRI != 0)
	}
	for k := range out {
		if out[k] == nil {
			continue
		}
		b := make([]byte, words*8)
		for w, v := range out[k] {
			binary.LittleEndian.PutUint64(b[w*8:], v)
		}
		if err := c.as().CopyOut(c.arg(1+k), b); err != nil {
			return fail(errno.EFAULT)
		}
	}
	return ok(uint64(ready))
}
