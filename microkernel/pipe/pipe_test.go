package pipe

import (
	"bytes"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile"
	"valence.dev/microkernel/kfile/kfiletest"
)

var _ kfile.File = (*End)(nil)

func always(uint64) bool { return true }
func never(uint64) bool  { return false }

// result of a read or write.
type result struct {
	N int
	E errno.Errno
}

func TestReadWrite(t *testing.T) {
	var charge atomic.Int64
	r, w := New(7, &charge, always)
	c := kfiletest.NewCaller(1)
	if n, e := w.Write(c, []byte("hello, pipe"), 0, false); n != 11 || e != 0 {
		t.Fatalf("Write = %d, %v", n, e)
	}
	if charge.Load() != 11 {
		t.Errorf("charged %d bytes, want 11", charge.Load())
	}
	b := make([]byte, 5)
	var got []result
	var data []byte
	for range 3 {
		n, e := r.Read(c, b, 0, true)
		got = append(got, result{n, e})
		data = append(data, b[:n]...)
	}
	want := []result{{5, 0}, {5, 0}, {1, 0}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("reads (-want +got):\n%s", diff)
	}
	if string(data) != "hello, pipe" {
		t.Errorf("read %q", data)
	}
	if charge.Load() != 0 {
		t.Errorf("charge after draining: %d, want 0", charge.Load())
	}
	if n, e := r.Read(c, b, 0, true); n != 0 || e != errno.EAGAIN {
		t.Errorf("nonblocking read of an empty pipe = %d, %v; want 0, EAGAIN", n, e)
	}
	if st := r.Stat(); st.Ino != 7 || st.Mode != linux.S_IFIFO|0o600 || r.Seekable() {
		t.Errorf("Stat = ino %d mode %#o, seekable %v", st.Ino, st.Mode, r.Seekable())
	}
}

func TestWrongEnd(t *testing.T) {
	r, w := New(1, nil, always)
	c := kfiletest.NewCaller(1)
	if _, e := r.Write(c, []byte("x"), 0, false); e != errno.EBADF {
		t.Errorf("Write on the read end = %v, want EBADF", e)
	}
	if _, e := w.Read(c, make([]byte, 1), 0, false); e != errno.EBADF {
		t.Errorf("Read on the write end = %v, want EBADF", e)
	}
}

// TestEOF: once every writer is gone, a reader gets what is left, then
// end of file, without blocking.
func TestEOF(t *testing.T) {
	r, w := New(1, nil, always)
	c := kfiletest.NewCaller(1)
	w.Write(c, []byte("tail"), 0, false)
	w.Release()
	b := make([]byte, 16)
	if n, e := r.Read(c, b, 0, false); n != 4 || e != 0 {
		t.Errorf("first read = %d, %v; want 4, 0", n, e)
	}
	if n, e := r.Read(c, b, 0, false); n != 0 || e != 0 {
		t.Errorf("read at end of file = %d, %v; want 0, 0", n, e)
	}
}

// TestBlockedReaderWoken: a blocked reader wakes for data and for the
// last writer going.
func TestBlockedReaderWoken(t *testing.T) {
	r, w := New(1, nil, always)
	c := kfiletest.NewCaller(1)
	done := make(chan result)
	read := func() {
		n, e := r.Read(c, make([]byte, 8), 0, false)
		done <- result{n, e}
	}
	go read()
	time.Sleep(10 * time.Millisecond)
	w.Write(c, []byte("abc"), 0, false)
	if got := <-done; got != (result{3, 0}) {
		t.Errorf("woken by data: %+v", got)
	}
	go read()
	time.Sleep(10 * time.Millisecond)
	w.Release()
	if got := <-done; got != (result{0, 0}) {
		t.Errorf("woken by the writer closing: %+v, want end of file", got)
	}
}

// TestBrokenPipe: writing with no reader left is EPIPE, and raises
// SIGPIPE for the writer, also after a partial write.
func TestBrokenPipe(t *testing.T) {
	var charge atomic.Int64
	r, w := New(1, &charge, always)
	c := kfiletest.NewCaller(1)
	w.Write(c, []byte("unread"), 0, false)
	r.Release()
	if charge.Load() != 0 {
		t.Errorf("the last reader going left %d bytes charged", charge.Load())
	}
	if n, e := w.Write(c, []byte("x"), 0, false); n != 0 || e != errno.EPIPE {
		t.Errorf("Write = %d, %v; want 0, EPIPE", n, e)
	}
	if diff := cmp.Diff([]linux.Signal{linux.SIGPIPE}, c.Raised()); diff != "" {
		t.Errorf("signals raised (-want +got):\n%s", diff)
	}
	if ev, _ := w.Poll(); ev != linux.EPOLLERR {
		t.Errorf("writer's Poll = %#x, want EPOLLERR", ev)
	}
}

