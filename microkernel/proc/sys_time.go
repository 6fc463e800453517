package proc

import (
	"encoding/binary"
	"time"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/clock"
)

// readTimespec reads a struct timespec and returns nanoseconds; negative or
// unnormalised values are EINVAL, as Linux has them.
func readTimespec(c *call, addr uint64) (int64, errno.Errno) {
	var b [16]byte
	if err := c.as().CopyIn(addr, b[:]); err != nil {
		return 0, errno.EFAULT
	}
	sec := int64(binary.LittleEndian.Uint64(b[:]))
	nsec := int64(binary.LittleEndian.Uint64(b[8:]))
	if sec < 0 || nsec < 0 || nsec >= 1e9 {
		return 0, errno.EINVAL
	}
	if sec > (1<<62)/1_000_000_000 {
		sec = (1 << 62) / 1_000_000_000
	}
	return sec*1e9 + nsec, 0
}

func writeTimespec(c *call, addr uint64, ns int64) errno.Errno {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:], uint64(ns/1e9))
	binary.LittleEndian.PutUint64(b[8:], uint64(ns%1e9))
	if err := c.as().CopyOut(addr, b[:]); err != nil {
		return errno.EFAULT
	}
	return 0
}

// absTime turns an absolute time on the realtime or monotonic clock into a
// time.Time for timers.
func absTime(realtime bool, ns int64) time.Time {
	now := time.Now()
	var cur int64
	if realtime {
		cur = clock.Wall()
	} else {
		cur = clock.Monotonic()
	}
	return now.Add(time.Duration(ns - cur))
}

// clockNow reads a POSIX clock for thread t.
func clockNow(id int32) (int64, bool) {
	switch id {
	case linux.CLOCK_REALTIME, linux.CLOCK_REALTIME_COARSE:
		return clock.Wall(), true
	case linux.CLOCK_MONOTONIC, linux.CLOCK_MONOTONIC_RAW, linux.CLOCK_MONOTONIC_COARSE, linux.CLOCK_BOOTTIME:
		return clock.Monotonic(), true
	case linux.CLOCK_PROCESS_CPUTIME_ID, linux.CLOCK_THREAD_CPUTIME_ID:
		// CPU time is not accounted per thread yet; monotonic time is an
		// upper bound that keeps callers' arithmetic sane.
		return clock.Monotonic(), true
	}
	return 0, false
}

// sysClockGettime implements clock_gettime(2).
func sysClockGettime(c *call) result {
	t, ok := clockNow(c.i32(0))
	if !ok {
		return fail(errno.EINVAL)
	}
	if e := writeTimespec(c, c.arg(1), t); e != 0 {
		return fail(e)
	}
	return ok0()
}

// sysClockGetres implements clock_getres(2).
func sysClockGetres(c *call) result {
	if _, ok := clockNow(c.i32(0)); !ok {
		return fail(errno.EINVAL)
	}
	if a := c.arg(1); a != 0 {
		if e := writeTimespec(c, a, 1); e != 0 {
			return fail(e)
		}
	}
	return ok0()
}

// sysGettimeofday implements gettimeofday(2).
func sysGettimeofday(c *call) result {
	if a := c.arg(0); a != 0 {
		w := clock.Wall()
		var b [16]byte
		binary.LittleEndian.PutUint64(b[:], uint64(w/1e9))
		binary.LittleEndian.PutUint64(b[8:], uint64(w%1e9/1e3))
		if err := c.as().CopyOut(a, b[:]); err != nil {
			return fail(errno.EFAULT)
		}
	}
	return ok0()
}

// sysTime implements time(2).
func sysTime(c *call) result {
	s := clock.Wall() / 1e9
	if a := c.arg(0); a != 0 {
		var b [8]byte
		binary.LittleEndian.PutUint64(b[:], uint64(s))
		if err := c.as().CopyOut(a, b[:]); err != nil {
			return fail(errno.EFAULT)
		}
	}
	return ok(uint64(s))
}

// sysNanosleep implements nanosleep(2); an interrupted sleep returns
// EINTR with the remaining time in rem.
func sysNanosleep(c *call) result {
	d, e := readTimespec(c, c.arg(0))
	if e != 0 {
		return fail(e)
	}
	start := clock.Monotonic()
	if c.t.sleep(time.Duration(d)) {
		return ok0()
	}
	if rem := c.arg(1); rem != 0 {
		left := d - (clock.Monotonic() - start)
		if left < 0 {
			left = 0
		}
		writeTimespec(c, rem, left)
	}
	return fail(errno.EINTR)
}

// sysClockNanosleep implements clock_nanosleep(2), relative or
// TIMER_ABSTIME. Errors are returned, not set in errno (the raw syscall
// behaves the same way).
func sysClockNanosleep(c *call) result {
	id := c.i32(0)
	if _, ok := clockNow(id); !ok {
		return fail(errno.EINVAL)
	}
	d, e := readTimespec(c, c.arg(2))
	if e != 0 {
		return fail(e)
	}
	var until time.Time
	if c.arg(1)&linux.TIMER_ABSTIME != 0 {
		until = absTime(id == linux.CLOCK_REALTIME || id == linux.CLOCK_REALTIME_COARSE, d)
	} else {
		until = time.Now().Add(time.Duration(d))
	}
	if c.t.sleep(time.Until(until)) {
		return ok0()
	}
	return fail(errno.EINTR)
}

func ok0() result { return ok(0) }
