package proc

import (
	"fmt"
	"runtime/debug"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"valence.dev/ipc"
	"valence.dev/microkernel/clock"
	"valence.dev/microkernel/klog"
	"valence.dev/microkernel/mm"
)

// Debug mode (docs/debugging.md). With the kernel command-line word
// "debug" (make run DEBUG=1), the kernel runs its invariant checkers after
// the system calls that can change capabilities, frames or mappings
// (debugChecks says which, and what each gets):
//
//   - after each call that can change the caller's mappings, its whole
//     address space (mm.AddressSpace.Check); after the others, the cheap
//     part, that no memory object it maps has been freed
//     (mm.AddressSpace.CheckShared);
//   - every globalEvery-th checked call, system-wide, and after every
//     process has ended (finish): all physical frames (mm.CheckFrames)
//     and all capabilities (caps.System.Check);
//   - when the first process ends with no other process left, that no
//     frame is still counted as user memory.
//
// A violation is a kernel bug: the kernel panics, naming the check, the
// system call and the process (debugFail). The checks run on the thread's
// goroutine after the handler, never in trap context: they allocate.

// debugMode is set once, before the first process starts.
var debugMode bool

// SetDebug turns debug mode on or off. Call it before StartFirst.
func SetDebug(on bool) { debugMode = on }

// globalEvery is how often (in checked calls, system-wide) the global
// checks run after a system call. Each costs about 3 ms under TCG (the
// frame bitmap, the kernel heap's page tables, every capability); after
// every call they made the capability-heavy attack tests 50-70 times
// slower. A broken invariant stays broken, so a later check, or the one
// at the process's exit, still finds it.
const globalEvery = 128

// DebugGlobalEvery is globalEvery, for the boot log.
const DebugGlobalEvery = globalEvery

// Counts for the report at the first process's exit: checked calls (also
// for globalEvery), address-space and global checks, and the time spent
// checking (guest time, including any time the checking goroutine was
// preempted).
var debugCalls, debugSpaces, debugGlobals, debugNanos, debugGlobalNanos atomic.Uint64

// debugCheck is what debug mode does after a system call.
type debugCheck uint8

const (
	// checkSpace: the call can change the caller's mappings; check its
	// address space at once.
	checkSpace debugCheck = 1 << iota
	// checkGlobal: the call can change frames or capabilities; it counts
	// towards the global checks.
	checkGlobal
)

// debugLinux are the Linux system calls debug mode checks after: those
// that map, unmap or protect memory or create or end threads and
// processes (checkSpace), and those that reap, kill or close
// (checkGlobal). Calls that only fault pages in (read into a fresh
// buffer, say) are not listed: the process's next checkSpace call sees
// their pages.
var debugLinux = map[uint64]debugCheck{
	unix.SYS_MMAP:       checkSpace | checkGlobal,
	unix.SYS_MUNMAP:     checkSpace | checkGlobal,
	unix.SYS_MPROTECT:   checkSpace | checkGlobal,
	unix.SYS_MADVISE:    checkSpace | checkGlobal,
	unix.SYS_BRK:        checkSpace | checkGlobal,
	unix.SYS_EXECVE:     checkSpace | checkGlobal,
	unix.SYS_CLONE:      checkSpace | checkGlobal,
	unix.SYS_EXIT:       checkSpace | checkGlobal,
	unix.SYS_EXIT_GROUP: checkSpace | checkGlobal,
	unix.SYS_WAIT4:      checkGlobal,
	unix.SYS_WAITID:     checkGlobal,
	unix.SYS_KILL:       checkGlobal,
	unix.SYS_TKILL:      checkGlobal,
	unix.SYS_TGKILL:     checkGlobal,
	unix.SYS_CLOSE:      checkGlobal,
}

