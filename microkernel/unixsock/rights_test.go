package unixsock

import (
	"testing"

	"github.com/google/go-cmp/cmp"
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile"
)

// TestRightsDelivered: a description passed arrives with its bytes, and
// is released exactly once, whether the receiver takes it, a plain read
// drops it, or the receiving socket closes with it queued.
func TestRightsDelivered(t *testing.T) {
	tests := []struct {
		name         string
		receive      func(b *Socket) []*kfile.OpenFile
		wantReceived int
	}{
		{"received", func(b *Socket) []*kfile.OpenFile {
			r, _ := b.Recv(caller(), 10, 0, true)
			return r.Rights
		}, 1},
		{"read without ancillary data", func(b *Socket) []*kfile.OpenFile {
			buf := make([]byte, 10)
			b.Read(caller(), buf, 0, true)
			return nil
		}, 0},
		{"receiver closed", func(b *Socket) []*kfile.OpenFile { b.Release(); return nil }, 0},
		{"peeked, then received", func(b *Socket) []*kfile.OpenFile {
			p, _ := b.Recv(caller(), 10, linux.MSG_PEEK, true)
			p.DropRights()
			r, _ := b.Recv(caller(), 10, 0, true)
			return r.Rights
		}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var o testOwner
			a, b := mustPair(t, newTestDomain(), linux.SOCK_STREAM, o.owner(1, 10))
			f := &countFile{}
			of := kfile.NewOpenFile(f, 0, "")
			if n, e := a.Send(caller(), Message{Data: []byte("fd"), Rights: []*kfile.OpenFile{of}}, nil, 0, true); n != 2 || e != 0 {
				t.Fatalf("Send with a right = %d, %v", n, e)
			}
			if o.inFlight.Load() != 1 {
				t.Errorf("in flight: %d, want 1", o.inFlight.Load())
			}
			got := tc.receive(b)
			if len(got) != tc.wantReceived {
				t.Fatalf("received %d rights, want %d", len(got), tc.wantReceived)
			}
			for _, r := range got {
				if r != of {
					t.Errorf("received another description")
				}
				r.Drop()
			}
			if f.releases.Load() != 1 || o.inFlight.Load() != 0 {
				t.Errorf("releases %d, in flight %d; want 1, 0", f.releases.Load(), o.inFlight.Load())
			}
		})
	}
}

