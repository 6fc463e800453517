package blk

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"valence.dev/drivers/lib/block"
	"valence.dev/drivers/lib/dev"
	"valence.dev/drivers/lib/virtio"
	"valence.dev/drivers/lib/virtio/virtiotest"
)

const serial = "VALENCE-DISK-0001"

type geometry struct {
	capacity                 uint64 // 512-byte sectors
	sizeMax, segMax, blkSize uint32
	features                 uint64
	msix                     int
	qsize                    uint16
}

var defaultFeatures uint64 = virtio.FeatureVersion1 | FeatureSizeMax | FeatureSegMax | FeatureBlkSize | FeatureFlush

type rig struct {
	dev  *virtiotest.Device
	disk *virtiotest.Disk
	d    *Disk
}

func open(t *testing.T, g geometry) (*rig, error) {
	t.Helper()
	if g.qsize == 0 {
		g.qsize = 256
	}
	disk := &virtiotest.Disk{Data: make([]byte, g.capacity*512), Serial: serial}
	if g.features&FeatureSegMax != 0 {
		disk.SegMax = g.segMax
	}
	if g.features&FeatureSizeMax != 0 {
		disk.SizeMax = g.sizeMax
	}
	disk.ReadOnly = g.features&FeatureRO != 0
	vd := virtiotest.New(virtiotest.Options{
		Features: g.features, QueueSizes: []uint16{g.qsize}, MSIXVectors: g.msix, NotifyMultiplier: 4,
		Config: virtiotest.BlkConfig(g.capacity, g.sizeMax, g.segMax, g.blkSize), Backend: disk,
	})
	t.Cleanup(vd.Close)
	tr, err := vd.Transport()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	d, err := Open(ctx, tr, vd.DMA, vd.Interrupts())
	r := &rig{dev: vd, disk: disk, d: d}
	if err == nil {
		t.Cleanup(func() { r.close(t) })
	}
	return r, err
}

func (r *rig) close(t *testing.T) {
	t.Helper()
	if err := r.d.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	if v := r.dev.Violations(); len(v) > 0 {
		t.Errorf("device saw spec violations:\n%s", strings.Join(v, "\n"))
	}
}

// batch submits requests and collects their results.
type batch struct {
	wg   sync.WaitGroup
	mu   sync.Mutex
	errs map[int]error
	hits map[int]int
}

func newBatch() *batch { return &batch{errs: map[int]error{}, hits: map[int]int{}} }

func (b *batch) submit(d *Disk, i int, r *block.Request) {
	b.wg.Add(1)
	r.Done = func(err error) {
		b.mu.Lock()
		b.errs[i] = err
		b.hits[i]++
		b.mu.Unlock()
		b.wg.Done()
	}
	d.Submit(r)
}

func (b *batch) wait(t *testing.T) map[int]error {
	t.Helper()
	ch := make(chan struct{})
	go func() { b.wg.Wait(); close(ch) }()
	select {
	case <-ch:
	case <-time.After(20 * time.Second):
		t.Fatal("requests never completed")
	}
	for i, n := range b.hits {
		if n != 1 {
			t.Errorf("request %d completed %d times", i, n)
		}
	}
	return b.errs
}

