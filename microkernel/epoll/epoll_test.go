package epoll

import (
	"encoding/binary"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile"
	"valence.dev/microkernel/kfile/kfiletest"
)

var (
	_ kfile.File = (*Instance)(nil)
	_ kfile.File = (*EventFD)(nil)
)

// fakeFile is a file whose readiness the test sets; each change
// signals its event, as a real file's does.
type fakeFile struct {
	mu       sync.Mutex
	bits     uint32
	ev       *kfile.Event
	releases int
}

func newFake(bits uint32) *fakeFile { return &fakeFile{bits: bits, ev: kfile.NewEvent()} }

func (f *fakeFile) set(bits uint32) {
	f.mu.Lock()
	f.bits = bits
	f.mu.Unlock()
	f.ev.Signal()
}

func (f *fakeFile) Read(kfile.Caller, []byte, int64, bool) (int, errno.Errno)  { return 0, 0 }
func (f *fakeFile) Write(kfile.Caller, []byte, int64, bool) (int, errno.Errno) { return 0, 0 }
func (f *fakeFile) Seekable() bool                                             { return false }
func (f *fakeFile) Stat() linux.Stat                                           { return linux.Stat{} }
func (f *fakeFile) Poll() (uint32, *kfile.Event) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.bits, f.ev
}
func (f *fakeFile) Release() { f.releases++ }

// reported is one event as epoll_wait returns it.
type reported struct {
	Events uint32
	Data   uint64
}

// poll returns what a non-blocking epoll_wait reports now, sorted by data.
func poll(t *testing.T, ep *Instance) []reported {
	t.Helper()
	evs, e := ep.Wait(kfiletest.NewCaller(1), 64, 0)
	if e != 0 {
		t.Fatalf("Wait: %v", e)
	}
	var out []reported
	for i := range evs {
		out = append(out, reported{evs[i].Events, Data(&evs[i])})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Data < out[j].Data })
	return out
}

func add(t *testing.T, ep *Instance, fd int32, f kfile.File, events uint32) *kfile.OpenFile {
	t.Helper()
	of := kfile.NewOpenFile(f, linux.O_RDWR, "")
	if e := ep.Ctl(linux.EPOLL_CTL_ADD, fd, of.Retain(), events, uint64(fd)*100); e != 0 {
		t.Fatalf("EPOLL_CTL_ADD %d: %v", fd, e)
	}
	return of
}

// TestReadiness: level-, edge-triggered and one-shot interests, step by
// step.
func TestReadiness(t *testing.T) {
	ep := New()
	level, edge, once := newFake(linux.EPOLLIN), newFake(linux.EPOLLIN), newFake(linux.EPOLLIN)
	add(t, ep, 1, level, linux.EPOLLIN)
	add(t, ep, 2, edge, linux.EPOLLIN|linux.EPOLLET)
	add(t, ep, 3, once, linux.EPOLLIN|linux.EPOLLONESHOT)
	in := uint32(linux.EPOLLIN)
	steps := []struct {
		name   string
		change func()
		want   []reported
	}{
		{"all ready when added", nil, []reported{{in, 100}, {in, 200}, {in, 300}}},
		{"no change: only level-triggered", nil, []reported{{in, 100}}},
		{"edge signalled again while still ready", func() { edge.set(linux.EPOLLIN) }, []reported{{in, 100}, {in, 200}}},
		{"one-shot stays off", func() { once.set(linux.EPOLLIN) }, []reported{{in, 100}}},
		{"not ready: nothing", func() { level.set(0); edge.set(0) }, nil},
		{"writable is not watched", func() { level.set(linux.EPOLLOUT); edge.set(linux.EPOLLOUT) }, nil},
		{"HUP always reported", func() { level.set(linux.EPOLLHUP) }, []reported{{linux.EPOLLHUP, 100}}},
		{"ERR always reported", func() { level.set(0); edge.set(linux.EPOLLERR) }, []reported{{linux.EPOLLERR, 200}}},
	}
	for _, s := range steps {
		if s.change != nil {
			s.change()
		}
		if diff := cmp.Diff(s.want, poll(t, ep)); diff != "" {
			t.Errorf("%s (-want +got):\n%s", s.name, diff)
		}
	}
}

// TestModRearms: EPOLL_CTL_MOD re-arms a one-shot interest and replaces
// the events and data.
func TestModRearms(t *testing.T) {
	ep := New()
	f := newFake(linux.EPOLLIN | linux.EPOLLOUT)
	of := add(t, ep, 4, f, linux.EPOLLIN|linux.EPOLLONESHOT)
	var got [][]reported
	got = append(got, poll(t, ep), poll(t, ep))
	if e := ep.Ctl(linux.EPOLL_CTL_MOD, 4, of.Retain(), linux.EPOLLOUT|linux.EPOLLONESHOT, 7); e != 0 {
		t.Fatalf("EPOLL_CTL_MOD: %v", e)
	}
	got = append(got, poll(t, ep), poll(t, ep))
	want := [][]reported{{{linux.EPOLLIN, 400}}, nil, {{linux.EPOLLOUT, 7}}, nil}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reports (-want +got):\n%s", diff)
	}
}

