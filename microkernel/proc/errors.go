package proc

import (
	"errors"
	"fmt"
	"syscall"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/mm"
	"valence.dev/microkernel/rt"
)

// toErrno maps kernel errors to the errno a Linux program expects.
func toErrno(err error) errno.Errno {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, mm.ErrFault):
		return errno.EFAULT
	case errors.Is(err, mm.ErrNoMem):
		return errno.ENOMEM
	case errors.Is(err, mm.ErrExist):
		return errno.EEXIST
	case errors.Is(err, mm.ErrInvalid):
		return errno.EINVAL
	case errors.Is(err, mm.ErrAccess):
		return errno.EACCES
	}
	return errno.EIO
}

func syscallName(nr uint64) string {
	if n := rt.SyscallName(nr); n != "" {
		return n
	}
	if e, ok := lookupSyscall(nr); ok {
		return e.name
	}
	return fmt.Sprintf("#%d", nr)
}

var signalNames = map[linux.Signal]string{
	linux.SIGHUP: "SIGHUP", linux.SIGINT: "SIGINT", linux.SIGQUIT: "SIGQUIT", linux.SIGILL: "SIGILL",
	linux.SIGTRAP: "SIGTRAP", linux.SIGABRT: "SIGABRT", linux.SIGBUS: "SIGBUS", linux.SIGFPE: "SIGFPE",
	linux.SIGKILL: "SIGKILL", linux.SIGUSR1: "SIGUSR1", linux.SIGSEGV: "SIGSEGV", linux.SIGUSR2: "SIGUSR2",
	linux.SIGPIPE: "SIGPIPE", linux.SIGALRM: "SIGALRM", linux.SIGTERM: "SIGTERM", linux.SIGCHLD: "SIGCHLD",
	linux.SIGCONT: "SIGCONT", linux.SIGSTOP: "SIGSTOP", linux.SIGTSTP: "SIGTSTP", linux.SIGURG: "SIGURG",
	linux.SIGXCPU: "SIGXCPU", linux.SIGWINCH: "SIGWINCH", linux.SIGSYS: "SIGSYS",
}

func signalName(s linux.Signal) string {
	if n, ok := signalNames[s]; ok {
		return n
	}
	return fmt.Sprintf("signal %d", s)
}

func errnoOf(e uint32) errno.Errno { return errno.Errno(e) }

// errnoError makes an errno readable in an error message.
func errnoError(e errno.Errno) error { return syscall.Errno(e) }
