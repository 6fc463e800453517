package rt

import (
	"errors"
	"sync/atomic"

	"valence.dev/microkernel/arch/amd64"
	"valence.dev/microkernel/mm"
)

// Device interrupts for user-space drivers (docs/drivers.md). Vectors
// firstDeviceVector up to the spurious vector are lines: each is free, a
// GSI routed through an I/O APIC (a legacy INTx line), or an MSI vector.
// The trap handler only counts: it masks a GSI line at the I/O APIC (so a
// level-triggered device that keeps its line asserted does not storm the
// CPU), counts the interrupt, bumps irqSeq and wakes the kernel goroutine
// that delivers interrupts to their notifications (obj.IRQ); that one
// unmasks the line when the driver acknowledges. MSI cannot be masked here
// (the device's MSI capability belongs to its driver), so obj.IRQ masks it
// in software: interrupts arriving before the acknowledgement are merged.
//
// The line table is changed only in goroutine context with interrupts
// off, and read by the trap handler, which runs with interrupts off: on
// one CPU they never overlap.

const (
	firstDeviceVector = 0x30
	// NumDeviceVectors is how many device interrupt lines there are.
	NumDeviceVectors = spuriousVector - firstDeviceVector
)

const (
	lineFree = iota
	lineGSI
	lineMSI
)

type irqLine struct {
	kind  uint8
	io    int    // ioapics index, for lineGSI
	gsi   uint32 // for lineGSI
	count atomic.Uint32
}

var (
	irqLines   [NumDeviceVectors]irqLine
	irqSeq     atomic.Uint32
	consoleGSI = ^uint32(0)
)

// Errors of interrupt allocation.
var (
	ErrNoVector = errors.New("rt: no free interrupt vector")
	ErrNoGSI    = errors.New("rt: no I/O APIC serves that GSI")
	ErrGSIBusy  = errors.New("rt: GSI in use")
)

// deviceIRQ serves a device interrupt (trap context).
func deviceIRQ(v uint64) {
	l := &irqLines[v-firstDeviceVector]
	switch l.kind {
	case lineGSI:
		ioapics[l.io].SetMasked(l.gsi, true)
		fallthrough
	case lineMSI:
		l.count.Add(1)
		irqSeq.Add(1)
		futexWakeKernel(uint64(irqSeqAddr()), 1<<30)
	default:
		strayIRQs++
	}
	lapic.EOI()
}

// AllocGSI routes GSI gsi (level-triggered and/or active low as given) to
// a free vector, masked, and returns the line number.
func AllocGSI(gsi uint32, level, activeLow bool) (int, error) {
	fl := mm.Lock()
	defer mm.Unlock(fl)
	if gsi == consoleGSI {
		return 0, ErrGSIBusy
	}
	io := -1
	for i, a := range ioapics {
		if gsi >= a.GSIBase && int(gsi-a.GSIBase) < a.Entries() {
			io = i
		}
	}
	if io < 0 {
		return 0, ErrNoGSI
	}
	free := -1
	for i := range irqLines {
		l := &irqLines[i]
		if l.kind == lineGSI && l.gsi == gsi {
			return 0, ErrGSIBusy // shared lines are not supported
		}
		if l.kind == lineFree && free < 0 {
			free = i
		}
	}
	if free < 0 {
		return 0, ErrNoVector
	}
	flags := uint32(amd64.RedirMasked)
	if level {
		flags |= amd64.RedirLevel
	}
	if activeLow {
		flags |= amd64.RedirActiveLow
	}
	ioapics[io].Route(gsi, uint8(firstDeviceVector+free), flags, uint8(lapic.ID()))
	l := &irqLines[free]
	l.kind, l.io, l.gsi = lineGSI, io, gsi
	l.count.Store(0)
	return free, nil
}

// AllocMSI reserves a vector for a message-signalled interrupt and returns
// the line with the address and data the device must write (Intel SDM
// vol. 3A §11.11.1-2: fixed delivery, edge, physical destination this
// CPU's local APIC).
func AllocMSI() (line int, addr uint64, data uint32, err error) {
	fl := mm.Lock()
	defer mm.Unlock(fl)
	for i := range irqLines {
		l := &irqLines[i]
		if l.kind == lineFree {
			l.kind = lineMSI
			l.count.Store(0)
			return i, 0xFEE0_0000 | uint64(lapic.ID())<<12, uint32(firstDeviceVector + i), nil
		}
	}
	return 0, 0, 0, ErrNoVector
}

// FreeIRQ masks and releases a line.
func FreeIRQ(line int) {
	fl := mm.Lock()
	defer mm.Unlock(fl)
	l := &irqLines[line]
	if l.kind == lineGSI {
		ioapics[l.io].SetMasked(l.gsi, true)
	}
	l.kind = lineFree
	l.count.Store(0)
}

// UnmaskIRQ lets a GSI line interrupt again (MSI lines are never masked
// at the I/O APIC).
func UnmaskIRQ(line int) {
	fl := mm.Lock()
	defer mm.Unlock(fl)
	if l := &irqLines[line]; l.kind == lineGSI {
		ioapics[l.io].SetMasked(l.gsi, false)
	}
}

// TakeIRQ returns how many interrupts arrived on line since the last
// call, and resets the count.
func TakeIRQ(line int) uint32 { return irqLines[line].count.Swap(0) }

// IRQSeq returns the device interrupt sequence number, for WaitIRQ.
func IRQSeq() uint32 { return irqSeq.Load() }