func alloc(t *testing.T, dma dev.DMA, n uint64) *dev.Buffer {
	b, err := dma.Alloc(n, 4096)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestInfo(t *testing.T) {
	for _, c := range []struct {
		name string
		g    geometry
		want block.Info
	}{
		{"512-byte blocks, no limits", geometry{capacity: 2048, features: virtio.FeatureVersion1},
			block.Info{Model: "virtio-blk", Serial: serial, SectorSize: 512, Sectors: 2048, MaxSectors: 2048}},
		{"4 KiB blocks", geometry{capacity: 2048 + 7, blkSize: 4096, features: virtio.FeatureVersion1 | FeatureBlkSize},
			block.Info{Model: "virtio-blk", Serial: serial, SectorSize: 4096, Sectors: 256, MaxSectors: 256}},
		{"size_max and seg_max", geometry{capacity: 4096, blkSize: 512, sizeMax: 4096, segMax: 4, features: defaultFeatures, msix: 2},
			block.Info{Model: "virtio-blk", Serial: serial, SectorSize: 512, Sectors: 4096, MaxSectors: 32}},
		{"queue bounds segments", geometry{capacity: 4096, blkSize: 512, sizeMax: 512, segMax: 1000, qsize: 8, features: defaultFeatures},
			block.Info{Model: "virtio-blk", Serial: serial, SectorSize: 512, Sectors: 4096, MaxSectors: 6}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := open(t, c.g)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.want, r.d.Info()); diff != "" {
				t.Errorf("Info (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOpenRefused(t *testing.T) {
	for _, c := range []struct {
		name string
		g    geometry
		want error
	}{
		{"no VERSION_1", geometry{capacity: 8, features: FeatureFlush}, virtio.ErrNoVersion1},
		{"blk_size not a power of 2", geometry{capacity: 8, blkSize: 1000, features: defaultFeatures, sizeMax: 4096, segMax: 8}, virtio.ErrDevice},
		{"blk_size 0", geometry{capacity: 8, features: defaultFeatures, sizeMax: 4096, segMax: 8}, virtio.ErrDevice},
		{"size_max below a block", geometry{capacity: 8, blkSize: 512, sizeMax: 100, segMax: 8, features: defaultFeatures}, virtio.ErrDevice},
		{"seg_max 0", geometry{capacity: 8, blkSize: 512, sizeMax: 4096, features: defaultFeatures}, virtio.ErrDevice},
		{"queue size 0", geometry{capacity: 8, features: virtio.FeatureVersion1, qsize: 1}, virtio.ErrDevice},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := open(t, c.g)
			if !errors.Is(err, c.want) {
				t.Fatalf("Open = %v, want %v", err, c.want)
			}
			if r.dev.Status()&virtio.StatusFailed == 0 {
				t.Errorf("status %#x, want FAILED", r.dev.Status())
			}
			if n := r.dev.DMA.Outstanding(); n != 0 {
				t.Errorf("%d DMA buffers outstanding after a failed Open", n)
			}
		})
	}
}

func pattern(i, n int) []byte {
	b := make([]byte, n)
	for j := range b {
		b[j] = byte(i*131 + j*7 + j>>9)
	}
	return b
}

// TestPatterns writes distinct patterns with many requests in flight (the
// device paused while they are submitted), flushes, reads them back the
// same way, and compares both the buffers and the disk.
func TestPatterns(t *testing.T) {
	for _, c := range []struct {
		name   string
		g      geometry
		blocks uint32 // per request
		reqs   int
		// inFlight is how many requests must have been in flight at
		// once: all of them, or as many as the queue holds.
		inFlight int
	}{
		{"512 B blocks, 2 segments each, intx", geometry{capacity: 8192, blkSize: 512, sizeMax: 4096, segMax: 8, features: defaultFeatures}, 16, 64, 64},
		{"4 KiB blocks, msix 2", geometry{capacity: 8192, blkSize: 4096, sizeMax: 65536, segMax: 16, features: defaultFeatures, msix: 2}, 2, 48, 48},
		{"more requests than the queue holds", geometry{capacity: 8192, blkSize: 512, sizeMax: 512, segMax: 4, qsize: 32, features: defaultFeatures}, 4, 200, 5},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := open(t, c.g)
			if err != nil {
				t.Fatal(err)
			}
			ss := int(r.d.Info().SectorSize)
			n := int(c.blocks) * ss
			lba := func(i int) uint64 { return uint64((i*7919)%c.reqs) * uint64(c.blocks) }
			want := make([]byte, len(r.disk.Contents()))
			wbuf := alloc(t, r.dev.DMA, uint64(c.reqs*n))
			rbuf := alloc(t, r.dev.DMA, uint64(c.reqs*n))
			for _, op := range []block.Op{block.OpWrite, block.OpFlush, block.OpRead} {
				r.dev.Pause()
				b := newBatch()
				for i := range c.reqs {
					req := &block.Request{Op: op, LBA: lba(i), Count: c.blocks, Buf: wbuf, Off: uint64(i * n)}
					switch op {
					case block.OpWrite:
						p := pattern(i, n)
						copy(wbuf.Bytes[i*n:], p)
						copy(want[int(lba(i))*ss:], p)
					case block.OpRead:
						req.Buf = rbuf
					case block.OpFlush:
						if i > 0 {
							continue
						}
					}
					b.submit(r.d, i, req)
				}
				r.dev.Resume()
				for i, err := range b.wait(t) {
					if err != nil {
						t.Errorf("%v %d: %v", op, i, err)
					}
				}
			}
			if got := r.dev.MaxOutstanding(0); got < c.inFlight {
				t.Errorf("at most %d requests were in flight at once, want at least %d", got, c.inFlight)
			}
			if !bytes.Equal(wbuf.Bytes[:c.reqs*n], rbuf.Bytes[:c.reqs*n]) {
				t.Error("data read back differs from data written")
			}
			if !bytes.Equal(want, r.disk.Contents()) {
				t.Error("disk contents differ from what was written")
			}
			if r.disk.Flushes() != 1 {
				t.Errorf("%d flushes reached the device, want 1", r.disk.Flushes())
			}
		})
	}
}

