package rt

import "golang.org/x/sys/unix"

// linuxTable is the Linux system call table for the kernel's own Go runtime:
// one row per call the runtime (and the parts of the standard library the
// kernel uses) makes. It must be statically initialised: the runtime makes
// system calls before any package initialiser runs. TestTableStatic checks
// the rows, and earlyMain refuses to boot if the table is empty.
var linuxTable = [...]sysEntry{
	unix.SYS_READ:              {"read", sysRead, partial},
	unix.SYS_WRITE:             {"write", sysWrite, partial},
	unix.SYS_CLOSE:             {"close", sysClose, full},
	unix.SYS_OPENAT:            {"openat", sysOpenat, refused},
	unix.SYS_OPEN:              {"open", sysOpenat, refused},
	unix.SYS_FCNTL:             {"fcntl", sysFcntl, partial},
	unix.SYS_MMAP:              {"mmap", sysMmap, partial},
	unix.SYS_MUNMAP:            {"munmap", sysMunmap, full},
	unix.SYS_MPROTECT:          {"mprotect", sysMprotect, full},
	unix.SYS_MADVISE:           {"madvise", sysMadvise, partial},
	unix.SYS_RT_SIGACTION:      {"rt_sigaction", sysRtSigaction, full},
	unix.SYS_RT_SIGPROCMASK:    {"rt_sigprocmask", sysRtSigprocmask, full},
	unix.SYS_RT_SIGRETURN:      {"rt_sigreturn", sysRtSigreturn, full},
	unix.SYS_SIGALTSTACK:       {"sigaltstack", sysSigaltstack, full},
	unix.SYS_SCHED_YIELD:       {"sched_yield", sysSchedYield, full},
	unix.SYS_NANOSLEEP:         {"nanosleep", sysNanosleep, full},
	unix.SYS_GETPID:            {"getpid", sysGetpid, full},
	unix.SYS_GETPPID:           {"getppid", sysGetppid, full},
	unix.SYS_GETTID:            {"gettid", sysGettid, full},
	unix.SYS_GETUID:            {"getuid", sysZero, full},
	unix.SYS_GETEUID:           {"geteuid", sysZero, full},
	unix.SYS_GETGID:            {"getgid", sysZero, full},
	unix.SYS_GETEGID:           {"getegid", sysZero, full},
	unix.SYS_CLONE:             {"clone", sysClone, partial},
	unix.SYS_EXIT:              {"exit", sysExit, full},
	unix.SYS_EXIT_GROUP:        {"exit_group", sysExitGroup, full},
	unix.SYS_KILL:              {"kill", sysKill, partial},
	unix.SYS_TKILL:             {"tkill", sysTkill, full},
	unix.SYS_TGKILL:            {"tgkill", sysTgkill, full},
	unix.SYS_UNAME:             {"uname", sysUname, full},
	unix.SYS_ARCH_PRCTL:        {"arch_prctl", sysArchPrctl, partial},
	unix.SYS_PRCTL:             {"prctl", sysEinval, refused},
	unix.SYS_GETTIMEOFDAY:      {"gettimeofday", sysGettimeofday, full},
	unix.SYS_CLOCK_GETTIME:     {"clock_gettime", sysClockGettime, full},
	unix.SYS_CLOCK_GETRES:      {"clock_getres", sysClockGetres, full},
	unix.SYS_CLOCK_NANOSLEEP:   {"clock_nanosleep", sysClockNanosleep, full},
	unix.SYS_FUTEX:             {"futex", sysFutex, partial},
	unix.SYS_SCHED_GETAFFINITY: {"sched_getaffinity", sysSchedGetaffinity, full},
	unix.SYS_EPOLL_CREATE1:     {"epoll_create1", sysEpollCreate1, full},
	unix.SYS_EPOLL_CTL:         {"epoll_ctl", sysEpollCtl, full},
	unix.SYS_EPOLL_PWAIT:       {"epoll_pwait", sysEpollPwait, partial},
	unix.SYS_EPOLL_WAIT:        {"epoll_wait", sysEpollPwait, partial},
	unix.SYS_EVENTFD2:          {"eventfd2", sysEventfd2, full},
	unix.SYS_GETRANDOM:         {"getrandom", sysGetrandom, full},
	unix.SYS_PRLIMIT64:         {"prlimit64", sysEnosys, refused},
	unix.SYS_SET_TID_ADDRESS:   {"set_tid_address", sysSetTidAddress, full},
	unix.SYS_SET_ROBUST_LIST:   {"set_robust_list", sysEnosys, refused},
	unix.SYS_RSEQ:              {"rseq", sysEnosys, refused},
	unix.SYS_MINCORE:           {"mincore", sysEnosys, refused},
}

// Native (Valence-specific) system calls live above every Linux number.
const nativeBase = 0x1000

// nativeTable holds the kernel-internal native calls the kernel's own
// goroutines use.
var nativeTable = [...]sysEntry{
	nrDebugTrapFault - nativeBase:   {"debug_trap_fault", sysDebugTrapFault, full},
	nrDebugDoubleFault - nativeBase: {"debug_double_fault", sysDebugDoubleFault, full},
}

// Native call numbers.
const (
	// nrDebugTrapFault makes the trap handler itself dereference nil, to
	// exercise the kernel panic path (selftest=panic-trap).
	nrDebugTrapFault = nativeBase + 0xF0
	// nrDebugDoubleFault makes a page fault impossible to deliver, which the
	// CPU turns into a double fault (selftest=panic-double).
	nrDebugDoubleFault = nativeBase + 0xF1
)

// Native call numbers for the panic self-tests: a fault inside the trap
// handler, and a double fault.
const (
	NrDebugTrapFault   = nrDebugTrapFault
	NrDebugDoubleFault = nrDebugDoubleFault
)

// Trivial handlers shared by several rows.
func sysZero(c call)   { c.ret(0) }
func sysEinval(c call) { c.fail(22) }
func sysEnosys(c call) { c.fail(38) }

// tablesStatic reports whether the system call tables were laid out by the
// linker. The runtime makes system calls before package initialisers run, so
// a table filled in by an initialiser would still be empty then; earlyMain
// checks this before starting the runtime.
func tablesStatic() bool {
	return linuxTable[unix.SYS_MMAP].handler != nil && linuxTable[unix.SYS_FUTEX].handler != nil &&
		nativeTable[nrDebugTrapFault-nativeBase].handler != nil
}

// SyscallName returns the Linux name of system call nr, or "" if unknown.
func SyscallName(nr uint64) string {
	if nr < uint64(len(linuxSyscallNames)) {
		return linuxSyscallNames[nr]
	}
	return ""
}
