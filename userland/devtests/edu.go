package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand"
	"time"

	"valence.dev/drivers/lib/dev"
	"valence.dev/ipc"
	"valence.dev/libos"
)

// QEMU's "edu" device (docs/specs/edu.txt in QEMU's source): PCI 1234:11e8,
// a 1 MiB register BAR, one MSI vector, and a DMA engine that copies between
// RAM and a 4 KiB buffer inside the device at device address 0x40000.
const (
	eduVendor, eduDevice = 0x1234, 0x11e8

	eduID        = 0x00 // 0x010000ed for version 1.0
	eduLiveness  = 0x04 // reads back the inverse of what was written
	eduFactorial = 0x08
	eduStatus    = 0x20 // bit 0: computing
	eduIRQStatus = 0x24
	eduIRQRaise  = 0x60
	eduIRQAck    = 0x64
	eduDMASrc    = 0x80
	eduDMADst    = 0x88
	eduDMACount  = 0x90
	eduDMACmd    = 0x98 // bit 0 start (clears when done), bit 1 device to RAM, bit 2 interrupt 0x100 when done

	eduBuffer = 0x40000
	// eduXfer is the most one DMA may move: QEMU 7.2's range check
	// wants the transfer's end strictly inside the 4 KiB buffer.
	eduXfer = 4000
)

func init() {
	addTest("edu-mmio", testEduMMIO)
	addTest("edu-msi", testEduMSI)
	addTest("edu-dma", testEduDMA)
}

// edu is the device, found on bus 0 and set up as its driver would.
type edu struct {
	cfg  *dev.MMIO // its 4 KiB of configuration space
	regs *dev.MMIO // BAR0
	msi  int       // offset of the MSI capability
	fn   uint16    // bus<<8 | device<<3 | function
}

var theEdu *edu

// findEdu scans bus 0 through the ECAM window for the device, maps its
// BAR0 and enables memory decoding and bus mastering (PCI Local Bus 3.0
// §6.2.2, Command register).
func findEdu() (*edu, error) {
	if theEdu != nil {
		return theEdu, nil
	}
	info, err := libos.DevInfo(root)
	if err != nil {
		return nil, err
	}
	if info.ECAMBase == 0 {
		return nil, errors.New("the kernel reports no PCI configuration window")
	}
	h, err := libos.DevMMIO(root, info.ECAMBase, 1<<20) // bus 0
	if err != nil {
		return nil, fmt.Errorf("mapping bus 0's configuration space: %w", err)
	}
	bus, err := dev.MapMMIO(h)
	if err != nil {
		return nil, err
	}
	for d := uint64(0); d < 32; d++ {
		cfg, _ := bus.Sub(d<<15, 4096)
		if cfg.Read16(0) != eduVendor || cfg.Read16(2) != eduDevice {
			continue
		}
		bar := uint64(cfg.Read32(0x10))
		if bar&1 != 0 || bar&^0xF == 0 {
			return nil, fmt.Errorf("edu at 00:%02x.0: BAR0 %#x is not an assigned memory BAR", d, bar)
		}
		rh, err := libos.DevMMIO(root, bar&^0xF, 1<<20)
		if err != nil {
			return nil, fmt.Errorf("edu BAR0 at %#x: %w", bar&^0xF, err)
		}
		regs, err := dev.MapMMIO(rh)
		if err != nil {
			return nil, err
		}
		cfg.Write16(4, cfg.Read16(4)|1<<1|1<<2|1<<10) // memory space, bus master, INTx disabled
		e := &edu{cfg: cfg, regs: regs, fn: uint16(d << 3)}
		for p, n := uint64(cfg.Read8(0x34))&^3, 0; p >= 0x40 && n < 48; p, n = uint64(cfg.Read8(p+1))&^3, n+1 {
			if cfg.Read8(p) == 0x05 {
				e.msi = int(p)
			}
		}
		if e.msi == 0 {
			return nil, errors.New("edu has no MSI capability")
		}
		theEdu = e
		return e, nil
	}
	return nil, errors.New("no edu device (1234:11e8) on bus 0: QEMU needs -device edu")
}