// TestChecks: requests a correct driver refuses before the device sees
// them.
func TestChecks(t *testing.T) {
	r, err := open(t, geometry{capacity: 64, blkSize: 512, sizeMax: 4096, segMax: 2, features: defaultFeatures})
	if err != nil {
		t.Fatal(err)
	}
	buf := alloc(t, r.dev.DMA, 4096)
	for _, c := range []struct {
		name string
		req  block.Request
		want error
	}{
		{"no blocks", block.Request{Op: block.OpRead, LBA: 0, Count: 0, Buf: buf}, ErrInvalid},
		{"past the end", block.Request{Op: block.OpRead, LBA: 60, Count: 8, Buf: buf}, ErrInvalid},
		{"LBA overflow", block.Request{Op: block.OpWrite, LBA: ^uint64(0), Count: 2, Buf: buf}, ErrInvalid},
		{"more than MaxSectors", block.Request{Op: block.OpRead, Count: 17, Buf: buf}, ErrInvalid},
		{"buffer overrun", block.Request{Op: block.OpRead, Count: 8, Buf: buf, Off: 1}, ErrInvalid},
		{"offset overflow", block.Request{Op: block.OpRead, Count: 1, Buf: buf, Off: ^uint64(0)}, ErrInvalid},
		{"no buffer", block.Request{Op: block.OpRead, Count: 1}, ErrInvalid},
		{"unknown op", block.Request{Op: 99, Count: 1, Buf: buf}, ErrInvalid},
	} {
		var got error
		calls := 0
		c.req.Done = func(err error) { got = err; calls++ }
		r.d.Submit(&c.req)
		if calls != 1 || !errors.Is(got, c.want) {
			t.Errorf("%s: Done called %d times with %v, want once with %v", c.name, calls, got, c.want)
		}
	}
}

func TestReadOnlyAndIOError(t *testing.T) {
	r, err := open(t, geometry{capacity: 64, features: defaultFeatures | FeatureRO, blkSize: 512, sizeMax: 4096, segMax: 8})
	if err != nil {
		t.Fatal(err)
	}
	r.disk.BadSectors = map[uint64]bool{5: true} // before any I/O: the backend reads it under the device lock
	buf := alloc(t, r.dev.DMA, 4096)
	b := newBatch()
	b.submit(r.d, 0, &block.Request{Op: block.OpWrite, LBA: 0, Count: 1, Buf: buf})
	b.submit(r.d, 1, &block.Request{Op: block.OpRead, LBA: 4, Count: 2, Buf: buf})
	b.submit(r.d, 2, &block.Request{Op: block.OpRead, LBA: 6, Count: 2, Buf: buf})
	got := b.wait(t)
	if !errors.Is(got[0], ErrReadOnly) || !errors.Is(got[1], ErrIO) || got[2] != nil {
		t.Errorf("results %v, want read-only, I/O error, success", got)
	}
}

