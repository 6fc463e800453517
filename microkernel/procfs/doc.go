// Package procfs renders Linux's /proc from a snapshot of kernel state.
//
// The kernel implements Source (the live processes, memory, uptime, mounts
// and CPUs) and mounts the package at /proc; a program reading /proc then
// sees the files proc(5) describes, byte for byte in Linux's formats, so
// that u-root's ps, free, uptime and mount, procps-style parsers and Go's
// os.Executable (a readlink of /proc/self/exe) work unchanged. The package
// imports no other kernel package: it is pure rendering, tested hosted
// against a fake Source.
//
// Model. There is no tree in memory. Lookup(src, self, rel) asks src for
// exactly what the path needs, every time, and returns a self-contained
// Node: a directory with its sorted entries, a file with its whole content,
// or a symlink with its target. A file's content is rendered when it is
// looked up, so a reader that opens, reads and closes sees one consistent
// snapshot of the file, and the next lookup sees the new state. Nothing is
// cached, so nothing goes stale and no lock is needed here; consistency
// across files (a pid listed in /proc that has exited before its stat is
// read) is the same race Linux has, and is answered the same way: ENOENT.
//
// Namespace (see root.go and process.go for the tables):
//
//	/proc                    every pid, the system files, self, thread-self
//	/proc/self               symlink to "<pid>" of the caller
//	/proc/thread-self        symlink to "<pid>" (Valence has no task/ dirs)
//	/proc/<pid>/             stat status statm cmdline comm environ mounts
//	                         exe cwd (symlinks) fd/ (symlinks named by number)
//	                         net/ (the same as /proc/net)
//	/proc/meminfo uptime loadavg stat cpuinfo mounts version filesystems
//	/proc/net/               tcp udp udplite raw icmp unix dev route snmp
//	                         netstat, and tcp6 udp6 udplite6 raw6 if_inet6
//	                         ipv6_route with no entries (net*.go)
//
// /proc/net's data comes from a Source that is also a Networker: the
// network server's interfaces, sockets and counters, and the kernel's
// AF_UNIX sockets. Without one (no network server), the tables have only
// their header lines, dev and route no entries, and snmp counts zeros.
// net.go, net_inet.go, net_dev.go, net_snmp.go and net_unix.go say,
// file by file, which Linux columns Valence cannot fill and what they
// show instead.
//
// "self" and "thread-self" in the middle of a path are resolved here, as
// "<self>/...", because every program reads /proc/self/... and the caller's
// pid is only known at this point. Any other symlink in the middle of a
// path (a process's cwd, exe or fd/N) is not followed: Lookup reports
// ENOTDIR, and Walk hands the symlink and the rest of the path back to a
// caller that follows symlinks itself.
//
// Inode numbers are not allocated but computed from the path, so they are
// stable for as long as the path means the same thing and need no table:
// ino = pid<<32 | slot, where pid is 0 for /proc and its system files, and
// slot is a fixed number per name (1 for the directory itself; 12 for
// net/ and 0x100+i for its files) or 1<<31|n for fd/n. Pids are limited to [1, 1<<31) and fd numbers to
// [0, 1<<31), so two paths never share an inode number, and none is 0.
//
// Invariants, checked by the tests over a whole tree:
//   - every Entry of a directory Node resolves, by Lookup of dir/name, to a
//     Node of the same Kind and Ino (the one exception is a process that
//     exits between the two lookups);
//   - directory entries are sorted by name, unique, and never "." or "..";
//   - Ino is never 0 and no two paths in one listing share one;
//   - "self/x" and "<self>/x" give identical Nodes;
//   - Lookup never panics, whatever rel is: a name that is not canonical
//     (empty components, ".", "..", a leading slash, "01" for pid 1) is
//     ENOENT, a file or symlink used as a directory ENOTDIR.
//
// Zombies. A process in state 'Z' (or 'X') has, as on Linux, no address
// space, files or working directory any more: its cmdline and environ are
// empty, its vsize and rss are 0 (and status has no Vm lines), its fd/
// directory is empty and it has no exe or cwd entry. The kernel need not
// clear those fields itself.
//
// Ownership and modes follow Linux: /proc/<pid>/... belongs to the
// process's UID and GID, everything else to root; directories are 0555,
// files 0444 and symlinks 0777, except environ (0400), fd/ (0500) and the
// fd/N symlinks (0700), which Linux keeps private to the owner. Enforcing
// the modes is the caller's business.
//
// Where Valence has no counterpart to a Linux number, the file shows 0
// (or the value Linux shows for an idle, unprivileged task: priority 20,
// exit signal SIGCHLD, no rss limit), never a made-up measurement. The few
// derived numbers are described at the functions that compute them:
// /proc/stat's per-CPU split, "processes" and the loadavg counts, and
// meminfo's AnonPages, Slab and CommitLimit.
//
// Deviations from Linux, each deliberate: /proc/mounts is a file with the
// same content as /proc/<pid>/mounts rather than a symlink to
// self/mounts, and /proc/net a directory rather than a symlink to
// self/net, so that a caller needs no symlink following for them;
// thread-self points at the process directory; there is no task/, maps,
// mountinfo, or /proc/sys.
package procfs
