package libos

import (
	"fmt"
	"syscall"
	"unsafe"

	"valence.dev/ipc"
)

// cstrings returns NUL-terminated copies of ss and a NULL-terminated array
// of pointers to them; the caller keeps both alive across the call.
func cstrings(ss []string) ([][]byte, []*byte) {
	bufs := make([][]byte, len(ss))
	ptrs := make([]*byte, len(ss)+1)
	for i, s := range ss {
		bufs[i] = append([]byte(s), 0)
		ptrs[i] = &bufs[i][0]
	}
	return bufs, ptrs
}

// Spawn starts the program at path with argv and envp as a child of the
// calling process, sharing its standard input, output and error, and
// returns its process ID.
func Spawn(path string, argv, envp []string) (int, error) {
	p := append([]byte(path), 0)
	ab, ap := cstrings(argv)
	eb, ep := cstrings(envp)
	r, _, e := syscall.Syscall6(ipc.SysSpawn, uintptr(unsafe.Pointer(&p[0])),
		uintptr(unsafe.Pointer(&ap[0])), uintptr(unsafe.Pointer(&ep[0])), 0, 0, 0)
	_, _ = ab, eb
	if e != 0 {
		return 0, fmt.Errorf("spawn %s: %w", path, e)
	}
	return int(r), nil
}

// WaitStatus is a child's end, as wait(2) encodes it.
type WaitStatus = syscall.WaitStatus

// Wait blocks until child pid (or any child, if pid is -1) ends, and
// returns its PID and status.
func Wait(pid int) (int, WaitStatus, error) {
	var st uint32
	r, _, e := syscall.Syscall6(ipc.SysWait, uintptr(pid), uintptr(unsafe.Pointer(&st)), 0, 0, 0, 0)
	if e != 0 {
		return 0, 0, fmt.Errorf("wait %d: %w", pid, e)
	}
	return int(r), WaitStatus(st), nil
}

// Kill sends signal sig to pid, which must be a descendant of the caller.
func Kill(pid int, sig syscall.Signal) error {
	_, _, e := syscall.RawSyscall(ipc.SysKill, uintptr(pid), uintptr(sig), 0)
	if e != 0 {
		return fmt.Errorf("kill %d: %w", pid, e)
	}
	return nil
}

// MemInfo reports the kernel's memory use.
func MemInfo() (ipc.MemInfo, error) {
	var m ipc.MemInfo
	_, _, e := syscall.RawSyscall(ipc.SysMemInfo, uintptr(unsafe.Pointer(&m)), unsafe.Sizeof(m), 0)
	if e != 0 {
		return m, fmt.Errorf("meminfo: %w", e)
	}
	return m, nil
}

// Rlimit is a resource limit as prlimit64 reads and writes it.
type Rlimit struct {
	Cur, Max uint64
}

// RlimInfinity is "no limit".
const RlimInfinity = ^uint64(0)

// Prlimit reads process pid's limit on resource (0 is the caller; any
// other pid must be the caller's descendant) and, if set is non-nil,
// replaces it. Resources are Linux's RLIMIT_* or ipc.Rlimit*.
func Prlimit(pid, resource int, set *Rlimit) (Rlimit, error) {
	var old Rlimit
	_, _, e := syscall.RawSyscall6(syscall.SYS_PRLIMIT64, uintptr(pid), uintptr(resource),
		uintptr(unsafe.Pointer(set)), uintptr(unsafe.Pointer(&old)), 0, 0)
	if e != 0 {
		return old, fmt.Errorf("prlimit64(%d, %d): %w", pid, resource, e)
	}
	return old, nil
}

// ProcEssential marks the process h names essential (or not): the
// out-of-memory killer takes essential processes only when nothing else
// is left. The caller must be the first process or essential itself.
func ProcEssential(h ipc.Handle, on bool) error {
	v := uintptr(0)
	if on {
		v = 1
	}
	_, _, e := syscall.RawSyscall(ipc.SysProcEssential, uintptr(h), v, 0)
	return errOf("proc essential", e)
}

// ProcSpawn starts path as a child holding exactly the given handles
// (each needs ipc.RightGrant; the child gets derived copies that the caller
// can revoke) and the caller's standard descriptors. It returns a process
// handle and the PID.
func ProcSpawn(path string, argv, envp []string, handles []ipc.Handle) (ipc.Handle, int, error) {
	p := append([]byte(path), 0)
	ab, ap := cstrings(argv)
	eb, ep := cstrings(envp)
	var hp unsafe.Pointer
	if len(handles) > 0 {
		hp = unsafe.Pointer(&handles[0])
	}
	var pid int32
	r, _, e := syscall.Syscall6(ipc.SysProcSpawn, uintptr(unsafe.Pointer(&p[0])), uintptr(unsafe.Pointer(&ap[0])),
		uintptr(unsafe.Pointer(&ep[0])), uintptr(hp), uintptr(len(handles)), uintptr(unsafe.Pointer(&pid)))
	_, _ = ab, eb
	if e != 0 {
		return 0, 0, fmt.Errorf("spawn %s: %w", path, e)
	}
	return ipc.Handle(r), int(pid), nil
}

// ProcKill sends sig to the process h names.
func ProcKill(h ipc.Handle, sig syscall.Signal) error {
	_, _, e := syscall.RawSyscall(ipc.SysProcKill, uintptr(h), uintptr(sig), 0)
	return errOf("proc kill", e)
}

// ProcWait blocks until the process h names ends, and returns its status.
func ProcWait(h ipc.Handle) (WaitStatus, error) {
	var st uint32
	_, _, e := syscall.Syscall(ipc.SysProcWait, uintptr(h), uintptr(unsafe.Pointer(&st)), 0)
	return WaitStatus(st), errOf("proc wait", e)
}

// ProcNotify asks for bits to be signalled on notification n when the
// process h names ends.
func ProcNotify(h, n ipc.Handle, bits uint64) error {
	_, _, e := syscall.RawSyscall(ipc.SysProcNotify, uintptr(h), uintptr(n), uintptr(bits))
	return errOf("proc notify", e)
}
