package sock

import (
	"bytes"
	"context"
	"sync/atomic"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/ipc"
	"valence.dev/ipc/rpc"
	"valence.dev/ipc/rpc/memtransport"
	"valence.dev/microkernel/kfile"
	"valence.dev/microkernel/kfile/kfiletest"
	"valence.dev/servers/net/netd"
	"valence.dev/servers/net/sim"
	"valence.dev/servers/net/sockproto"
)

// rig is a real netd on one stack of a simulated network, served over
// memtransport, and a Net connected to it.
type rig struct {
	net *Net
	end *memtransport.Server
	mem *fakeMemory // nil: the server gives no shared buffers
	// calls counts the calls made to the server (Wait included).
	calls atomic.Int64
	stop  func()
}

// counting is a transport that counts calls.
type counting struct {
	t rpc.Transport
	n *atomic.Int64
}

func (c counting) Call(ctx context.Context, req, rep *ipc.Message) error {
	c.n.Add(1)
	return c.t.Call(ctx, req, rep)
}

// newRig is a rig whose netd gives shared buffers.
func newRig(t *testing.T) *rig { return startRig(t, true) }

func startRig(t testing.TB, buffers bool) *rig {
	t.Helper()
	n := sim.New(sim.Options{Seed: 7})
	d := sim.NewDriver(n)
	r := &rig{}
	opts := netd.Options{}
	if buffers {
		r.mem = &fakeMemory{bufs: map[ipc.Handle][]byte{}}
		opts.Memory = r.mem
	}
	srv := netd.New(d.Loop(n.A), opts)
	ctx, cancel := context.WithCancel(context.Background())
	_, end := memtransport.New()
	r.end = end
	rs := srv.RPC()
	for range 4 {
		go rs.Serve(ctx, end)
	}
	dial := func(kfile.Caller) rpc.Transport { return counting{end.Client(1), &r.calls} }
	var attach Attacher
	if buffers {
		attach = r.mem.attacher(dial)
	}
	r.net = Start(dial, attach)
	r.stop = func() {
		cancel()
		end.Close()
		d.Close()
	}
	t.Cleanup(r.stop)
	return r
}

var loopback = sockproto.Addr{Family: linux.AF_INET, IP: []byte{127, 0, 0, 1}}

func port(a sockproto.Addr, p uint16) sockproto.Addr { a.Port = p; return a }

// TestTCPBlocking: a blocking accept, connect, write and read meet over
// the loopback, with readiness from the poller waking the sleepers.
func TestTCPBlocking(t *testing.T) {
	r := newRig(t)
	c := kfiletest.NewCaller(1)
	l, e := r.net.NewSocket(c, linux.AF_INET, sockStream, 0)
	if e != 0 {
		t.Fatal(e)
	}
	if e := l.Bind(c, port(loopback, 0)); e != 0 {
		t.Fatal(e)
	}
	if e := l.Listen(c, 8); e != 0 {
		t.Fatal(e)
	}
	la, e := l.Name(c, false)
	if e != 0 || la.Port == 0 {
		t.Fatalf("getsockname: %+v %v", la, e)
	}
	accepted := make(chan *Socket, 1)
	go func() {
		s, _, e := l.Accept(kfiletest.NewCaller(2), false)
		if e != 0 {
			t.Error("accept:", e)
		}
		accepted <- s
	}()
	d, e := r.net.NewSocket(c, linux.AF_INET, sockStream, 0)
	if e != 0 {
		t.Fatal(e)
	}
	if e := d.Connect(c, la, false); e != 0 {
		t.Fatalf("blocking connect: %v", e)
	}
	s := <-accepted
	if s == nil {
		t.FailNow()
	}
	msg := bytes.Repeat([]byte("0123456789"), 1000) // more than one inline piece
	if n, e := d.Write(c, msg, 0, false); n != len(msg) || e != 0 {
		t.Fatalf("write: %d %v", n, e)
	}
	var got []byte
	buf := make([]byte, 4096)
	for len(got) < len(msg) {
		n, e := s.Read(c, buf, 0, false)
		if e != 0 || n == 0 {
			t.Fatalf("read after %d bytes: %d %v", len(got), n, e)
		}
		got = append(got, buf[:n]...)
	}
	if !bytes.Equal(got, msg) {
		t.Fatal("the bytes read differ from those written")
	}
	// Non-blocking read of an empty socket: EAGAIN; the peer's close is
	// end of file and EPOLLRDHUP.
	if _, e := s.Read(c, buf, 0, true); e != errno.EAGAIN {
		t.Errorf("non-blocking read of nothing: %v, want EAGAIN", e)
	}
	d.Release()
	if n, e := s.Read(c, buf, 0, false); n != 0 || e != 0 {
		t.Errorf("read after the peer closed: %d %v, want end of file", n, e)
	}
	waitEvents(t, s, linux.EPOLLRDHUP)
	s.Release()
	l.Release()
}

