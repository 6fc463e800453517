package proc

import (
	"testing"

	"golang.org/x/sys/unix"

	"valence.dev/ipc"
)

// TestDebugChecks pins down what debug mode checks after which calls.
func TestDebugChecks(t *testing.T) {
	for _, tc := range []struct {
		name string
		nr   uint64
		want debugCheck
	}{
		{"mmap", unix.SYS_MMAP, checkSpace | checkGlobal},
		{"munmap", unix.SYS_MUNMAP, checkSpace | checkGlobal},
		{"mprotect", unix.SYS_MPROTECT, checkSpace | checkGlobal},
		{"execve", unix.SYS_EXECVE, checkSpace | checkGlobal},
		{"exit_group", unix.SYS_EXIT_GROUP, checkSpace | checkGlobal},
		{"wait4", unix.SYS_WAIT4, checkGlobal},
		{"close", unix.SYS_CLOSE, checkGlobal},
		{"read", unix.SYS_READ, 0},
		{"getpid", unix.SYS_GETPID, 0},
		{"not a system call", 100000, 0},
		{"mem_map", ipc.SysMemMap, checkSpace | checkGlobal},
		{"handle_close", ipc.SysHandleClose, checkGlobal},
		{"call", ipc.SysCall, checkGlobal},
		{"proc_spawn", ipc.SysProcSpawn, checkGlobal},
	} {
		if got := debugChecks(tc.nr); got != tc.want {
			t.Errorf("%s: debugChecks = %b, want %b", tc.name, got, tc.want)
		}
	}
}

// TestDebugChecksCoverTable: every native call is checked (a new one gets
// both checks until it is listed), and the lists name real calls.
func TestDebugChecksCoverTable(t *testing.T) {
	for nr, e := range nativeTable {
		if debugChecks(nr)&checkGlobal == 0 {
			t.Errorf("native call %s is not checked", e.name)
		}
	}
	for nr := range debugNativeNoSpace {
		if _, found := nativeTable[nr]; !found {
			t.Errorf("debugNativeNoSpace lists %#x, which is no native call", nr)
		}
	}
	for nr, what := range debugLinux {
		if _, found := linuxTable[nr]; !found {
			t.Errorf("debugLinux lists %d, which is not in the Linux table", nr)
		}
		if what&checkGlobal == 0 {
			t.Errorf("debugLinux: %s checks its address space but does not count towards the global checks", syscallName(nr))
		}
	}
}
