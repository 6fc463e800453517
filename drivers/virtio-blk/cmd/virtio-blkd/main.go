package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"valence.dev/drivers/lib/virtio/virtiopci"

	"valence.dev/drivers/lib/block"
	"valence.dev/drivers/lib/dev"
	"valence.dev/drivers/lib/devreg"
	"valence.dev/drivers/virtio-blk/blk"
	"valence.dev/ipc"
	"valence.dev/libos"
)

// servers is how many block requests are served at once: one goroutine
// each, blocked in the kernel's receive or on the device.
const servers = 32

// openTimeout bounds device initialisation (the reset wait and GET_ID).
const openTimeout = 10 * time.Second

func main() {
	name := flag.String("name", "", "the name to register with pcid (default vda, vdb... by pcid's index: VALENCE_PCI_INDEX)")
	flag.Parse()
	if *name == "" {
		*name = diskName(devreg.Index())
	}
	if err := run(*name); err != nil {
		fmt.Fprintf(os.Stderr, "virtio-blkd: %s: %v\n", os.Getenv("VALENCE_PCI_ADDR"), err)
		os.Exit(1)
	}
}

// diskName is the name of the index'th virtio disk, as Linux names them:
// vda to vdz, then vdaa, vdab...
func diskName(index int) string {
	if index < 26 {
		return "vd" + string(rune('a'+index))
	}
	return diskName(index/26-1) + string(rune('a'+index%26))
}

func run(name string) error {
	d, err := devreg.DriverFromEnv(libos.InitialHandles())
	if err != nil {
		return err
	}
	cfg, err := dev.MapMMIOReadOnly(d.Config)
	if err != nil {
		return err
	}
	b := virtiopci.NewBars(d.BARs, func(h ipc.Handle) (dev.Regs, error) { return dev.MapMMIO(h) })
	t, err := virtiopci.FindTransport(cfg, b)
	if err != nil {
		return err
	}
	irqs, err := virtiopci.SetupInterrupts(d.Function, cfg, b, 1)
	if err != nil {
		return err
	}
	dma := dev.NewKernelDMA(d.Function)
	octx, cancel := context.WithTimeout(context.Background(), openTimeout)
	disk, err := blk.Open(octx, t, dma, irqs)
	cancel()
	if err != nil {
		return err
	}
	fmt.Println(identify(d.Addr, name, disk.Info(), disk.Features()))

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	err = d.Serve(ctx, name, "block", block.NewServer(disk, dma).RPC(), servers)
	if cerr := disk.Close(); err == nil {
		err = cerr
	}
	return err
}

// identify is the line the driver prints once the disk is up.
func identify(addr, name string, info block.Info, features uint64) string {
	s := fmt.Sprintf("virtio-blkd: %s: %s: %d MiB (%d blocks of %d bytes", addr, name,
		info.Sectors*uint64(info.SectorSize)>>20, info.Sectors, info.SectorSize)
	if info.Serial != "" {
		s += fmt.Sprintf(", serial %q", info.Serial)
	}
	if features&blk.FeatureRO != 0 {
		s += ", read-only"
	}
	if features&blk.FeatureFlush == 0 {
		s += ", no flush"
	}
	return s + fmt.Sprintf(", up to %d blocks per request)", info.MaxSectors)
}
