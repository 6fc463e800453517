// Package selftest is the kernel's built-in self-test (command line
// "selftest"): it exercises the Go runtime running in ring 0 through the
// kernel's answers to its system calls — goroutines and channels (clone,
// futex), maps, the garbage collector under load (mmap, demand paging,
// madvise), timers (epoll_pwait, eventfd, nanosleep, clock_gettime), and
// asynchronous preemption of a goroutine that spins without calls
// (tgkill/SIGURG delivery and rt_sigreturn) while another forces a GC, and
// that the kernel image is W^X: writing its code or read-only data, or
// its code through the direct map, and running its data all fault.
//
// Each check prints "selftest: <name>: ok" or returns an error; Run prints
// "selftest: PASS" or "selftest: FAIL <what>". The variants "panic" and
// "panic-trap" deliberately crash the kernel to exercise the panic path:
// a nil dereference in kernel Go code (the runtime reports it), and a nil
// dereference inside the trap handler (the kernel's own panic printer).
package selftest
