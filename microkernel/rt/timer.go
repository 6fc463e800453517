package rt

import (
	"valence.dev/microkernel/arch/amd64"
	"valence.dev/microkernel/clock"
	"valence.dev/microkernel/klog"
	"valence.dev/microkernel/mm"
)

// Interrupt vectors the kernel uses.
const (
	timerVector    = 0x20
	consoleVector  = 0x24
	spuriousVector = 0xFF
	// TimerHz is the rate of the periodic timer interrupt that drives
	// preemption and timeouts.
	TimerHz = 1000
)

var (
	lapic amd64.LAPIC
	ticks uint64
)

// Ticks returns the number of timer interrupts since boot.
func Ticks() uint64 { return ticks }

// setupTimer silences the legacy PICs and PIT, enables the local APIC,
// measures its timer against the PIT, and starts it periodic at TimerHz.
func setupTimer() {
	amd64.PICDisable()
	amd64.PITStop()
	base := amd64.Rdmsr(amd64.MSRAPICBase)
	pa := base &^ 0xFFF
	amd64.Wrmsr(amd64.MSRAPICBase, base|amd64.APICBaseEnable)
	va, ok := mm.MapMMIO(pa&0x000F_FFFF_FFFF_F000, 4096)
	if !ok {
		earlyPanic("timer: cannot map the local APIC")
	}
	mm.ClaimDevice(pa&0x000F_FFFF_FFFF_F000, 4096, "the local APIC")
	lapic = amd64.LAPIC{Base: va}
	lapic.Enable(spuriousVector)

	var rates [3]uint64
	for i := range rates {
		lapic.StartCalibration()
		rates[i] = clock.MeasureAgainstTSC(lapicElapsed, 500) // 2 ms
	}
	perSec := clock.Median(rates[:])
	count := perSec / TimerHz
	if count == 0 {
		earlyPanic("timer: local APIC timer did not count")
	}
	lapic.StartPeriodic(timerVector, uint32(count))
	bootStats.TimerHz = TimerHz
	bootStats.LAPICTicksSec = perSec
	rtc := amd64.ReadRTC()
	clock.SetWall(clock.RTCToUnixNanos(rtc))
	var l klog.Line
	l.S("clock: RTC says ").U(uint64(rtc.Year)).S("-").U2(uint64(rtc.Month)).S("-").U2(uint64(rtc.Day)).
		S(" ").U2(uint64(rtc.Hour)).S(":").U2(uint64(rtc.Minute)).S(":").U2(uint64(rtc.Second)).S(" UTC").Emit()
	l.S("timer: local APIC ").X(pa).S(" id ").U(uint64(lapic.ID())).S(", periodic ").U(TimerHz).
		S(" Hz (bus/16 ").Frac(perSec, 1e6, 2).S(" MHz); TSC ").Frac(clock.TSCHz(), 1e6, 2).S(" MHz").Emit()
}

func lapicElapsed() uint64 { return uint64(lapic.Elapsed()) }
