package ipc

// NativeBase is the first native system call number; Linux's amd64 numbers
// end far below it.
const NativeBase = 0x1000

// Native system calls for processes.
const (
	// SysSpawn starts a program: (path *byte, argv **byte, envp **byte)
	// -> pid. The strings are NUL-terminated and the arrays NULL-terminated,
	// as for execve. The child gets the caller's standard descriptors 0-2
	// and no others, and is the caller's child.
	SysSpawn = NativeBase + 0x10
	// SysWait waits for a child to end: (pid, status *uint32, flags) ->
	// pid. status gets the wait(2) encoding; flags may be WaitNoHang.
	SysWait = NativeBase + 0x11
	// SysKill ends a process: (pid, signal) -> 0. Only the caller's
	// descendants may be killed.
	SysKill = NativeBase + 0x12
	// SysMemInfo reports memory use: (info *MemInfo) -> 0.
	SysMemInfo = NativeBase + 0x13
)

// WaitNoHang makes SysWait return 0 at once if the child is still running.
const WaitNoHang = 1

// MemInfo is what SysMemInfo reports, in bytes.
type MemInfo struct {
	Total     uint64 // physical memory managed by the kernel
	Free      uint64 // of which free
	UserPages uint64 // held by user address spaces (pages and page tables)
	Self      uint64 // of which held by the caller's own address space
}
