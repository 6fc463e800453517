// Command nvmed is the NVMe driver: a process pcid starts for each NVMe
// controller (drivers/lib/devreg says with what). It brings the controller
// up with the driver core (valence.dev/drivers/nvme/nvme), one MSI-X
// vector for its completions, and serves namespace 1 with the block
// protocol (drivers/lib/block) on an endpoint it registers with pcid as
// "nvme<N>" (N is pcid's index of the controller among NVMe controllers,
// devreg.Index: nvme0 for the first in address order; -name overrides).
//
// Everything it touches is its own device's: registers through the BAR
// window pcid gave, DMA memory and the interrupt vector through the
// function's device capability. A driver bug or a misbehaving device
// costs this process, never the kernel.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"valence.dev/drivers/lib/block"
	"valence.dev/drivers/lib/dev"
	"valence.dev/drivers/lib/devreg"
	"valence.dev/drivers/lib/pcidev"
	"valence.dev/drivers/nvme/nvme"
	"valence.dev/libos"
)

// servers is how many block requests are served at once: one goroutine
// each, blocked in the kernel's receive or on the device.
const servers = 32

func main() {
	name := flag.String("name", "", "the name to register with pcid (default nvme0, nvme1... by pcid's index: VALENCE_PCI_INDEX)")
	depth := flag.Int("depth", 64, "I/O queue depth")
	flag.Parse()
	if *name == "" {
		*name = fmt.Sprintf("nvme%d", devreg.Index())
	}
	if err := run(*name, *depth); err != nil {
		fmt.Fprintf(os.Stderr, "nvmed: %s: %v\n", os.Getenv("VALENCE_PCI_ADDR"), err)
		os.Exit(1)
	}
}

func run(name string, depth int) error {
	d, err := devreg.DriverFromEnv(libos.InitialHandles())
	if err != nil {
		return err
	}
	cfg, err := dev.MapMMIOReadOnly(d.Config)
	if err != nil {
		return err
	}
	barH, ok := d.BARs[0]
	if !ok {
		return fmt.Errorf("no BAR 0 window (VALENCE_PCI_BARS=%q)", os.Getenv("VALENCE_PCI_BARS"))
	}
	bar, err := dev.MapMMIO(barH)
	if err != nil {
		return err
	}
	m, err := pcidev.ReadMSIX(cfg)
	if err != nil {
		return err
	}
	tableBAR, ok := map[int]*dev.MMIO{0: bar}[m.BIR]
	if !ok {
		h, found := d.BARs[m.BIR]
		if !found {
			return fmt.Errorf("the MSI-X table is in BAR %d, which pcid did not give", m.BIR)
		}
		if tableBAR, err = dev.MapMMIO(h); err != nil {
			return err
		}
	}
	vs, err := pcidev.SetupMSIX(d.Function, tableBAR, m, 1)
	if err != nil {
		return err
	}
	dma := dev.NewKernelDMA(d.Function)
	ctrl, err := nvme.New(bar, dma, vs[0].IRQ, nvme.Options{Name: name + " (" + d.Addr + ")", QueueDepth: depth})
	if err != nil {
		return err
	}
	info, id := ctrl.Info(), ctrl.Identity()
	fmt.Printf("nvmed: %s: %s: %q serial %q firmware %q, %d MiB (%d blocks of %d bytes), queue depth %d\n",
		d.Addr, name, info.Model, info.Serial, id.Firmware, info.Sectors*uint64(info.SectorSize)>>20,
		info.Sectors, info.SectorSize, depth)

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	err = d.Serve(ctx, name, "block", block.NewServer(ctrl, dma).RPC(), servers)
	cerr := ctrl.Close()
	if err == nil {
		err = cerr
	}
	return err
}
