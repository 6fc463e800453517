package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// self is this program, which the tests start in child roles.
func self() string {
	if p, err := os.Executable(); err == nil {
		return p
	}
	return os.Args[0]
}

var (
	childMu  sync.Mutex
	children []int
)

// child says how to start this program in a child role: with attr, the
// given files as its descriptors 0 and 1 (nil: this program's), and
// extra as its descriptors 3 on.
type child struct {
	attr          *syscall.SysProcAttr
	stdin, stdout *os.File
	extra         []*os.File
}

// start starts the child in role; cleanup kills and reaps it if the
// test does not.
func (c child) start(role string, args ...string) (int, error) {
	cmd := exec.Command(self(), append([]string{role}, args...)...)
	cmd.SysProcAttr = c.attr
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if c.stdin != nil {
		cmd.Stdin = c.stdin
	}
	if c.stdout != nil {
		cmd.Stdout = c.stdout
	}
	cmd.ExtraFiles = c.extra
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	childMu.Lock()
	children = append(children, cmd.Process.Pid)
	childMu.Unlock()
	return cmd.Process.Pid, nil
}

// inGroup starts a child in a new process group (its own, pgid 0) or in
// group pgid.
func inGroup(pgid int) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pgid: pgid}
}

// cleanup kills and reaps every child a test left.
func cleanup() {
	childMu.Lock()
	pids := children
	children = nil
	childMu.Unlock()
	for _, pid := range pids {
		syscall.Kill(pid, syscall.SIGKILL)
		var ws syscall.WaitStatus
		for {
			if _, err := syscall.Wait4(pid, &ws, 0, nil); err != syscall.EINTR {
				break
			}
		}
	}
}

// wait4 is wait4(2), retried on EINTR.
func wait4(pid, opts int) (int, syscall.WaitStatus, error) {
	var ws syscall.WaitStatus
	for {
		wpid, err := syscall.Wait4(pid, &ws, opts, nil)
		if err != syscall.EINTR {
			return wpid, ws, err
		}
	}
}

// expectStop waits for pid to stop with sig.
func expectStop(pid int, sig syscall.Signal) error {
	wpid, ws, err := wait4(pid, syscall.WUNTRACED)
	if err != nil || wpid != pid || !ws.Stopped() || ws.StopSignal() != sig {
		return fmt.Errorf("wait4(%d, WUNTRACED) = %d, %s, %v; want stopped by %v", pid, wpid, describe(ws), err, sig)
	}
	return nil
}

// expectDeath waits for pid to end by sig (0: to exit with code).
func expectDeath(pid int, sig syscall.Signal, code int) error {
	wpid, ws, err := wait4(pid, 0)
	ok := err == nil && wpid == pid
	if sig != 0 {
		ok = ok && ws.Signaled() && ws.Signal() == sig
	} else {
		ok = ok && ws.Exited() && ws.ExitStatus() == code
	}
	if !ok {
		want := fmt.Sprintf("exit %d", code)
		if sig != 0 {
			want = "killed by " + sig.String()
		}
		return fmt.Errorf("wait4(%d) = %d, %s, %v; want %s", pid, wpid, describe(ws), err, want)
	}
	return nil
}

// describe says what a wait status means.
func describe(ws syscall.WaitStatus) string {
	switch {
	case ws.Exited():
		return fmt.Sprintf("exited %d", ws.ExitStatus())
	case ws.Signaled():
		return "killed by " + ws.Signal().String()
	case ws.Stopped():
		return "stopped by " + ws.StopSignal().String()
	case ws.Continued():
		return "continued"
	}
	return fmt.Sprintf("status %#x", uint32(ws))
}

// childInfo is what waitid reports (the siginfo fields for SIGCHLD).
type childInfo struct {
	signo, code, pid, status int32
}

// waitid is waitid(2), with the siginfo decoded.
func waitid(idtype, id, opts int) (childInfo, error) {
	var b [128]byte
	for {
		_, _, e := syscall.Syscall6(syscall.SYS_WAITID, uintptr(idtype), uintptr(id), uintptr(unsafe.Pointer(&b[0])), uintptr(opts), 0, 0)
		if e == syscall.EINTR {
			continue
		}
		info := childInfo{
			signo:  int32(binary.LittleEndian.Uint32(b[0:])),
			code:   int32(binary.LittleEndian.Uint32(b[8:])),
			pid:    int32(binary.LittleEndian.Uint32(b[16:])),
			status: int32(binary.LittleEndian.Uint32(b[24:])),
		}
		if e != 0 {
			return info, e
		}
		return info, nil
	}
}

