// Package clock keeps the kernel's time: a monotonic clock counted from the
// kernel's first instruction, and the wall clock.
//
// Both derive from the time-stamp counter, read at the first instructions of
// entry32 and calibrated against the 8254 PIT during boot. Reading the TSC is
// one instruction and needs no lock, which matters because the Go runtime asks
// for the time thousands of times per second. The wall clock is the CMOS RTC
// reading at boot plus the monotonic time since; it can be stepped with
// SetWall.
//
// Invariants: after Init, Monotonic never decreases (the TSC is invariant on
// the CPUs QEMU emulates and only one CPU runs). Everything here is safe in
// trap context and before the Go runtime starts: no allocation, no locks.
package clock
