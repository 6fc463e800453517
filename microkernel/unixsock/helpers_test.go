package unixsock

import (
	"sync/atomic"
	"testing"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile"
	"valence.dev/microkernel/kfile/kfiletest"
)

// testOwner is a process's counters, as proc's account holds them.
type testOwner struct {
	bytes, inFlight atomic.Int64
}

func (o *testOwner) owner(pid int32, max int64) Owner {
	return Owner{Cred: Cred{PID: pid}, Bytes: &o.bytes, InFlight: &o.inFlight, MaxInFlight: max}
}

func newTestDomain() *Domain {
	var ino atomic.Uint64
	return NewDomain(func() uint64 { return ino.Add(1) }, nil)
}

func mustPair(t *testing.T, d *Domain, typ linux.SockType, o Owner) (*Socket, *Socket) {
	t.Helper()
	a, b, e := d.Pair(typ, o)
	if e != 0 {
		t.Fatalf("Pair(%v) = %v", typ, e)
	}
	return a, b
}

// countFile is a file that counts its releases: a description passed
// in a message must be released exactly once, whatever happens to it.
type countFile struct{ releases atomic.Int32 }

func (f *countFile) Read(kfile.Caller, []byte, int64, bool) (int, errno.Errno)  { return 0, 0 }
func (f *countFile) Write(kfile.Caller, []byte, int64, bool) (int, errno.Errno) { return 0, 0 }
func (f *countFile) Seekable() bool                                             { return false }
func (f *countFile) Stat() linux.Stat                                           { return linux.Stat{} }
func (f *countFile) Poll() (uint32, *kfile.Event)                               { return 0, nil }
func (f *countFile) Release()                                                   { f.releases.Add(1) }

func caller() *kfiletest.Caller { return kfiletest.NewCaller(7) }

// send sends b on s, nonblocking, and fails the test on an error.
func send(t *testing.T, s *Socket, b string) {
	t.Helper()
	if n, e := s.Send(caller(), Message{Data: []byte(b)}, nil, 0, true); e != 0 || n != len(b) {
		t.Fatalf("Send(%q) = %d, %v", b, n, e)
	}
}

// recv reads up to n bytes from s, nonblocking.
func recv(s *Socket, n int, flags uint32) (string, errno.Errno) {
	r, e := s.Recv(caller(), n, flags, true)
	r.DropRights()
	return string(r.Data), e
}
