package main

import (
	"os"
	"runtime/debug"
	"syscall"
	"unsafe"
)

// crash dies the way kind says.
func crash(kind string) {
	switch kind {
	case "nil":
		var p *int
		*p = 1
	case "illegal":
		ud2()
	case "divide":
		divideByZero()
	case "kernel-write":
		*(*int)(at(0xffff800000100000)) = 1
	case "stack-overflow":
		debug.SetMaxStack(1 << 20)
		recurse(0)
	case "wild-jump":
		jump(0xdead0000)
	case "raw-segv":
		setDefault(syscall.SIGSEGV)
		*(*int)(at(0x1000)) = 1
	case "raw-ill":
		setDefault(syscall.SIGILL)
		ud2()
	case "self-kill":
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {}
	}
}

//go:noinline
func recurse(n int) int {
	var pad [256]byte
	pad[n%256] = byte(n)
	return recurse(n+1) + int(pad[3])
}

// setDefault restores a signal's default action behind the Go runtime's
// back, so that a fault is not caught.
func setDefault(sig syscall.Signal) {
	var act [4]uint64 // struct sigaction: handler SIG_DFL, no flags
	syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&act)), 0, 8, 0, 0)
}

// at turns an arbitrary address into a pointer (to provoke faults on
// purpose), reinterpreting the bits so vet's pointer check does not apply.
func at(addr uintptr) unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(&addr)) }
