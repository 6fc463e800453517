package main

import (
	"fmt"
	"syscall"
)

// Calls that sysfuzz once found crashing the kernel, kept as exact
// regression checks: each must fail with its errno (and the kernel stay
// up to answer the next).

func init() {
	addTest("fuzz-findings", testFuzzFindings)
}

type finding struct {
	what string
	nr   uintptr
	args [6]uintptr
	want syscall.Errno
}

var findings = []finding{
	// The lowest-free-descriptor search indexed the table at a negative
	// start: "index out of range [-2145386496]" in FDTable.install.
	{"fcntl(0, F_DUPFD, -2145386496)", syscall.SYS_FCNTL, [6]uintptr{0, syscall.F_DUPFD, 0xffffffff80200000}, syscall.EINVAL},
	{"fcntl(0, F_DUPFD_CLOEXEC, -1)", syscall.SYS_FCNTL, [6]uintptr{0, syscall.F_DUPFD_CLOEXEC, ^uintptr(0)}, syscall.EINVAL},
	{"fcntl(0, F_DUPFD, 1<<31)", syscall.SYS_FCNTL, [6]uintptr{0, syscall.F_DUPFD, 1 << 31}, syscall.EINVAL},
}

func testFuzzFindings() error {
	for _, f := range findings {
		_, _, e := syscall.Syscall6(f.nr, f.args[0], f.args[1], f.args[2], f.args[3], f.args[4], f.args[5])
		if e != f.want {
			return fmt.Errorf("%s: got %v, want %v", f.what, errnoName(e), errnoName(f.want))
		}
	}
	return nil
}

func errnoName(e syscall.Errno) string {
	if e == 0 {
		return "success"
	}
	return e.Error()
}
