package proc

import (
	"encoding/binary"
	"fmt"

	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/ipc"
	"valence.dev/microkernel/arch/amd64"
	"valence.dev/microkernel/clock"
	"valence.dev/microkernel/dma"
	"valence.dev/microkernel/klog"
	"valence.dev/microkernel/obj"
	"valence.dev/microkernel/rt"
)

// I/O ports for legacy devices: a driver holds a range and the kernel
// checks every access against it (one system call per access; the TSS
// I/O permission bitmap would be faster, and can come when a driver needs
// it). No range may include a port the kernel drives itself.

// kernelPorts are the I/O ports the kernel drives (besides the power-off
// ports ACPI names, rt.PowerOffPorts).
var kernelPorts = []struct {
	base, end uint32
	what      string
}{
	{0x20, 0x22, "the master PIC"},
	{0x40, 0x44, "the PIT"},
	{0x61, 0x62, "the PIT gate"},
	{0x70, 0x72, "the CMOS clock"},
	{0xA0, 0xA2, "the slave PIC"},
	{0xF4, 0xF5, "QEMU's debug exit"},
	{0x3F8, 0x400, "the console UART (COM1)"},
	{0xCF8, 0xD00, "the legacy PCI configuration ports"},
}

// checkPorts reports why [base, base+count) may not be a driver's, given
// the ports the kernel powers off through.
func checkPorts(base, count uint64, powerOff []uint16) error {
	if count == 0 || base > 0xFFFF || count > 0x10000-base {
		return fmt.Errorf("ports %#x+%d: not a range of I/O ports", base, count)
	}
	end := uint32(base + count)
	for _, k := range kernelPorts {
		if uint32(base) < k.end && k.base < end {
			return fmt.Errorf("ports %#x-%#x overlap %s (%#x-%#x)", base, end-1, k.what, k.base, k.end-1)
		}
	}
	for _, p := range powerOff {
		if uint32(base) <= uint32(p)+1 && uint32(p) < end {
			return fmt.Errorf("ports %#x-%#x overlap the ACPI power-off port %#x", base, end-1, p)
		}
	}
	return nil
}

// sysDevPorts implements valence_dev_ports(device, base, count).
func sysDevPorts(c *call) result {
	if e := devRoot(c); e != 0 {
		return fail(e)
	}
	if err := checkPorts(c.arg(1), c.arg(2), rt.PowerOffPorts()); err != nil {
		logRefusedDev(c, "dev-ports", err)
		if c.arg(2) == 0 || c.arg(1) > 0xFFFF || c.arg(2) > 0x10000-c.arg(1) {
			return fail(errno.EINVAL)
		}
		return fail(errno.EPERM)
	}
	if e := admitObject(deviceCost + handleCost); e != 0 {
		return fail(e)
	}
	return insert(c, &obj.Ports{ID: obj.NewID(), Base: uint32(c.arg(1)), Count: uint32(c.arg(2))},
		ipc.RightRead|ipc.RightWrite|ipc.RightGrant|ipc.RightDuplicate)
}

// portAccess checks an access of width bytes at port through the range
// in argument 0.
func portAccess(c *call, need ipc.Rights) (uint16, uint64, errno.Errno) {
	r, _, e := lookup[*obj.Ports](c, 0, need)
	if e != 0 {
		return 0, 0, e
	}
	port, width := c.arg(1), c.arg(2)
	if width != 1 && width != 2 && width != 4 {
		return 0, 0, errno.EINVAL
	}
	if port < uint64(r.Base) || port+width > uint64(r.Base)+uint64(r.Count) {
		return 0, 0, errno.EPERM
	}
	return uint16(port), width, 0
}

// sysPortIn implements valence_port_in(ports, port, width).
func sysPortIn(c *call) result {
	port, width, e := portAccess(c, ipc.RightRead)
	if e != 0 {
		return fail(e)
	}
	switch width {
	case 1:
		return ok(uint64(amd64.Inb(port)))
	case 2:
		return ok(uint64(amd64.Inw(port)))
	}
	return ok(uint64(amd64.Inl(port)))
}

// sysPortOut implements valence_port_out(ports, port, width, value).
func sysPortOut(c *call) result {
	port, width, e := portAccess(c, ipc.RightWrite)
	if e != 0 {
		return fail(e)
	}
	v := c.arg(3)
	switch width {
	case 1:
		amd64.Outb(port, uint8(v))
	case 2:
		amd64.Outw(port, uint16(v))
	default:
		amd64.Outl(port, uint32(v))
	}
	return ok0()
}

// sysDevInfo implements valence_dev_info(device, info *DevInfo, size).
func sysDevInfo(c *call) result {
	if e := devRoot(c); e != 0 {
		return fail(e)
	}
	var b [24]byte
	binary.LittleEndian.PutUint64(b[0:], ecam.base)
	b[8], b[9] = ecam.start, ecam.end
	if dma.Enabled() {
		binary.LittleEndian.PutUint32(b[12:], ipc.DevDMAIsolated)
	}
	n := c.arg(2)
	if n > uint64(len(b)) {
		n = uint64(len(b))
	}
	if err := c.as().CopyOut(c.arg(1), b[:n]); err != nil {
		return fail(errno.EFAULT)
	}
	return ok0()
}

// logRefusedDev says why a device request was refused: drivers are
// written against hardware, and "EPERM" alone does not say which rule.
// Rate-limited like refused executables (refused.go).
func logRefusedDev(c *call, what string, err error) {
	limit, name := c.p.refusals()
	ok, dropped, _ := limit.allow(clock.Monotonic())
	switch {
	case ok && dropped > 0:
		klog.Printf("proc: pid %d (%s): %s refused (EPERM): %v [%d more not logged]", c.p.PID, name, what, err, dropped)
	case ok:
		klog.Printf("proc: pid %d (%s): %s refused (EPERM): %v", c.p.PID, name, what, err)
	}
}
