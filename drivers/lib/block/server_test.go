package block

import (
	"context"
	"errors"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"valence.dev/drivers/lib/dev"
	"valence.dev/drivers/lib/devtest"
	"valence.dev/ipc"
	"valence.dev/ipc/rpc/memtransport"
)

// memDisk is a Device over memory that completes each request on its own
// goroutine after a delay, so requests overlap.
type memDisk struct {
	mu     sync.Mutex
	data   []byte
	info   Info
	delay  time.Duration
	gate   chan struct{} // if set, requests wait for it to close
	active int
	peak   int
}

func newMemDisk(sectors uint64) *memDisk {
	return &memDisk{data: make([]byte, sectors*512), info: Info{Model: "mem", SectorSize: 512, Sectors: sectors, MaxSectors: 256}, delay: time.Millisecond}
}

func (d *memDisk) Info() Info   { return d.info }
func (d *memDisk) Close() error { return nil }
func (d *memDisk) Submit(r *Request) {
	d.mu.Lock()
	d.active++
	if d.active > d.peak {
		d.peak = d.active
	}
	d.mu.Unlock()
	go func() {
		time.Sleep(d.delay)
		if d.gate != nil {
			<-d.gate
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		d.active--
		n := uint64(r.Count) * 512
		disk := d.data[r.LBA*512:]
		switch r.Op {
		case OpRead:
			copy(r.Buf.Bytes[r.Off:r.Off+n], disk[:n])
		case OpWrite:
			copy(disk[:n], r.Buf.Bytes[r.Off:r.Off+n])
		}
		go r.Done(nil)
	}()
}

// sharer is devtest DMA whose Share keeps the buffer for the test to use
// (memtransport carries no real handles).
type sharer struct {
	*devtest.DMA
	mu     sync.Mutex
	shared []*dev.Buffer
}

func (s *sharer) Share(b *dev.Buffer) (ipc.Handle, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shared = append(s.shared, b)
	return 0, nil
}

func setup(t *testing.T, sectors uint64) (*memDisk, *sharer, Client, *memtransport.Server) {
	t.Helper()
	d := newMemDisk(sectors)
	sh := &sharer{DMA: devtest.NewDMA()}
	c, st := memtransport.New()
	srv := NewServer(d, sh).RPC()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	for i := 0; i < 8; i++ {
		go srv.Serve(ctx, st)
	}
	return d, sh, Client{T: c}, st
}

func TestServerRoundTrip(t *testing.T) {
	d, sh, c, _ := setup(t, 1024)
	ctx := context.Background()
	info, err := c.Identify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(d.info, info); diff != "" {
		t.Errorf("Identify (-want +got)\n%s", diff)
	}
	a, err := c.Attach(ctx, 64<<10)
	if err != nil {
		t.Fatal(err)
	}
	buf := sh.shared[0].Bytes
	for i := range buf {
		buf[i] = byte(i * 7)
	}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ { // eight requests in flight
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			if err := c.Write(ctx, a.ID, uint64(i)*8192, uint64(i)*16, 16); err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	if d.peak < 2 {
		t.Errorf("at most %d requests were in flight", d.peak)
	}
	want := append([]byte(nil), buf...)
	clear(buf)
	if err := c.Read(ctx, a.ID, 0, 0, 128); err != nil {
		t.Fatal(err)
	}
	if !cmp.Equal(want, buf) {
		t.Error("the data read back differs from what was written")
	}
	if err := c.Flush(ctx); err != nil {
		t.Error(err)
	}
}

func TestServerRefuses(t *testing.T) {
	_, sh, c, st := setup(t, 1024)
	ctx := context.Background()
	a, err := c.Attach(ctx, 8192)
	if err != nil {
		t.Fatal(err)
	}
	other := Client{T: st.Client(7)} // another peer
	tests := []struct {
		name string
		call func() error
		want syscall.Errno
	}{
		{"past the end", func() error { return c.Read(ctx, a.ID, 0, 1020, 8) }, syscall.ERANGE},
		{"lba past the end", func() error { return c.Read(ctx, a.ID, 0, 1<<40, 1) }, syscall.ERANGE},
		{"wrapping lba", func() error { return c.Read(ctx, a.ID, 0, ^uint64(0), 2) }, syscall.ERANGE},
		{"no blocks", func() error { return c.Read(ctx, a.ID, 0, 0, 0) }, syscall.ERANGE},
		{"more than MaxSectors", func() error { return c.Read(ctx, a.ID, 0, 0, 257) }, syscall.ERANGE},
		{"outside the buffer", func() error { return c.Read(ctx, a.ID, 4096, 0, 9) }, syscall.EFAULT},
		{"huge offset", func() error { return c.Read(ctx, a.ID, ^uint64(0), 0, 1) }, syscall.EFAULT},
		{"unknown buffer", func() error { return c.Write(ctx, 999, 0, 0, 1) }, syscall.EFAULT},
		{"another peer's buffer", func() error { return other.Write(ctx, a.ID, 0, 0, 1) }, syscall.EFAULT},
		{"buffer of 0 bytes", func() error { _, err := c.Attach(ctx, 0); return err }, syscall.EFAULT},
		{"buffer too big", func() error { _, err := c.Attach(ctx, MaxBuffer+1); return err }, syscall.EFAULT},
		{"detach unknown", func() error { return c.Detach(ctx, 999) }, syscall.EFAULT},
	}
	for _, tt := range tests {
		if err := tt.call(); !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
	}
	for i := 1; i < MaxBuffersPerPeer; i++ {
		if _, err := c.Attach(ctx, 4096); err != nil {
			t.Fatalf("buffer %d: %v", i+1, err)
		}
	}
	if _, err := c.Attach(ctx, 4096); !errors.Is(err, syscall.ENOSPC) {
		t.Errorf("buffer %d: %v, want ENOSPC", MaxBuffersPerPeer+1, err)
	}
	if err := c.Detach(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Attach(ctx, 4096); err != nil {
		t.Errorf("a buffer after one was detached: %v", err)
	}
	if n := sh.Outstanding(); n != MaxBuffersPerPeer {
		t.Errorf("%d buffers allocated, want %d", n, MaxBuffersPerPeer)
	}
}

// TestDetachInFlight: a buffer detached while requests use it is freed only
// when they are done, so the device never writes into freed memory.
func TestDetachInFlight(t *testing.T) {
	d, sh, c, _ := setup(t, 1024)
	d.gate = make(chan struct{})
	ctx := context.Background()
	a, err := c.Attach(ctx, 8192)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() { done <- c.Read(ctx, a.ID, 0, 0, 16) }()
	for { // until the read is at the device
		d.mu.Lock()
		n := d.active
		d.mu.Unlock()
		if n == 1 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	if err := c.Detach(ctx, a.ID); err != nil {
		t.Fatal(err)
	}
	if n := sh.Outstanding(); n != 1 {
		t.Errorf("the buffer was freed with a request in flight (%d outstanding)", n)
	}
	close(d.gate)
	if err := <-done; err != nil {
		t.Errorf("the read in flight: %v", err)
	}
	if n := sh.Outstanding(); n != 0 {
		t.Errorf("%d buffers left after the last request", n)
	}
}
