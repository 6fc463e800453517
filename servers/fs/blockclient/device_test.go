package blockclient

import (
	"bytes"
	"context"
	"errors"
	"math/rand/v2"
	"syscall"
	"testing"
	"time"

	"valence.dev/servers/fs/blockdev"
)

func TestGeometry(t *testing.T) {
	tests := []struct {
		name       string
		sectorSize uint32
		sectors    uint64
		maxSectors uint32
		wantBlocks uint64
		wantErr    error
	}{
		{"512-byte sectors", 512, 8 * 100, 256, 100, nil},
		{"512-byte sectors, a partial block at the end", 512, 8*100 + 5, 0, 100, nil},
		{"4096-byte sectors", 4096, 64, 32, 64, nil},
		{"520-byte sectors", 520, 1000, 0, 0, ErrGeometry},
		{"1024-byte sectors", 1024, 1000, 0, 0, ErrGeometry},
		{"requests smaller than a block", 512, 1000, 4, 0, ErrGeometry},
		{"smaller than a block", 512, 7, 0, 0, ErrGeometry},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig(t, newDisk(tt.sectorSize, tt.sectors, tt.maxSectors))
			d, err := Open(context.Background(), r.client, Options{Map: r.sharer.mapBuffer})
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Open: %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			defer d.Close()
			if got := d.Blocks(); got != tt.wantBlocks {
				t.Errorf("Blocks() = %d, want %d", got, tt.wantBlocks)
			}
		})
	}
}

func TestRoundTrip(t *testing.T) {
	tests := []struct {
		name        string
		sectorSize  uint32
		maxSectors  uint32
		bufferSize  uint64
		concurrency int
	}{
		{"512, split by MaxSectors", 512, 16, 1 << 20, 8},
		{"512, split by slots", 512, 0, 64 << 10, 4},
		{"4096", 4096, 8, 256 << 10, 8},
		{"one slot", 4096, 0, 4096, 1},
		{"more slots than blocks", 512, 0, 8192, 100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const blocks = 512
			disk := newDisk(tt.sectorSize, blocks*uint64(4096/tt.sectorSize), tt.maxSectors)
			r := newRig(t, disk)
			d := r.open(t, Options{BufferSize: tt.bufferSize, Concurrency: tt.concurrency})
			defer d.Close()
			rng := rand.New(rand.NewPCG(1, 2))
			want := make([]byte, 300*blockdev.BlockSize)
			for i := range want {
				want[i] = byte(rng.Uint32())
			}
			if err := d.WriteAt(want, 100); err != nil {
				t.Fatalf("WriteAt: %v", err)
			}
			if !bytes.Equal(want, disk.data[100*4096:400*4096]) {
				t.Errorf("the disk's bytes differ from what was written")
			}
			got := make([]byte, len(want))
			if err := d.ReadAt(got, 100); err != nil {
				t.Fatalf("ReadAt: %v", err)
			}
			if !bytes.Equal(want, got) {
				t.Errorf("read back differs from what was written")
			}
			one := make([]byte, blockdev.BlockSize)
			if err := d.ReadAt(one, blocks-1); err != nil {
				t.Errorf("ReadAt(last block): %v", err)
			}
			if err := d.Flush(); err != nil {
				t.Errorf("Flush: %v", err)
			}
			if disk.flushes != 1 {
				t.Errorf("driver saw %d flushes, want 1", disk.flushes)
			}
			if tt.concurrency > 1 && disk.peak < 2 {
				t.Errorf("at most %d requests were in flight", disk.peak)
			}
		})
	}
}

func TestRefused(t *testing.T) {
	r := newRig(t, newDisk(512, 8*64, 0))
	d := r.open(t, Options{})
	defer d.Close()
	tests := []struct {
		name string
		p    []byte
		blk  uint64
	}{
		{"not whole blocks", make([]byte, 100), 0},
		{"past the end", make([]byte, 2*4096), 63},
		{"far past the end", make([]byte, 4096), 1 << 60},
		{"wrapping", make([]byte, 2*4096), ^uint64(0)},
	}
	for _, tt := range tests {
		for name, f := range map[string]func([]byte, uint64) error{"ReadAt": d.ReadAt, "WriteAt": d.WriteAt} {
			if err := f(tt.p, tt.blk); !errors.Is(err, blockdev.ErrRange) {
				t.Errorf("%s %s: %v, want ErrRange", name, tt.name, err)
			}
		}
	}
	if r.disk.peak != 0 {
		t.Errorf("a refused request reached the driver")
	}
}

