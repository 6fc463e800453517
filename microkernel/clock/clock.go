package clock

import (
	"math/bits"
	"sync/atomic"

	"valence.dev/microkernel/arch/amd64"
)

var (
	bootTSC uint64 // TSC at the kernel's first instruction
	tscHz   uint64 // TSC ticks per second
	// wallOffset is the wall-clock time, in nanoseconds since the Unix epoch,
	// at monotonic time zero.
	wallOffset atomic.Int64
)

// Init records the TSC value at boot and the TSC frequency.
func Init(boot, hz uint64) {
	bootTSC = boot
	if hz == 0 {
		hz = 1e9
	}
	tscHz = hz
}

// TSCHz is the calibrated TSC frequency.
func TSCHz() uint64 { return tscHz }

// BootTSC is the TSC value at the kernel's first instruction.
func BootTSC() uint64 { return bootTSC }

// TSCToNanos converts a TSC interval to nanoseconds.
func TSCToNanos(d uint64) int64 {
	hi, lo := bits.Mul64(d, 1e9)
	if hi >= tscHz { // more than 584 years: saturate instead of faulting
		return 1<<63 - 1
	}
	q, _ := bits.Div64(hi, lo, tscHz)
	return int64(q)
}

// Monotonic returns nanoseconds since the kernel's first instruction.
func Monotonic() int64 {
	now := amd64.Rdtsc()
	if now < bootTSC {
		return 0
	}
	return TSCToNanos(now - bootTSC)
}

// Wall returns nanoseconds since the Unix epoch.
func Wall() int64 { return wallOffset.Load() + Monotonic() }

// SetWall steps the wall clock so that Wall returns ns now.
func SetWall(ns int64) { wallOffset.Store(ns - Monotonic()) }

// CalibrateTSC measures the TSC frequency against the PIT. It runs with
// interrupts off, before any timer is programmed. Under emulation a single
// window can be distorted (the emulator's thread may be descheduled between
// starting the PIT and reading the TSC), so it measures several short
// windows and takes the median.
func CalibrateTSC() uint64 {
	var rates [calibrationRuns]uint64
	for i := range rates {
		rates[i] = MeasureAgainstPIT(amd64.Rdtsc)
	}
	return Median(rates[:])
}

const (
	calibrationRuns = 5
	// calibrationHz is the inverse of one calibration window (4 ms).
	calibrationHz = 250
)

// MeasureAgainstPIT returns how fast counter advances, in ticks per
// second, over one PIT-timed window.
func MeasureAgainstPIT(counter func() uint64) uint64 {
	amd64.PITOneShot(amd64.PITHz / calibrationHz)
	start := counter()
	for i := 0; i < 1<<28 && !amd64.PITDone(); i++ {
	}
	return (counter() - start) * calibrationHz
}

// Median returns the median of v, sorting v in place (insertion sort: v is
// tiny, and this runs before the runtime exists).
func Median(v []uint64) uint64 {
	if len(v) == 0 {
		return 0
	}
	for i := 1; i < len(v); i++ {
		for j := i; j > 0 && v[j] < v[j-1]; j-- {
			v[j], v[j-1] = v[j-1], v[j]
		}
	}
	return v[len(v)/2]
}

// DaysFromCivil returns the number of days from 1970-01-01 to the given
// proleptic Gregorian date (Howard Hinnant's days_from_civil algorithm,
// restated), so the RTC can be converted without the time package.
func DaysFromCivil(y, m, d int) int64 {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return int64(era)*146097 + int64(doe) - 719468
}

// RTCToUnixNanos converts an RTC reading to nanoseconds since the epoch.
func RTCToUnixNanos(t amd64.RTCTime) int64 {
	days := DaysFromCivil(t.Year, t.Month, t.Day)
	secs := days*86400 + int64(t.Hour)*3600 + int64(t.Minute)*60 + int64(t.Second)
	return secs * 1e9
}

// MeasureAgainstTSC returns how fast counter advances, in ticks per second,
// over a window of 1/hz seconds timed by the calibrated TSC.
func MeasureAgainstTSC(counter func() uint64, hz uint64) uint64 {
	window := tscHz / hz
	start := counter()
	t0 := amd64.Rdtsc()
	for amd64.Rdtsc()-t0 < window {
	}
	return (counter() - start) * hz
}