// TestConnectRefused: a non-blocking connect to a closed port says
// EINPROGRESS, then the socket reports EPOLLERR and SO_ERROR gives
// ECONNREFUSED; a blocking one returns ECONNREFUSED.
func TestConnectRefused(t *testing.T) {
	r := newRig(t)
	c := kfiletest.NewCaller(1)
	s, _ := r.net.NewSocket(c, linux.AF_INET, sockStream, 0)
	if e := s.Connect(c, port(loopback, 9), true); e != errno.EINPROGRESS {
		t.Fatalf("non-blocking connect: %v, want EINPROGRESS", e)
	}
	waitEvents(t, s, linux.EPOLLERR)
	v, e := s.GetOpt(c, linux.SOL_SOCKET, linux.SO_ERROR, 4)
	if e != 0 || len(v) != 4 || errno.Errno(v[0]) != errno.ECONNREFUSED {
		t.Errorf("SO_ERROR: %v %v, want ECONNREFUSED", v, e)
	}
	b, _ := r.net.NewSocket(c, linux.AF_INET, sockStream, 0)
	if e := b.Connect(c, port(loopback, 9), false); e != errno.ECONNREFUSED {
		t.Errorf("blocking connect: %v, want ECONNREFUSED", e)
	}
}

// TestUDP: datagrams with their sender, MSG_TRUNC's full length.
func TestUDP(t *testing.T) {
	r := newRig(t)
	c := kfiletest.NewCaller(1)
	a, _ := r.net.NewSocket(c, linux.AF_INET, sockDgram, 0)
	b, _ := r.net.NewSocket(c, linux.AF_INET, sockDgram, 0)
	if e := a.Bind(c, port(loopback, 0)); e != 0 {
		t.Fatal(e)
	}
	aa, _ := a.Name(c, false)
	if n, e := b.SendTo(c, []byte("hello, datagram"), 0, aa, false); n != 15 || e != 0 {
		t.Fatalf("sendto: %d %v", n, e)
	}
	buf := make([]byte, 5)
	n, full, from, e := a.RecvFrom(c, buf, linux.MSG_TRUNC, false)
	if e != 0 || n != 5 || full != 15 || string(buf) != "hello" || from.Port == 0 {
		t.Errorf("recvfrom: %d %d %q from %+v, %v", n, full, buf, from, e)
	}
	// Longer than a message: through a shared buffer, whole.
	long := make([]byte, 60000)
	for i := range long {
		long[i] = byte(i * 7)
	}
	if n, e := b.SendTo(c, long, 0, aa, false); n != len(long) || e != 0 {
		t.Fatalf("sendto of %d bytes: %d %v", len(long), n, e)
	}
	got := make([]byte, 65536)
	n, full, _, e = a.RecvFrom(c, got, 0, false)
	if e != 0 || n != len(long) || full != len(long) || !bytes.Equal(got[:n], long) {
		t.Errorf("recvfrom of a %d-byte datagram: %d (full %d) %v, equal %v", len(long), n, full, e, bytes.Equal(got[:n], long))
	}
	for _, size := range []int{65508, kernelBufferLen + 1} {
		if _, e := b.SendTo(c, make([]byte, size), 0, aa, false); e != errno.EMSGSIZE {
			t.Errorf("a %d-byte datagram: %v, want EMSGSIZE", size, e)
		}
	}
}

// TestInline: with a server that gives no shared buffers, streams move
// in messages and a datagram longer than one is EMSGSIZE.
func TestInline(t *testing.T) {
	r := startRig(t, false)
	c := kfiletest.NewCaller(1)
	a, _ := r.net.NewSocket(c, linux.AF_INET, sockDgram, 0)
	if e := a.Bind(c, port(loopback, 0)); e != 0 {
		t.Fatal(e)
	}
	aa, _ := a.Name(c, false)
	if _, e := a.SendTo(c, make([]byte, sockproto.MaxInline+1), 0, aa, false); e != errno.EMSGSIZE {
		t.Errorf("an over-long datagram: %v, want EMSGSIZE", e)
	}
	sent, got := transfer(t, r, 1<<20)
	if !bytes.Equal(sent, got) {
		t.Error("the bytes read differ from those written")
	}
}

