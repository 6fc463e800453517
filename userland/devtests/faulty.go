package main

import (
	"errors"
	"fmt"
	"strconv"
	"syscall"
	"time"

	"valence.dev/drivers/lib/dev"
	"valence.dev/ipc"
	"valence.dev/libos"
)

// A faulty driver, in child processes holding what pcid would give a
// driver for the edu device (its function's capability and a BAR window):
// it asks for memory outside its BAR, reads past its window, executes port
// I/O instructions, and floods interrupts it never acknowledges. Each is
// refused or faults, only the driver dies, and the kernel says why.

// inb executes IN from port (inb_amd64.s).
func inb(port uint16) uint8

func init() {
	addTest("faulty-driver", testFaultyDriver)
	addRole("faulty", roleFaulty)
}

func testFaultyDriver() error {
	e, err := findEdu()
	if err != nil {
		return err
	}
	fn, err := libos.DevDerive(root, e.fn)
	if err != nil {
		return err
	}
	defer libos.Close(fn)
	bar := uint64(e.cfg.Read32(0x10)) &^ 0xF
	win, err := libos.DevMMIO(root, bar, 1<<20)
	if err != nil {
		return err
	}
	defer libos.Close(win)
	irq, n, err := eduIRQ(e)
	if err != nil {
		return err
	}
	libos.Close(n) // the child binds its own
	defer libos.Close(irq)
	type faultyCase struct {
		mode string
		want int // how the child must end: an exit status, or -signal
	}
	cases := []faultyCase{
		{"mmio", 0},      // every request outside its device refused
		{"wild", 2},      // its BAR's physical address as a pointer: SIGSEGV, the Go runtime exits 2
		{"ports", 2},     // IN in ring 3: #GP, SIGSEGV, exit 2
		{"irq-flood", 0}, // a thousand interrupts, never acknowledged: one notification
	}
	// Its device told to write into the kernel: only an IOMMU can stop
	// that, and the kernel then kills the driver.
	info, err := libos.DevInfo(root)
	if err != nil {
		return err
	}
	if info.Flags&ipc.DevDMAIsolated != 0 {
		cases = append(cases, faultyCase{"dma", -int(syscall.SIGKILL)})
	} else {
		fmt.Println("devtests: faulty-driver: DMA is not isolated (no IOMMU): the DMA attack is not tried")
	}
	for _, c := range cases {
		handles := []ipc.Handle{fn, win}
		if c.mode == "irq-flood" {
			handles = append(handles, irq)
		}
		p, _, err := libos.ProcSpawn(self(), []string{"devtests", "role", "faulty", c.mode, strconv.FormatUint(bar, 10)}, nil, handles)
		if err != nil {
			return err
		}
		st, err := libos.ProcWait(p)
		libos.Close(p)
		if err != nil {
			return err
		}
		if c.want < 0 {
			if !st.Signaled() || st.Signal() != syscall.Signal(-c.want) {
				return fmt.Errorf("faulty driver %q ended with wait status %#x, want killed by signal %d", c.mode, uint32(st), -c.want)
			}
			continue
		}
		if !st.Exited() || st.ExitStatus() != c.want {
			return fmt.Errorf("faulty driver %q ended with wait status %#x, want exit status %d", c.mode, uint32(st), c.want)
		}
	}
	// The kernel still answers, and the device still works.
	if err := testEduMMIO(); err != nil {
		return fmt.Errorf("after the faulty drivers: %w", err)
	}
	return nil
}

// roleFaulty is the faulty driver: handles [function, BAR window, IRQ?].
func roleFaulty(args []string) int {
	hs := libos.InitialHandles()
	if len(args) != 2 || len(hs) < 2 {
		return 9
	}
	fn, win := hs[0], hs[1]
	switch args[0] {
	case "mmio":
		bad := 0
		for _, r := range []struct{ phys, size uint64 }{{0xB0000000, 4096}, {0xFEE00000, 4096}, {0x100000, 4096}} {
			if _, err := libos.DevMMIO(fn, r.phys, r.size); !errors.Is(err, syscall.EPERM) {
				fmt.Printf("devtests: faulty: a window at %#x through the function's capability: %v\n", r.phys, err)
				bad++
			}
		}
		if _, err := libos.DevPorts(fn, 0x2F8, 8); !errors.Is(err, syscall.EPERM) {
			bad++
		}
		return bad
	case "wild":
		// A classic driver bug: the register's physical address, read
		// from configuration space, used as a pointer.
		phys, _ := strconv.ParseUint(args[1], 10, 64)
		wildRead(uintptr(phys))
		return 7 // not reached: the read faults
	case "ports":
		fmt.Println("devtests: faulty: in from COM1 in ring 3")
		inb(0x3F8)
		return 7
	case "dma":
		// Become the function's driver (DMA memory through its
		// capability), then aim the device's DMA engine at the kernel
		// image's physical pages instead.
		d, err := libos.DMACreate(fn, 4096)
		if err != nil {
			return 8
		}
		defer libos.Close(d)
		regs, err := dev.MapMMIO(win)
		if err != nil {
			return 8
		}
		fmt.Println("devtests: faulty: DMA into the kernel's memory at 0x200000")
		for i := 0; i < 100; i++ {
			regs.Write64(eduDMASrc, eduBuffer)
			regs.Write64(eduDMADst, 0x200000)
			regs.Write64(eduDMACount, 64)
			regs.Write64(eduDMACmd, 1|2)
			time.Sleep(10 * time.Millisecond)
		}
		return 7 // not reached: the kernel kills the driver at the first fault
	case "irq-flood":
		if len(hs) < 3 {
			return 9
		}
		regs, err := dev.MapMMIO(win)
		if err != nil {
			return 8
		}
		n, err := libos.NewNotification()
		if err != nil || libos.IRQBind(hs[2], n, 1) != nil {
			return 8
		}
		for i := 0; i < 1000; i++ {
			regs.Write32(eduIRQRaise, 1)
			regs.Write32(eduIRQAck, 1)
		}
		time.Sleep(100 * time.Millisecond)
		got := 0
		for {
			b, _ := libos.NotifyPoll(n)
			if b == 0 {
				break
			}
			got++
		}
		if got != 1 {
			fmt.Println("devtests: faulty: " + strconv.Itoa(got) + " notifications for a flood never acknowledged, want 1")
			return 1
		}
		return 0
	}
	return 9
}
