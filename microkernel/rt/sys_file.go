package rt

import (
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/console"
	"valence.dev/microkernel/sched"
)

// The kernel runtime's file descriptors: the console on 0-2 and the
// eventfds and epoll instances the runtime's network poller creates (it
// sleeps in epoll_pwait for its timers and is woken through an eventfd).
// Real files come from servers, for user programs, not here.

type fdKind uint8

const (
	fdFree fdKind = iota
	fdConsole
	fdEventfd
	fdEpoll
)

const (
	maxFDs      = 32
	maxInterest = 8
)

type interest struct {
	fd     int32
	events uint32
	data   uint64
}

type fdEntry struct {
	kind    fdKind
	flags   uint32 // O_NONBLOCK, O_CLOEXEC as given
	counter uint64 // eventfd
	// epoll interest list
	watch  [maxInterest]interest
	nwatch int
}

var fds = [maxFDs]fdEntry{
	0: {kind: fdConsole, flags: linux.O_RDWR},
	1: {kind: fdConsole, flags: linux.O_RDWR},
	2: {kind: fdConsole, flags: linux.O_RDWR},
}

func lookupFD(fd uint64) (*fdEntry, bool) {
	if fd >= maxFDs || fds[fd].kind == fdFree {
		return nil, false
	}
	return &fds[fd], true
}

func allocFD(kind fdKind, flags uint32) (int, bool) {
	for i := 3; i < maxFDs; i++ {
		if fds[i].kind == fdFree {
			fds[i] = fdEntry{kind: kind, flags: flags}
			return i, true
		}
	}
	return 0, false
}

// Epoll wait channels: the epoll fd with this tag.
const epollTag = 0xE0 << 56

// sysWrite implements write(2) on the console and on eventfds.
func sysWrite(c call) {
	e, ok := lookupFD(c.arg(0))
	if !ok {
		c.fail(errno.EBADF)
		return
	}
	buf, n := c.arg(1), c.arg(2)
	if n > 0 && !kernelIn(buf, n) {
		c.fail(errno.EFAULT)
		return
	}
	switch e.kind {
	case fdConsole:
		if n > 0 {
			console.Write(bytesAt(uintptr(buf), int(n)))
		}
		c.ret(n)
	case fdEventfd:
		if n < 8 {
			c.fail(errno.EINVAL)
			return
		}
		v := *u64At(uintptr(buf))
		if v == ^uint64(0) || e.counter+v < e.counter || e.counter+v == ^uint64(0) {
			c.fail(errno.EAGAIN) // would overflow: Linux blocks or fails; the runtime only adds 1
			return
		}
		e.counter += v
		wakeEpollWatchers(c.arg(0))
		c.ret(8)
	default:
		c.fail(errno.EINVAL)
	}
}

// sysRead implements read(2) on eventfds; the console is read by goroutines
// through package console, not through fd 0.
func sysRead(c call) {
	e, ok := lookupFD(c.arg(0))
	if !ok {
		c.fail(errno.EBADF)
		return
	}
	buf, n := c.arg(1), c.arg(2)
	switch e.kind {
	case fdEventfd:
		if n < 8 {
			c.fail(errno.EINVAL)
			return
		}
		if !kernelPtr(buf, 8) {
			c.fail(errno.EFAULT)
			return
		}
		if e.counter == 0 {
			c.fail(errno.EAGAIN) // the runtime's eventfd is non-blocking
			return
		}
		*u64At(uintptr(buf)) = e.counter
		e.counter = 0
		c.ret(8)
	case fdConsole:
		c.fail(errno.EAGAIN)
	default:
		c.fail(errno.EINVAL)
	}
}

// sysClose implements close(2).
func sysClose(c call) {
	e, ok := lookupFD(c.arg(0))
	if !ok {
		c.fail(errno.EBADF)
		return
	}
	if e.kind != fdConsole {
		*e = fdEntry{}
	}
	c.ret(0)
}

// sysFcntl implements fcntl(2)'s F_GETFD, F_SETFD, F_GETFL and F_SETFL.
// The runtime checks fds 0-2 at startup and throws if they are closed.
func sysFcntl(c call) {
	e, ok := lookupFD(c.arg(0))
	if !ok {
		c.fail(errno.EBADF)
		return
	}
	switch c.arg(1) {
	case linux.F_GETFD:
		if e.flags&linux.O_CLOEXEC != 0 {
			c.ret(linux.FD_CLOEXEC)
			return
		}
		c.ret(0)
	case linux.F_SETFD:
		e.flags &^= linux.O_CLOEXEC
		if c.arg(2)&linux.FD_CLOEXEC != 0 {
			e.flags |= linux.O_CLOEXEC
		}
		c.ret(0)
	case linux.F_GETFL:
		c.ret(uint64(e.flags &^ linux.O_CLOEXEC))
	case linux.F_SETFL:
		e.flags = e.flags&^linux.O_NONBLOCK | uint32(c.arg(2))&linux.O_NONBLOCK
		c.ret(0)
	default:
		c.fail(errno.EINVAL)
	}
}

// sysOpenat: the kernel's runtime has no files to open (it probes
// /sys/kernel/mm/transparent_hugepage and /proc/self/auxv, and copes).
func sysOpenat(c call) { c.fail(errno.ENOENT) }

