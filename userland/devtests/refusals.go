package main

import (
	"errors"
	"fmt"
	"syscall"

	"valence.dev/ipc"
	"valence.dev/libos"
)

// Requests the kernel must refuse whoever makes them, each with its errno.

func init() {
	addTest("refuse-mmio", testRefuseMMIO)
	addTest("refuse-ports", testRefusePorts)
	addTest("refuse-dma", testRefuseDMA)
	addTest("refuse-irq", testRefuseIRQ)
}

// want checks that err is the errno e.
func want(what string, err error, e syscall.Errno) error {
	if !errors.Is(err, e) {
		return fmt.Errorf("%s: got %v, want %v", what, err, e)
	}
	return nil
}

func testRefuseMMIO() error {
	cases := []struct {
		what       string
		phys, size uint64
		e          syscall.Errno
	}{
		{"the first megabyte", 0xA0000, 0x1000, syscall.EPERM},
		{"RAM (the kernel image)", 0x200000, 0x1000, syscall.EPERM},
		{"RAM at 512 MiB", 0x2000_0000, 0x10000, syscall.EPERM},
		{"the local APIC", 0xFEE0_0000, 0x1000, syscall.EPERM},
		{"the I/O APIC", 0xFEC0_0000, 0x1000, syscall.EPERM},
		{"a window straddling the end of RAM", 0x3FF0_0000, 0x20_0000, syscall.EPERM},
		{"unaligned", 0xB000_0800, 0x1000, syscall.EINVAL},
		{"zero size", 0xB000_0000, 0, syscall.EINVAL},
		{"odd size", 0xB000_0000, 0x800, syscall.EINVAL},
		{"wrapping", 0xFFFF_FFFF_FFFF_F000, 0x2000, syscall.EPERM},
		{"beyond physical addresses", 1 << 60, 0x1000, syscall.EPERM},
		{"too big", 0xB000_0000, 1 << 40, syscall.EINVAL},
	}
	for _, c := range cases {
		h, err := libos.DevMMIO(root, c.phys, c.size)
		if err == nil {
			libos.Close(h)
		}
		if err := want("mmio over "+c.what, err, c.e); err != nil {
			return err
		}
	}
	// A real window may be mapped for reading and writing, never for
	// execution.
	info, err := libos.DevInfo(root)
	if err != nil || info.ECAMBase == 0 {
		return fmt.Errorf("dev info: %+v, %v", info, err)
	}
	h, err := libos.DevMMIO(root, info.ECAMBase, 0x1000)
	if err != nil {
		return err
	}
	defer libos.Close(h)
	if _, err := libos.Map(h, syscall.PROT_READ|syscall.PROT_EXEC); !errors.Is(err, syscall.EACCES) {
		return fmt.Errorf("mapping device registers executable: %v, want EACCES", err)
	}
	return nil
}

func testRefusePorts() error {
	cases := []struct {
		what        string
		base, count uint16
		e           syscall.Errno
	}{
		{"COM1", 0x3F8, 8, syscall.EPERM},
		{"a range ending in COM1", 0x3F0, 9, syscall.EPERM},
		{"the PIC", 0x20, 2, syscall.EPERM},
		{"the PIT", 0x40, 4, syscall.EPERM},
		{"the CMOS clock", 0x70, 2, syscall.EPERM},
		{"QEMU's debug exit", 0xF4, 1, syscall.EPERM},
		{"PCI configuration ports", 0xCF8, 8, syscall.EPERM},
		{"ACPI power-off", 0x604, 2, syscall.EPERM},
		{"no ports", 0x2F8, 0, syscall.EINVAL},
		{"past port 0xFFFF", 0xFFF0, 0x20, syscall.EINVAL},
	}
	for _, c := range cases {
		h, err := libos.DevPorts(root, c.base, c.count)
		if err == nil {
			libos.Close(h)
		}
		if err := want("ports over "+c.what, err, c.e); err != nil {
			return err
		}
	}
	// COM2 is nobody's: granted, and checked on every access.
	h, err := libos.DevPorts(root, 0x2F8, 8)
	if err != nil {
		return err
	}
	defer libos.Close(h)
	if _, err := libos.PortIn(h, 0x2FD, 1); err != nil { // line status
		return fmt.Errorf("reading COM2's line status: %v", err)
	}
	for _, c := range []struct {
		port  uint16
		width int
		e     syscall.Errno
	}{{0x3F8, 1, syscall.EPERM}, {0x2FF, 2, syscall.EPERM}, {0x2F7, 1, syscall.EPERM}, {0x2F8, 3, syscall.EINVAL}, {0x2F8, 8, syscall.EINVAL}} {
		_, err := libos.PortIn(h, c.port, c.width)
		if err := want(fmt.Sprintf("in %#x width %d", c.port, c.width), err, c.e); err != nil {
			return err
		}
		if err := want(fmt.Sprintf("out %#x width %d", c.port, c.width), libos.PortOut(h, c.port, c.width, 0), c.e); err != nil {
			return err
		}
	}
	// Rights: a read-only copy cannot write.
	ro, err := libos.Dup(h, ipc.RightRead, 0)
	if err != nil {
		return err
	}
	defer libos.Close(ro)
	return want("out through a read-only range", libos.PortOut(ro, 0x2F9, 1, 0), syscall.EACCES)
}

