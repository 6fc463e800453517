// Package proc runs user programs: stock static GOOS=linux Go binaries (or
// any static x86-64 Linux executable) in ring 3, each process in its own
// address space, with the kernel answering their Linux system calls.
//
// Model. A process is an address space (mm.AddressSpace), a file
// descriptor table, signal dispositions and a set of threads. Each user
// thread is driven by one kernel goroutine that loops: deliver pending
// signals, switch to the process's page tables, run the thread in ring 3
// with rt.EnterUser until it traps, and handle the trap as ordinary Go code
// (a system call, a page fault, an exception, or an interrupt after which
// the goroutine yields if its time slice is used up). The Go scheduler thus
// schedules user threads along with the kernel's own goroutines, and a
// blocking system call is just a goroutine blocking on a channel.
//
// System calls are dispatched through a declarative table (table.go: name,
// handler, support level). Pointers from user space are never dereferenced:
// the kernel copies through the address space (CopyIn/CopyOut walk the page
// tables and use the direct map), so a bad pointer is EFAULT, never a
// kernel fault. Calls not in the table return ENOSYS and are logged once per
// process by name.
//
// Blocking calls (futex, nanosleep, read on a pipe or the console, wait4,
// epoll_pwait) select on the thread's interrupt channel as well, so a signal
// ends them with EINTR and killing a process ends them at once. Files
// reach the thread only as a kfile.Caller (caller.go).
//
// Files. A process's descriptors are a kfile.FDTable of open file
// descriptions (package kfile, the open-file layer); the files behind
// them are in packages of their own, which proc imports and which never
// import proc: pipes (package pipe), the console terminal (package tty,
// console.go), epoll and eventfd (package epoll), AF_UNIX sockets
// (package unixsock, reached from sys_unix.go and sys_unixmsg.go), and
// files of file servers (package fsclient). Paths are resolved against the process's
// mount namespace (namespace.go, shared as Linux's is; the table is
// package vfs; fsys.go): the mount is chosen lexically and the rest of
// the path handed to its filesystem (a kfile.FS), which is the initfs
// tree (nodefs.go), /dev (devfs.go: the kernel's devices and the device
// files servers attach), /proc (procfs.go, rendered by package procfs),
// or a server of the file protocol reached over IPC (package fsclient),
// to which the kernel forwards Linux file calls as a client, with shared
// buffers for bulk data. The path calls are in sys_path.go and
// sys_pathmod.go, the native mount calls in sys_mount.go, mount(2) and
// umount2(2) in sys_linuxmount.go (which asks the mounter, a user-space
// server, to start file servers); docs/filesystems.md describes the
// whole.
//
// Faults. A page fault in a mapping that allows the access is demand
// paging. Any other fault becomes the signal Linux would send (SIGSEGV,
// SIGBUS, SIGILL, SIGFPE, SIGTRAP), delivered to the faulting thread; the Go
// runtime turns SIGSEGV into a panic that recover can catch. If the signal
// cannot be delivered (no handler, blocked, or its frame cannot be written),
// the process dies of it. Either way only that process is affected, and the
// kernel logs the fault and the exit.
//
// Lifetime. A process ends when its last thread exits or when exit_group
// or a fatal signal kills it: its threads stop at their next trap or
// blocking point, its files are closed, its address space is destroyed
// (every frame returned), and it becomes a zombie until its parent waits
// for it. The first process is special: when it exits the kernel powers
// off.
//
// Job control (docs/processes.md, "Job control"). Every process is in a
// process group and a session (jobs.go: inherited by every kind of
// child, changed by setpgid and setsid, sys_jobs.go), and may have the
// console as its controlling terminal (package tty keeps the terminal's
// side: its session and foreground group; sys_tty.go serves the
// terminal ioctls). A stop signal at its default action stops the whole
// process (stop.go): the threads park at their next trap or blocking
// point (Thread.step, CanBlock) until SIGCONT, which acts when it is
// sent; the parent hears through SIGCHLD and wait (wait.go, which also
// reports stops and continues and waits by group). An exit that leaves a
// process group orphaned with a stopped member sends it SIGHUP and
// SIGCONT; a session leader's exit takes the terminal from its session.
//
// Locking. Process.mu guards the thread set, exit state, children,
// signal dispositions and the stop state; Thread fields touched by other
// threads (pending signals) are guarded by the process lock too. jobMu
// guards every process's group, session, controlling terminal and
// execed flag and the group and session tables. The address space has
// its own lock. Lock order: jobMu, then Process.mu, then the terminal's
// lock and tableMu; Process.mu before AddressSpace.mu; never hold
// Process.mu while blocking.
package proc
