package selftest

import (
	"syscall"
)

type victim struct{ field int }

// NilDereference crashes the kernel with a nil pointer dereference in
// ordinary kernel Go code. The Go runtime turns the fault into a panic and
// prints a symbolized traceback; the kernel then reports the panic.
func NilDereference() {
	var v *victim
	poke(v)
}

//go:noinline
func poke(v *victim) { v.field = 42 }

// TrapFault asks the kernel to dereference nil inside its trap handler,
// where the Go runtime cannot help: the kernel's own panic path prints the
// registers and a symbolized call trace.
func TrapFault(nr uintptr) {
	syscall.RawSyscall(nr, 0, 0, 0)
}
