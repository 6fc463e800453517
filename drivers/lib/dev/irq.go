package dev

import (
	"context"
	"fmt"
	"sync"

	"valence.dev/ipc"
	"valence.dev/libos"
)

// KernelIRQ is an interrupt capability (libos.DevIRQ or DevMSI) bound to a
// notification of its own. It implements IRQ.
type KernelIRQ struct {
	irq, n ipc.Handle
	mu     sync.Mutex // one waiter at a time
}

const (
	bitIRQ    = 1 << 0
	bitCancel = 1 << 1 // a Wait's context ended
)

// NewKernelIRQ binds irq to a new notification.
func NewKernelIRQ(irq ipc.Handle) (*KernelIRQ, error) {
	n, err := libos.NewNotification()
	if err != nil {
		return nil, err
	}
	if err := libos.IRQBind(irq, n, bitIRQ); err != nil {
		libos.Close(n)
		return nil, fmt.Errorf("dev: binding the interrupt: %w", err)
	}
	return &KernelIRQ{irq: irq, n: n}, nil
}

// Wait implements IRQ. A context that ends wakes the wait through the
// notification itself.
func (q *KernelIRQ) Wait(ctx context.Context) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	if err := ctx.Err(); err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { libos.NotifySignal(q.n, bitCancel) })
	defer stop()
	for {
		bits, err := libos.NotifyWait(q.n)
		if err != nil {
			return err
		}
		if bits&bitIRQ != 0 {
			return nil
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
}

// Ack implements IRQ.
func (q *KernelIRQ) Ack() error { return libos.IRQAck(q.irq) }

// Close releases the interrupt and its notification.
func (q *KernelIRQ) Close() error {
	libos.Close(q.irq)
	return libos.Close(q.n)
}

var _ IRQ = (*KernelIRQ)(nil)
