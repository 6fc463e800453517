package proc

import (
	"encoding/binary"
	"errors"
	"sync"

	"gvisor.dev/gvisor/pkg/abi/linux"

	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/ipc"
	"valence.dev/microkernel/arch/amd64"
	"valence.dev/microkernel/clock"
	"valence.dev/microkernel/dma"
	"valence.dev/microkernel/iommu"
	"valence.dev/microkernel/klog"
	"valence.dev/microkernel/mm"
	"valence.dev/microkernel/obj"
	"valence.dev/microkernel/rt"
)

// Native calls for user-space drivers (docs/drivers.md). Everything starts
// from the root device capability, which only the first process is given:
// with RightManage on it a process creates windows on device registers,
// interrupts, DMA memory and I/O port ranges, and hands each driver only
// those of its device. The kernel still refuses what would reach its own
// memory or devices whoever asks: RAM, its interrupt controllers, the
// ports of its console, timers and power-off.

// deviceRoot is the object of the root device capability.
var deviceRoot = &obj.Device{ID: obj.NewID(), Function: -1}

// ecam is the PCI configuration window SysDevInfo reports.
var ecam struct {
	base       uint64
	start, end uint8
}

// SetECAM records the PCI Express configuration window of segment 0.
func SetECAM(base uint64, start, end uint8) {
	ecam.base, ecam.start, ecam.end = base, start, end
	klog.Printf("pci: configuration window (ECAM) at %#x for buses %d-%d", base, start, end)
}

// drivers maps a PCI function to the last process that made DMA memory
// through its capability: its driver, which a DMA fault by the function
// kills. (Not MSI vectors: pcid makes those for some drivers.)
var drivers struct {
	sync.Mutex
	pid map[uint16]int
	// The last fault a driver was killed for, per function: the device
	// may repeat a request the dead driver programmed (the edu device
	// does, and the IOMMU records each), and the process that drives
	// the function next must not die for it.
	lastKill map[uint16]killedFor
}

// killedFor is a fault a driver was killed for, and when.
type killedFor struct {
	addr  uint64
	write bool
	at    int64 // monotonic ns
}

// repeatWindow is how long a fault at the same address as the one a
// driver was killed for counts as that fault repeated.
const repeatWindow = 2_000_000_000 // ns

func noteDriver(fn uint16, p *Process) {
	drivers.Lock()
	if drivers.pid == nil {
		drivers.pid = map[uint16]int{}
	}
	drivers.pid[fn] = p.PID
	drivers.Unlock()
}

func init() {
	dma.OnFault = func(fn uint16, f iommu.Fault) {
		now := clock.Monotonic()
		drivers.Lock()
		pid, found := drivers.pid[fn]
		last, killed := drivers.lastKill[fn]
		drivers.Unlock()
		if !found {
			return // no driver made DMA memory for it: nothing to blame
		}
		if killed && last.addr == f.Addr && last.write == f.Write && now-last.at < repeatWindow {
			klog.Printf("dma: %s repeated the fault its last driver was killed for; not blaming pid %d", dma.FunctionString(fn), pid)
			return
		}
		p, ok := Lookup(pid)
		if !ok || p == nil || p.Exiting() {
			return
		}
		drivers.Lock()
		if drivers.lastKill == nil {
			drivers.lastKill = map[uint16]killedFor{}
		}
		drivers.lastKill[fn] = killedFor{addr: f.Addr, write: f.Write, at: now}
		drivers.Unlock()
		klog.Printf("dma: killing pid %d (%s), the driver of %s, for its device's DMA fault (%v)", p.PID, p.Name, dma.FunctionString(fn), f.Reason)
		p.Kill(linux.SIGKILL)
	}
}

// deviceCost is the kernel heap charged for a device object.
const deviceCost = 256

// deviceRights are the rights a new device object's capability carries.
const deviceRights = ipc.RightRead | ipc.RightWrite | ipc.RightMap | ipc.RightGrant | ipc.RightDuplicate | ipc.RightManage

