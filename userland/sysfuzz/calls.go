package main

import (
	"encoding/binary"
	"syscall"

	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/abi/linux"

	"valence.dev/ipc"
)

// fuzzCall is one system call the fuzzer makes. rare > 0 makes it run
// only one time in rare. tame rewrites arguments that would hurt someone
// other than the fuzzer itself, or end it at once for no insight; fdArgs
// marks the argument positions that are descriptors (bit i: argument i),
// which never name the runtime's own.
type fuzzCall struct {
	nr     uintptr
	rare   int
	tame   func(w *worker, args *[6]uintptr)
	fdArgs uint8
}

// mmArgs points the memory calls at the scratch mapping (or at nonsense):
// carving up the Go heap would kill the fuzzer, not test the kernel.
func mmArgs(w *worker, args *[6]uintptr) {
	args[0] = w.scratchAddr()
	inside := args[0] >= w.a.scratch && args[0] < w.a.scratch+scratchSize
	if inside || w.n(2) == 0 {
		args[1] = uintptr(w.n(64)+1) * 4096
		if w.n(10) == 0 {
			args[1] -= uintptr(w.n(4096)) // unaligned length
		}
	}
	if inside && args[0]+args[1] > w.a.scratch+scratchSize {
		args[1] = w.a.scratch + scratchSize - args[0] // stay off the guard pages and what lies beyond
	}
}

// selfOnly aims a signal at the fuzzer itself, with a signal whose
// default action is harmless most of the time.
func selfOnly(pidArg, sigArg int) func(w *worker, args *[6]uintptr) {
	return func(w *worker, args *[6]uintptr) {
		args[pidArg] = [...]uintptr{uintptr(syscall.Getpid()), 0, 1 << 30, ^uintptr(0)}[w.n(4)]
		if w.n(20) != 0 {
			args[sigArg] = [...]uintptr{0, uintptr(syscall.SIGURG), uintptr(syscall.SIGCHLD), uintptr(syscall.SIGWINCH), 65, ^uintptr(0)}[w.n(6)]
		}
	}
}

// spawnArgs makes spawn and execve run /bin/hello, or refuses them.
func spawnArgs(w *worker, args *[6]uintptr) {
	if w.n(3) == 0 {
		args[0] = w.a.strs[0] // /bin/hello
	}
}

