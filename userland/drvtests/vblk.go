package main

import (
	"context"
	"errors"
	"fmt"
	"syscall"

	"valence.dev/drivers/lib/block"
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
	if err := d.roundTrip(ctx, "vda"); err != nil {
		return err
	}
	return d.c.Detach(ctx, d.id)
}

func init() { addTest("block-peers", testBlockPeers) }

// testBlockPeers: two clients of one disk, each through its own lookup
// (pcid badges each), cannot use each other's buffers.
func testBlockPeers(ctx context.Context) error {
	ha, err := lookup(ctx, "vda")
	if err != nil {
		return err
	}
	defer libos.Close(ha)
	hb, err := lookup(ctx, "vda")
	if err != nil {
		return err
	}
	defer libos.Close(hb)
	a, err := openDisk(ctx, ha)
	if err != nil {
		return err
	}
	defer a.c.Detach(ctx, a.id)
	b := block.Client{T: libos.Endpoint{H: hb}}
	if err := b.Read(ctx, a.id, 0, 0, 1); !errors.Is(err, syscall.EFAULT) {
		return fmt.Errorf("a second client reading into the first's buffer %d: %v, want EFAULT", a.id, err)
	}
	if err := a.c.Read(ctx, a.id, 0, 0, 1); err != nil {
		return fmt.Errorf("the owner reading into its buffer: %v", err)
	}
	return nil
}