func TestFlushWithoutFeature(t *testing.T) {
	r, err := open(t, geometry{capacity: 64, features: virtio.FeatureVersion1})
	if err != nil {
		t.Fatal(err)
	}
	b := newBatch()
	b.submit(r.d, 0, &block.Request{Op: block.OpFlush})
	if err := b.wait(t)[0]; err != nil || r.disk.Flushes() != 0 {
		t.Errorf("flush = %v with %d device flushes, want nil and 0", err, r.disk.Flushes())
	}
}

// TestDeviceFaults: each misbehaviour fails every request in flight with a
// clear error, exactly once, and later requests too.
func TestDeviceFaults(t *testing.T) {
	for _, c := range []struct {
		name   string
		inject func(*virtiotest.Device)
		want   error
		msg    string
	}{
		{"needs reset", func(d *virtiotest.Device) { d.NeedsReset() }, virtio.ErrNeedsReset, "needs reset"},
		{"used id out of range", func(d *virtiotest.Device) { d.Inject(virtiotest.FaultUsedIDOutOfRange) }, virtio.ErrDevice, "out of range"},
		{"used id not in flight", func(d *virtiotest.Device) { d.Inject(virtiotest.FaultUsedIDNotInFlight) }, virtio.ErrDevice, "not a chain in flight"},
		{"used len too large", func(d *virtiotest.Device) { d.Inject(virtiotest.FaultUsedLenTooLarge) }, virtio.ErrDevice, "writable bytes"},
		{"used idx jump", func(d *virtiotest.Device) { d.Inject(virtiotest.FaultUsedIdxJump) }, virtio.ErrDevice, "entries past"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r, err := open(t, geometry{capacity: 256, blkSize: 512, sizeMax: 4096, segMax: 8, features: defaultFeatures})
			if err != nil {
				t.Fatal(err)
			}
			buf := alloc(t, r.dev.DMA, 16*4096)
			r.dev.Pause()
			c.inject(r.dev)
			b := newBatch()
			for i := range 16 {
				b.submit(r.d, i, &block.Request{Op: block.OpRead, LBA: uint64(8 * i), Count: 8, Buf: buf, Off: uint64(4096 * i)})
			}
			r.dev.Resume()
			failed := 0
			for i, err := range b.wait(t) {
				if err == nil {
					continue // completed before the fault
				}
				failed++
				if !errors.Is(err, c.want) || !strings.Contains(err.Error(), c.msg) {
					t.Errorf("request %d: %v, want %v saying %q", i, err, c.want, c.msg)
				}
			}
			if failed == 0 {
				t.Error("no request failed")
			}
			after := newBatch()
			after.submit(r.d, 0, &block.Request{Op: block.OpRead, Count: 1, Buf: buf})
			if err := after.wait(t)[0]; !errors.Is(err, c.want) {
				t.Errorf("request after the fault: %v, want %v", err, c.want)
			}
		})
	}
}

func TestCloseFailsInFlight(t *testing.T) {
	r, err := open(t, geometry{capacity: 256, features: defaultFeatures, blkSize: 512, sizeMax: 4096, segMax: 8})
	if err != nil {
		t.Fatal(err)
	}
	buf := alloc(t, r.dev.DMA, 4096)
	r.dev.Pause()
	b := newBatch()
	for i := range 40 {
		b.submit(r.d, i, &block.Request{Op: block.OpWrite, LBA: uint64(i), Count: 1, Buf: buf})
	}
	if err := r.d.Close(); err != nil {
		t.Fatal(err)
	}
	for i, err := range b.wait(t) {
		if !errors.Is(err, ErrClosed) {
			t.Errorf("request %d: %v, want ErrClosed", i, err)
		}
	}
	r.dev.DMA.Free(buf)
	if n := r.dev.DMA.Outstanding(); n != 0 {
		t.Errorf("%d DMA buffers outstanding after Close", n)
	}
}
