package libos

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"unsafe"

	"valence.dev/ipc"
)

func errOf(call string, e syscall.Errno) error {
	if e == 0 {
		return nil
	}
	return fmt.Errorf("%s: %w", call, e)
}

// Dup returns a copy of h with the given rights (a subset of h's) and, if
// h has no badge yet, the given badge (0 keeps h's).
func Dup(h ipc.Handle, rights ipc.Rights, badge uint64) (ipc.Handle, error) {
	r, _, e := syscall.RawSyscall(ipc.SysHandleDup, uintptr(h), uintptr(rights), uintptr(badge))
	return ipc.Handle(r), errOf("handle dup", e)
}

// Close removes h from the caller's handle table.
func Close(h ipc.Handle) error {
	_, _, e := syscall.RawSyscall(ipc.SysHandleClose, uintptr(h), 0, 0)
	return errOf("handle close", e)
}

// Revoke removes every capability derived from h, in every process, and
// returns how many there were. h itself stays.
func Revoke(h ipc.Handle) (int, error) {
	r, _, e := syscall.RawSyscall(ipc.SysHandleRevoke, uintptr(h), 0, 0)
	return int(r), errOf("handle revoke", e)
}

// Info describes h.
func Info(h ipc.Handle) (ipc.HandleInfo, error) {
	var info ipc.HandleInfo
	_, _, e := syscall.RawSyscall(ipc.SysHandleInfo, uintptr(h), uintptr(unsafe.Pointer(&info)), 0)
	return info, errOf("handle info", e)
}

// InitialHandles returns the handles the process was started with by
// ProcSpawn, in order (from VALENCE_HANDLES).
func InitialHandles() []ipc.Handle {
	v := os.Getenv("VALENCE_HANDLES")
	if v == "" {
		return nil
	}
	var hs []ipc.Handle
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.ParseUint(f, 0, 64)
		if err == nil {
			hs = append(hs, ipc.Handle(n))
		}
	}
	return hs
}