// tcgetpgrp and tcsetpgrp are tcgetpgrp(3) and tcsetpgrp(3).
func tcgetpgrp(fd int) (int, error) { return unix.IoctlGetInt(fd, unix.TIOCGPGRP) }

func tcsetpgrp(fd, pgid int) error {
	for {
		err := unix.IoctlSetPointerInt(fd, unix.TIOCSPGRP, pgid)
		if err != unix.EINTR {
			return err
		}
	}
}

// setAction sets sig's disposition to SIG_DFL (0) or SIG_IGN (1) with a
// raw rt_sigaction: os/signal cannot give a signal ignored at start its
// default back, and children inherit ignored signals across exec.
func setAction(sig syscall.Signal, handler uintptr) error {
	var act [4]uint64 // handler, flags, restorer, mask
	act[0] = uint64(handler)
	_, _, e := syscall.RawSyscall6(syscall.SYS_RT_SIGACTION, uintptr(sig), uintptr(unsafe.Pointer(&act)), 0, 8, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

const (
	sigDfl = 0
	sigIgn = 1
)

// withIgnored runs f with sig ignored, as a shell does around tcsetpgrp.
func withIgnored(sig syscall.Signal, f func() error) error {
	if err := setAction(sig, sigIgn); err != nil {
		return err
	}
	defer setAction(sig, sigDfl)
	return f()
}

// procStat returns the fields of /proc/<pid>/stat numbered as proc(5)
// numbers them ([1] is the pid, [3] the state).
func procStat(pid int) ([]string, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, err
	}
	s := string(b)
	open, close := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || close < open {
		return nil, fmt.Errorf("malformed stat %q", s)
	}
	fields := []string{"", strings.TrimSpace(s[:open]), s[open+1 : close]}
	return append(fields, strings.Fields(s[close+1:])...), nil
}

// statField returns field n of pid's stat as an integer.
func statField(pid, n int) (int, error) {
	f, err := procStat(pid)
	if err != nil {
		return 0, err
	}
	if n >= len(f) {
		return 0, fmt.Errorf("stat has %d fields", len(f)-1)
	}
	return strconv.Atoi(f[n])
}

// heartbeat is a pipe a child writes a byte to every few milliseconds
// while it runs; the test reads it to see whether the child runs.
type heartbeat struct{ r, w *os.File }

func newHeartbeat() (*heartbeat, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	return &heartbeat{r, w}, nil
}

// beats counts the bytes that arrive within d (a closed pipe: -1).
func (h *heartbeat) beats(d time.Duration) int {
	h.r.SetReadDeadline(time.Now().Add(d))
	n := 0
	b := make([]byte, 256)
	for {
		m, err := h.r.Read(b)
		n += m
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return n
		}
		if err != nil {
			if n == 0 {
				return -1
			}
			return n
		}
	}
}

// alive reports whether a byte arrives within d.
func (h *heartbeat) alive(d time.Duration) bool {
	h.r.SetReadDeadline(time.Now().Add(d))
	n, _ := h.r.Read(make([]byte, 1))
	return n > 0
}

// closed reports whether the pipe reaches end of file within d: the
// children writing it are gone.
func (h *heartbeat) closed(d time.Duration) bool {
	deadline := time.Now().Add(d)
	b := make([]byte, 256)
	for time.Now().Before(deadline) {
		h.r.SetReadDeadline(deadline)
		if _, err := h.r.Read(b); err != nil {
			return !errors.Is(err, os.ErrDeadlineExceeded)
		}
	}
	return false
}

func (h *heartbeat) close() {
	h.r.Close()
	h.w.Close()
}

// eventually polls cond every 10ms until it holds or d passes.
func eventually(d time.Duration, cond func() bool) bool {
	for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// si_code values of SIGCHLD (asm-generic/siginfo.h).
const (
	cldExited    = 1
	cldStopped   = 5
	cldContinued = 6
)
