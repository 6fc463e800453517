package main

import (
	"context"
	"fmt"
	"time"

	"valence.dev/libos"
)

// The virtio disk through the same block protocol as the NVMe disk: fsd
// can run on either.

func init() { addTest("virtio-blk-patterns", testVirtioBlkPatterns) }

func testVirtioBlkPatterns(ctx context.Context) error {
	h, err := lookup(ctx, "vda")
	if err != nil {
		return err
	}
	defer libos.Close(h)
	d, err := openDisk(ctx, h)
	if err != nil {
		return err
	}
	if got, want := d.info.Sectors*uint64(d.info.SectorSize), uint64(envInt("VBLK_MIB", 16))<<20; got != want {
		return fmt.Errorf("vda: %d bytes, want %d", got, want)
	}
	seed := uint64(time.Now().UnixNano())
	t0 := time.Now()
	if n, err := d.sweep(ctx, true, seed, nil); err != nil {
		return fmt.Errorf("writing (after %d chunks): %w", n, err)
	}
	if err := d.c.Flush(ctx); err != nil {
		return fmt.Errorf("flush: %w", err)
	}
	t1 := time.Now()
	if n, err := d.sweep(ctx, false, seed, nil); err != nil {
		return fmt.Errorf("reading back (after %d chunks): %w", n, err)
	}
	fmt.Printf("drvtests: vda: %d MiB written in %v and read back intact in %v, %d requests in flight\n",
		d.info.Sectors*uint64(d.info.SectorSize)>>20, t1.Sub(t0).Round(time.Millisecond), time.Since(t1).Round(time.Millisecond), slots)
	return d.c.Detach(ctx, d.id)
}