// TestCtlErrors: each operation's errors, and the references Ctl takes
// over: a refused or removed interest drops its file.
func TestCtlErrors(t *testing.T) {
	ep := New()
	f := newFake(linux.EPOLLIN)
	of := add(t, ep, 5, f, linux.EPOLLIN)
	other := newFake(linux.EPOLLIN)
	otherOF := kfile.NewOpenFile(other, 0, "")
	tests := []struct {
		name string
		op   uint64
		fd   int32
		want errno.Errno
	}{
		{"add twice", linux.EPOLL_CTL_ADD, 5, errno.EEXIST},
		{"modify unwatched", linux.EPOLL_CTL_MOD, 6, errno.ENOENT},
		{"delete unwatched", linux.EPOLL_CTL_DEL, 6, errno.ENOENT},
		{"bad operation", 99, 5, errno.EINVAL},
	}
	for _, tc := range tests {
		if e := ep.Ctl(tc.op, tc.fd, otherOF.Retain(), linux.EPOLLIN, 0); e != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, e, tc.want)
		}
	}
	otherOF.Drop()
	if other.releases != 1 {
		t.Errorf("refused operations leaked references: %d releases, want 1", other.releases)
	}
	if e := ep.Ctl(linux.EPOLL_CTL_DEL, 5, of.Retain(), 0, 0); e != 0 {
		t.Fatalf("EPOLL_CTL_DEL: %v", e)
	}
	if got := poll(t, ep); got != nil {
		t.Errorf("a removed interest reported %v", got)
	}
	of.Drop()
	if f.releases != 1 {
		t.Errorf("removed file: %d releases, want 1", f.releases)
	}
}

// TestReleaseDropsInterests: closing the epoll instance lets go of the
// files it watches.
func TestReleaseDropsInterests(t *testing.T) {
	ep := New()
	f := newFake(0)
	add(t, ep, 1, f, linux.EPOLLIN).Drop()
	if f.releases != 0 {
		t.Fatal("released while watched")
	}
	ep.Release()
	if f.releases != 1 {
		t.Errorf("releases %d, want 1", f.releases)
	}
}

// TestWait: a blocked wait ends when a file becomes ready, when an
// interest is added, at its timeout, or when interrupted.
func TestWait(t *testing.T) {
	type result struct {
		n int
		e errno.Errno
	}
	tests := []struct {
		name    string
		timeout time.Duration
		wake    func(ep *Instance, f *fakeFile, c *kfiletest.Caller)
		want    result
	}{
		{"file ready", -1, func(_ *Instance, f *fakeFile, _ *kfiletest.Caller) { f.set(linux.EPOLLIN) }, result{1, 0}},
		{"interest added", -1, func(ep *Instance, _ *fakeFile, _ *kfiletest.Caller) {
			ep.Ctl(linux.EPOLL_CTL_ADD, 9, kfile.NewOpenFile(newFake(linux.EPOLLIN), 0, ""), linux.EPOLLIN, 0)
		}, result{1, 0}},
		{"timeout", 20 * time.Millisecond, nil, result{0, 0}},
		{"interrupted", -1, func(_ *Instance, _ *fakeFile, c *kfiletest.Caller) { c.Interrupt() }, result{0, errno.EINTR}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ep := New()
			f := newFake(0)
			add(t, ep, 1, f, linux.EPOLLIN)
			c := kfiletest.NewCaller(1)
			done := make(chan result)
			go func() {
				evs, e := ep.Wait(c, 8, tc.timeout)
				done <- result{len(evs), e}
			}()
			time.Sleep(10 * time.Millisecond)
			if tc.wake != nil {
				tc.wake(ep, f, c)
			}
			select {
			case got := <-done:
				if got != tc.want {
					t.Errorf("Wait = %+v, want %+v", got, tc.want)
				}
			case <-time.After(5 * time.Second):
				t.Fatal("Wait did not return")
			}
		})
	}
	t.Run("signal due", func(t *testing.T) {
		c := kfiletest.NewCaller(1)
		c.NoBlock = true
		if _, e := New().Wait(c, 8, -1); e != errno.EINTR {
			t.Errorf("Wait = %v, want EINTR", e)
		}
	})
}

// TestMaxEvents: Wait returns at most max events.
func TestMaxEvents(t *testing.T) {
	ep := New()
	for fd := range int32(5) {
		add(t, ep, fd, newFake(linux.EPOLLIN), linux.EPOLLIN)
	}
	evs, _ := ep.Wait(kfiletest.NewCaller(1), 3, 0)
	if len(evs) != 3 {
		t.Errorf("%d events, want 3", len(evs))
	}
}

func TestEventsBytes(t *testing.T) {
	evs := []linux.EpollEvent{makeEvent(linux.EPOLLIN, 0x1122334455667788), makeEvent(linux.EPOLLOUT, 9)}
	b := EventsBytes(evs)
	if len(b) != 24 {
		t.Fatalf("%d bytes, want 24 (two packed 12-byte records)", len(b))
	}
	got := []reported{
		{binary.LittleEndian.Uint32(b[0:]), binary.LittleEndian.Uint64(b[4:])},
		{binary.LittleEndian.Uint32(b[12:]), binary.LittleEndian.Uint64(b[16:])},
	}
	want := []reported{{linux.EPOLLIN, 0x1122334455667788}, {linux.EPOLLOUT, 9}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
	if EventsBytes(nil) != nil {
		t.Error("EventsBytes(nil) is not empty")
	}
}
