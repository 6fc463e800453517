package libos

import (
	"os"
	"strconv"
	"syscall"
	"unsafe"

	"valence.dev/ipc"
)

// Device capabilities for drivers (docs/drivers.md). The first process is
// given the root device capability; DeviceRoot finds it.

// DeviceRoot returns the root device capability, if this process was
// given it (VALENCE_DEVICE_ROOT).
func DeviceRoot() (ipc.Handle, bool) {
	v, err := strconv.ParseUint(os.Getenv("VALENCE_DEVICE_ROOT"), 0, 64)
	if err != nil || v == 0 {
		return 0, false
	}
	return ipc.Handle(v), true
}

// DevMMIO returns a memory handle over the device registers at
// [phys, phys+size); map it with Map (uncached).
func DevMMIO(root ipc.Handle, phys, size uint64) (ipc.Handle, error) {
	r, _, e := syscall.RawSyscall(ipc.SysDevMMIO, uintptr(root), uintptr(phys), uintptr(size))
	return ipc.Handle(r), errOf("dev mmio", e)
}

// DevIRQ returns an IRQ handle for GSI gsi (flags ipc.IRQLevel,
// ipc.IRQActiveLow).
func DevIRQ(root ipc.Handle, gsi uint32, flags uint32) (ipc.Handle, error) {
	r, _, e := syscall.RawSyscall(ipc.SysDevIRQ, uintptr(root), uintptr(gsi), uintptr(flags))
	return ipc.Handle(r), errOf("dev irq", e)
}

// DevMSI returns an IRQ handle for a message-signalled interrupt and the
// address and data to program into the device.
func DevMSI(root ipc.Handle) (ipc.Handle, ipc.MSI, error) {
	var m ipc.MSI
	r, _, e := syscall.RawSyscall(ipc.SysDevMSI, uintptr(root), uintptr(unsafe.Pointer(&m)), 0)
	return ipc.Handle(r), m, errOf("dev msi", e)
}

// IRQBind makes each interrupt of irq signal bits on notification n; the
// IRQ then stays masked until IRQAck.
func IRQBind(irq, n ipc.Handle, bits uint64) error {
	_, _, e := syscall.RawSyscall(ipc.SysIRQBind, uintptr(irq), uintptr(n), uintptr(bits))
	return errOf("irq bind", e)
}

// IRQAck unmasks irq after the driver has served its device.
func IRQAck(irq ipc.Handle) error {
	_, _, e := syscall.RawSyscall(ipc.SysIRQAck, uintptr(irq), 0, 0)
	return errOf("irq ack", e)
}

// DMACreate returns a memory handle for size bytes of zeroed, physically
// contiguous memory a device may reach; MemPhys gives its address.
func DMACreate(root ipc.Handle, size uint64) (ipc.Handle, error) {
	r, _, e := syscall.RawSyscall(ipc.SysDMACreate, uintptr(root), uintptr(size), 0)
	return ipc.Handle(r), errOf("dma create", e)
}

// MemPhys returns the device address of byte off of DMA memory h.
func MemPhys(h ipc.Handle, off uint64) (uint64, error) {
	r, _, e := syscall.RawSyscall(ipc.SysMemPhys, uintptr(h), uintptr(off), 0)
	return uint64(r), errOf("mem phys", e)
}

// DevPorts returns a handle for the I/O ports [base, base+count).
func DevPorts(root ipc.Handle, base, count uint16) (ipc.Handle, error) {
	r, _, e := syscall.RawSyscall(ipc.SysDevPorts, uintptr(root), uintptr(base), uintptr(count))
	return ipc.Handle(r), errOf("dev ports", e)
}

// PortIn reads width (1, 2 or 4) bytes from port through ports.
func PortIn(ports ipc.Handle, port uint16, width int) (uint32, error) {
	r, _, e := syscall.RawSyscall(ipc.SysPortIn, uintptr(ports), uintptr(port), uintptr(width))
	return uint32(r), errOf("port in", e)
}

// PortOut writes width (1, 2 or 4) bytes of v to port through ports.
func PortOut(ports ipc.Handle, port uint16, width int, v uint32) error {
	_, _, e := syscall.Syscall6(ipc.SysPortOut, uintptr(ports), uintptr(port), uintptr(width), uintptr(v), 0, 0)
	return errOf("port out", e)
}

// DevInfo reports the platform's PCI configuration window and whether DMA
// is isolated.
func DevInfo(root ipc.Handle) (ipc.DevInfo, error) {
	var d ipc.DevInfo
	_, _, e := syscall.RawSyscall(ipc.SysDevInfo, uintptr(root), uintptr(unsafe.Pointer(&d)), unsafe.Sizeof(d))
	return d, errOf("dev info", e)
}

// DevDerive returns the device capability of PCI function fn
// (bus<<8|device<<3|function) for its driver: it creates only DMA memory
// and MSI vectors.
func DevDerive(root ipc.Handle, fn uint16) (ipc.Handle, error) {
	r, _, e := syscall.RawSyscall(ipc.SysDevDerive, uintptr(root), uintptr(fn), 0)
	return ipc.Handle(r), errOf("dev derive", e)
}