// TestRightsStopStreamRead: a stream read does not run past a message
// with rights into it, nor from it into the next one.
func TestRightsStopStreamRead(t *testing.T) {
	a, b := mustPair(t, newTestDomain(), linux.SOCK_STREAM, Owner{})
	send(t, a, "plain")
	of := kfile.NewOpenFile(&countFile{}, 0, "")
	a.Send(caller(), Message{Data: []byte("with"), Rights: []*kfile.OpenFile{of}}, nil, 0, true)
	send(t, a, "after")
	var got []string
	var rights []int
	for range 3 {
		r, _ := b.Recv(caller(), 100, 0, true)
		got = append(got, string(r.Data))
		rights = append(rights, len(r.Rights))
		r.DropRights()
	}
	if diff := cmp.Diff([]string{"plain", "with", "after"}, got); diff != "" {
		t.Errorf("reads (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]int{0, 1, 0}, rights); diff != "" {
		t.Errorf("rights per read (-want +got):\n%s", diff)
	}
}

func newFiles(n int) []*kfile.OpenFile {
	var ofs []*kfile.OpenFile
	for range n {
		ofs = append(ofs, kfile.NewOpenFile(&countFile{}, 0, ""))
	}
	return ofs
}

// TestRightsBounds: the in-flight limit and the cycle rules refuse with
// ETOOMANYREFS, leaving nothing in flight.
func TestRightsBounds(t *testing.T) {
	tests := []struct {
		name string
		// setup returns the sender and the descriptions it passes.
		setup func(t *testing.T, d *Domain, o Owner) (*Socket, []*kfile.OpenFile)
		want  errno.Errno
	}{
		{"within the limit", func(t *testing.T, d *Domain, o Owner) (*Socket, []*kfile.OpenFile) {
			a, _, _ := d.Pair(linux.SOCK_DGRAM, o)
			return a, newFiles(2)
		}, 0},
		{"past the limit", func(t *testing.T, d *Domain, o Owner) (*Socket, []*kfile.OpenFile) {
			a, _, _ := d.Pair(linux.SOCK_DGRAM, o)
			return a, newFiles(3)
		}, errno.ETOOMANYREFS},
		{"past SCM_MAX_FD", func(t *testing.T, d *Domain, o Owner) (*Socket, []*kfile.OpenFile) {
			a, _, _ := d.Pair(linux.SOCK_DGRAM, o)
			return a, newFiles(linux.SCM_MAX_FD + 1)
		}, errno.EINVAL},
		{"the receiver over itself", func(t *testing.T, d *Domain, o Owner) (*Socket, []*kfile.OpenFile) {
			a, b, _ := d.Pair(linux.SOCK_STREAM, o)
			return a, []*kfile.OpenFile{kfile.NewOpenFile(b, 0, "")}
		}, errno.ETOOMANYREFS},
		{"the sender to its peer", func(t *testing.T, d *Domain, o Owner) (*Socket, []*kfile.OpenFile) {
			a, _, _ := d.Pair(linux.SOCK_STREAM, o)
			return a, []*kfile.OpenFile{kfile.NewOpenFile(a, 0, "")}
		}, 0},
		{"a socket holding a socket", func(t *testing.T, d *Domain, o Owner) (*Socket, []*kfile.OpenFile) {
			a, _, _ := d.Pair(linux.SOCK_STREAM, o)
			x, y, _ := d.Pair(linux.SOCK_STREAM, o)
			p, _, _ := d.Pair(linux.SOCK_STREAM, o)
			if _, e := x.Send(caller(), Message{Data: []byte("x"), Rights: []*kfile.OpenFile{kfile.NewOpenFile(p, 0, "")}}, nil, 0, true); e != 0 {
				t.Fatalf("setup: %v", e)
			}
			return a, []*kfile.OpenFile{kfile.NewOpenFile(y, 0, "")} // y's queue holds p
		}, errno.ETOOMANYREFS},
		{"into a socket in flight", func(t *testing.T, d *Domain, o Owner) (*Socket, []*kfile.OpenFile) {
			a, b, _ := d.Pair(linux.SOCK_STREAM, o)
			x, _, _ := d.Pair(linux.SOCK_STREAM, o)
			if _, e := x.Send(caller(), Message{Data: []byte("x"), Rights: []*kfile.OpenFile{kfile.NewOpenFile(b, 0, "")}}, nil, 0, true); e != 0 {
				t.Fatalf("setup: %v", e)
			}
			p, _, _ := d.Pair(linux.SOCK_STREAM, o)
			return a, []*kfile.OpenFile{kfile.NewOpenFile(p, 0, "")} // b, the receiver, is in flight
		}, errno.ETOOMANYREFS},
		{"a plain file into a socket in flight", func(t *testing.T, d *Domain, o Owner) (*Socket, []*kfile.OpenFile) {
			a, b, _ := d.Pair(linux.SOCK_STREAM, o)
			x, _, _ := d.Pair(linux.SOCK_STREAM, o)
			if _, e := x.Send(caller(), Message{Data: []byte("x"), Rights: []*kfile.OpenFile{kfile.NewOpenFile(b, 0, "")}}, nil, 0, true); e != 0 {
				t.Fatalf("setup: %v", e)
			}
			return a, newFiles(1) // no socket: no cycle
		}, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var o testOwner
			s, ofs := tc.setup(t, newTestDomain(), o.owner(1, 2))
			before := o.inFlight.Load()
			_, e := s.Send(caller(), Message{Data: []byte("r"), Rights: ofs}, nil, 0, true)
			if e != tc.want {
				t.Errorf("Send = %v, want %v", e, tc.want)
			}
			if e != 0 && o.inFlight.Load() != before {
				t.Errorf("a refused send left %d in flight (was %d)", o.inFlight.Load(), before)
			}
		})
	}
}
