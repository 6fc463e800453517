package pipe

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile/kfiletest"
)

// TestReadToKeepsWhatWasNotTaken: a destination that takes fewer bytes
// than offered (a full non-blocking socket) leaves the rest in the pipe,
// in order.
func TestReadToKeepsWhatWasNotTaken(t *testing.T) {
	r, w := New(1, nil, always)
	c := kfiletest.NewCaller(1)
	w.Write(c, []byte("abcdefgh"), 0, false)
	var got []string
	takes := []int{3, 0, 2, 100}
	for _, take := range takes {
		n, e := r.ReadTo(c, 100, true, func(b []byte) (int, errno.Errno) {
			k := min(take, len(b))
			got = append(got, string(b[:k]))
			if k == 0 {
				return 0, errno.EAGAIN
			}
			return k, 0
		})
		if k := min(take, len("abcdefgh")); n > k || (take == 0 && e != errno.EAGAIN) {
			t.Errorf("ReadTo taking %d = %d, %v", take, n, e)
		}
	}
	if diff := cmp.Diff([]string{"abc", "", "de", "fgh"}, got); diff != "" {
		t.Errorf("taken (-want +got):\n%s", diff)
	}
	if n, e := r.ReadTo(c, 100, true, nil); n != 0 || e != errno.EAGAIN {
		t.Errorf("ReadTo of an empty pipe = %d, %v; want EAGAIN", n, e)
	}
	w.Release()
	if n, e := r.ReadTo(c, 100, false, nil); n != 0 || e != 0 {
		t.Errorf("ReadTo at end of file = %d, %v; want 0, 0", n, e)
	}
}

// TestWriteFromNeverOffersMoreThanRoom: the source is asked for no more
// than the pipe can hold, so what it produced is never dropped.
func TestWriteFromNeverOffersMoreThanRoom(t *testing.T) {
	r, w := New(1, nil, always)
	c := kfiletest.NewCaller(1)
	w.Write(c, make([]byte, Capacity-10), 0, false)
	var offered []int
	src := func(b []byte) (int, errno.Errno) {
		offered = append(offered, len(b))
		for i := range b {
			b[i] = 'x'
		}
		return len(b), 0
	}
	if n, e := w.WriteFrom(c, 1000, true, src); n != 10 || e != 0 {
		t.Errorf("WriteFrom into 10 bytes of room = %d, %v; want 10", n, e)
	}
	if n, e := w.WriteFrom(c, 1000, true, src); n != 0 || e != errno.EAGAIN {
		t.Errorf("WriteFrom into a full pipe = %d, %v; want EAGAIN", n, e)
	}
	if diff := cmp.Diff([]int{10}, offered); diff != "" {
		t.Errorf("offered (-want +got):\n%s", diff)
	}
	r.Release()
	if n, e := w.WriteFrom(c, 1000, true, src); n != 0 || e != errno.EPIPE {
		t.Errorf("WriteFrom with no reader = %d, %v; want EPIPE", n, e)
	}
	if !SamePipe(r, w) || SamePipe(r, nil) {
		t.Error("SamePipe")
	}
}
