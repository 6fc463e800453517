package amd64

// The local APIC (SDM vol. 3A chapter 10), used in xAPIC mode through its
// memory-mapped registers. The kernel uses it for the periodic timer and to
// acknowledge interrupts routed by the I/O APIC.
const (
	lapicID      = 0x020
	lapicEOI     = 0x0B0
	lapicSVR     = 0x0F0 // spurious interrupt vector register
	lapicTPR     = 0x080
	lapicLVTTmr  = 0x320
	lapicLINT0   = 0x350
	lapicLINT1   = 0x360
	lapicLVTErr  = 0x370
	lapicTmrInit = 0x380
	lapicTmrCur  = 0x390
	lapicTmrDiv  = 0x3E0

	lvtMasked   = 1 << 16
	lvtPeriodic = 1 << 17

	// APICBaseEnable is the global enable bit in IA32_APIC_BASE.
	APICBaseEnable = 1 << 11
)

// LAPIC is a local APIC mapped at a virtual address.
type LAPIC struct{ Base uintptr }

func (l LAPIC) read(reg uintptr) uint32     { return MMIORead32(l.Base + reg) }
func (l LAPIC) write(reg uintptr, v uint32) { MMIOWrite32(l.Base+reg, v) }

// Enable software-enables the APIC with spurious vector spurious, accepts
// every priority, and masks LINT0/LINT1 (the legacy PIC path is not used).
func (l LAPIC) Enable(spurious uint8) {
	l.write(lapicTPR, 0)
	l.write(lapicLINT0, lvtMasked)
	l.write(lapicLINT1, lvtMasked)
	l.write(lapicLVTErr, lvtMasked)
	l.write(lapicSVR, 0x100|uint32(spurious))
}

// ID returns the APIC ID of this CPU.
func (l LAPIC) ID() uint32 { return l.read(lapicID) >> 24 }

// EOI acknowledges the interrupt being serviced.
func (l LAPIC) EOI() { l.write(lapicEOI, 0) }

// timerDivide16 is the divide-configuration encoding for divide by 16.
const timerDivide16 = 0x3

// StartCalibration starts the timer counting down from the maximum, masked,
// so the caller can measure its rate against a reference clock.
func (l LAPIC) StartCalibration() {
	l.write(lapicTmrDiv, timerDivide16)
	l.write(lapicLVTTmr, lvtMasked)
	l.write(lapicTmrInit, 0xFFFFFFFF)
}

// Elapsed returns how many ticks the timer counted since StartCalibration.
func (l LAPIC) Elapsed() uint32 { return 0xFFFFFFFF - l.read(lapicTmrCur) }

// StartPeriodic makes the timer raise vector every count ticks (of the bus
// clock divided by 16).
func (l LAPIC) StartPeriodic(vector uint8, count uint32) {
	l.write(lapicTmrDiv, timerDivide16)
	l.write(lapicLVTTmr, lvtPeriodic|uint32(vector))
	l.write(lapicTmrInit, count)
}
