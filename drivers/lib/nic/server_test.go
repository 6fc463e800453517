package nic_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/google/go-cmp/cmp"

	"valence.dev/drivers/lib/nic"
	"valence.dev/drivers/lib/nic/nictest"
	"valence.dev/ipc"
	"valence.dev/ipc/rpc"
	"valence.dev/ipc/rpc/memtransport"
)

var bytesEqual = cmp.Comparer(bytes.Equal)

// device is a fake nic.Device: Send records, Receive takes from wire.
type device struct {
	wire chan []byte
	mu   sync.Mutex
	sent [][]byte
}

func (d *device) Info() nic.LinkInfo {
	return nic.LinkInfo{MAC: [6]byte{0x52, 0x54, 0, 0x12, 0x34, 0x56}, MTU: nic.MTU, LinkUp: true}
}

func (d *device) Send(ctx context.Context, f []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.sent = append(d.sent, bytes.Clone(f))
	return nil
}

func (d *device) Sent() [][]byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([][]byte(nil), d.sent...)
}

func (d *device) Receive(ctx context.Context) ([]byte, error) {
	select {
	case f := <-d.wire:
		return f, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

type rig struct {
	k    *nictest.Kernel
	dev  *device
	srv  *nic.Server
	ep   *memtransport.Server
	logs chan string
}

func newRig(t *testing.T, slots uint32) *rig {
	t.Helper()
	r := &rig{k: nictest.New(), dev: &device{wire: make(chan []byte)}, logs: make(chan string, 100)}
	var err error
	r.srv, err = nic.NewServer(r.dev, r.k, nic.Options{Slots: slots, Logf: func(f string, a ...any) { r.logs <- fmt.Sprintf(f, a...) }})
	if err != nil {
		t.Fatal(err)
	}
	_, r.ep = memtransport.New()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { r.srv.RPC().Serve(ctx, r.ep) })
	}
	wg.Go(func() {
		if err := r.srv.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	t.Cleanup(func() {
		r.srv.Close()
		cancel()
		r.ep.Close()
		wg.Wait()
		if h, m := r.k.Live(); h != 0 || m != 0 {
			t.Errorf("%d handles and %d mappings left", h, m)
		}
	})
	return r
}

func (r *rig) dial(t *testing.T, badge uint64) *nic.Conn {
	t.Helper()
	c, err := nic.DialKernel(context.Background(), r.ep.Client(badge), r.k)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	return c
}

func frame(i int) []byte {
	f := make([]byte, nic.MinFrame+i%(nic.MaxFrame-nic.MinFrame+1))
	binary.LittleEndian.PutUint32(f, uint32(i))
	return f
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestServerFrames(t *testing.T) {
	const n = 1000
	r := newRig(t, 16)
	c := r.dial(t, 7)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	info, err := c.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(r.dev.Info(), info); diff != "" {
		t.Errorf("Info (-want +got):\n%s", diff)
	}
	var want [][]byte
	for i := range n {
		want = append(want, frame(i))
		if err := c.SendWait(ctx, frame(i)); err != nil {
			t.Fatalf("Send %d: %v", i, err)
		}
	}
	eventually(t, "frames to reach the device", func() bool { return len(r.dev.Sent()) == n })
	if diff := cmp.Diff(want, r.dev.Sent(), bytesEqual); diff != "" {
		t.Errorf("sent (-want +got):\n%s", diff)
	}
	// The receive ring holds 16 frames and drops beyond: the wire sends
	// a ringful at a time.
	var got [][]byte
	want = want[:0]
	for i := 0; i < n; i += 16 {
		for j := i; j < min(i+16, n); j++ {
			want = append(want, frame(n+j))
			r.dev.wire <- frame(n + j)
		}
		for j := i; j < min(i+16, n); j++ {
			f, err := c.Receive(ctx)
			if err != nil {
				t.Fatalf("Receive %d: %v", j, err)
			}
			got = append(got, f)
		}
	}
	if diff := cmp.Diff(want, got, bytesEqual); diff != "" {
		t.Errorf("received (-want +got):\n%s", diff)
	}
	st, err := c.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(nic.Counters{TxFrames: n, RxFrames: n, Attaches: 1}, st); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}
	if err := c.Close(ctx); err != nil {
		t.Errorf("Close: %v", err)
	}
}

func TestServerReceiveFull(t *testing.T) {
	r := newRig(t, 4)
	c := r.dial(t, 1)
	defer c.Close(context.Background())
	for i := range 10 {
		r.dev.wire <- frame(i)
	}
	eventually(t, "frames to be dropped", func() bool { return r.srv.Counters().RxDropped == 6 })
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	for i := range 5 {
		f, err := c.Receive(ctx)
		if i == 4 {
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("Receive on an empty ring: %v, %v; want a timeout", f, err)
			}
			break
		}
		if err != nil || !bytes.Equal(f, frame(i)) {
			t.Errorf("Receive %d: %x, %v", i, f, err)
		}
	}
}

func TestServerReplace(t *testing.T) {
	r := newRig(t, 8)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	first := r.dial(t, 1)
	second := r.dial(t, 2)
	if _, err := first.Receive(ctx); !errors.Is(err, nic.ErrDetached) {
		t.Errorf("replaced client's Receive: %v, want ErrDetached", err)
	}
	if err := first.Send(frame(1)); !errors.Is(err, nic.ErrDetached) {
		t.Errorf("replaced client's Send: %v, want ErrDetached", err)
	}
	if err := first.Close(ctx); err != nil {
		t.Errorf("closing the replaced client: %v", err)
	}
	r.dev.wire <- frame(5)
	if f, err := second.Receive(ctx); err != nil || !bytes.Equal(f, frame(5)) {
		t.Errorf("second client's Receive: %x, %v", f, err)
	}
	if err := second.Send(frame(6)); err != nil {
		t.Error(err)
	}
	eventually(t, "the frame to be sent", func() bool { return len(r.dev.Sent()) == 1 })
	if _, err := rpc.Call(ctx, r.ep.Client(1), nic.Detach, nic.Empty{}); !errors.Is(err, nic.ErrNotAttached) {
		t.Errorf("Detach from a replaced client: %v, want ErrNotAttached", err)
	}
	if err := second.Close(ctx); err != nil {
		t.Error(err)
	}
	if st := r.srv.Counters(); st.Attaches != 2 || st.Detaches != 0 {
		t.Errorf("counters %+v", st)
	}
}

func TestServerBadAttach(t *testing.T) {
	r := newRig(t, 8)
	ctx := context.Background()
	noSignal, _ := r.k.NotificationHandle(ipc.RightRead | ipc.RightGrant)
	for _, c := range []struct {
		name string
		h    ipc.Handle
	}{
		{"no handle", 0},
		{"memory", r.k.MemoryHandle(4096)},
		{"notification without Signal", noSignal},
		{"unknown handle", 9999},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := rpc.Call(ctx, r.ep.Client(1), nic.Attach, nic.AttachRequest{RxReady: c.h}); !errors.Is(err, nic.ErrBadHandle) {
				t.Errorf("Attach: %v, want ErrBadHandle", err)
			}
		})
	}
}

