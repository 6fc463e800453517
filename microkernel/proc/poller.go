package proc

import (
	"encoding/binary"
	"reflect"
	"sync"
	"time"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"
)

// eventFD is an eventfd(2) counter.
type eventFD struct {
	mu        sync.Mutex
	count     uint64
	semaphore bool
	ev        *event
}

func (e *eventFD) read(t *Thread, b []byte, _ int64, nonblock bool) (int, errno.Errno) {
	if len(b) < 8 {
		return 0, errno.EINVAL
	}
	return t.waitUntil(e.ev, nonblock, func() (int, errno.Errno, bool) {
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

func (e *eventFD) write(t *Thread, b []byte, _ int64, nonblock bool) (int, errno.Errno) {
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

func (e *eventFD) seekable() bool { return false }
func (e *eventFD) stat() linux.Stat {
	return linux.Stat{Dev: 3, Mode: 0o600, Nlink: 1, Blksize: 4096}
}
func (e *eventFD) poll() (uint32, *event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	ev := uint32(linux.EPOLLOUT)
	if e.count > 0 {
		ev |= linux.EPOLLIN
	}
	return ev, e.ev
}
func (e *eventFD) release() {}

// epollFile is an epoll(7) instance. Interests are level-triggered, or
// edge-triggered with EPOLLET: then an interest is reported when its file
// has signalled a change since the last report (new data, new space, a
// closed end), as Linux reports an edge on every wakeup of the file, not
// only when readiness flips. EPOLLONESHOT disables an interest after one
// report until EPOLL_CTL_MOD.
type epollFile struct {
	mu    sync.Mutex
	watch map[int32]*interest
	ev    *event // interest list changed
}

type interest struct {
	of     *openFile
	events uint32
	data   uint64
	seen   uint64 // the file's event count at the last report, for EPOLLET
	fresh  bool   // not reported since it was added or modified
	off    bool   // EPOLLONESHOT fired
}

func newEpoll() *epollFile { return &epollFile{watch: map[int32]*interest{}, ev: newEvent()} }

func (e *epollFile) read(*Thread, []byte, int64, bool) (int, errno.Errno)  { return 0, errno.EINVAL }
func (e *epollFile) write(*Thread, []byte, int64, bool) (int, errno.Errno) { return 0, errno.EINVAL }
func (e *epollFile) seekable() bool                                        { return false }
func (e *epollFile) stat() linux.Stat {
	return linux.Stat{Dev: 3, Mode: 0o600, Nlink: 1, Blksize: 4096}
}
func (e *epollFile) poll() (uint32, *event) { return 0, e.ev }
func (e *epollFile) release() {
	e.mu.Lock()
	w := e.watch
	e.watch = nil
	e.mu.Unlock()
	for _, in := range w {
		in.of.drop()
	}
}

const epollAlways = linux.EPOLLERR | linux.EPOLLHUP

// ready collects up to max ready events and the wait channels to block on
// when there are none.
func (e *epollFile) ready(max int) ([]linux.EpollEvent, []<-chan struct{}) {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []linux.EpollEvent
	chans := []<-chan struct{}{e.ev.Wait()}
	for _, in := range e.watch {
		var seq uint64
		_, ev := in.of.f.poll()
		if ev != nil {
			chans = append(chans, ev.Wait())
			seq = ev.Seq()
		}
		r, _ := in.of.f.poll()
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
		out = append(out, epollEvent(r, in.data))
		if in.events&linux.EPOLLONESHOT != 0 {
			in.off = true
		}
	}
	return out, chans
}

// wait blocks until something is ready, the timeout passes, or the thread
// is interrupted.
func (e *epollFile) wait(t *Thread, max int, timeout time.Duration) ([]linux.EpollEvent, errno.Errno) {
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
		if !t.canBlock() {
			return nil, errno.EINTR
		}
		cases := make([]reflect.SelectCase, 0, len(chans)+2)
		cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(t.intr)})
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