// devRoot checks that argument 0 is the root device capability with
// RightManage: a function's capability may not do what needs the root
// (EPERM).
func devRoot(c *call) errno.Errno {
	d, e := devAny(c)
	if e == 0 && !d.IsRoot() {
		return errno.EPERM
	}
	return e
}

// devAny returns the device capability in argument 0, the root or a
// function's, with RightManage.
func devAny(c *call) (*obj.Device, errno.Errno) {
	d, _, e := lookup[*obj.Device](c, 0, ipc.RightManage)
	return d, e
}

// sysDevDerive implements valence_dev_derive(root, function): the device
// capability of PCI function bus<<8|device<<3|function, for its driver.
func sysDevDerive(c *call) result {
	if e := devRoot(c); e != 0 {
		return fail(e)
	}
	fn := c.arg(1)
	if fn > 0xFFFF {
		return fail(errno.EINVAL)
	}
	if !functionExists(uint16(fn)) {
		return fail(errno.ENODEV)
	}
	if e := admitObject(deviceCost + handleCost); e != 0 {
		return fail(e)
	}
	return insert(c, &obj.Device{ID: obj.NewID(), Function: int32(fn)}, ipc.RightManage|ipc.RightGrant|ipc.RightDuplicate)
}

// sysDevMMIO implements valence_dev_mmio(device, phys, size).
func sysDevMMIO(c *call) result {
	if e := devRoot(c); e != 0 {
		return fail(e)
	}
	pa, size := c.arg(1), c.arg(2)
	if size == 0 || size > obj.MaxMemory || pa&(mm.PageSize-1) != 0 || size&(mm.PageSize-1) != 0 {
		return fail(errno.EINVAL)
	}
	if err := mm.CheckDeviceRange(pa, size); err != nil {
		logRefusedDev(c, "dev-mmio", err)
		return fail(errno.EPERM)
	}
	// The object lists its frames: 8 bytes of kernel heap a page.
	if e := admitObject(deviceCost + handleCost + size/mm.PageSize*8); e != 0 {
		return fail(e)
	}
	m, err := obj.NewDeviceMemory(pa, size)
	if err != nil {
		return fail(errno.EINVAL)
	}
	r := insert(c, m, deviceRights&^ipc.RightManage)
	if r.err != 0 {
		m.CapsGone()
	}
	return r
}

// sysDevIRQ implements valence_dev_irq(device, gsi, flags).
func sysDevIRQ(c *call) result {
	if e := devRoot(c); e != 0 {
		return fail(e)
	}
	gsi, flags := c.arg(1), c.arg(2)
	if gsi > 0xFFFF || flags&^uint64(ipc.IRQLevel|ipc.IRQActiveLow) != 0 {
		return fail(errno.EINVAL)
	}
	if e := admitObject(deviceCost + handleCost); e != 0 {
		return fail(e)
	}
	q, err := obj.NewGSI(uint32(gsi), flags&ipc.IRQLevel != 0, flags&ipc.IRQActiveLow != 0)
	if err != nil {
		return fail(irqErrno(err))
	}
	r := insert(c, q, deviceRights&^ipc.RightMap)
	if r.err != 0 {
		q.CapsGone()
	}
	return r
}

// sysDevMSI implements valence_dev_msi(device, msi *MSI): the root or a
// function's capability.
func sysDevMSI(c *call) result {
	d, e := devAny(c)
	if e != 0 {
		return fail(e)
	}
	var b [16]byte
	if err := c.as().CopyOut(c.arg(1), b[:]); err != nil { // writable before anything is made
		return fail(errno.EFAULT)
	}
	if e := admitObject(deviceCost + handleCost); e != 0 {
		return fail(e)
	}
	if !d.TakeMSI() {
		return fail(errno.ENOSPC)
	}
	q, err := obj.NewMSI(d.PutMSI)
	if err != nil {
		d.PutMSI()
		return fail(irqErrno(err))
	}
	binary.LittleEndian.PutUint64(b[0:], q.Addr)
	binary.LittleEndian.PutUint32(b[8:], q.Data)
	if err := c.as().CopyOut(c.arg(1), b[:]); err != nil {
		q.CapsGone()
		return fail(errno.EFAULT)
	}
	r := insert(c, q, deviceRights&^ipc.RightMap)
	if r.err != 0 {
		q.CapsGone()
	}
	return r
}