func testEduMMIO() error {
	e, err := findEdu()
	if err != nil {
		return err
	}
	if id := e.regs.Read32(eduID); id&0xFFFF != 0xED {
		return fmt.Errorf("identification register %#x, want 0x..00ed", id)
	}
	for _, v := range []uint32{0, 0x12345678, 0xFFFFFFFF} {
		e.regs.Write32(eduLiveness, v)
		if got := e.regs.Read32(eduLiveness); got != ^v {
			return fmt.Errorf("liveness: wrote %#x, read %#x", v, got)
		}
	}
	e.regs.Write32(eduFactorial, 10)
	if err := poll(func() bool { return e.regs.Read32(eduStatus)&1 == 0 }); err != nil {
		return fmt.Errorf("factorial: %w", err)
	}
	if got := e.regs.Read32(eduFactorial); got != 3628800 {
		return fmt.Errorf("10! = %d by the device", got)
	}
	return nil
}

// poll waits for cond with a generous bound: TCG on a loaded host is slow.
func poll(cond func() bool) error {
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			return dev.ErrTimeout
		}
		time.Sleep(time.Millisecond)
	}
	return nil
}

// enableMSI programs the device's MSI capability with what the kernel
// gave (PCI Local Bus 3.0 §6.8.1: message control, address, data).
func (e *edu) enableMSI(m ipc.MSI) {
	c := uint64(e.msi)
	ctl := e.cfg.Read16(c + 2)
	e.cfg.Write32(c+4, uint32(m.Addr))
	if ctl&(1<<7) != 0 { // 64-bit address
		e.cfg.Write32(c+8, uint32(m.Addr>>32))
		e.cfg.Write16(c+12, uint16(m.Data))
	} else {
		e.cfg.Write16(c+8, uint16(m.Data))
	}
	e.cfg.Write16(c+2, ctl&^(7<<4)|1) // one message, enabled
}

// eduIRQ allocates an MSI for the device and binds it to a notification.
func eduIRQ(e *edu) (irq, n ipc.Handle, err error) {
	irq, m, err := libos.DevMSI(root)
	if err != nil {
		return 0, 0, err
	}
	e.enableMSI(m)
	if n, err = libos.NewNotification(); err != nil {
		return 0, 0, err
	}
	return irq, n, libos.IRQBind(irq, n, 1)
}

// waitBits waits for the notification, failing after a generous bound.
func waitBits(n ipc.Handle) (uint64, error) {
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		b, err := libos.NotifyPoll(n)
		if b != 0 || err != nil {
			return b, err
		}
		time.Sleep(time.Millisecond)
	}
	return 0, errors.New("no interrupt within 30 s")
}

