package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"valence.dev/drivers/lib/virtio/virtiopci"

	"github.com/google/go-cmp/cmp"

	"valence.dev/drivers/lib/block"
	"valence.dev/drivers/lib/dev"
	"valence.dev/drivers/lib/devtest"
	"valence.dev/drivers/lib/virtio"
	"valence.dev/drivers/lib/virtio/virtiotest"
	"valence.dev/drivers/virtio-blk/blk"
	"valence.dev/ipc"
)

// configSpace lays caps out as a PCI capability list (PCI Local Bus 3.0
// §6.7) in a fake configuration space.
func configSpace(caps ...[]byte) *devtest.Regs {
	cfg := devtest.NewRegs(4096)
	cfg.Store(0x06, 2, 1<<4) // Status: capability list
	off := uint64(0x40)
	cfg.Store(0x34, 1, off)
	for i, c := range caps {
		for j, b := range c {
			cfg.Store(off+uint64(j), 1, uint64(b))
		}
		next := (off + uint64(len(c)) + 3) &^ 3
		if i == len(caps)-1 {
			next = 0
		}
		cfg.Store(off+1, 1, next)
		off = next
	}
	return cfg
}

// msixCap is an MSI-X capability: a table of n entries at offset 0 of BAR bir.
func msixCap(n int, bir uint8) []byte {
	return []byte{0x11, 0, byte(n - 1), 0, bir, 0, 0, 0, 0, 0, 0, 0}
}

const barHandle = ipc.Handle(40)

func testBars(d *virtiotest.Device) *virtiopci.Bars {
	return virtiopci.NewBars(map[int]ipc.Handle{4: barHandle, 2: 41}, func(h ipc.Handle) (dev.Regs, error) {
		if h != barHandle {
			return nil, errors.New("not a memory BAR")
		}
		return d.BAR(), nil
	})
}

func TestVectorCount(t *testing.T) {
	for _, c := range []struct{ queues, table, want int }{
		{1, 2, 2}, {1, 1, 1}, {1, 64, 2}, {2, 3, 3}, {2, 2, 2}, {2, 64, 3},
	} {
		if got := virtiopci.VectorCount(c.queues, c.table); got != c.want {
			t.Errorf("vectorCount(%d, %d) = %d, want %d", c.queues, c.table, got, c.want)
		}
	}
}

func TestFindTransportRefusals(t *testing.T) {
	d := virtiotest.New(virtiotest.Options{Features: virtio.FeatureVersion1, QueueSizes: []uint16{8}, Config: virtiotest.BlkConfig(8, 0, 0, 0)})
	defer d.Close()
	caps := d.Caps()
	moved := append([]byte(nil), caps[0]...)
	moved[4] = 2 // the common structure in a BAR that cannot be mapped
	for _, c := range []struct {
		name string
		cfg  *devtest.Regs
	}{
		{"no capabilities", configSpace()},
		{"only MSI-X", configSpace(msixCap(2, 1))},
		{"no common structure", configSpace(caps[1:]...)},
		{"common structure in an I/O BAR", configSpace(append([][]byte{moved}, caps[1:]...)...)},
	} {
		t.Run(c.name, func(t *testing.T) {
			if _, err := virtiopci.FindTransport(c.cfg, testBars(d)); err == nil {
				t.Error("findTransport succeeded")
			}
		})
	}
}

// TestOpen goes from configuration space to an open disk, as run does,
// and checks the identify line.
func TestOpen(t *testing.T) {
	disk := &virtiotest.Disk{Data: make([]byte, 64<<20), Serial: "VALENCE-VDA"}
	d := virtiotest.New(virtiotest.Options{
		Features:   virtio.FeatureVersion1 | blk.FeatureBlkSize | blk.FeatureFlush | blk.FeatureSegMax,
		QueueSizes: []uint16{128}, MSIXVectors: 2, NotifyMultiplier: 4,
		Config: virtiotest.BlkConfig(64<<20/512, 0, 126, 4096), Backend: disk,
	})
	defer d.Close()
	b := testBars(d)
	tr, err := virtiopci.FindTransport(configSpace(append(d.Caps(), msixCap(2, 4))...), b)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	vd, err := blk.Open(ctx, tr, d.DMA, d.Interrupts())
	if err != nil {
		t.Fatal(err)
	}
	defer vd.Close()
	want := `virtio-blkd: 00:05.0: vda: 64 MiB (16384 blocks of 4096 bytes, serial "VALENCE-VDA", up to 256 blocks per request)`
	if diff := cmp.Diff(want, identify("00:05.0", "vda", vd.Info(), vd.Features())); diff != "" {
		t.Errorf("identify line (-want +got):\n%s", diff)
	}
	// A read through the disk reaches the device.
	copy(disk.Data[4096:], "hello")
	buf, err := d.DMA.Alloc(4096, 4096)
	if err != nil {
		t.Fatal(err)
	}
	defer d.DMA.Free(buf)
	done := make(chan error, 1)
	vd.Submit(&block.Request{Op: block.OpRead, LBA: 1, Count: 1, Buf: buf, Done: func(err error) { done <- err }})
	if err := <-done; err != nil || string(buf.Bytes[:5]) != "hello" {
		t.Errorf("read: %q, %v", buf.Bytes[:5], err)
	}
	if v := d.Violations(); len(v) > 0 {
		t.Errorf("spec violations: %q", v)
	}
}

func TestIdentify(t *testing.T) {
	for _, c := range []struct {
		info     block.Info
		features uint64
		want     string
	}{
		{block.Info{SectorSize: 512, Sectors: 2048, MaxSectors: 256}, blk.FeatureFlush,
			"virtio-blkd: 00:05.0: vda: 1 MiB (2048 blocks of 512 bytes, up to 256 blocks per request)"},
		{block.Info{SectorSize: 512, Sectors: 1 << 21, MaxSectors: 8, Serial: "x"}, blk.FeatureRO,
			`virtio-blkd: 00:05.0: vda: 1024 MiB (2097152 blocks of 512 bytes, serial "x", read-only, no flush, up to 8 blocks per request)`},
	} {
		if diff := cmp.Diff(c.want, identify("00:05.0", "vda", c.info, c.features)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	}
}