// debugNativeNoSpace are the native calls that cannot change the caller's
// mappings: they create, pass and close capabilities and objects, and
// spawn, wait for and kill other processes (checkGlobal). Every other
// native call, valence_mem_map and any call added later, gets both checks.
var debugNativeNoSpace = map[uint64]bool{
	ipc.SysSpawn: true, ipc.SysWait: true, ipc.SysKill: true, ipc.SysMemInfo: true,
	ipc.SysHandleDup: true, ipc.SysHandleClose: true, ipc.SysHandleRevoke: true, ipc.SysHandleInfo: true,
	ipc.SysEndpointCreate: true, ipc.SysCall: true, ipc.SysRecv: true, ipc.SysReply: true, ipc.SysReplyRecv: true,
	ipc.SysNotifyCreate: true, ipc.SysNotifySignal: true, ipc.SysNotifyWait: true, ipc.SysNotifyBind: true,
	ipc.SysMemCreate: true,
	ipc.SysProcSpawn: true, ipc.SysProcKill: true, ipc.SysProcWait: true, ipc.SysProcNotify: true,
	ipc.SysProcEssential: true,
	ipc.SysDevIRQ:        true, ipc.SysDevMSI: true, ipc.SysIRQBind: true, ipc.SysIRQAck: true,
	ipc.SysDMACreate: true, ipc.SysMemPhys: true, ipc.SysDevPorts: true, ipc.SysPortIn: true,
	ipc.SysPortOut: true, ipc.SysDevInfo: true, ipc.SysDevMMIO: true, ipc.SysDevDerive: true,
}

// debugChecks returns what debug mode checks after system call nr.
func debugChecks(nr uint64) debugCheck {
	if _, native := nativeTable[nr]; native {
		if debugNativeNoSpace[nr] {
			return checkGlobal
		}
		return checkSpace | checkGlobal
	}
	return debugLinux[nr]
}

// debugAfterCall runs the checks after system call c (named name), if
// debug mode is on.
func debugAfterCall(c *call, name string) {
	if !debugMode {
		return
	}
	what := debugChecks(c.nr)
	if what == 0 {
		return
	}
	start := clock.Monotonic()
	defer func() { debugNanos.Add(uint64(clock.Monotonic() - start)) }()
	if as := c.p.addressSpace(); as != nil {
		if what&checkSpace != 0 {
			debugSpaces.Add(1)
			if err := as.Check(); err != nil {
				debugFail("address space", name, c.p, err)
			}
		} else if err := as.CheckShared(); err != nil {
			// A closed or revoked capability may have freed an object
			// mapped here.
			debugFail("shared mappings", name, c.p, err)
		}
	}
	if debugCalls.Add(1)%globalEvery == 0 {
		debugGlobal(name, c.p)
	}
}

// debugAfterExit runs the checks after process p has ended (finish).
func debugAfterExit(p *Process) {
	if !debugMode {
		return
	}
	start := clock.Monotonic()
	debugGlobal("its exit", p)
	debugNanos.Add(uint64(clock.Monotonic() - start))
	if !p.first {
		return
	}
	tableMu.Lock()
	left := len(procs)
	tableMu.Unlock()
	if n := mm.UserFrames(); left == 0 && n != 0 {
		debugFail("frames", "its exit", p, fmt.Errorf("no process is left, but %d frames are counted as user memory", n))
	}
	klog.Printf("debug: checked after %d system calls: %d address-space checks, %d global checks (%d frame checks redone), %.1f s checking (%.1f s global); no violation",
		debugCalls.Load(), debugSpaces.Load(), debugGlobals.Load(), mm.FrameCheckRetries(), float64(debugNanos.Load())/1e9, float64(debugGlobalNanos.Load())/1e9)
}

// debugGlobal runs the global checks: every frame, every capability.
func debugGlobal(after string, p *Process) {
	debugGlobals.Add(1)
	start := clock.Monotonic()
	defer func() { debugGlobalNanos.Add(uint64(clock.Monotonic() - start)) }()
	if err := mm.CheckFrames(); err != nil {
		debugFail("frames", after, p, err)
	}
	if err := capsys.Check(); err != nil {
		debugFail("caps", after, p, err)
	}
	if err := checkJobs(); err != nil {
		debugFail("process groups", after, p, err)
	}
}

// debugFail reports a violated invariant: a kernel bug, so the kernel
// panics: the Go runtime prints the message and a symbolized trace, and
// the kernel reports a panic and stops QEMU with a failure status.
//
// The panic is raised on a goroutine of its own, with this goroutine's
// stack in the message, while this one blocks for good: a panic here
// would first run this goroutine's deferred calls, and a thread's
// goroutine ends the thread in one (Thread.run), which for the first
// process's last thread powers the machine off, cleanly, before the
// panic is ever reported.
func debugFail(check, after string, p *Process, err error) {
	p.mu.Lock()
	name := p.Name
	p.mu.Unlock()
	msg := fmt.Sprintf("debug: %s check failed after %s by pid %d (%s): %v\n\nthe system call's goroutine:\n%s",
		check, after, p.PID, name, err, debug.Stack())
	go panic(msg)
	select {}
}
