package blockclient

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"valence.dev/drivers/lib/block"
	"valence.dev/drivers/lib/dev"
	"valence.dev/drivers/lib/devtest"
	"valence.dev/ipc"
	"valence.dev/ipc/rpc/memtransport"
)

// disk is a block.Device in memory. Each request completes on its own
// goroutine, so requests overlap; hold, if set, makes them wait.
type disk struct {
	mu       sync.Mutex
	data     []byte
	info     block.Info
	hold     chan struct{}
	inflight int
	peak     int
	flushes  int
	failLBA  map[uint64]bool // reads or writes touching these fail
}

func newDisk(sectorSize uint32, sectors uint64, maxSectors uint32) *disk {
	return &disk{
		data: make([]byte, sectors*uint64(sectorSize)),
		info: block.Info{Model: "fake", SectorSize: sectorSize, Sectors: sectors, MaxSectors: maxSectors},
	}
}

func (d *disk) Info() block.Info { return d.info }
func (d *disk) Close() error     { return nil }

func (d *disk) Submit(r *block.Request) {
	d.mu.Lock()
	d.inflight++
	d.peak = max(d.peak, d.inflight)
	hold := d.hold
	d.mu.Unlock()
	go func() {
		if hold != nil {
			<-hold
		} else {
			time.Sleep(50 * time.Microsecond)
		}
		d.mu.Lock()
		defer d.mu.Unlock()
		d.inflight--
		ss := uint64(d.info.SectorSize)
		n := uint64(r.Count) * ss
		var err error
		for l := r.LBA; l < r.LBA+uint64(r.Count) && r.Op != block.OpFlush; l++ {
			if d.failLBA[l] {
				err = fmt.Errorf("fake: media error at %d", l)
			}
		}
		switch {
		case err != nil:
		case r.Op == block.OpRead:
			copy(r.Buf.Bytes[r.Off:r.Off+n], d.data[r.LBA*ss:])
		case r.Op == block.OpWrite:
			copy(d.data[r.LBA*ss:r.LBA*ss+n], r.Buf.Bytes[r.Off:])
		case r.Op == block.OpFlush:
			d.flushes++
		}
		r.Done(err)
	}()
}

// sharer is DMA memory whose Share hands out a made-up handle, which
// mapBuffer turns back into the buffer: memtransport moves handle values
// as they are, so the test stands in for the kernel's mapping.
type sharer struct {
	*devtest.DMA
	mu     sync.Mutex
	shared map[ipc.Handle]*dev.Buffer
	next   ipc.Handle
}

func (s *sharer) Share(b *dev.Buffer) (ipc.Handle, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.next++
	s.shared[s.next] = b
	return s.next, nil
}

func (s *sharer) mapBuffer(h ipc.Handle, size uint64) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.shared[h]
	if !ok {
		return nil, fmt.Errorf("no memory object %d", h)
	}
	return b.Bytes[:size], nil
}

// rig is a block server over a fake disk, reached through memtransport.
type rig struct {
	disk   *disk
	sharer *sharer
	end    *memtransport.Server
	client block.Client
}

func newRig(t testing.TB, d *disk) *rig {
	t.Helper()
	sh := &sharer{DMA: devtest.NewDMA(), shared: map[ipc.Handle]*dev.Buffer{}}
	c, end := memtransport.New()
	srv := block.NewServer(d, sh).RPC()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() { cancel(); end.Close() })
	for range 16 {
		go srv.Serve(ctx, end)
	}
	return &rig{disk: d, sharer: sh, end: end, client: block.Client{T: c}}
}

func (r *rig) open(t testing.TB, o Options) *Device {
	t.Helper()
	o.Map = r.sharer.mapBuffer
	d, err := Open(context.Background(), r.client, o)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return d
}