// word is a header word for sync/atomic, as a client sees it: the driver
// reads the header with atomic loads, so a client (even a hostile one, in
// a test under the race detector) writes it with atomic stores.
func word(mem []byte, off int) *uint32 { return (*uint32)(unsafe.Pointer(&mem[off])) }

func store32(mem []byte, off int, v uint32) { atomic.StoreUint32(word(mem, off), v) }

// TestServerHostileClient attaches by hand and breaks the ring.
func TestServerHostileClient(t *testing.T) {
	const slots = 8
	for _, c := range []struct {
		name    string
		corrupt func(mem []byte)
	}{
		{"bad tx head", func(mem []byte) { store32(mem, nic.OffTxHead, slots+3) }},
		{"bad tx length", func(mem []byte) {
			binary.LittleEndian.PutUint16(mem[nic.HeaderSize:], nic.MaxFrame+1)
			store32(mem, nic.OffTxHead, 1)
		}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRig(t, slots)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			h, rx := r.k.NotificationHandle(ipc.RightsAll)
			rep, err := rpc.Call(ctx, r.ep.Client(3), nic.Attach, nic.AttachRequest{RxReady: h})
			if err != nil {
				t.Fatal(err)
			}
			mem, unmap, err := r.k.Map(rep.Mem)
			if err != nil {
				t.Fatal(err)
			}
			defer unmap()
			tx, err := r.k.Adopt(rep.TxReady)
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Close()
			c.corrupt(mem)
			tx.Signal(nic.ReadyBit)
			if bits := rx.Wait(); bits != nic.ReadyBit {
				t.Errorf("RxReady bits %#x, want %#x", bits, nic.ReadyBit)
			}
			if flags := atomic.LoadUint32(word(mem, nic.OffFlags)); flags&nic.FlagDetached == 0 {
				t.Errorf("flags %#x: not detached", flags)
			}
			// More abuse is ignored, frames from the wire are dropped
			// and the driver logs once.
			tx.Signal(nic.ReadyBit)
			r.dev.wire <- frame(1)
			eventually(t, "the frame to be dropped", func() bool { return r.srv.Counters().RxNoClient == 1 })
			if got := len(r.logs); got != 1 {
				t.Errorf("%d log lines, want 1", got)
			}
			if st := r.srv.Counters(); st.Detaches != 1 || st.TxFrames != 0 {
				t.Errorf("counters %+v", st)
			}
			// The driver still serves: a new client attaches and works.
			c2 := r.dial(t, 4)
			r.dev.wire <- frame(2)
			if f, err := c2.Receive(ctx); err != nil || !bytes.Equal(f, frame(2)) {
				t.Errorf("new client's Receive: %x, %v", f, err)
			}
			if err := c2.Close(ctx); err != nil {
				t.Error(err)
			}
			r.k.Close(h)
		})
	}
}

// TestDriverGone: a client waiting for frames learns within a few
// probe intervals that its driver died (the endpoint is gone), rather
// than waiting for ever on a notification nobody will signal.
func TestDriverGone(t *testing.T) {
	r := newRig(t, 8)
	c := r.dial(t, 1)
	got := make(chan error, 1)
	go func() {
		_, err := c.Receive(context.Background())
		got <- err
	}()
	time.Sleep(50 * time.Millisecond)
	r.ep.Close()
	select {
	case err := <-got:
		if err == nil {
			t.Error("Receive returned a frame after the driver died")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Receive still waits 20 s after the driver died")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	c.Close(ctx) // the Detach fails: the driver is gone; the rings are released
}
