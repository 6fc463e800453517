package selftest

import (
	"fmt"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// syscalls checks the kernel's answers to system calls the runtime does
// not make on its own: correct results for valid calls, and for invalid
// arguments an errno rather than a crash. It also makes an unsupported call
// (acct) twice, which the kernel must answer with ENOSYS and log once.
func syscalls() error {
	var ts unix.Timespec
	bad := uintptr(0x1000) // a user-space address: never valid for the kernel
	for _, tc := range []struct {
		name string
		nr   uintptr
		args [3]uintptr
		want syscall.Errno
	}{
		{"clock_gettime(bad clock)", unix.SYS_CLOCK_GETTIME, [3]uintptr{999, uintptr(unsafe.Pointer(&ts))}, syscall.EINVAL},
		{"clock_gettime(bad pointer)", unix.SYS_CLOCK_GETTIME, [3]uintptr{unix.CLOCK_MONOTONIC, bad}, syscall.EFAULT},
		{"nanosleep(bad pointer)", unix.SYS_NANOSLEEP, [3]uintptr{bad, 0}, syscall.EINVAL},
		{"futex(unaligned)", unix.SYS_FUTEX, [3]uintptr{uintptr(unsafe.Pointer(&ts)) + 1, 0, 0}, syscall.EINVAL},
		{"mmap(length 0)", unix.SYS_MMAP, [3]uintptr{0, 0, unix.PROT_READ}, syscall.EINVAL},
		{"munmap(outside the heap)", unix.SYS_MUNMAP, [3]uintptr{bad, 4096}, syscall.EINVAL},
		{"rt_sigaction(signal 0)", unix.SYS_RT_SIGACTION, [3]uintptr{0, 0, 0}, syscall.EINVAL},
		{"write(bad fd)", unix.SYS_WRITE, [3]uintptr{99, 0, 0}, syscall.EBADF},
		{"write(bad buffer)", unix.SYS_WRITE, [3]uintptr{1, bad, 10}, syscall.EFAULT},
		{"tgkill(no such thread)", unix.SYS_TGKILL, [3]uintptr{0, 1 << 30, 0}, syscall.ESRCH},
		{"arch_prctl(bad code)", unix.SYS_ARCH_PRCTL, [3]uintptr{0x9999, 0}, syscall.EINVAL},
		{"acct (unsupported)", unix.SYS_ACCT, [3]uintptr{0}, syscall.ENOSYS},
		{"acct again", unix.SYS_ACCT, [3]uintptr{0}, syscall.ENOSYS},
	} {
		_, _, e := syscall.RawSyscall(tc.nr, tc.args[0], tc.args[1], tc.args[2])
		if e != tc.want {
			return fmt.Errorf("%s: errno %v, want %v", tc.name, e, tc.want)
		}
	}

	// Valid calls give sane answers.
	if _, _, e := syscall.RawSyscall(unix.SYS_CLOCK_GETTIME, unix.CLOCK_REALTIME, uintptr(unsafe.Pointer(&ts)), 0); e != 0 {
		return fmt.Errorf("clock_gettime(REALTIME): %v", e)
	}
	if ts.Sec < time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Unix() {
		return fmt.Errorf("the wall clock says %d seconds since 1970; the RTC was not read", ts.Sec)
	}
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil || unix.ByteSliceToString(u.Sysname[:]) != "Valence" {
		return fmt.Errorf("uname: %v %q", err, unix.ByteSliceToString(u.Sysname[:]))
	}
	var buf [64]byte
	if n, err := unix.Getrandom(buf[:], 0); err != nil || n != len(buf) || buf == [64]byte{} {
		return fmt.Errorf("getrandom: %d, %v", n, err)
	}
	if tid := unix.Gettid(); tid <= 0 {
		return fmt.Errorf("gettid = %d", tid)
	}
	return nil
}
