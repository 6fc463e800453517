package main

import (
	"bytes"
	"errors"
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// syslog-abuse: syslog(2) copies the kernel's log into user memory, so
// its length and pointer are checked: a bad pointer is EFAULT, a
// negative length or unknown action EINVAL, a huge length takes what
// there is; a reader with a tiny buffer gets whole records' worth only.
func init() { addTest("syslog-abuse", syslogAbuse) }

func klogctl(typ int, buf uintptr, n int) (int, error) {
	r, _, e := unix.Syscall(unix.SYS_SYSLOG, uintptr(typ), buf, uintptr(n))
	if e != 0 {
		return int(r), e
	}
	return int(r), nil
}

func syslogAbuse() error {
	size, err := klogctl(unix.SYSLOG_ACTION_SIZE_BUFFER, 0, 0)
	if err != nil || size <= 0 {
		return fmt.Errorf("SIZE_BUFFER: %d, %v", size, err)
	}
	big := make([]byte, size*2)
	n, err := unix.Klogctl(unix.SYSLOG_ACTION_READ_ALL, big)
	if err != nil || n <= 0 || n > size*2 {
		return fmt.Errorf("READ_ALL into %d bytes: %d, %v", len(big), n, err)
	}
	if !bytes.HasPrefix(big, []byte("<6>[")) {
		return fmt.Errorf("READ_ALL does not start with a record: %q", big[:min(n, 40)])
	}
	small := make([]byte, 8)
	if n, err := unix.Klogctl(unix.SYSLOG_ACTION_READ_ALL, small); err != nil || n > len(small) {
		return fmt.Errorf("READ_ALL into 8 bytes: %d, %v", n, err)
	}
	bad := []struct {
		what string
		typ  int
		buf  uintptr
		n    int
		want error
	}{
		{"READ_ALL to address 1", unix.SYSLOG_ACTION_READ_ALL, 1, 4096, unix.EFAULT},
		{"READ_ALL to kernel memory", unix.SYSLOG_ACTION_READ_ALL, 0xffffffff80200000, 4096, unix.EFAULT},
		{"READ_ALL of a negative length", unix.SYSLOG_ACTION_READ_ALL, uintptr(unsafe.Pointer(&big[0])), -1, unix.EINVAL},
		{"READ_ALL to nil", unix.SYSLOG_ACTION_READ_ALL, 0, 10, unix.EINVAL},
		{"action 11", 11, 0, 0, unix.EINVAL},
		{"action -1", -1, 0, 0, unix.EINVAL},
		{"console level 0", unix.SYSLOG_ACTION_CONSOLE_LEVEL, 0, 0, unix.EINVAL},
		{"console level 9", unix.SYSLOG_ACTION_CONSOLE_LEVEL, 0, 9, unix.EINVAL},
	}
	for _, b := range bad {
		if _, err := klogctl(b.typ, b.buf, b.n); !errors.Is(err, b.want) {
			return fmt.Errorf("syslog %s: %v, want %v", b.what, err, b.want)
		}
	}
	return nil
}