func irqErrno(err error) errno.Errno {
	switch {
	case errors.Is(err, rt.ErrGSIBusy):
		return errno.EBUSY
	case errors.Is(err, rt.ErrNoGSI):
		return errno.EINVAL
	}
	return errno.ENOSPC // no free vector
}

// sysIRQBind implements valence_irq_bind(irq, notification, bits).
func sysIRQBind(c *call) result {
	q, _, e := lookup[*obj.IRQ](c, 0, ipc.RightWrite)
	if e != 0 {
		return fail(e)
	}
	n, _, e := lookup[*obj.Notification](c, 1, ipc.RightSignal)
	if e != 0 {
		return fail(e)
	}
	if c.arg(2) == 0 {
		return fail(errno.EINVAL)
	}
	q.Bind(n, c.arg(2))
	return ok0()
}

// sysIRQAck implements valence_irq_ack(irq).
func sysIRQAck(c *call) result {
	q, _, e := lookup[*obj.IRQ](c, 0, ipc.RightWrite)
	if e != 0 {
		return fail(e)
	}
	q.Ack()
	return ok0()
}

// sysDMACreate implements valence_dma_create(device, size): the root or a
// function's capability.
func sysDMACreate(c *call) result {
	d, e := devAny(c)
	if e != 0 {
		return fail(e)
	}
	size := c.arg(1)
	if size == 0 || size > ipc.MaxDMA {
		return fail(errno.EINVAL)
	}
	pages := pageUpU(size)
	acct := c.p.acct
	if !acct.chargeMemory(pages, c.p.limit(ipc.RlimitMemObjects)) {
		return fail(errno.ENOMEM)
	}
	// Through a function's capability, with an IOMMU, the memory is
	// mapped into that function's domain: its device, and only it, can
	// reach it. Made through the root, no device can.
	dom, err := d.Domain()
	if err != nil {
		acct.memObjects.Add(-int64(pages))
		klog.Printf("proc: pid %d (%s): no IOMMU domain for %s: %v", c.p.PID, c.p.Name, dma.FunctionString(uint16(d.Function)), err)
		return fail(errno.ENOMEM)
	}
	m, err := obj.NewDMAMemory(size, func() { acct.memObjects.Add(-int64(pages)) }, dom)
	if err != nil {
		acct.memObjects.Add(-int64(pages))
		if dom != nil {
			dom.Release()
		}
		return fail(errno.ENOMEM)
	}
	if !d.IsRoot() {
		noteDriver(uint16(d.Function), c.p)
	}
	r := insert(c, m, deviceRights&^ipc.RightManage)
	if r.err != 0 {
		m.CapsGone()
	}
	return r
}

// sysMemPhys implements valence_mem_phys(memory, offset).
func sysMemPhys(c *call) result {
	m, _, e := lookup[*obj.Memory](c, 0, ipc.RightMap)
	if e != 0 {
		return fail(e)
	}
	pa, found := m.Phys(c.arg(1))
	if !found {
		return fail(errno.EINVAL) // not DMA memory, or past its end
	}
	return ok(pa)
}

// functionExists reads PCI function fn's vendor ID through the legacy
// configuration ports (PCI Local Bus 3.0 §3.2.2.3.2, configuration
// mechanism #1), which the kernel keeps for itself: no mapping is needed.
// An absent function reads all ones.
func functionExists(fn uint16) bool {
	fl := mm.Lock() // the address/data pair must not be interleaved
	defer mm.Unlock(fl)
	amd64.Outl(0xCF8, 0x8000_0000|uint32(fn)<<8)
	v := amd64.Inl(0xCFC)
	return v&0xFFFF != 0xFFFF && v&0xFFFF != 0
}
