package sock

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/ipc"
	"valence.dev/microkernel/kfile"
	"valence.dev/microkernel/kfile/kfiletest"
	"valence.dev/servers/net/netd"
	"valence.dev/servers/net/sockproto"
)

// fakeMemory is netd's shared memory for hosted tests: the handle is a
// number that names the bytes (memtransport moves handle values as they
// are), which the test's Attacher turns back into the bytes, as proc
// does with a memory object's frames.
type fakeMemory struct {
	mu       sync.Mutex
	bufs     map[ipc.Handle][]byte
	next     ipc.Handle
	attached int
	released int
}

func (m *fakeMemory) Alloc(size uint64) (*netd.Shared, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.next++
	b := make([]byte, size)
	m.bufs[m.next] = b
	return &netd.Shared{Bytes: b, Handle: m.next}, nil
}

func (m *fakeMemory) Free(b *netd.Shared) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.bufs, b.Handle)
}

// counts returns how many buffers the kernel side attached and released.
func (m *fakeMemory) counts() (attached, released int) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.attached, m.released
}

// attacher is the Attacher over dial.
func (m *fakeMemory) attacher(dial Dialer) Attacher {
	return func(c kfile.Caller, size uint64) (Buffer, errno.Errno) {
		rep, err := sockproto.Client{T: dial(c)}.Attach(context.Background(), size)
		if err != nil {
			return nil, errnoOf(err)
		}
		m.mu.Lock()
		defer m.mu.Unlock()
		b := m.bufs[rep.Mem]
		if uint64(len(b)) < size {
			return nil, errno.EIO
		}
		m.attached++
		return &fakeBuffer{m: m, id: rep.ID, b: b}, 0
	}
}

type fakeBuffer struct {
	m    *fakeMemory
	id   uint32
	b    []byte
	gone bool
}

func (b *fakeBuffer) ID() uint32                     { return b.id }
func (b *fakeBuffer) CopyIn(off uint64, src []byte)  { copy(b.b[off:], src) }
func (b *fakeBuffer) CopyOut(off uint64, dst []byte) { copy(dst, b.b[off:]) }
func (b *fakeBuffer) Release() {
	b.m.mu.Lock()
	defer b.m.mu.Unlock()
	if b.gone {
		panic("buffer released twice")
	}
	b.gone = true
	b.m.released++
}

// transfer connects two sockets over the loopback and sends size
// patterned bytes from one to the other with blocking 64 KiB writes and
// reads; it returns what was sent and what arrived.
func transfer(t testing.TB, r *rig, size int) (sent, got []byte) {
	t.Helper()
	c := kfiletest.NewCaller(1)
	l, _ := r.net.NewSocket(c, linux.AF_INET, sockStream, 0)
	l.Bind(c, port(loopback, 0))
	l.Listen(c, 1)
	la, _ := l.Name(c, false)
	accepted := make(chan *Socket, 1)
	go func() {
		s, _, _ := l.Accept(kfiletest.NewCaller(2), false)
		accepted <- s
	}()
	d, _ := r.net.NewSocket(c, linux.AF_INET, sockStream, 0)
	if e := d.Connect(c, la, false); e != 0 {
		t.Fatalf("connect: %v", e)
	}
	s := <-accepted
	if s == nil {
		t.Fatal("accept failed")
	}
	sent = make([]byte, size)
	for i := range sent {
		sent[i] = byte(i*7 + i/251)
	}
	go func() {
		for off := 0; off < size; {
			n, e := d.Write(c, sent[off:min(size, off+64<<10)], 0, false)
			if e != 0 {
				t.Errorf("write at %d: %v", off, e)
				return
			}
			off += n
		}
		d.Shutdown(c, linux.SHUT_WR)
	}()
	b := make([]byte, 64<<10)
	rc := kfiletest.NewCaller(2)
	for {
		n, e := s.Read(rc, b, 0, false)
		if e != 0 {
			t.Fatalf("read after %d bytes: %v", len(got), e)
		}
		if n == 0 {
			break
		}
		got = append(got, b[:n]...)
	}
	d.Release()
	s.Release()
	l.Release()
	return sent, got
}

// TestBuffers: bulk data goes through shared buffers, byte-exact, with
// no more buffers than the limit; the server's death releases every one,
// including a buffer in use at the time.
func TestBuffers(t *testing.T) {
	r := newRig(t)
	sent, got := transfer(t, r, 8<<20)
	if !bytes.Equal(sent, got) {
		t.Fatalf("received %d bytes that differ from the %d sent", len(got), len(sent))
	}
	attached, released := r.mem.counts()
	if attached == 0 || attached > kernelBuffers || released != 0 {
		t.Errorf("%d buffers attached, %d released; want 1 to %d and none", attached, released, kernelBuffers)
	}
	r.end.Close()
	<-r.net.Stopped()
	deadline := time.Now().Add(10 * time.Second)
	for {
		a, rel := r.mem.counts()
		if a == rel {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the server died: %d buffers attached, %d released", a, rel)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// BenchmarkLoopbackTCP is the kernel's socket path over a real netd and
// stack (on the host, over memtransport): bytes per second through one
// loopback connection.
func BenchmarkLoopbackTCP(b *testing.B) {
	for _, buffers := range []bool{false, true} {
		name := "inline"
		if buffers {
			name = "buffers"
		}
		b.Run(name, func(b *testing.B) {
			r := startRig(b, buffers)
			const size = 4 << 20
			b.SetBytes(size)
			for range b.N {
				transfer(b, r, size)
			}
		})
	}
}
