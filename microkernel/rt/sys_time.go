package rt

import (
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/clock"
	"valence.dev/microkernel/sched"
)

// readTimespec reads a struct timespec and returns it in nanoseconds,
// rejecting negative or unnormalised values as Linux does.
func readTimespec(addr uint64) (int64, bool) {
	if !kernelIn(addr, 16) {
		return 0, false
	}
	sec := int64(*u64At(uintptr(addr)))
	nsec := int64(*u64At(uintptr(addr + 8)))
	if sec < 0 || nsec < 0 || nsec >= 1e9 {
		return 0, false
	}
	if sec > (1<<62)/1_000_000_000 {
		sec = (1 << 62) / 1_000_000_000
	}
	return sec*1e9 + nsec, true
}

func writeTimespec(addr uint64, ns int64) bool {
	if !kernelPtr(addr, 16) {
		return false
	}
	*u64At(uintptr(addr)) = uint64(ns / 1e9)
	*u64At(uintptr(addr + 8)) = uint64(ns % 1e9)
	return true
}

// absDeadline converts an absolute time on the realtime or monotonic clock
// to a monotonic deadline.
func absDeadline(realtime bool, t int64) int64 {
	if realtime {
		return t - (clock.Wall() - clock.Monotonic())
	}
	return t
}

// clockNow returns the time on a POSIX clock.
func clockNow(id uint64, now int64) (int64, bool) {
	switch id {
	case linux.CLOCK_REALTIME, linux.CLOCK_REALTIME_COARSE:
		return clock.Wall(), true
	case linux.CLOCK_MONOTONIC, linux.CLOCK_MONOTONIC_RAW, linux.CLOCK_MONOTONIC_COARSE, linux.CLOCK_BOOTTIME:
		return now, true
	case linux.CLOCK_PROCESS_CPUTIME_ID:
		return now - sched.IdleNanos(), true
	case linux.CLOCK_THREAD_CPUTIME_ID:
		return sched.Current().RunNanos, true
	}
	return 0, false
}

// sysClockGettime implements clock_gettime(2).
func sysClockGettime(c call) {
	t, ok := clockNow(c.arg(0), c.now)
	if !ok {
		c.fail(errno.EINVAL)
		return
	}
	if !writeTimespec(c.arg(1), t) {
		c.fail(errno.EFAULT)
		return
	}
	c.ret(0)
}

// sysClockGetres implements clock_getres(2): the TSC resolves nanoseconds.
func sysClockGetres(c call) {
	if _, ok := clockNow(c.arg(0), c.now); !ok {
		c.fail(errno.EINVAL)
		return
	}
	if a := c.arg(1); a != 0 && !writeTimespec(a, 1) {
		c.fail(errno.EFAULT)
		return
	}
	c.ret(0)
}

// sysGettimeofday implements gettimeofday(2).
func sysGettimeofday(c call) {
	if a := c.arg(0); a != 0 {
		if !kernelPtr(a, 16) {
			c.fail(errno.EFAULT)
			return
		}
		w := clock.Wall()
		*u64At(uintptr(a)) = uint64(w / 1e9)
		*u64At(uintptr(a + 8)) = uint64(w % 1e9 / 1e3)
	}
	c.ret(0)
}

// sysNanosleep implements nanosleep(2). The sleep ends at the first timer
// tick at or after the deadline; a signal ends it early with EINTR.
func sysNanosleep(c call) {
	d, ok := readTimespec(c.arg(0))
	if !ok {
		c.fail(errno.EINVAL)
		return
	}
	c.ret(0)
	if d == 0 {
		sched.Yield(c.f, c.fx, c.now)
		return
	}
	sched.Block(c.f, c.fx, 0, c.now+d, 0, c.now)
}

// sysClockNanosleep implements clock_nanosleep(2), relative or
// TIMER_ABSTIME.
func sysClockNanosleep(c call) {
	id, flags := c.arg(0), c.arg(1)
	if _, ok := clockNow(id, c.now); !ok {
		c.fail(errno.EINVAL)
		return
	}
	d, ok := readTimespec(c.arg(2))
	if !ok {
		c.fail(errno.EINVAL)
		return
	}
	deadline := c.now + d
	if flags&linux.TIMER_ABSTIME != 0 {
		deadline = absDeadline(id == linux.CLOCK_REALTIME || id == linux.CLOCK_REALTIME_COARSE, d)
	}
	c.ret(0)
	if deadline <= c.now {
		return
	}
	sched.Block(c.f, c.fx, 0, deadline, 0, c.now)
}
