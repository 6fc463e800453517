package obj

import (
	"sync"
	"sync/atomic"

	"valence.dev/microkernel/dma"
)

// Device is the object of a device capability. The root (Function < 0),
// given to the first process, lets its holder create device memory, IRQs,
// DMA memory and I/O port ranges (docs/drivers.md), and derive the device
// capability of one PCI function, which lets a driver create only DMA
// memory and MSI vectors for its device (at most MaxFunctionMSIs).
type Device struct {
	ID       uint64
	Function int32 // bus<<8 | device<<3 | function, or -1 for the root

	msis atomic.Int32 // live MSI vectors made through a function's capability

	mu     sync.Mutex
	domain *dma.Domain // the function's IOMMU domain, once it has DMA memory
	gone   bool
}

// Domain returns the function's IOMMU domain, made the first time, with a
// reference for the caller; nil without an IOMMU or for the root.
func (d *Device) Domain() (*dma.Domain, error) {
	if d.IsRoot() {
		return nil, nil
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.domain == nil {
		dom, err := dma.ForFunction(uint16(d.Function))
		if err != nil || dom == nil {
			return nil, err
		}
		d.domain = dom // the object's own reference
	}
	d.domain.Retain()
	return d.domain, nil
}

// CapsGone drops the object's reference on its domain when its last
// capability is gone: the domain lives on only while DMA memory made
// through it does.
func (d *Device) CapsGone() {
	d.mu.Lock()
	dom := d.domain
	d.domain, d.gone = nil, true
	d.mu.Unlock()
	if dom != nil {
		dom.Release()
	}
}

// MaxFunctionMSIs bounds the MSI vectors one function's capability may
// hold at once: there are 192 vectors for the whole system.
const MaxFunctionMSIs = 32

// IsRoot reports whether d is the root device capability's object.
func (d *Device) IsRoot() bool { return d.Function < 0 }

// TakeMSI counts one more vector for a function's capability; false if it
// has its fill. The root is not limited.
func (d *Device) TakeMSI() bool {
	if d.IsRoot() {
		return true
	}
	if d.msis.Add(1) > MaxFunctionMSIs {
		d.msis.Add(-1)
		return false
	}
	return true
}

// PutMSI gives back a vector TakeMSI counted.
func (d *Device) PutMSI() {
	if !d.IsRoot() {
		d.msis.Add(-1)
	}
}

// Ports is a range of x86 I/O ports [Base, Base+Count) a driver may read
// and write through the kernel.
type Ports struct {
	ID          uint64
	Base, Count uint32
}
