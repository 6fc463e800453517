package dma

import (
	"errors"
	"fmt"
	"sync"

	"valence.dev/microkernel/acpi"
	"valence.dev/microkernel/arch/amd64"
	"valence.dev/microkernel/iommu"
	"valence.dev/microkernel/klog"
	"valence.dev/microkernel/mm"
)

var (
	mu      sync.Mutex
	unit    *iommu.Unit
	domains = map[uint16]*Domain{} // by PCI function (bus<<8 | dev<<3 | fn)
	base    uint64
)

// OnFault is called (in a kernel goroutine) for every DMA fault, with the
// function that caused it; proc sets it to kill that function's driver.
var OnFault func(fn uint16, f iommu.Fault)

// Enabled reports whether an IOMMU isolates DMA.
func Enabled() bool {
	mu.Lock()
	defer mu.Unlock()
	return unit != nil
}

// Init enables the first remapping unit of the DMAR, if there is one.
// Without one (nil), or on failure, DMA stays unisolated and Init says so.
func Init(d *acpi.DMAR) error {
	if d == nil || len(d.Units) == 0 {
		return errors.New("dma: no DMA remapping unit (no DMAR table); DMA is not isolated")
	}
	u := d.Units[0]
	pages := uint64(u.RegisterPages)
	if pages == 0 {
		pages = 1
	}
	va, ok := mm.MapMMIO(u.RegisterBase, pages*mm.PageSize)
	if !ok {
		return fmt.Errorf("dma: cannot map the remapping unit's registers at %#x", u.RegisterBase)
	}
	mm.ClaimDevice(u.RegisterBase, pages*mm.PageSize, "the IOMMU")
	un := iommu.New(regs(va), kernelMem{}, d.HostAddressWidth+1)
	if err := un.Init(); err != nil {
		return fmt.Errorf("dma: IOMMU at %#x: %w; DMA is not isolated", u.RegisterBase, err)
	}
	mu.Lock()
	unit, base = un, u.RegisterBase
	mu.Unlock()
	if err := startFaults(un); err != nil {
		klog.Printf("dma: IOMMU faults will not be reported: %v", err)
	}
	klog.Printf("dma: VT-d %d.%d IOMMU at %#x: %d-bit, %d-level tables; DMA is isolated per PCI function",
		un.Version.Major, un.Version.Minor, u.RegisterBase, un.AddressBits(), un.Levels())
	return nil
}

// Domain is a PCI function's DMA address space.
type Domain struct {
	fn   uint16
	d    *iommu.Domain
	refs int
}

// ForFunction returns the domain of PCI function fn, attaching the
// function to a new one the first time, with a reference the caller must
// Release. It returns nil, nil when there is no IOMMU.
func ForFunction(fn uint16) (*Domain, error) {
	mu.Lock()
	defer mu.Unlock()
	if unit == nil {
		return nil, nil
	}
	if d := domains[fn]; d != nil {
		d.refs++
		return d, nil
	}
	id, ok := unit.FreeDomainID()
	if !ok {
		return nil, errors.New("dma: no free IOMMU domain")
	}
	id2, err := unit.NewDomain(id)
	if err != nil {
		return nil, err
	}
	if err := unit.Attach(id2, uint8(fn>>8), uint8(fn>>3&31), uint8(fn&7)); err != nil {
		unit.DestroyDomain(id2)
		return nil, err
	}
	d := &Domain{fn: fn, d: id2, refs: 1}
	domains[fn] = d
	return d, nil
}

// Retain adds a reference.
func (d *Domain) Retain() {
	mu.Lock()
	d.refs++
	mu.Unlock()
}

// Release drops a reference; the last detaches the function (its DMA is
// blocked from then on) and frees the domain's tables.
func (d *Domain) Release() {
	mu.Lock()
	defer mu.Unlock()
	d.refs--
	if d.refs > 0 {
		return
	}
	delete(domains, d.fn)
	if err := unit.Detach(uint8(d.fn>>8), uint8(d.fn>>3&31), uint8(d.fn&7)); err != nil {
		klog.Printf("dma: detaching %s: %v", FunctionString(d.fn), err)
	}
	if err := unit.DestroyDomain(d.d); err != nil {
		klog.Printf("dma: destroying the domain of %s: %v", FunctionString(d.fn), err)
	}
}

// Map makes the n frames from pa reachable by the function at the same
// addresses, read and write.
func (d *Domain) Map(pa, n uint64) error {
	mu.Lock()
	defer mu.Unlock()
	for i := uint64(0); i < n; i++ {
		if err := unit.Map(d.d, pa+i*mm.PageSize, pa+i*mm.PageSize, true); err != nil {
			for j := uint64(0); j < i; j++ {
				unit.Unmap(d.d, pa+j*mm.PageSize)
			}
			unit.InvalidateDomain(d.d)
			return err
		}
	}
	return nil
}

// Unmap removes the n frames from pa and returns once no IOTLB entry can
// translate to them any more: only then may they be freed. If the unit
// fails to confirm the invalidation, Unmap reports it, and the caller must
// not reuse the frames (losing them is better than letting a device write
// into someone else's memory).
func (d *Domain) Unmap(pa, n uint64) error {
	mu.Lock()
	defer mu.Unlock()
	for i := uint64(0); i < n; i++ {
		unit.Unmap(d.d, pa+i*mm.PageSize)
	}
	if err := unit.InvalidateDomain(d.d); err != nil {
		return fmt.Errorf("dma: IOTLB invalidation for %s failed: %w", FunctionString(d.fn), err)
	}
	return nil
}

// FunctionString formats bus<<8|dev<<3|fn as bb:dd.f.
func FunctionString(fn uint16) string {
	return fmt.Sprintf("%02x:%02x.%d", fn>>8, fn>>3&31, fn&7)
}

// regs are the unit's registers, mapped uncached in the kernel.
type regs uintptr

func (r regs) Read32(off uint32) uint32     { return amd64.MMIORead32(uintptr(r) + uintptr(off)) }
func (r regs) Read64(off uint32) uint64     { return amd64.MMIORead64(uintptr(r) + uintptr(off)) }
func (r regs) Write32(off uint32, v uint32) { amd64.MMIOWrite32(uintptr(r)+uintptr(off), v) }
func (r regs) Write64(off uint32, v uint64) { amd64.MMIOWrite64(uintptr(r)+uintptr(off), v) }

// kernelMem gives the unit zeroed frames of the kernel's own (not user
// memory: the tables must outlive any process) and flushes table writes
// when the unit's walks do not snoop the caches.
type kernelMem struct{}

func (kernelMem) Alloc() (uint64, bool) {
	fl := mm.Lock()
	defer mm.Unlock(fl)
	return mm.AllocFrame()
}

func (kernelMem) Free(pa uint64) {
	fl := mm.Lock()
	mm.FreeFrame(pa)
	mm.Unlock(fl)
}

func (kernelMem) Page(pa uint64) *[512]uint64 { return mm.PhysPage(pa) }

func (kernelMem) Flush(pa uint64) { amd64.Clflush(mm.Phys2Virt(pa)) }
