package main

import (
	"errors"
	"fmt"
	"runtime/debug"
	"syscall"
	"unsafe"
)

func testMmap() error {
	const size = 16 << 20
	b, err := syscall.Mmap(-1, 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return err
	}
	for i := 0; i < size; i += 4096 { // demand paging: every page starts zeroed
		if b[i] != 0 {
			return fmt.Errorf("fresh page at offset %d is not zero", i)
		}
		b[i] = byte(i >> 12)
	}
	for i := 0; i < size; i += 4096 {
		if b[i] != byte(i>>12) {
			return fmt.Errorf("page at offset %d lost its contents", i)
		}
	}
	if err := syscall.Madvise(b[:1<<20], syscall.MADV_DONTNEED); err != nil {
		return err
	}
	if b[4096] != 0 {
		return errors.New("MADV_DONTNEED did not discard the page")
	}
	if err := syscall.Munmap(b); err != nil {
		return err
	}
	// Invalid requests are errors, not crashes.
	if _, err := syscall.Mmap(-1, 0, 0, syscall.PROT_READ, syscall.MAP_PRIVATE|syscall.MAP_ANON); err != syscall.EINVAL {
		return fmt.Errorf("mmap of 0 bytes: %v, want EINVAL", err)
	}
	if _, _, e := syscall.Syscall(syscall.SYS_MUNMAP, 0xffff800000000000, 4096, 0); e != syscall.EINVAL {
		return fmt.Errorf("munmap of a kernel address: %v, want EINVAL", e)
	}
	return nil
}

// testMprotectFault makes a page read-only, writes to it, and recovers the
// fault as a Go panic (debug.SetPanicOnFault), which needs SIGSEGV with the
// right address delivered on the faulting thread.
func testMprotectFault() (err error) {
	b, err := syscall.Mmap(-1, 0, 8192, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		return err
	}
	defer syscall.Munmap(b)
	b[4096] = 7
	if err := syscall.Mprotect(b[4096:], syscall.PROT_READ); err != nil {
		return err
	}
	if b[4096] != 7 {
		return errors.New("mprotect lost the page's contents")
	}
	old := debug.SetPanicOnFault(true)
	defer debug.SetPanicOnFault(old)
	defer func() {
		r := recover()
		fe, isFault := r.(interface{ Addr() uintptr })
		if !isFault || fe.Addr() != uintptr(unsafe.Pointer(&b[4096])) {
			err = fmt.Errorf("recovered %v, want a fault at %p", r, &b[4096])
		}
	}()
	b[4096] = 8
	return errors.New("writing a read-only page did not fault")
}

// testBadPointers passes pointers the kernel must refuse: each call fails
// with EFAULT and the process carries on.
func testBadPointers() error {
	kernel := uintptr(0xffff800000001000)
	unmapped := uintptr(0x1000)
	for _, tc := range []struct {
		name string
		nr   uintptr
		a    [3]uintptr
	}{
		{"write from a kernel address", syscall.SYS_WRITE, [3]uintptr{1, kernel, 16}},
		{"write from an unmapped address", syscall.SYS_WRITE, [3]uintptr{1, unmapped, 16}},
		{"read into a kernel address", syscall.SYS_READ, [3]uintptr{0, kernel, 16}},
		{"clock_gettime to an unmapped address", syscall.SYS_CLOCK_GETTIME, [3]uintptr{1, unmapped}},
		{"uname to a kernel address", syscall.SYS_UNAME, [3]uintptr{kernel}},
		{"pipe2 to an unmapped address", syscall.SYS_PIPE2, [3]uintptr{unmapped, 0}},
	} {
		if _, _, e := syscall.Syscall(tc.nr, tc.a[0], tc.a[1], tc.a[2]); e != syscall.EFAULT {
			return fmt.Errorf("%s: %v, want EFAULT", tc.name, e)
		}
	}
	return nil
}
