// Package virtiopci is the part of a virtio driver that deals with the PCI
// function pcid handed over (drivers/lib/devreg): mapping the BARs the
// virtio structures and the MSI-X table live in, finding those structures
// through the vendor-specific capabilities (VIRTIO 1.2 §4.1.4), and
// setting up the MSI-X vectors package virtio expects.
package virtiopci

import (
	"fmt"

	"valence.dev/drivers/lib/dev"
	"valence.dev/drivers/lib/pcidev"
	"valence.dev/drivers/lib/virtio"
	"valence.dev/ipc"
)

// Bars maps the BAR windows pcid gave, each once and only when needed
// (the virtio structures and the MSI-X table may share a BAR, and an I/O
// BAR, which cannot be mapped, is never asked for).
type Bars struct {
	handles map[int]ipc.Handle
	mapBAR  func(ipc.Handle) (dev.Regs, error)
	mapped  map[int]dev.Regs
}

// NewBars returns the BARs of handles (by BAR index), mapped with mapBAR
// when first used.
func NewBars(handles map[int]ipc.Handle, mapBAR func(ipc.Handle) (dev.Regs, error)) *Bars {
	return &Bars{handles: handles, mapBAR: mapBAR, mapped: map[int]dev.Regs{}}
}

// Get returns BAR i, mapping it the first time.
func (b *Bars) Get(i int) (dev.Regs, error) {
	if r, ok := b.mapped[i]; ok {
		return r, nil
	}
	h, ok := b.handles[i]
	if !ok {
		return nil, fmt.Errorf("BAR %d was not given by pcid", i)
	}
	r, err := b.mapBAR(h)
	if err != nil {
		return nil, fmt.Errorf("mapping BAR %d: %w", i, err)
	}
	b.mapped[i] = r
	return r, nil
}

// FindTransport finds the device's virtio structures through its
// vendor-specific capabilities (VIRTIO 1.2 §4.1.4) in configuration space
// and maps them from the BARs they name.
func FindTransport(cfg dev.Regs, b *Bars) (*virtio.Transport, error) {
	l, err := virtio.ParseLayout(virtio.CapBytes(cfg, pcidev.Caps(cfg, pcidev.CapVendor)))
	if err != nil {
		return nil, err
	}
	w, err := l.Windows(func(i uint8) (dev.Regs, error) { return b.Get(int(i)) })
	if err != nil {
		return nil, err
	}
	return virtio.New(w)
}

// VectorCount is how many MSI-X vectors to set up for queues queues: one
// for configuration changes and one per queue (package virtio's
// Interrupts), or as many as the table has, queues then sharing.
func VectorCount(queues, table int) int { return max(1, min(1+queues, table)) }

// SetupInterrupts reads the MSI-X capability and sets up vectorCount
// vectors in the table, through the function's capability fn.
func SetupInterrupts(fn ipc.Handle, cfg dev.Regs, b *Bars, queues int) (virtio.Interrupts, error) {
	m, err := pcidev.ReadMSIX(cfg)
	if err != nil {
		return virtio.Interrupts{}, err
	}
	table, err := b.Get(m.BIR)
	if err != nil {
		return virtio.Interrupts{}, fmt.Errorf("MSI-X table: %w", err)
	}
	vs, err := pcidev.SetupMSIX(fn, table, m, VectorCount(queues, m.TableSize))
	if err != nil {
		return virtio.Interrupts{}, err
	}
	irqs := make([]dev.IRQ, len(vs))
	for i, v := range vs {
		irqs[i] = v.IRQ
	}
	return virtio.Interrupts{MSIX: irqs}, nil
}