var calls = []fuzzCall{
	{nr: unix.SYS_READ, fdArgs: 1},
	{nr: unix.SYS_WRITE, fdArgs: 1},
	{nr: unix.SYS_OPEN},
	{nr: unix.SYS_OPENAT, fdArgs: 1},
	{nr: unix.SYS_CLOSE, fdArgs: 1},
	{nr: unix.SYS_STAT},
	{nr: unix.SYS_FSTAT, fdArgs: 1},
	{nr: unix.SYS_LSTAT},
	{nr: unix.SYS_NEWFSTATAT, fdArgs: 1},
	{nr: unix.SYS_LSEEK, fdArgs: 1},
	{nr: unix.SYS_MMAP, tame: mmArgs},
	{nr: unix.SYS_MPROTECT, tame: mmArgs},
	{nr: unix.SYS_MUNMAP, tame: mmArgs},
	{nr: unix.SYS_MADVISE, tame: mmArgs},
	{nr: unix.SYS_BRK},
	{nr: unix.SYS_RT_SIGACTION, tame: func(w *worker, args *[6]uintptr) {
		if w.n(300) != 0 {
			args[1] = 0 // mostly look, rarely change the runtime's handlers
		}
	}},
	{nr: unix.SYS_RT_SIGPROCMASK},
	{nr: unix.SYS_RT_SIGRETURN, rare: 300},
	{nr: unix.SYS_IOCTL, fdArgs: 1},
	{nr: unix.SYS_PREAD64, fdArgs: 1},
	{nr: unix.SYS_PWRITE64, fdArgs: 1},
	{nr: unix.SYS_READV, fdArgs: 1},
	{nr: unix.SYS_WRITEV, fdArgs: 1},
	{nr: unix.SYS_ACCESS},
	{nr: unix.SYS_FACCESSAT, fdArgs: 1},
	{nr: unix.SYS_PIPE},
	{nr: unix.SYS_PIPE2},
	{nr: unix.SYS_SCHED_YIELD},
	{nr: unix.SYS_DUP, fdArgs: 1},
	{nr: unix.SYS_DUP2, fdArgs: 3},
	{nr: unix.SYS_DUP3, fdArgs: 3},
	{nr: unix.SYS_NANOSLEEP},
	{nr: unix.SYS_CLOCK_NANOSLEEP},
	{nr: unix.SYS_GETPID},
	{nr: unix.SYS_GETPPID},
	{nr: unix.SYS_GETTID},
	{nr: unix.SYS_EXECVE, rare: 50, tame: spawnArgs},
	{nr: unix.SYS_WAIT4},
	{nr: unix.SYS_WAITID},
	{nr: unix.SYS_KILL, tame: selfOnly(0, 1)},
	{nr: unix.SYS_TGKILL, tame: func(w *worker, args *[6]uintptr) {
		selfOnly(0, 2)(w, args)
		args[1] = [...]uintptr{uintptr(syscall.Gettid()), args[0], 1 << 30}[w.n(3)]
	}},
	{nr: unix.SYS_TKILL, tame: selfOnly(0, 1)},
	// Process groups and sessions: a child can only move itself and the
	// children it spawned, and leave its parent's session.
	{nr: unix.SYS_SETPGID},
	{nr: unix.SYS_GETPGID},
	{nr: unix.SYS_GETPGRP},
	{nr: unix.SYS_SETSID},
	{nr: unix.SYS_GETSID},
	{nr: unix.SYS_UNAME},
	{nr: unix.SYS_FCNTL, fdArgs: 1},
	{nr: unix.SYS_GETCWD},
	{nr: unix.SYS_CHDIR},
	{nr: unix.SYS_READLINK},
	{nr: unix.SYS_READLINKAT, fdArgs: 1},
	{nr: unix.SYS_GETTIMEOFDAY},
	{nr: unix.SYS_GETRLIMIT},
	{nr: unix.SYS_PRLIMIT64, tame: func(w *worker, args *[6]uintptr) {
		if w.n(4) != 0 {
			args[0] = 0 // itself, mostly
		}
	}},
	{nr: unix.SYS_SIGALTSTACK, rare: 100},
	{nr: unix.SYS_ARCH_PRCTL, tame: func(w *worker, args *[6]uintptr) {
		if args[0] == linux.ARCH_SET_FS {
			args[0] = linux.ARCH_GET_FS // a new TLS base kills only us, at once
		}
	}},
	{nr: unix.SYS_TIME},
	{nr: unix.SYS_FUTEX},
	{nr: unix.SYS_SCHED_GETAFFINITY},
	{nr: unix.SYS_EPOLL_CREATE},
	{nr: unix.SYS_EPOLL_CREATE1},
	{nr: unix.SYS_EPOLL_CTL, fdArgs: 5},
	{nr: unix.SYS_EPOLL_PWAIT, fdArgs: 1},
	{nr: unix.SYS_EVENTFD2},
	{nr: unix.SYS_GETDENTS64, fdArgs: 1},
	{nr: unix.SYS_SET_TID_ADDRESS, tame: func(w *worker, args *[6]uintptr) {
		if w.n(4) != 0 {
			args[0] = 0 // a live word the kernel clears when the thread ends is ours to lose
		}
	}},
	{nr: unix.SYS_CLOCK_GETTIME},
	{nr: unix.SYS_CLOCK_GETRES},
	{nr: unix.SYS_GETRANDOM},
	{nr: unix.SYS_SCHED_SETAFFINITY},
	{nr: unix.SYS_PRCTL},
	// Sockets: AF_UNIX and AF_NETLINK in the kernel (AF_INET is
	// EAFNOSUPPORT without netd), with the calls that take and give them.
	{nr: unix.SYS_SOCKET, tame: socketArgs},
	{nr: unix.SYS_SOCKETPAIR, tame: socketArgs},
	{nr: unix.SYS_BIND, fdArgs: 1},
	{nr: unix.SYS_LISTEN, fdArgs: 1},
	{nr: unix.SYS_CONNECT, fdArgs: 1},
	{nr: unix.SYS_ACCEPT4, fdArgs: 1},
	{nr: unix.SYS_SENDTO, fdArgs: 1, tame: netlinkRequest},
	{nr: unix.SYS_RECVFROM, fdArgs: 1},
	{nr: unix.SYS_SENDMSG, fdArgs: 1},
	{nr: unix.SYS_RECVMSG, fdArgs: 1},
	{nr: unix.SYS_SHUTDOWN, fdArgs: 1},
	{nr: unix.SYS_GETSOCKNAME, fdArgs: 1},
	{nr: unix.SYS_GETPEERNAME, fdArgs: 1},
	{nr: unix.SYS_SETSOCKOPT, fdArgs: 1},
	{nr: unix.SYS_GETSOCKOPT, fdArgs: 1},
	{nr: unix.SYS_SENDFILE, fdArgs: 3},
	{nr: unix.SYS_POLL},
	{nr: unix.SYS_SELECT},
	{nr: unix.SYS_MKNODAT, fdArgs: 1},
	{nr: unix.SYS_CAPGET},
	{nr: unix.SYS_CAPSET},
	{nr: 163},  // acct: unsupported, logged once
	{nr: 1000}, // no such call
	{nr: ipc.NativeBase + 0x7ff},

	{nr: ipc.SysSpawn, rare: 10, tame: spawnArgs},
	{nr: ipc.SysWait},
	{nr: ipc.SysKill},
	{nr: ipc.SysMemInfo},
	{nr: ipc.SysHandleDup},
	{nr: ipc.SysHandleClose},
	{nr: ipc.SysHandleRevoke},
	{nr: ipc.SysHandleInfo},
	{nr: ipc.SysEndpointCreate},
	{nr: ipc.SysCall},
	{nr: ipc.SysRecv},
	{nr: ipc.SysReply},
	{nr: ipc.SysReplyRecv},
	{nr: ipc.SysNotifyCreate},
	{nr: ipc.SysNotifySignal},
	{nr: ipc.SysNotifyWait},
	{nr: ipc.SysNotifyBind},
	{nr: ipc.SysMemCreate, tame: func(w *worker, args *[6]uintptr) {
		if w.n(4) != 0 {
			args[0] &= 1<<22 - 1 // mostly up to 4 MiB
		}
	}},
	{nr: ipc.SysMemMap, tame: func(w *worker, args *[6]uintptr) {
		if args[3]&syscall.MAP_FIXED != 0 {
			args[1] = w.scratchAddr()
		}
	}},
	{nr: ipc.SysProcSpawn, rare: 10, tame: spawnArgs},
	{nr: ipc.SysProcKill},
	{nr: ipc.SysProcWait},
	{nr: ipc.SysProcNotify},
	// Device calls: children never hold the root device capability, so
	// these exercise decoding and the handle checks (a memory object or a
	// notification where an IRQ is expected, say).
	{nr: ipc.SysDevMMIO},
	{nr: ipc.SysDevIRQ},
	{nr: ipc.SysDevMSI},
	{nr: ipc.SysIRQBind},
	{nr: ipc.SysIRQAck},
	{nr: ipc.SysDMACreate},
	{nr: ipc.SysMemPhys},
	{nr: ipc.SysDevPorts},
	{nr: ipc.SysPortIn},
	{nr: ipc.SysPortOut},
	{nr: ipc.SysDevInfo},
	{nr: ipc.SysDevDerive},
}

