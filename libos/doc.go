// Package libos is what a Valence user program links to use the kernel's
// native (non-Linux) system calls: today, processes — spawn a program,
// wait for it, kill it — and a memory report. Programs that only use the
// Linux ABI (os, os/exec, net, ...) need none of this.
//
// The calls go through syscall.Syscall6, so a blocking Wait releases the
// Go runtime's P like any blocking system call. Errors are syscall.Errno
// values wrapped with the call's name.
package libos
