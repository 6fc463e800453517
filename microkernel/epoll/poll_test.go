package epoll

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile"
	"valence.dev/microkernel/kfile/kfiletest"
)

// TestPoll: poll(2)'s core reports each file's ready events for what it
// asks (HUP and ERR always), blocks until one is ready, times out with
// nothing, ends with EINTR, and leaves the callers' references as it
// found them.
func TestPoll(t *testing.T) {
	a, b, hup := newFake(0), newFake(linux.EPOLLOUT), newFake(linux.EPOLLHUP)
	files := []*kfile.OpenFile{kfile.NewOpenFile(a, 0, "a"), nil, kfile.NewOpenFile(b, 0, "b"), kfile.NewOpenFile(hup, 0, "hup")}
	c := kfiletest.NewCaller(1)

	got, e := Poll(c, files, []uint32{linux.EPOLLIN, 0, linux.EPOLLIN | linux.EPOLLOUT, linux.EPOLLIN}, 0)
	if want := []uint32{0, 0, linux.EPOLLOUT, linux.EPOLLHUP}; e != 0 || !cmp.Equal(got, want) {
		t.Errorf("ready now: %v %v, want %v", got, e, want)
	}
	// Nothing ready among what is asked: the timeout.
	start := time.Now()
	got, e = Poll(c, files[:1], []uint32{linux.EPOLLIN}, 20*time.Millisecond)
	if e != 0 || got[0] != 0 || time.Since(start) < 20*time.Millisecond {
		t.Errorf("timeout: %v %v after %v", got, e, time.Since(start))
	}
	// Blocked until a file becomes ready.
	go func() { time.Sleep(10 * time.Millisecond); a.set(linux.EPOLLIN) }()
	got, e = Poll(c, files[:1], []uint32{linux.EPOLLIN}, -1)
	if e != 0 || got[0] != linux.EPOLLIN {
		t.Errorf("woken: %v %v", got, e)
	}
	// Interrupted.
	a.set(0)
	go func() { time.Sleep(10 * time.Millisecond); c.Interrupt() }()
	if _, e := Poll(c, files[:1], []uint32{linux.EPOLLIN}, -1); e != errno.EINTR {
		t.Errorf("interrupted: %v, want EINTR", e)
	}
	// The callers' references are theirs: closing drops the last.
	for _, of := range files {
		if of != nil {
			of.Drop()
		}
	}
	if a.releases != 1 || b.releases != 1 || hup.releases != 1 {
		t.Errorf("releases %d %d %d, want 1 each", a.releases, b.releases, hup.releases)
	}
}
