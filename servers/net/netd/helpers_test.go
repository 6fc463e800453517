package netd

import (
	"context"
	"errors"
	"net/netip"
	"sync"
	"syscall"
	"testing"
	"time"

	"valence.dev/ipc"
	"valence.dev/ipc/rpc"
	"valence.dev/ipc/rpc/memtransport"
	"valence.dev/servers/net/sim"
	"valence.dev/servers/net/sockproto"
)

// fakeMemory is shared memory for tests: the handle is a number the
// test turns back into the bytes (memtransport moves handle values as
// they are).
type fakeMemory struct {
	mu   sync.Mutex
	bufs map[ipc.Handle]*Shared
	next ipc.Handle
}

func (m *fakeMemory) Alloc(size uint64) (*Shared, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.next++
	b := &Shared{Bytes: make([]byte, size), Handle: m.next}
	m.bufs[b.Handle] = b
	return b, nil
}

func (m *fakeMemory) Free(b *Shared) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.bufs, b.Handle)
}

func (m *fakeMemory) bytes(h ipc.Handle) []byte {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.bufs[h].Bytes
}

// rig is netd on both stacks of a simulated network, served over
// memtransport.
type rig struct {
	n      *sim.Network
	d      *sim.Driver
	a, b   *Server
	mem    *fakeMemory
	ea, eb *memtransport.Server
	ca, cb sockproto.Client // badge 1 on A and on B
}

func newRig(t testing.TB, o Options) *rig {
	t.Helper()
	n := sim.New(sim.Options{Seed: 1})
	d := sim.NewDriver(n)
	mem := &fakeMemory{bufs: map[ipc.Handle]*Shared{}}
	if o.Memory == nil {
		o.Memory = mem
	}
	r := &rig{n: n, d: d, mem: mem}
	r.a = New(d.Loop(n.A), o)
	r.b = New(d.Loop(n.B), o)
	ctx, cancel := context.WithCancel(context.Background())
	serve := func(s *Server) *memtransport.Server {
		_, end := memtransport.New()
		rs := s.RPC()
		for range 4 {
			go rs.Serve(ctx, end)
		}
		return end
	}
	r.ea, r.eb = serve(r.a), serve(r.b)
	r.ca, r.cb = sockproto.Client{T: r.ea.Client(1)}, sockproto.Client{T: r.eb.Client(1)}
	t.Cleanup(func() {
		cancel()
		r.ea.Close()
		r.eb.Close()
		d.Close()
	})
	return r
}

// onA returns a client of A's netd with another badge.
func (r *rig) onA(badge uint64) sockproto.Client { return sockproto.Client{T: r.ea.Client(badge)} }

var ctx = context.Background()

// code is the errno of err, 0 for nil, -1 for an error that is not an
// rpc.Error.
func code(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	var re *rpc.Error
	if errors.As(err, &re) {
		return syscall.Errno(re.Code)
	}
	return ^syscall.Errno(0)
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func inet(ip netip.Addr, port uint16) sockproto.Addr {
	return protoAddr(netip.AddrPortFrom(ip, port))
}

var any4 = netip.IPv4Unspecified()

// socket makes a socket or fails the test.
func newSock(t testing.TB, c sockproto.Client, typ, proto uint16) uint32 {
	t.Helper()
	so, err := c.Socket(ctx, uint16(sockproto.AF_INET), typ, proto)
	must(t, err)
	return so
}

func tcpSocket(t testing.TB, c sockproto.Client) uint32 {
	return newSock(t, c, uint16(sockproto.SOCK_STREAM), 0)
}

func udpSocket(t testing.TB, c sockproto.Client) uint32 {
	return newSock(t, c, uint16(sockproto.SOCK_DGRAM), 0)
}

// waiter follows one client's readiness through Wait, as the kernel
// would: the latest events of every socket.
type waiter struct {
	c   sockproto.Client
	seq uint64
	ev  map[uint32]uint32
}

// until waits (up to a few seconds of real time) for sock to report any
// of mask, and returns its events.
func (w *waiter) until(t testing.TB, sock uint32, mask uint32) uint32 {
	t.Helper()
	if w.ev == nil {
		w.ev = make(map[uint32]uint32)
	}
	if ev := w.ev[sock]; ev&mask != 0 {
		delete(w.ev, sock) // taken: the next until waits for news
		return ev
	}
	deadline := time.Now().Add(5 * time.Second)
	var last uint32
	for time.Now().Before(deadline) {
		cctx, cancel := context.WithDeadline(ctx, deadline)
		rep, err := w.c.Wait(cctx, w.seq)
		cancel()
		if err != nil {
			break
		}
		w.seq = rep.Seq
		for _, r := range rep.Ready {
			w.ev[r.Sock] = r.Events
		}
		if ev, ok := w.ev[sock]; ok {
			last = ev
			if ev&mask != 0 {
				delete(w.ev, sock)
				return ev
			}
		}
	}
	t.Fatalf("socket %d: no events %#x; last %#x", sock, mask, last)
	return 0
}

// connectTCP connects a new socket of ca to listener port on B's
// address, and accepts it on lis with cb: the two socket numbers.
func (r *rig) connectTCP(t testing.TB, wa, wb *waiter, lis uint32, port uint16) (client, server uint32) {
	t.Helper()
	client = tcpSocket(t, wa.c)
	if err := wa.c.Connect(ctx, client, inet(sim.AddrB, port)); code(err) != syscall.EINPROGRESS {
		t.Fatalf("connect: %v, want EINPROGRESS", err)
	}
	wa.until(t, client, sockproto.EPOLLOUT)
	v, err := wa.c.GetOpt(ctx, client, 1, 4, 4) // SOL_SOCKET, SO_ERROR
	if err != nil || len(v) != 4 || v[0] != 0 {
		t.Fatalf("SO_ERROR after connect: %v, %v; want 0", v, err)
	}
	wb.until(t, lis, sockproto.EPOLLIN)
	rep, err := wb.c.Accept(ctx, lis)
	must(t, err)
	return client, rep.Sock
}

// listen makes a listening socket on port of c's stack.
func listen(t testing.TB, c sockproto.Client, port uint16) uint32 {
	t.Helper()
	l := tcpSocket(t, c)
	must(t, c.SetOpt(ctx, l, 1, 2, []byte{1, 0, 0, 0})) // SO_REUSEADDR
	must(t, c.Bind(ctx, l, inet(any4, port)))
	must(t, c.Listen(ctx, l, 16))
	return l
}

func (m *fakeMemory) count() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.bufs)
}