// socketArgs mostly asks for families and types that exist, so that the
// calls that follow have sockets to work on.
func socketArgs(w *worker, args *[6]uintptr) {
	if w.n(4) != 0 {
		args[0] = [...]uintptr{unix.AF_UNIX, unix.AF_UNIX, unix.AF_INET, unix.AF_NETLINK}[w.n(4)]
		args[1] = [...]uintptr{unix.SOCK_STREAM, unix.SOCK_DGRAM, unix.SOCK_SEQPACKET, unix.SOCK_RAW}[w.n(4)] | uintptr(w.n(2))*unix.SOCK_NONBLOCK
		args[2] = 0
	}
}

// netlinkRequest makes one sendto in three carry rtnetlink requests
// (on whatever socket it names: a netlink one answers them), so that
// the kernel's request parser and its answers see messages that are
// nearly right: real types and flags, a family, attributes, and lengths
// that are often true, sometimes lies.
func netlinkRequest(w *worker, args *[6]uintptr) {
	if w.n(3) != 0 {
		return
	}
	var b []byte
	for range w.n(4) + 1 {
		payload := make([]byte, w.n(48))
		for i := range payload {
			payload[i] = byte(w.rnd.Uint32())
		}
		if len(payload) > 0 {
			payload[0] = [...]byte{unix.AF_UNSPEC, unix.AF_INET, unix.AF_INET6, byte(w.n(256))}[w.n(4)]
		}
		if len(payload) >= 20 && w.n(2) == 0 { // an attribute after an ifinfomsg
			binary.NativeEndian.PutUint16(payload[16:], uint16(w.n(len(payload)-14)))
			binary.NativeEndian.PutUint16(payload[18:], uint16(w.n(60)))
		}
		typ := [...]uint16{unix.RTM_GETLINK, unix.RTM_GETADDR, unix.RTM_GETROUTE, unix.RTM_NEWADDR, unix.NLMSG_NOOP, uint16(w.n(130))}[w.n(6)]
		flags := [...]uint16{unix.NLM_F_REQUEST | unix.NLM_F_DUMP, unix.NLM_F_REQUEST, unix.NLM_F_REQUEST | unix.NLM_F_ACK, uint16(w.rnd.Uint32())}[w.n(4)]
		length := uint32(16 + len(payload))
		if w.n(8) == 0 {
			length = [...]uint32{0, 15, length + 1, 1 << 31, uint32(w.n(256))}[w.n(5)]
		}
		h := make([]byte, 16)
		binary.NativeEndian.PutUint32(h[0:], length)
		binary.NativeEndian.PutUint16(h[4:], typ)
		binary.NativeEndian.PutUint16(h[6:], flags)
		binary.NativeEndian.PutUint32(h[8:], w.rnd.Uint32())
		b = append(append(b, h...), payload...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
	}
	off := w.n(len(w.a.buf) - len(b))
	copy(w.a.buf[off:], b) // threads race on the buffer: so much the better
	args[1], args[2] = w.a.bufAddr(off), uintptr(len(b)-w.n(2)*w.n(len(b)))
	if w.n(2) == 0 {
		args[4], args[5] = 0, 0
	}
}