func testRefuseDMA() error {
	for _, size := range []uint64{0, ipc.MaxDMA + 1, 1 << 62} {
		h, err := libos.DMACreate(root, size)
		if err == nil {
			libos.Close(h)
		}
		if err := want(fmt.Sprintf("DMA memory of %d bytes", size), err, syscall.EINVAL); err != nil {
			return err
		}
	}
	h, err := libos.DMACreate(root, 3*4096)
	if err != nil {
		return err
	}
	defer libos.Close(h)
	p0, err := libos.MemPhys(h, 0)
	if err != nil {
		return err
	}
	p2, err := libos.MemPhys(h, 2*4096+5)
	if err != nil || p2 != p0+2*4096+5 {
		return fmt.Errorf("DMA memory is not contiguous: page 0 at %#x, byte 8197 at %#x (%v)", p0, p2, err)
	}
	if _, err := libos.MemPhys(h, 3*4096); !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("address past the end: %v, want EINVAL", err)
	}
	plain, err := libos.NewMemory(4096)
	if err != nil {
		return err
	}
	defer libos.Close(plain)
	if _, err := libos.MemPhys(plain, 0); !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("the address of ordinary memory: %v, want EINVAL", err)
	}
	// The memory is charged like any memory object: with the limit set
	// to 64 KiB, 128 KiB of DMA memory is refused.
	lim := libos.Rlimit{Cur: 64 << 10, Max: 64 << 10}
	prev, err := libos.Prlimit(0, ipc.RlimitMemObjects, &lim)
	if err != nil {
		return err
	}
	defer libos.Prlimit(0, ipc.RlimitMemObjects, &prev)
	big, err := libos.DMACreate(root, 128<<10)
	if err == nil {
		libos.Close(big)
	}
	return want("DMA memory beyond the memory-object limit", err, syscall.ENOMEM)
}

func testRefuseIRQ() error {
	// The console's line (ISA IRQ 4 is GSI 4 on QEMU) is the kernel's.
	if h, err := libos.DevIRQ(root, 4, 0); !errors.Is(err, syscall.EBUSY) {
		libos.Close(h)
		return fmt.Errorf("the console's GSI: %v, want EBUSY", err)
	}
	if h, err := libos.DevIRQ(root, 200, 0); !errors.Is(err, syscall.EINVAL) {
		libos.Close(h)
		return fmt.Errorf("a GSI no I/O APIC has: %v, want EINVAL", err)
	}
	if h, err := libos.DevIRQ(root, 10, 1<<5); !errors.Is(err, syscall.EINVAL) {
		libos.Close(h)
		return fmt.Errorf("unknown flags: %v, want EINVAL", err)
	}
	a, err := libos.DevIRQ(root, 10, ipc.IRQLevel|ipc.IRQActiveLow)
	if err != nil {
		return fmt.Errorf("GSI 10: %v", err)
	}
	if h, err := libos.DevIRQ(root, 10, 0); !errors.Is(err, syscall.EBUSY) {
		libos.Close(h)
		libos.Close(a)
		return fmt.Errorf("GSI 10 twice: %v, want EBUSY", err)
	}
	libos.Close(a)
	b, err := libos.DevIRQ(root, 10, 0)
	if err != nil {
		return fmt.Errorf("GSI 10 after its handle was closed: %v", err)
	}
	libos.Close(b)
	// Binding needs an IRQ and a notification, with the rights.
	n, err := libos.NewNotification()
	if err != nil {
		return err
	}
	defer libos.Close(n)
	if err := libos.IRQBind(n, n, 1); !errors.Is(err, syscall.EINVAL) {
		return fmt.Errorf("binding a notification as an IRQ: %v, want EINVAL", err)
	}
	if err := libos.IRQAck(b); !errors.Is(err, syscall.EBADF) && !errors.Is(err, syscall.ESTALE) {
		return fmt.Errorf("acknowledging through a closed handle: %v, want EBADF or ESTALE", err)
	}
	return nil
}
