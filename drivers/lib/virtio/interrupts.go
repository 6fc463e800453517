package virtio

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"valence.dev/drivers/lib/dev"
)

// Interrupts are how the device interrupts the driver: either its INTx
// line (MSI-X disabled; the ISR status byte then says why, §4.1.4.5) or
// its enabled MSI-X vectors, MSIX[i] being MSI-X table entry i
// (§4.1.5.1.2). Exactly one must be set.
//
// With MSI-X, configuration changes go to entry 0 and queue q to entry
// 1 + q mod (len(MSIX)-1), or to entry 0 too when there is only one.
type Interrupts struct {
	INTx dev.IRQ
	MSIX []dev.IRQ
}

// maxVectors is the largest MSI-X table (§4.1.5.1.2: 0 to 0x7ff).
const maxVectors = 0x800

func (in Interrupts) queueVector(q uint16) uint16 {
	switch n := len(in.MSIX); {
	case n == 0:
		return NoVector
	case n == 1:
		return 0
	default:
		return uint16(1 + int(q)%(n-1))
	}
}

// UseInterrupts routes the device's interrupts (§4.1.5.1.2): with MSI-X
// it maps configuration changes to vector 0, checking the device accepted
// the mapping; queue vectors are mapped by SetupQueue. It is called after
// Negotiate (whose reset unmaps every vector) and before SetupQueue.
func (t *Transport) UseInterrupts(irqs Interrupts) error {
	if (irqs.INTx == nil) == (len(irqs.MSIX) == 0) {
		return fmt.Errorf("virtio: give either an INTx line or MSI-X vectors")
	}
	if len(irqs.MSIX) > maxVectors {
		return fmt.Errorf("virtio: %d MSI-X vectors, at most %d", len(irqs.MSIX), maxVectors)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.queues) > 0 {
		return fmt.Errorf("virtio: interrupts routed after queues were set up")
	}
	if irqs.MSIX != nil {
		t.common.Write16(regConfigMSIXVector, 0)
		if got := t.common.Read16(regConfigMSIXVector); got != 0 {
			return fmt.Errorf("virtio: configuration change MSI-X vector 0 reads back as %#x: %w", got, ErrNoVector)
		}
	}
	t.irqs = irqs
	return nil
}

// Handler is what Serve calls when the device interrupts. Queue is called
// with the index of a queue that may have used buffers, Config when the
// device configuration may have changed or the device may need a reset
// (§2.1.2: the device sends a configuration change notification then).
// Calls for different interrupts may run concurrently; spurious calls are
// possible and must be harmless.
type Handler struct {
	Queue  func(index uint16)
	Config func()
}

// Serve waits for the device's interrupts and calls h, acknowledging each
// interrupt after h has returned, until ctx is done or an interrupt fails
// (§4.1.5.5). It returns nil when ctx is done.
func (t *Transport) Serve(ctx context.Context, h Handler) error {
	t.mu.Lock()
	irqs := t.irqs
	t.mu.Unlock()
	if h.Queue == nil {
		h.Queue = func(uint16) {}
	}
	if h.Config == nil {
		h.Config = func() {}
	}
	if irqs.INTx != nil {
		return t.serveLine(ctx, irqs.INTx, func() { t.dispatchINTx(h) })
	}
	if len(irqs.MSIX) == 0 {
		return fmt.Errorf("virtio: Serve before UseInterrupts")
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	errs := make([]error, len(irqs.MSIX))
	for v, irq := range irqs.MSIX {
		wg.Go(func() {
			errs[v] = t.serveLine(ctx, irq, func() { t.dispatchVector(uint16(v), h) })
			if errs[v] != nil {
				cancel()
			}
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func (t *Transport) serveLine(ctx context.Context, irq dev.IRQ, dispatch func()) error {
	for {
		if err := irq.Wait(ctx); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("virtio: wait for interrupt: %w", err)
		}
		dispatch()
		if err := irq.Ack(); err != nil {
			return fmt.Errorf("virtio: acknowledge interrupt: %w", err)
		}
	}
}

// dispatchINTx reads (and so clears, deasserting the line) the ISR status
// byte (§4.1.4.5, §4.1.5.3): bit 0 a queue interrupt, which does not say
// which queue, bit 1 a configuration change (§4.1.5.4).
func (t *Transport) dispatchINTx(h Handler) {
	isr := t.isr.Read8(0)
	if isr&1 != 0 {
		for _, i := range t.queueIndices(func(uint16) bool { return true }) {
			h.Queue(i)
		}
	}
	if isr&2 != 0 {
		h.Config()
	}
}

// dispatchVector serves MSI-X vector v; the ISR is not read (§4.1.4.5.2).
func (t *Transport) dispatchVector(v uint16, h Handler) {
	if v == 0 {
		h.Config()
	}
	t.mu.Lock()
	irqs := t.irqs
	t.mu.Unlock()
	for _, i := range t.queueIndices(func(q uint16) bool { return irqs.queueVector(q) == v }) {
		h.Queue(i)
	}
}

func (t *Transport) queueIndices(keep func(uint16) bool) []uint16 {
	t.mu.Lock()
	defer t.mu.Unlock()
	var out []uint16
	for _, q := range t.queues {
		if keep(q.index) {
			out = append(out, q.index)
		}
	}
	return out
}