// TestDriverError: the driver's own error fails the call and leaves the
// device working.
func TestDriverError(t *testing.T) {
	disk := newDisk(512, 8*64, 0)
	disk.failLBA = map[uint64]bool{8 * 10: true}
	r := newRig(t, disk)
	d := r.open(t, Options{})
	defer d.Close()
	err := d.ReadAt(make([]byte, 4096), 10)
	if err == nil || errors.Is(err, ErrDriverGone) {
		t.Fatalf("ReadAt of a bad block: %v, want the driver's error", err)
	}
	if !errors.Is(err, syscall.EIO) {
		t.Errorf("ReadAt of a bad block: %v, want EIO", err)
	}
	if err := d.ReadAt(make([]byte, 4096), 11); err != nil {
		t.Errorf("ReadAt after a driver error: %v", err)
	}
}

// TestDriverDies: the driver dies with requests in flight; they and every
// later call fail at once with ErrDriverGone and EOWNERDEAD.
func TestDriverDies(t *testing.T) {
	disk := newDisk(512, 8*256, 8)
	r := newRig(t, disk)
	d := r.open(t, Options{Concurrency: 4})
	disk.mu.Lock()
	disk.hold = make(chan struct{}) // never closed: the device hangs
	disk.mu.Unlock()
	done := make(chan error, 1)
	go func() { done <- d.WriteAt(make([]byte, 64*4096), 0) }() // 64 pieces, 4 slots
	for {
		disk.mu.Lock()
		n := disk.inflight
		disk.mu.Unlock()
		if n == 4 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	r.end.Close() // the driver dies
	select {
	case err := <-done:
		if !errors.Is(err, ErrDriverGone) || !errors.Is(err, syscall.EOWNERDEAD) {
			t.Errorf("WriteAt: %v, want ErrDriverGone and EOWNERDEAD", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("WriteAt hangs after the driver died")
	}
	for name, call := range map[string]func() error{
		"ReadAt":  func() error { return d.ReadAt(make([]byte, 4096), 0) },
		"WriteAt": func() error { return d.WriteAt(make([]byte, 4096), 0) },
		"Flush":   d.Flush,
	} {
		if err := call(); !errors.Is(err, ErrDriverGone) {
			t.Errorf("%s after the driver died: %v, want ErrDriverGone", name, err)
		}
	}
	if err := d.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// TestTimeout: a driver that stops answering breaks the device after
// Timeout instead of hanging it.
func TestTimeout(t *testing.T) {
	disk := newDisk(4096, 64, 0)
	r := newRig(t, disk)
	d := r.open(t, Options{Timeout: 20 * time.Millisecond})
	disk.mu.Lock()
	disk.hold = make(chan struct{})
	disk.mu.Unlock()
	defer close(disk.hold)
	err := d.ReadAt(make([]byte, 4096), 0)
	if !errors.Is(err, ErrDriverGone) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("ReadAt of a hung driver: %v, want ErrDriverGone and DeadlineExceeded", err)
	}
	if err := d.Flush(); !errors.Is(err, ErrDriverGone) {
		t.Errorf("Flush after a timeout: %v, want ErrDriverGone", err)
	}
}

func TestOpenNeedsMap(t *testing.T) {
	r := newRig(t, newDisk(512, 8*64, 0))
	if _, err := Open(context.Background(), r.client, Options{}); err == nil {
		t.Error("Open without Map succeeded")
	}
	if _, err := Open(context.Background(), r.client, Options{Map: r.sharer.mapBuffer, BufferSize: 8 << 20}); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("Open with an 8 MiB buffer: %v, want EINVAL", err)
	}
}
