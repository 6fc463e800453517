package rt

import (
	"fmt"

	"valence.dev/microkernel/acpi"
	"valence.dev/microkernel/arch/amd64"
	"valence.dev/microkernel/clock"
	"valence.dev/microkernel/console"
	"valence.dev/microkernel/mm"
)

// This file holds the parts of platform bring-up that run after the Go
// runtime is up, from the kernel's main goroutine: they allocate and may
// fail with errors instead of stopping the boot.

// PhysMemory reads physical memory through the direct map for parsers of
// firmware tables.
type PhysMemory struct{}

// Slice returns the n bytes at physical address pa if the direct map covers
// them.
func (PhysMemory) Slice(pa, n uint64) ([]byte, bool) {
	top := bootStats.Mem.Top
	if top < 4<<30 {
		top = 4 << 30
	}
	if pa+n < pa || pa+n > top || n > 1<<30 {
		return nil, false
	}
	return mm.PhysBytes(pa, n), true
}

// RuntimeUpNanos returns the time from the kernel's first instruction to
// now, and the part of it spent before the runtime started.
func RuntimeUpNanos() (total, early int64) {
	return clock.Monotonic(), clock.TSCToNanos(bootStats.EarlyDoneTSC - bootStats.EntryTSC)
}

var ioapics []amd64.IOAPIC

// SetupInterrupts maps the I/O APICs the MADT lists, masks all their
// inputs, and routes the COM1 interrupt to the console vector.
func SetupInterrupts(m *acpi.MADT) error {
	if m == nil || len(m.IOAPICs) == 0 {
		return fmt.Errorf("interrupts: no I/O APIC in the MADT")
	}
	fl := mm.Lock()
	defer mm.Unlock(fl)
	for _, a := range m.IOAPICs {
		va, ok := mm.MapMMIO(uint64(a.Addr), 4096)
		if !ok {
			return fmt.Errorf("interrupts: cannot map the I/O APIC at %#x", a.Addr)
		}
		mm.ClaimDevice(uint64(a.Addr), 4096, "an I/O APIC")
		io := amd64.IOAPIC{Base: va, GSIBase: a.GSIBase}
		io.MaskAll()
		ioapics = append(ioapics, io)
	}
	gsi, low, level := m.ISAToGSI(amd64.COM1IRQ)
	var flags uint32
	if low {
		flags |= amd64.RedirActiveLow
	}
	if level {
		flags |= amd64.RedirLevel
	}
	for _, io := range ioapics {
		if io.Route(gsi, consoleVector, flags, uint8(lapic.ID())) {
			consoleGSI = gsi
			// Input that arrived while the line was masked holds the UART's
			// interrupt output high: an edge-triggered input sees no new
			// edge until that data is read, so read it now.
			if console.Interrupt() {
				futexWakeKernel(uint64(consoleSeqAddr()), 1<<30)
			}
			return nil
		}
	}
	return fmt.Errorf("interrupts: no I/O APIC serves GSI %d (COM1)", gsi)
}

// IOAPICCount returns the number of I/O APICs in use.
func IOAPICCount() int { return len(ioapics) }

// StrayInterrupts returns how many interrupts arrived on unused vectors.
func StrayInterrupts() uint64 { return strayIRQs }

// FailExit ends QEMU with a failure status without a kernel panic report
// (a failed self-test). code 2 gives QEMU exit status 5.
func FailExit(code uint8) {
	amd64.DisableInterrupts()
	amd64.DebugExit(code)
	amd64.HaltForever()
}