// sysEventfd2 implements eventfd2(2).
func sysEventfd2(c call) {
	flags := uint32(c.arg(1))
	if flags&^(linux.EFD_NONBLOCK|linux.EFD_CLOEXEC|linux.EFD_SEMAPHORE) != 0 || flags&linux.EFD_SEMAPHORE != 0 {
		c.fail(errno.EINVAL)
		return
	}
	fd, ok := allocFD(fdEventfd, flags)
	if !ok {
		c.fail(errno.EMFILE)
		return
	}
	fds[fd].counter = uint64(uint32(c.arg(0)))
	c.ret(uint64(fd))
}

// sysEpollCreate1 implements epoll_create1(2).
func sysEpollCreate1(c call) {
	flags := uint32(c.arg(0))
	if flags&^linux.EPOLL_CLOEXEC != 0 {
		c.fail(errno.EINVAL)
		return
	}
	fd, ok := allocFD(fdEpoll, flags)
	if !ok {
		c.fail(errno.EMFILE)
		return
	}
	c.ret(uint64(fd))
}

// sysEpollCtl implements epoll_ctl(2).
func sysEpollCtl(c call) {
	ep, ok := lookupFD(c.arg(0))
	if !ok {
		c.fail(errno.EBADF)
		return
	}
	if ep.kind != fdEpoll {
		c.fail(errno.EINVAL)
		return
	}
	fd := int32(c.arg(2))
	if _, ok := lookupFD(uint64(fd)); !ok || uint64(fd) == c.arg(0) {
		c.fail(errno.EBADF)
		return
	}
	op, evp := c.arg(1), c.arg(3)
	var ev linux.EpollEvent
	if op != linux.EPOLL_CTL_DEL {
		if !kernelIn(evp, 12) {
			c.fail(errno.EFAULT)
			return
		}
		ev = *epollEventAt(evp)
	}
	idx := -1
	for i := 0; i < ep.nwatch; i++ {
		if ep.watch[i].fd == fd {
			idx = i
		}
	}
	switch op {
	case linux.EPOLL_CTL_ADD:
		if idx >= 0 {
			c.fail(errno.EEXIST)
			return
		}
		if ep.nwatch == maxInterest {
			c.fail(errno.ENOSPC)
			return
		}
		ep.watch[ep.nwatch] = interest{fd: fd, events: ev.Events, data: epollData(&ev)}
		ep.nwatch++
	case linux.EPOLL_CTL_MOD:
		if idx < 0 {
			c.fail(errno.ENOENT)
			return
		}
		ep.watch[idx] = interest{fd: fd, events: ev.Events, data: epollData(&ev)}
	case linux.EPOLL_CTL_DEL:
		if idx < 0 {
			c.fail(errno.ENOENT)
			return
		}
		ep.nwatch--
		ep.watch[idx] = ep.watch[ep.nwatch]
	default:
		c.fail(errno.EINVAL)
		return
	}
	c.ret(0)
}

// readiness returns the events of interest that fd has now.
func readiness(w *interest) uint32 {
	e, ok := lookupFD(uint64(w.fd))
	if !ok {
		return 0
	}
	var ev uint32
	switch e.kind {
	case fdEventfd:
		if e.counter > 0 {
			ev |= linux.EPOLLIN
		}
		ev |= linux.EPOLLOUT
	case fdConsole:
		ev |= linux.EPOLLOUT
	}
	return ev & (w.events | linux.EPOLLERR | linux.EPOLLHUP)
}

// sysEpollPwait implements epoll_pwait(2) and epoll_wait(2), level
// triggered. A waiter sleeps until an eventfd it watches is written or the
// timeout (in milliseconds) passes; it is then restarted, so it collects the
// events that woke it.
func sysEpollPwait(c call) {
	ep, ok := lookupFD(c.arg(0))
	if !ok {
		c.fail(errno.EBADF)
		return
	}
	if ep.kind != fdEpoll {
		c.fail(errno.EINVAL)
		return
	}
	out, max := c.arg(1), int64(int32(c.arg(2)))
	if max <= 0 {
		c.fail(errno.EINVAL)
		return
	}
	if !kernelPtr(out, uint64(max)*12) {
		c.fail(errno.EFAULT)
		return
	}
	n := int64(0)
	for i := 0; i < ep.nwatch && n < max; i++ {
		if r := readiness(&ep.watch[i]); r != 0 {
			ev := epollEventAt(out + uint64(n)*12)
			ev.Events = r
			setEpollData(ev, ep.watch[i].data)
			n++
		}
	}
	timeout := int64(int32(c.arg(3)))
	if n > 0 || timeout == 0 {
		c.ret(uint64(n))
		return
	}
	deadline := int64(0)
	if timeout > 0 {
		deadline = c.now + timeout*1e6
	}
	c.ret(0)
	t := sched.Current()
	t.RestartRIP = c.f.RIP - 2 // back to the SYSCALL instruction
	t.RestartRAX = c.nr
	sched.Block(c.f, c.fx, epollTag|c.arg(0), deadline, 0, c.now)
}

// wakeEpollWatchers restarts the epoll waits that watch fd.
func wakeEpollWatchers(fd uint64) {
	for i := range fds {
		e := &fds[i]
		if e.kind != fdEpoll {
			continue
		}
		for j := 0; j < e.nwatch; j++ {
			if uint64(e.watch[j].fd) == fd {
				sched.WakeChan(epollTag|uint64(i), sched.MaxThreads)
			}
		}
	}
}
