package epoll

import (
	"reflect"
	"sync"
	"time"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile"
)

// Instance is an epoll(7) instance. Interests are level-triggered, or
// edge-triggered with EPOLLET: then an interest is reported when its file
// has signalled a change since the last report (new data, new space, a
// closed end), as Linux reports an edge on every wakeup of the file, not
// only when readiness flips. EPOLLONESHOT disables an interest after one
// report until EPOLL_CTL_MOD.
type Instance struct {
	mu    sync.Mutex
	watch map[int32]*interest
	ev    *kfile.Event // interest list changed
}

type interest struct {
	of     *kfile.OpenFile
	events uint32
	data   uint64
	seen   uint64 // the file's event count at the last report, for EPOLLET
	fresh  bool   // not reported since it was added or modified
	off    bool   // EPOLLONESHOT fired
}

// New returns an instance watching nothing.
func New() *Instance { return &Instance{watch: map[int32]*interest{}, ev: kfile.NewEvent()} }

func (e *Instance) Read(kfile.Caller, []byte, int64, bool) (int, errno.Errno) { return 0, errno.EINVAL }
func (e *Instance) Write(kfile.Caller, []byte, int64, bool) (int, errno.Errno) {
	return 0, errno.EINVAL
}
func (e *Instance) Seekable() bool { return false }
func (e *Instance) Stat() linux.Stat {
	return linux.Stat{Dev: 3, Mode: 0o600, Nlink: 1, Blksize: 4096}
}
func (e *Instance) Poll() (uint32, *kfile.Event) { return 0, e.ev }
func (e *Instance) Release() {
	e.mu.Lock()
	w := e.watch
	e.watch = nil
	e.mu.Unlock()
	for _, in := range w {
		in.of.Drop()
	}
}

const epollAlways = linux.EPOLLERR | linux.EPOLLHUP

// ready collects up to max ready events and the wait channels to block on
// when there are none.
func (e *Instance) ready(max int) ([]linux.EpollEvent, []<-chan struct{}) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []linux.EpollEvent
	chans := []<-chan struct{}{e.ev.Wait()}
	for _, in := range e.watch {
		var seq uint64
		_, ev := in.of.File.Poll()
		if ev != nil {
			chans = append(chans, ev.Wait())
			seq = ev.Seq()
		}
		r, _ := in.of.File.Poll()
		r &= in.events | epollAlways
		if in.off || r == 0 || len(out) >= max {
			continue
		}
		if in.events&linux.EPOLLET != 0 {
			if !in.fresh && seq == in.seen {
				continue
			}
			in.seen, in.fresh = seq, false
		}
		out = append(out, makeEvent(r, in.data))
		if in.events&linux.EPOLLONESHOT != 0 {
			in.off = true
		}
	}
	return out, chans
}

// Wait blocks until something is ready, the timeout passes (a negative
// timeout never does), or the caller is interrupted, and returns up to
// max ready events.
func (e *Instance) Wait(c kfile.Caller, max int, timeout time.Duration) ([]linux.EpollEvent, errno.Errno) {
	var deadline <-chan time.Time
	if timeout >= 0 {
		tm := time.NewTimer(timeout)
		defer tm.Stop()
		deadline = tm.C
	}
	for {
		out, chans := e.ready(max)
		if len(out) > 0 || timeout == 0 {
			return out, 0
		}
		if !c.CanBlock() {
			return nil, errno.EINTR
		}
		cases := make([]reflect.SelectCase, 0, len(chans)+2)
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(c.Interrupted())})
		if deadline != nil {
			cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(deadline)})
		}
		for _, c := range chans {
			cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(c)})
		}
		chosen, _, _ := reflect.Select(cases)
		switch {
		case chosen == 0:
			return nil, errno.EINTR
		case chosen == 1 && deadline != nil:
			out, _ := e.ready(max)
			return out, 0
		}
	}
}

// Ctl carries out epoll_ctl(2) operation op (EPOLL_CTL_ADD, _MOD, _DEL)
// on descriptor fd, open as target, with the interest's events and data
// (ignored for EPOLL_CTL_DEL). Ctl takes over the caller's reference on
// target: the interest keeps it, or Ctl drops it.
func (e *Instance) Ctl(op uint64, fd int32, target *kfile.OpenFile, events uint32, data uint64) errno.Errno {
	e.mu.Lock()
	old, exists := e.watch[fd]
	var drop *kfile.OpenFile
	var res errno.Errno
	switch op {
	case linux.EPOLL_CTL_ADD:
		if exists {
			res, drop = errno.EEXIST, target
		} else {
			e.watch[fd] = &interest{of: target, events: events, data: data, fresh: true}
		}
	case linux.EPOLL_CTL_MOD:
		if !exists {
			res, drop = errno.ENOENT, target
		} else {
			e.watch[fd] = &interest{of: target, events: events, data: data, fresh: true}
			drop = old.of
		}
	case linux.EPOLL_CTL_DEL:
		drop = target
		if !exists {
			res = errno.ENOENT
		} else {
			delete(e.watch, fd)
			old.of.Drop()
		}
	default:
		res, drop = errno.EINVAL, target
	}
	e.mu.Unlock()
	if drop != nil {
		drop.Drop()
	}
	e.ev.Signal()
	return res
}
