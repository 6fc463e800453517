package proc

import (
	"golang.org/x/sys/unix"

	"valence.dev/ipc"
)

// support says how completely a system call is implemented.
type support uint8

const (
	// full: as Linux specifies, for everything a static program can ask.
	full support = iota
	// partial: the common cases; other flags or commands fail cleanly
	// (documented on the handler).
	partial
	// refused: a deliberate error the callers we know cope with.
	refused
)

func (s support) String() string {
	return [...]string{"full", "partial", "refused"}[s]
}

// sysEntry is one row of the table.
type sysEntry struct {
	name    string
	handler func(c *call) result
	support support
}

// linuxTable is the Linux x86-64 system call table for user programs: one
// row per call, with its handler and support level. Numbers come from
// golang.org/x/sys/unix (gvisor's abi/linux has none); TestTable checks
// every name against the number. The tables are filled in init because
// the handlers refer back to them (through the dispatcher).
var linuxTable, nativeTable map[uint64]sysEntry

func init() {
	linuxTable = map[uint64]sysEntry{
		unix.SYS_READ:              {"read", sysRead, full},
		unix.SYS_WRITE:             {"write", sysWrite, full},
		unix.SYS_OPEN:              {"open", sysOpen, partial},
		unix.SYS_CLOSE:             {"close", sysClose, full},
		unix.SYS_STAT:              {"stat", sysStat, full},
		unix.SYS_FSTAT:             {"fstat", sysFstat, full},
		unix.SYS_LSTAT:             {"lstat", sysLstat, full},
		unix.SYS_LSEEK:             {"lseek", sysLseek, full},
		unix.SYS_MMAP:              {"mmap", sysMmap, partial},
		unix.SYS_MPROTECT:          {"mprotect", sysMprotect, full},
		unix.SYS_MUNMAP:            {"munmap", sysMunmap, full},
		unix.SYS_BRK:               {"brk", sysBrk, full},
		unix.SYS_RT_SIGACTION:      {"rt_sigaction", sysRtSigaction, full},
		unix.SYS_RT_SIGPROCMASK:    {"rt_sigprocmask", sysRtSigprocmask, full},
		unix.SYS_RT_SIGRETURN:      {"rt_sigreturn", sysRtSigreturn, full},
		unix.SYS_IOCTL:             {"ioctl", sysIoctl, partial},
		unix.SYS_PREAD64:           {"pread64", sysPread64, full},
		unix.SYS_PWRITE64:          {"pwrite64", sysPwrite64, full},
		unix.SYS_READV:             {"readv", sysReadv, full},
		unix.SYS_WRITEV:            {"writev", sysWritev, full},
		unix.SYS_ACCESS:            {"access", sysAccess, full},
		unix.SYS_PIPE:              {"pipe", sysPipe, full},
		unix.SYS_SCHED_YIELD:       {"sched_yield", sysSchedYield, full},
		unix.SYS_MADVISE:           {"madvise", sysMadvise, partial},
		unix.SYS_DUP:               {"dup", sysDup, full},
		unix.SYS_DUP2:              {"dup2", sysDup2, full},
		unix.SYS_NANOSLEEP:         {"nanosleep", sysNanosleep, full},
		unix.SYS_GETPID:            {"getpid", sysGetpid, full},
		unix.SYS_SENDFILE:          {"sendfile", sysSendfile, full},
		unix.SYS_CLONE:             {"clone", sysClone, partial},
		unix.SYS_MOUNT:             {"mount", sysLinuxMount, partial},
		unix.SYS_UMOUNT2:           {"umount2", sysUmount2, partial},
		unix.SYS_UNSHARE:           {"unshare", sysUnshare, partial},
		unix.SYS_SOCKET:            {"socket", sysSocket, partial},
		unix.SYS_POLL:              {"poll", sysPoll, full},
		unix.SYS_PPOLL:             {"ppoll", sysPpoll, partial},
		unix.SYS_SELECT:            {"select", sysSelect, full},
		unix.SYS_PSELECT6:          {"pselect6", sysPselect6, partial},
		unix.SYS_SPLICE:            {"splice", sysSplice, partial},
		unix.SYS_BIND:              {"bind", sysBind, full},
		unix.SYS_SOCKETPAIR:        {"socketpair", sysSocketpair, full},
		unix.SYS_MKNOD:             {"mknod", sysMknod, partial},
		unix.SYS_MKNODAT:           {"mknodat", sysMknodat, partial},
		unix.SYS_LISTEN:            {"listen", sysListen, full},
		unix.SYS_ACCEPT:            {"accept", sysAccept, full},
		unix.SYS_ACCEPT4:           {"accept4", sysAccept4, full},
		unix.SYS_CONNECT:           {"connect", sysConnect, full},
		unix.SYS_SENDTO:            {"sendto", sysSendto, full},
		unix.SYS_RECVFROM:          {"recvfrom", sysRecvfrom, full},
		unix.SYS_SENDMSG:           {"sendmsg", sysSendmsg, partial},
		unix.SYS_RECVMSG:           {"recvmsg", sysRecvmsg, partial},
		unix.SYS_SHUTDOWN:          {"shutdown", sysShutdown, full},
		unix.SYS_GETSOCKNAME:       {"getsockname", sysGetsockname, full},
		unix.SYS_GETPEERNAME:       {"getpeername", sysGetpeername, full},
		unix.SYS_SETSOCKOPT:        {"setsockopt", sysSetsockopt, partial},
		unix.SYS_GETSOCKOPT:        {"getsockopt", sysGetsockopt, partial},
		unix.SYS_EXECVE:            {"execve", sysExecve, full},
		unix.SYS_EXIT:              {"exit", sysExit, full},
		unix.SYS_WAIT4:             {"wait4", sysWait4, partial},
		unix.SYS_KILL:              {"kill", sysKill, partial},
		unix.SYS_UNAME:             {"uname", sysUname, full},
		unix.SYS_FCNTL:             {"fcntl", sysFcntl, partial},
		unix.SYS_GETCWD:            {"getcwd", sysGetcwd, full},
		unix.SYS_CHDIR:             {"chdir", sysChdir, full},
		unix.SYS_READLINK:          {"readlink", sysReadlink, full},
		unix.SYS_GETTIMEOFDAY:      {"gettimeofday", sysGettimeofday, full},
		unix.SYS_GETRLIMIT:         {"getrlimit", sysGetrlimit, full},
		unix.SYS_SETRLIMIT:         {"setrlimit", sysSetrlimit, full},
		unix.SYS_GETUID:            {"getuid", sysZero, full},
		unix.SYS_GETGID:            {"getgid", sysZero, full},
		unix.SYS_GETEUID:           {"geteuid", sysZero, full},
		unix.SYS_GETEGID:           {"getegid", sysZero, full},
		unix.SYS_GETGROUPS:         {"getgroups", sysZero, full},
		unix.SYS_SETUID:            {"setuid", sysSetID, partial},
		unix.SYS_SETGID:            {"setgid", sysSetID, partial},
		unix.SYS_SETGROUPS:         {"setgroups", sysSetgroups, partial},
		unix.SYS_FCHMODAT2:         {"fchmodat2", sysFchmodat, full},
		unix.SYS_GETPPID:           {"getppid", sysGetppid, full},
		unix.SYS_SETPGID:           {"setpgid", sysSetpgid, full},
		unix.SYS_GETPGID:           {"getpgid", sysGetpgid, full},
		unix.SYS_GETPGRP:           {"getpgrp", sysGetpgrp, full},
		unix.SYS_SETSID:            {"setsid", sysSetsid, full},
		unix.SYS_GETSID:            {"getsid", sysGetsid, full},
		unix.SYS_SIGALTSTACK:       {"sigaltstack", sysSigaltstack, full},
		unix.SYS_ARCH_PRCTL:        {"arch_prctl", sysArchPrctl, partial},
		unix.SYS_GETTID:            {"gettid", sysGettid, full},
		unix.SYS_TKILL:             {"tkill", sysTkill, full},
		unix.SYS_TIME:              {"time", sysTime, full},
		unix.SYS_FUTEX:             {"futex", sysFutex, partial},
		unix.SYS_SCHED_GETAFFINITY: {"sched_getaffinity", sysSchedGetaffinity, full},
		unix.SYS_EPOLL_CREATE:      {"epoll_create", sysEpollCreate, full},
		unix.SYS_GETDENTS64:        {"getdents64", sysGetdents64, full},
		unix.SYS_SET_TID_ADDRESS:   {"set_tid_address", sysSetTidAddress, full},
		unix.SYS_CLOCK_GETTIME:     {"clock_gettime", sysClockGettime, full},
		unix.SYS_CLOCK_GETRES:      {"clock_getres", sysClockGetres, full},
		unix.SYS_CLOCK_NANOSLEEP:   {"clock_nanosleep", sysClockNanosleep, full},
		unix.SYS_EXIT_GROUP:        {"exit_group", sysExitGroup, full},
		unix.SYS_EPOLL_WAIT:        {"epoll_wait", sysEpollPwait, full},
		unix.SYS_EPOLL_CTL:         {"epoll_ctl", sysEpollCtl, full},
		unix.SYS_TGKILL:            {"tgkill", sysTgkill, full},
		unix.SYS_WAITID:            {"waitid", sysWaitid, partial},
		unix.SYS_OPENAT:            {"openat", sysOpenat, partial},
		unix.SYS_NEWFSTATAT:        {"newfstatat", sysNewfstatat, full},
		unix.SYS_READLINKAT:        {"readlinkat", sysReadlinkat, full},
		unix.SYS_FACCESSAT:         {"faccessat", sysFaccessat, full},
		unix.SYS_FACCESSAT2:        {"faccessat2", sysFaccessat2, full},
		unix.SYS_CREAT:             {"creat", sysCreat, full},
		unix.SYS_STATX:             {"statx", sysStatx, partial},
		unix.SYS_FCHDIR:            {"fchdir", sysFchdir, full},
		unix.SYS_MKDIR:             {"mkdir", sysMkdir, full},
		unix.SYS_MKDIRAT:           {"mkdirat", sysMkdirat, full},
		unix.SYS_UNLINK:            {"unlink", sysUnlink, full},
		unix.SYS_RMDIR:             {"rmdir", sysRmdir, full},
		unix.SYS_UNLINKAT:          {"unlinkat", sysUnlinkat, full},
		unix.SYS_RENAME:            {"rename", sysRename, full},
		unix.SYS_RENAMEAT:          {"renameat", sysRenameat, full},
		unix.SYS_RENAMEAT2:         {"renameat2", sysRenameat2, partial},
		unix.SYS_LINK:              {"link", sysLink, full},
		unix.SYS_LINKAT:            {"linkat", sysLinkat, partial},
		unix.SYS_SYMLINK:           {"symlink", sysSymlink, full},
		unix.SYS_SYMLINKAT:         {"symlinkat", sysSymlinkat, full},
		unix.SYS_CHMOD:             {"chmod", sysChmod, full},
		unix.SYS_FCHMOD:            {"fchmod", sysFchmod, full},
		unix.SYS_FCHMODAT:          {"fchmodat", sysFchmodat, full},
		unix.SYS_CHOWN:             {"chown", sysChown, full},
		unix.SYS_LCHOWN:            {"lchown", sysLchown, full},
		unix.SYS_FCHOWN:            {"fchown", sysFchown, full},
		unix.SYS_FCHOWNAT:          {"fchownat", sysFchownat, full},
		unix.SYS_UTIMENSAT:         {"utimensat", sysUtimensat, full},
		unix.SYS_TRUNCATE:          {"truncate", sysTruncate, full},
		unix.SYS_FTRUNCATE:         {"ftruncate", sysFtruncate, full},
		unix.SYS_FALLOCATE:         {"fallocate", sysFallocate, partial},
		unix.SYS_FSYNC:             {"fsync", sysFsync, full},
		unix.SYS_FDATASYNC:         {"fdatasync", sysFsync, full},
		unix.SYS_SYNC:              {"sync", sysSync, full},
		unix.SYS_REBOOT:            {"reboot", sysReboot, full},
		unix.SYS_SYSLOG:            {"syslog", sysSyslog, full},
		unix.SYS_SYNCFS:            {"syncfs", sysSyncfs, full},
		unix.SYS_STATFS:            {"statfs", sysStatfs, full},
		unix.SYS_FSTATFS:           {"fstatfs", sysFstatfs, full},
		unix.SYS_UMASK:             {"umask", sysUmask, full},
		unix.SYS_EPOLL_PWAIT:       {"epoll_pwait", sysEpollPwait, partial},
		unix.SYS_EVENTFD2:          {"eventfd2", sysEventfd2, full},
		unix.SYS_EPOLL_CREATE1:     {"epoll_create1", sysEpollCreate1, full},
		unix.SYS_DUP3:              {"dup3", sysDup3, full},
		unix.SYS_PIPE2:             {"pipe2", sysPipe2, full},
		unix.SYS_PRLIMIT64:         {"prlimit64", sysPrlimit64, full},
		unix.SYS_GETRANDOM:         {"getrandom", sysGetrandom, full},
		unix.SYS_CAPGET:            {"capget", sysCapget, full},
		unix.SYS_CAPSET:            {"capset", sysCapset, full},
		// Refused on purpose: Go copes with each of these errors.
		unix.SYS_PRCTL:             {"prctl", refuse(22), refused},           // EINVAL
		unix.SYS_SET_ROBUST_LIST:   {"set_robust_list", refuse(38), refused}, // ENOSYS
		unix.SYS_RSEQ:              {"rseq", refuse(38), refused},            // ENOSYS
		unix.SYS_PIDFD_OPEN:        {"pidfd_open", refuse(38), refused},      // ENOSYS: os/exec falls back to wait4
		unix.SYS_MINCORE:           {"mincore", refuse(38), refused},         // ENOSYS: AT_PAGESZ is given
		unix.SYS_SCHED_SETAFFINITY: {"sched_setaffinity", refuse(22), refused},
	}

	// The Valence native calls user programs may make.
	nativeTable = map[uint64]sysEntry{
		ipc.SysSpawn:     {"valence_spawn", sysSpawn, full},
		ipc.SysWait:      {"valence_wait", sysWaitNative, full},
		ipc.SysKill:      {"valence_kill", sysKillNative, full},
		ipc.SysMemInfo:   {"valence_meminfo", sysMemInfo, full},
		ipc.SysMount:     {"valence_mount", sysMount, full},
		ipc.SysMounter:   {"valence_mounter", sysMounter, full},
		ipc.SysNetServer: {"valence_net_server", sysNetServer, full},
		ipc.SysUnmount:   {"valence_unmount", sysUnmount, full},

		ipc.SysHandleDup:      {"valence_handle_dup", sysHandleDup, full},
		ipc.SysHandleClose:    {"valence_handle_close", sysHandleClose, full},
		ipc.SysHandleRevoke:   {"valence_handle_revoke", sysHandleRevoke, full},
		ipc.SysHandleInfo:     {"valence_handle_info", sysHandleInfo, full},
		ipc.SysEndpointCreate: {"valence_endpoint_create", sysEndpointCreate, full},
		ipc.SysCall:           {"valence_call", sysCall, full},
		ipc.SysRecv:           {"valence_recv", sysRecv, full},
		ipc.SysReply:          {"valence_reply", sysReply, full},
		ipc.SysReplyRecv:      {"valence_reply_recv", sysReplyRecv, full},
		ipc.SysNotifyCreate:   {"valence_notify_create", sysNotifyCreate, full},
		ipc.SysNotifySignal:   {"valence_notify_signal", sysNotifySignal, full},
		ipc.SysNotifyWait:     {"valence_notify_wait", sysNotifyWait, full},
		ipc.SysNotifyBind:     {"valence_notify_bind", sysNotifyBind, full},
		ipc.SysMemCreate:      {"valence_mem_create", sysMemCreate, full},
		ipc.SysMemMap:         {"valence_mem_map", sysMemMap, full},
		ipc.SysProcSpawn:      {"valence_proc_spawn", sysProcSpawn, full},
		ipc.SysDevMMIO:        {"valence_dev_mmio", sysDevMMIO, full},
		ipc.SysDevIRQ:         {"valence_dev_irq", sysDevIRQ, full},
		ipc.SysDevMSI:         {"valence_dev_msi", sysDevMSI, full},
		ipc.SysIRQBind:        {"valence_irq_bind", sysIRQBind, full},
		ipc.SysIRQAck:         {"valence_irq_ack", sysIRQAck, full},
		ipc.SysDMACreate:      {"valence_dma_create", sysDMACreate, full},
		ipc.SysMemPhys:        {"valence_mem_phys", sysMemPhys, full},
		ipc.SysDevPorts:       {"valence_dev_ports", sysDevPorts, full},
		ipc.SysPortIn:         {"valence_port_in", sysPortIn, full},
		ipc.SysPortOut:        {"valence_port_out", sysPortOut, full},
		ipc.SysDevInfo:        {"valence_dev_info", sysDevInfo, full},
		ipc.SysDevDerive:      {"valence_dev_derive", sysDevDerive, full},
		ipc.SysProcKill:       {"valence_proc_kill", sysProcKill, full},
		ipc.SysProcWait:       {"valence_proc_wait", sysProcWait, full},
		ipc.SysProcNotify:     {"valence_proc_notify", sysProcNotify, full},
		ipc.SysProcEssential:  {"valence_proc_essential", sysProcEssential, full},
	}
}

func refuse(e uint32) func(*call) result {
	return func(*call) result { return result{err: errnoOf(e)} }
}

func lookupSyscall(nr uint64) (sysEntry, bool) {
	if e, found := linuxTable[nr]; found {
		return e, true
	}
	e, found := nativeTable[nr]
	return e, found
}