// TestInterrupted: a blocking accept ends with EINTR when the caller is
// interrupted, and the server being gone fails sockets with ECONNRESET,
// ends blocked calls, and makes new sockets ENETDOWN.
func TestServerGone(t *testing.T) {
	r := newRig(t)
	c := kfiletest.NewCaller(1)
	l, _ := r.net.NewSocket(c, linux.AF_INET, sockStream, 0)
	l.Bind(c, port(loopback, 0))
	l.Listen(c, 1)
	intr := kfiletest.NewCaller(2)
	ended := make(chan errno.Errno, 1)
	go func() { _, _, e := l.Accept(intr, false); ended <- e }()
	time.Sleep(10 * time.Millisecond)
	intr.Interrupt()
	if e := <-ended; e != errno.EINTR {
		t.Errorf("interrupted accept: %v, want EINTR", e)
	}
	go func() { _, _, e := l.Accept(c, false); ended <- e }()
	r.end.Close() // netd's endpoint dies
	select {
	case e := <-ended:
		if e != errno.ECONNRESET {
			t.Errorf("accept when netd died: %v, want ECONNRESET", e)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a blocked accept did not end when netd died")
	}
	<-r.net.Stopped()
	if ev, _ := l.Poll(); ev&(linux.EPOLLERR|linux.EPOLLHUP) != linux.EPOLLERR|linux.EPOLLHUP {
		t.Errorf("a dead server's socket polls %#x", ev)
	}
	if _, e := r.net.NewSocket(c, linux.AF_INET, sockStream, 0); e != errno.ENETDOWN {
		t.Errorf("socket after netd died: %v, want ENETDOWN", e)
	}
}

// waitEvents waits until s reports all of want.
func waitEvents(t *testing.T, s *Socket, want uint32) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ev, e := s.Poll()
		if ev&want == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("socket events %#x, want %#x", ev, want)
		}
		select {
		case <-e.Wait():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// TestNotReadyNoCall: a read of an established socket whose last report
// says nothing is there, and an accept of a listener with nothing
// pending, are EAGAIN without a call to the server; data that arrives
// is read as before.
func TestNotReadyNoCall(t *testing.T) {
	r := newRig(t)
	c := kfiletest.NewCaller(1)
	l, _ := r.net.NewSocket(c, linux.AF_INET, sockStream, 0)
	l.Bind(c, port(loopback, 0))
	l.Listen(c, 1)
	la, _ := l.Name(c, false)
	d, _ := r.net.NewSocket(c, linux.AF_INET, sockStream, 0)
	if e := d.Connect(c, la, false); e != 0 {
		t.Fatal(e)
	}
	waitEvents(t, l, linux.EPOLLIN)
	s, _, e := l.Accept(c, true)
	if e != 0 {
		t.Fatal(e)
	}
	waitEvents(t, s, linux.EPOLLOUT)
	waitEvents(t, l, 0)
	time.Sleep(50 * time.Millisecond) // the accept's own change report
	before := r.calls.Load()
	buf := make([]byte, 100)
	for range 10 {
		if _, e := s.Read(c, buf, 0, true); e != errno.EAGAIN {
			t.Fatalf("non-blocking read of nothing: %v, want EAGAIN", e)
		}
		if _, _, e := l.Accept(c, true); e != errno.EAGAIN {
			t.Fatalf("non-blocking accept of nothing: %v, want EAGAIN", e)
		}
	}
	if n := r.calls.Load() - before; n != 0 {
		t.Errorf("%d calls to the server for 20 operations that could not proceed, want 0", n)
	}
	if n, e := d.Write(c, []byte("ping"), 0, false); n != 4 || e != 0 {
		t.Fatalf("write: %d %v", n, e)
	}
	if n, e := s.Read(c, buf, 0, false); n != 4 || e != 0 {
		t.Fatalf("blocking read: %d %v", n, e)
	}
	// What the kernel cannot know, the server answers: accept of a
	// connected socket is EINVAL; after shutdown, a read is end of file.
	if _, _, e := s.Accept(c, true); e != errno.EINVAL {
		t.Errorf("accept of a connected socket: %v, want EINVAL", e)
	}
	if e := s.Shutdown(c, linux.SHUT_RD); e != 0 {
		t.Fatal(e)
	}
	if n, e := s.Read(c, buf, 0, true); n != 0 || e != 0 {
		t.Errorf("read after SHUT_RD: %d %v, want end of file", n, e)
	}
}
