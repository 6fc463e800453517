package epoll

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile/kfiletest"
)

func u64(v uint64) []byte { return binary.LittleEndian.AppendUint64(nil, v) }

// op is one eventfd read ("r") or write ("w" of v) and its outcome.
type op struct {
	Kind string
	V    uint64 // written, or read back
	N    int
	E    errno.Errno
}

func run(f *EventFD, ops []op) []op {
	c := kfiletest.NewCaller(1)
	var got []op
	for _, o := range ops {
		switch o.Kind {
		case "r":
			b := make([]byte, 8)
			n, e := f.Read(c, b, 0, true)
			v := uint64(0)
			if n == 8 {
				v = binary.LittleEndian.Uint64(b)
			}
			got = append(got, op{"r", v, n, e})
		case "w":
			n, e := f.Write(c, u64(o.V), 0, true)
			got = append(got, op{"w", o.V, n, e})
		}
	}
	return got
}

func TestEventFD(t *testing.T) {
	tests := []struct {
		name      string
		initial   uint64
		semaphore bool
		ops       []op // what is done and what should come of it
	}{
		{"empty", 0, false, []op{{"r", 0, 0, errno.EAGAIN}}},
		{"initial count", 3, false, []op{{"r", 3, 8, 0}, {"r", 0, 0, errno.EAGAIN}}},
		{"writes add up", 0, false, []op{{"w", 2, 8, 0}, {"w", 5, 8, 0}, {"r", 7, 8, 0}}},
		{"semaphore takes one", 2, true, []op{{"r", 1, 8, 0}, {"r", 1, 8, 0}, {"r", 0, 0, errno.EAGAIN}}},
		{"all ones is invalid", 0, false, []op{{"w", ^uint64(0), 0, errno.EINVAL}}},
		{"overflow", 0, false, []op{{"w", ^uint64(0) - 1, 8, 0}, {"w", 1, 0, errno.EAGAIN}, {"r", ^uint64(0) - 1, 8, 0}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := run(NewEventFD(tc.initial, tc.semaphore), tc.ops)
			if diff := cmp.Diff(tc.ops, got); diff != "" {
				t.Errorf("operations (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEventFDShortBuffers(t *testing.T) {
	f := NewEventFD(1, false)
	c := kfiletest.NewCaller(1)
	if _, e := f.Read(c, make([]byte, 7), 0, true); e != errno.EINVAL {
		t.Errorf("Read of 7 bytes = %v, want EINVAL", e)
	}
	if _, e := f.Write(c, make([]byte, 7), 0, true); e != errno.EINVAL {
		t.Errorf("Write of 7 bytes = %v, want EINVAL", e)
	}
}

// TestEventFDPollAndWake: readable while the count is not zero; a
// blocked read wakes at a write.
func TestEventFDPollAndWake(t *testing.T) {
	f := NewEventFD(0, false)
	c := kfiletest.NewCaller(1)
	if ev, _ := f.Poll(); ev != linux.EPOLLOUT {
		t.Errorf("Poll at zero = %#x, want EPOLLOUT", ev)
	}
	done := make(chan uint64)
	go func() {
		b := make([]byte, 8)
		f.Read(c, b, 0, false)
		done <- binary.LittleEndian.Uint64(b)
	}()
	time.Sleep(10 * time.Millisecond)
	f.Write(c, u64(4), 0, false)
	if v := <-done; v != 4 {
		t.Errorf("woken read got %d, want 4", v)
	}
	f.Write(c, u64(1), 0, false)
	if ev, _ := f.Poll(); ev != linux.EPOLLOUT|linux.EPOLLIN {
		t.Errorf("Poll at one = %#x, want EPOLLOUT|EPOLLIN", ev)
	}
}