// testEduMSI: the device's interrupt arrives as notification bits, once;
// further interrupts before the acknowledgement are merged and delivered
// at it.
func testEduMSI() error {
	e, err := findEdu()
	if err != nil {
		return err
	}
	irq, n, err := eduIRQ(e)
	if err != nil {
		return err
	}
	defer libos.Close(irq)
	defer libos.Close(n)
	e.regs.Write32(eduIRQRaise, 1)
	if b, err := waitBits(n); err != nil || b != 1 {
		return fmt.Errorf("first interrupt: bits %#x, %v", b, err)
	}
	if s := e.regs.Read32(eduIRQStatus); s != 1 {
		return fmt.Errorf("interrupt status %#x, want 1", s)
	}
	e.regs.Write32(eduIRQAck, 1)
	// Not acknowledged to the kernel yet: two more interrupts stay masked.
	e.regs.Write32(eduIRQRaise, 2)
	e.regs.Write32(eduIRQAck, 2)
	e.regs.Write32(eduIRQRaise, 4)
	e.regs.Write32(eduIRQAck, 4)
	time.Sleep(100 * time.Millisecond)
	if b, _ := libos.NotifyPoll(n); b != 0 {
		return fmt.Errorf("an interrupt got through before the acknowledgement (bits %#x)", b)
	}
	if err := libos.IRQAck(irq); err != nil {
		return err
	}
	if b, err := waitBits(n); err != nil || b != 1 {
		return fmt.Errorf("the merged interrupts at the acknowledgement: bits %#x, %v", b, err)
	}
	if err := libos.IRQAck(irq); err != nil {
		return err
	}
	time.Sleep(50 * time.Millisecond)
	if b, _ := libos.NotifyPoll(n); b != 0 {
		return fmt.Errorf("a second delivery for merged interrupts (bits %#x)", b)
	}
	// And through the driver library, with a context.
	q, err := dev.NewKernelIRQ(irq)
	if err != nil {
		return err
	}
	e.regs.Write32(eduIRQRaise, 8)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := q.Wait(ctx); err != nil {
		return fmt.Errorf("KernelIRQ.Wait: %v", err)
	}
	e.regs.Write32(eduIRQAck, 8)
	if err := q.Ack(); err != nil {
		return err
	}
	short, c2 := context.WithTimeout(ctx, 50*time.Millisecond)
	defer c2()
	if err := q.Wait(short); !errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("KernelIRQ.Wait with nothing pending: %v, want the context's deadline", err)
	}
	return nil
}

// testEduDMA: the device copies a random page from DMA memory into its
// buffer and back into other DMA memory, found through the kernel's
// device addresses, and says so with an interrupt.
func testEduDMA() error {
	e, err := findEdu()
	if err != nil {
		return err
	}
	irq, n, err := eduIRQ(e)
	if err != nil {
		return err
	}
	defer libos.Close(irq)
	defer libos.Close(n)
	// Through the device's own capability: with an IOMMU, DMA memory made
	// through the root is no device's to reach.
	fn, err := libos.DevDerive(root, e.fn)
	if err != nil {
		return err
	}
	defer libos.Close(fn)
	dma := dev.NewKernelDMA(fn)
	src, err := dma.Alloc(4096, 4096)
	if err != nil {
		return err
	}
	defer dma.Free(src)
	dst, err := dma.Alloc(4096, 4096)
	if err != nil {
		return err
	}
	defer dma.Free(dst)
	rand.New(rand.NewSource(time.Now().UnixNano())).Read(src.Bytes)
	run := func(from, to uint64, cmd uint64) error {
		e.regs.Write64(eduDMASrc, from)
		e.regs.Write64(eduDMADst, to)
		e.regs.Write64(eduDMACount, eduXfer)
		e.regs.Write64(eduDMACmd, cmd|1)
		return poll(func() bool { return e.regs.Read64(eduDMACmd)&1 == 0 })
	}
	if err := run(src.Addr, eduBuffer, 0); err != nil {
		return fmt.Errorf("DMA from RAM: %w", err)
	}
	if err := run(eduBuffer, dst.Addr, 2|4); err != nil {
		return fmt.Errorf("DMA to RAM: %w", err)
	}
	if b, err := waitBits(n); err != nil || b != 1 {
		return fmt.Errorf("DMA completion interrupt: bits %#x, %v", b, err)
	}
	if s := e.regs.Read32(eduIRQStatus); s&0x100 == 0 {
		return fmt.Errorf("interrupt status %#x lacks DMA completion (0x100)", s)
	}
	e.regs.Write32(eduIRQAck, 0x100)
	libos.IRQAck(irq)
	for i, b := range dst.Bytes[eduXfer:] {
		if b != 0 {
			return fmt.Errorf("the device wrote byte %d, past the %d it was asked to", eduXfer+i, eduXfer)
		}
	}
	if !bytes.Equal(src.Bytes[:eduXfer], dst.Bytes[:eduXfer]) {
		i := 0
		for src.Bytes[i] == dst.Bytes[i] {
			i++
		}
		return fmt.Errorf("the page came back different from byte %d (%#x, want %#x)", i, dst.Bytes[i], src.Bytes[i])
	}
	return nil
}
