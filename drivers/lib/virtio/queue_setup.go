package virtio

import (
	"fmt"

	"valence.dev/drivers/lib/dev"
)

// SetupQueue sets up virtqueue index (§3.1.1 step 7, §4.1.5.1.3): it
// reads the device's maximum queue_size, chooses the largest power of two
// no larger than that and maxSize (0: no limit of the driver's), allocates
// the rings from dma, routes the queue's interrupt (UseInterrupts must
// have been called) and enables the queue. It is called between Negotiate
// and Ready.
func (t *Transport) SetupQueue(index uint16, dma dev.DMA, maxSize uint16) (*Queue, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if s := t.Status(); s&StatusFeaturesOK == 0 || s&StatusDriverOK != 0 {
		return nil, fmt.Errorf("virtio: queue %d: set up with device status %#02x (want FEATURES_OK, not DRIVER_OK)", index, s)
	}
	if n := t.NumQueues(); index >= n {
		return nil, fmt.Errorf("virtio: queue %d: device has only %d queues: %w", index, n, ErrDevice)
	}
	if _, dup := t.byIndex[index]; dup {
		return nil, fmt.Errorf("virtio: queue %d: already set up", index)
	}
	c := t.common
	c.Write16(regQueueSelect, index)
	devMax := c.Read16(regQueueSize)
	if devMax == 0 {
		return nil, fmt.Errorf("virtio: queue %d: not available (queue_size 0): %w", index, ErrDevice)
	}
	if devMax&(devMax-1) != 0 || devMax > MaxQueueSize {
		return nil, fmt.Errorf("virtio: queue %d: queue_size %d is not a power of 2 up to %d (§4.1.4.3.1): %w", index, devMax, MaxQueueSize, ErrDevice)
	}
	n := devMax
	if maxSize != 0 && maxSize < n {
		n = 1
		for n*2 <= maxSize {
			n *= 2
		}
	}
	if n != devMax {
		c.Write16(regQueueSize, n)
	}

	notifyOff := uint64(c.Read16(regQueueNotifyOff)) * uint64(t.notifyMul)
	if notifyOff+2 > t.notify.Len() {
		return nil, fmt.Errorf("virtio: queue %d: notify address %#x is outside the %#x-byte notify structure (§4.1.4.4.1): %w",
			index, notifyOff, t.notify.Len(), ErrDevice)
	}

	if vec := t.irqs.queueVector(index); t.irqs.MSIX != nil {
		c.Write16(regQueueMSIXVector, vec)
		if got := c.Read16(regQueueMSIXVector); got != vec {
			return nil, fmt.Errorf("virtio: queue %d: MSI-X vector %d reads back as %#x: %w", index, vec, got, ErrNoVector)
		}
	}

	_, _, total := ringLayout(uint64(n))
	mem, err := dma.Alloc(total, 4096)
	if err != nil {
		return nil, fmt.Errorf("virtio: queue %d: ring memory: %w", index, err)
	}
	notify := t.notify
	q := newQueue(index, n, dma, mem, func() {
		// §4.1.5.2: without VIRTIO_F_NOTIFICATION_DATA the driver
		// writes the queue's index to its notify address.
		notify.Write16(notifyOff, index)
	})
	availOff, usedOff, _ := ringLayout(uint64(n))
	write64(c, regQueueDesc, mem.Addr)
	write64(c, regQueueDriver, mem.Addr+availOff)
	write64(c, regQueueDevice, mem.Addr+usedOff)
	// §4.1.4.3.2: the other fields are configured before queue_enable.
	c.Write16(regQueueEnable, 1)
	t.byIndex[index] = len(t.queues)
	t.queues = append(t.queues, q)
	return q, nil
}

// write64 writes a 64-bit common configuration field as two 32-bit
// halves, low first (§4.1.3.1: 64-bit fields with 32-bit accesses).
func write64(r dev.Regs, off uint64, v uint64) {
	r.Write32(off, uint32(v))
	r.Write32(off+4, uint32(v>>32))
}
