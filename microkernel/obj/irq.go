package obj

import (
	"sync"

	"valence.dev/microkernel/rt"
)

// IRQ is a device interrupt given to a driver: a GSI (legacy INTx through
// the I/O APIC) or an MSI vector. Bound to a notification, each interrupt
// signals the bound bits once and then the IRQ stays masked until the
// driver acknowledges it (Ack): a GSI at the I/O APIC, an MSI in software,
// where interrupts that arrive meanwhile are merged into one delivery made
// at the acknowledgement. So a driver that never acknowledges receives one
// notification and costs the system nothing more.
//
// The trap handler only counts (rt/irq.go); one kernel goroutine
// (dispatch) turns counts into notifications.
type IRQ struct {
	ID   uint64
	Line int
	GSI  bool   // a GSI line; otherwise MSI
	Addr uint64 // MSI: the address and data the device must write
	Data uint32

	// onFree runs once when the last capability is gone (the device
	// capability's MSI count).
	onFree func()

	mu      sync.Mutex
	notif   *Notification
	bits    uint64
	waiting bool // delivered, not yet acknowledged
	pending bool // arrived while waiting
	closed  bool
}

var irqs struct {
	sync.Mutex
	byLine [rt.NumDeviceVectors]*IRQ
	start  sync.Once
}

// NewGSI allocates an IRQ for GSI gsi, masked until Bind.
func NewGSI(gsi uint32, level, activeLow bool) (*IRQ, error) {
	line, err := rt.AllocGSI(gsi, level, activeLow)
	if err != nil {
		return nil, err
	}
	return register(&IRQ{ID: NewID(), Line: line, GSI: true}), nil
}

// NewMSI allocates an IRQ for a message-signalled interrupt; the driver
// programs Addr and Data into its device. onFree, if not nil, runs when
// the IRQ is released.
func NewMSI(onFree func()) (*IRQ, error) {
	line, addr, data, err := rt.AllocMSI()
	if err != nil {
		return nil, err
	}
	return register(&IRQ{ID: NewID(), Line: line, Addr: addr, Data: data, onFree: onFree}), nil
}

func register(q *IRQ) *IRQ {
	irqs.Lock()
	irqs.byLine[q.Line] = q
	irqs.Unlock()
	irqs.start.Do(func() { go dispatch() })
	return q
}

// dispatch delivers counted interrupts to their IRQs, forever.
func dispatch() {
	for {
		seq := rt.IRQSeq()
		for line := range irqs.byLine {
			// Only lines of IRQ objects: the kernel serves some lines
			// itself (the IOMMU's faults, package dma).
			irqs.Lock()
			q := irqs.byLine[line]
			irqs.Unlock()
			if q != nil && rt.TakeIRQ(line) > 0 {
				q.fire()
			}
		}
		rt.WaitIRQ(seq)
	}
}

func (q *IRQ) fire() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	if q.notif == nil || q.waiting {
		q.pending = true
		return
	}
	q.waiting = true
	q.notif.Signal(q.bits)
}

// Bind makes the interrupt signal bits on n, replacing an earlier binding,
// and unmasks it.
func (q *IRQ) Bind(n *Notification, bits uint64) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed {
		return
	}
	first := q.notif == nil
	q.notif, q.bits = n, bits
	if q.pending && !q.waiting {
		q.pending = false
		q.waiting = true
		n.Signal(bits)
	}
	if first && q.GSI && !q.waiting {
		rt.UnmaskIRQ(q.Line)
	}
}

// Ack ends the mask after a delivery: an interrupt that arrived meanwhile
// is delivered now, otherwise the line is unmasked.
func (q *IRQ) Ack() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.closed || !q.waiting {
		return
	}
	if q.pending {
		q.pending = false
		q.notif.Signal(q.bits)
		return
	}
	q.waiting = false
	if q.GSI {
		rt.UnmaskIRQ(q.Line)
	}
}

// CapsGone releases the line when the last capability is gone (the
// driver closed it or died).
func (q *IRQ) CapsGone() {
	q.mu.Lock()
	if q.closed {
		q.mu.Unlock()
		return
	}
	q.closed = true
	q.notif = nil
	onFree := q.onFree
	q.onFree = nil
	q.mu.Unlock()
	if onFree != nil {
		defer onFree()
	}
	irqs.Lock()
	irqs.byLine[q.Line] = nil
	irqs.Unlock()
	rt.FreeIRQ(q.Line)
}
