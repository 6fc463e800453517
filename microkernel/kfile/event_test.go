package kfile

import (
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile/kfiletest"
)

var _ Caller = (*kfiletest.Caller)(nil)

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// TestEvent: a channel taken before Signal is closed by it, one taken
// after waits for the next; Seq counts the Signals.
func TestEvent(t *testing.T) {
	ev := NewEvent()
	before := ev.Wait()
	if closed(before) {
		t.Fatal("Wait's channel closed before any Signal")
	}
	if ev.Seq() != 0 {
		t.Errorf("Seq = %d before any Signal", ev.Seq())
	}
	ev.Signal()
	if !closed(before) {
		t.Error("a waiter from before Signal was not woken")
	}
	after := ev.Wait()
	if closed(after) {
		t.Error("a channel taken after Signal is already closed")
	}
	ev.Signal()
	ev.Signal()
	if !closed(after) || ev.Seq() != 3 {
		t.Errorf("after three Signals: woken %v, Seq %d; want true, 3", closed(after), ev.Seq())
	}
}

// TestWaitUntil covers each way a blocking read ends.
func TestWaitUntil(t *testing.T) {
	tests := []struct {
		name     string
		nonblock bool
		noBlock  bool // the caller has a signal due
		ready    int  // the attempt that succeeds (0: none)
		wake     func(ev *Event, c *kfiletest.Caller)
		wantN    int
		want     errno.Errno
	}{
		{name: "ready at once", ready: 1, wantN: 7},
		{name: "nonblocking, not ready", nonblock: true, want: errno.EAGAIN},
		{name: "nonblocking, ready", nonblock: true, ready: 1, wantN: 7},
		{name: "signal due", noBlock: true, want: errno.EINTR},
		{name: "woken by the event", ready: 2, wake: func(ev *Event, _ *kfiletest.Caller) { ev.Signal() }, wantN: 7},
		{name: "interrupted", wake: func(_ *Event, c *kfiletest.Caller) { c.Interrupt() }, want: errno.EINTR},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := kfiletest.NewCaller(1)
			c.NoBlock = tc.noBlock
			ev := NewEvent()
			attempts := 0
			tried := make(chan struct{}, 10)
			go func() {
				<-tried
				if tc.wake != nil {
					time.Sleep(10 * time.Millisecond) // let it block
					tc.wake(ev, c)
				}
			}()
			n, e := WaitUntil(c, ev, tc.nonblock, func() (int, errno.Errno, bool) {
				attempts++
				tried <- struct{}{}
				if attempts == tc.ready {
					return 7, 0, true
				}
				return 0, 0, false
			})
			if n != tc.wantN || e != tc.want {
				t.Errorf("WaitUntil = %d, %v; want %d, %v", n, e, tc.wantN, tc.want)
			}
		})
	}
}