// TestPartialWrite: a blocking write larger than the buffer fills it and
// waits; if the reader goes, the write returns what it wrote (and
// SIGPIPE is raised); a nonblocking one returns what fitted.
func TestPartialWrite(t *testing.T) {
	t.Run("nonblocking", func(t *testing.T) {
		_, w := New(1, nil, always)
		c := kfiletest.NewCaller(1)
		n, e := w.Write(c, make([]byte, Capacity+100), 0, true)
		if n != Capacity || e != 0 {
			t.Errorf("Write = %d, %v; want %d, 0", n, e, Capacity)
		}
		if n, e := w.Write(c, []byte("x"), 0, true); n != 0 || e != errno.EAGAIN {
			t.Errorf("Write to a full pipe = %d, %v; want 0, EAGAIN", n, e)
		}
	})
	t.Run("reader goes", func(t *testing.T) {
		r, w := New(1, nil, always)
		c := kfiletest.NewCaller(1)
		done := make(chan result)
		go func() {
			n, e := w.Write(c, make([]byte, Capacity+100), 0, false)
			done <- result{n, e}
		}()
		time.Sleep(10 * time.Millisecond)
		r.Release()
		if got := <-done; got != (result{Capacity, 0}) {
			t.Errorf("Write = %+v, want %d written", got, Capacity)
		}
		if diff := cmp.Diff([]linux.Signal{linux.SIGPIPE}, c.Raised()); diff != "" {
			t.Errorf("signals raised (-want +got):\n%s", diff)
		}
	})
	t.Run("reader drains", func(t *testing.T) {
		r, w := New(1, nil, always)
		c := kfiletest.NewCaller(1)
		data := bytes.Repeat([]byte("0123456789"), Capacity/5)
		done := make(chan result)
		go func() {
			n, e := w.Write(c, data, 0, false)
			done <- result{n, e}
		}()
		var got []byte
		b := make([]byte, 3000)
		for len(got) < len(data) {
			n, e := r.Read(c, b, 0, false)
			if e != 0 {
				t.Fatalf("Read: %v", e)
			}
			got = append(got, b[:n]...)
		}
		if res := <-done; res != (result{len(data), 0}) {
			t.Errorf("Write = %+v, want all %d", res, len(data))
		}
		if !bytes.Equal(got, data) {
			t.Error("the reader got other bytes than were written")
		}
	})
}

// TestWriteInterrupted: a signal ends a blocked write with EINTR, or
// with the count written if some was.
func TestWriteInterrupted(t *testing.T) {
	for _, tc := range []struct {
		name string
		size int
		want result
	}{
		{"nothing written", 1, result{0, errno.EINTR}},
		{"some written", Capacity + 1, result{Capacity, 0}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, w := New(1, nil, always)
			c := kfiletest.NewCaller(1)
			if tc.size == 1 {
				w.Write(c, make([]byte, Capacity), 0, false) // full
			}
			done := make(chan result)
			go func() {
				n, e := w.Write(c, make([]byte, tc.size), 0, false)
				done <- result{n, e}
			}()
			time.Sleep(10 * time.Millisecond)
			c.Interrupt()
			if got := <-done; got != tc.want {
				t.Errorf("Write = %+v, want %+v", got, tc.want)
			}
		})
	}
	t.Run("signal already due", func(t *testing.T) {
		_, w := New(1, nil, always)
		c := kfiletest.NewCaller(1)
		c.NoBlock = true
		w.Write(c, make([]byte, Capacity), 0, false)
		if n, e := w.Write(c, []byte("x"), 0, false); n != 0 || e != errno.EINTR {
			t.Errorf("Write = %d, %v; want 0, EINTR", n, e)
		}
	})
}

func TestReadInterrupted(t *testing.T) {
	r, _ := New(1, nil, always)
	c := kfiletest.NewCaller(1)
	done := make(chan result)
	go func() {
		n, e := r.Read(c, make([]byte, 1), 0, false)
		done <- result{n, e}
	}()
	time.Sleep(10 * time.Millisecond)
	c.Interrupt()
	if got := <-done; got != (result{0, errno.EINTR}) {
		t.Errorf("Read = %+v, want EINTR", got)
	}
}

// TestMemoryFallback: when the creator's pipes hold their quota, or the
// kernel cannot grow its heap, the buffer holds only Min.
func TestMemoryFallback(t *testing.T) {
	tests := []struct {
		name    string
		charged int64 // already charged to the creator
		canGrow func(uint64) bool
		want    int
	}{
		{"room", 0, always, Capacity},
		{"uncharged", -1, always, Capacity},
		{"quota reached", Quota, always, Min},
		{"quota nearly reached", Quota - 10, always, Min},
		{"kernel short of memory", 0, never, Min},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var charge atomic.Int64
			chargeOf := &charge
			if tc.charged < 0 {
				chargeOf = nil
			} else {
				charge.Store(tc.charged)
			}
			_, w := New(1, chargeOf, tc.canGrow)
			c := kfiletest.NewCaller(1)
			n, e := w.Write(c, make([]byte, Capacity+1), 0, true)
			if n != tc.want || e != 0 {
				t.Errorf("Write = %d, %v; want %d, 0", n, e, tc.want)
			}
		})
	}
}

// TestPoll: the readiness bits of each end as the pipe fills, empties
// and loses an end.
func TestPoll(t *testing.T) {
	r, w := New(1, nil, always)
	c := kfiletest.NewCaller(1)
	type bits struct{ R, W uint32 }
	poll := func() bits {
		rb, rev := r.Poll()
		wb, wev := w.Poll()
		if rev == nil || rev != wev {
			t.Error("the ends do not share one event")
		}
		return bits{rb, wb}
	}
	var got []bits
	got = append(got, poll())
	w.Write(c, []byte("x"), 0, false)
	got = append(got, poll())
	w.Write(c, make([]byte, Capacity-1), 0, false)
	got = append(got, poll())
	w.Release()
	got = append(got, poll())
	want := []bits{
		{0, linux.EPOLLOUT},
		{linux.EPOLLIN, linux.EPOLLOUT},
		{linux.EPOLLIN, 0},
		{linux.EPOLLIN | linux.EPOLLHUP, 0},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Poll (-want +got):\n%s", diff)
	}
}
