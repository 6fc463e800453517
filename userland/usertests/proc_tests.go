package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"valence.dev/libos"
)

// self is this program, which the process tests start in child roles.
const self = "/bin/usertests"

// testExec starts a child with os/exec (vfork, execve, pipes, wait4),
// feeds it input, and checks its output and exit status.
func testExec() error {
	cmd := exec.Command(self, "upcase", "exit=3")
	cmd.Stdin = strings.NewReader("hello, child\n")
	var out bytes.Buffer
	cmd.Stdout = &out
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 3 {
		return fmt.Errorf("exit status: %v, want exit status 3", err)
	}
	if got := out.String(); got != "HELLO, CHILD\n" {
		return fmt.Errorf("child wrote %q", got)
	}
	// CombinedOutput, environment and arguments.
	cmd = exec.Command(self, "printenv", "VALENCE_TEST")
	cmd.Env = []string{"VALENCE_TEST=passed down"}
	b, err := cmd.CombinedOutput()
	if err != nil || string(b) != "passed down\n" {
		return fmt.Errorf("printenv: %q %v", b, err)
	}
	// A missing program is an error from Start, not a crash.
	if err := exec.Command("/bin/no-such-program").Run(); !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("running a missing program: %v", err)
	}
	return nil
}

// testSpawnWaitKill uses the native process calls.
func testSpawnWaitKill() error {
	pid, err := libos.Spawn(self, []string{"usertests", "exit=7"}, nil)
	if err != nil {
		return err
	}
	wpid, st, err := libos.Wait(pid)
	if err != nil || wpid != pid || !st.Exited() || st.ExitStatus() != 7 {
		return fmt.Errorf("wait: pid %d status %v err %v, want pid %d exit 7", wpid, st, err, pid)
	}
	pid, err = libos.Spawn(self, []string{"usertests", "spin"}, nil)
	if err != nil {
		return err
	}
	time.Sleep(50 * time.Millisecond)
	if err := libos.Kill(pid, syscall.SIGKILL); err != nil {
		return err
	}
	_, st, err = libos.Wait(pid)
	if err != nil || !st.Signaled() || st.Signal() != syscall.SIGKILL {
		return fmt.Errorf("killed spinner: status %v err %v", st, err)
	}
	if _, err := libos.Spawn("/bin/no-such-program", nil, nil); !errors.Is(err, syscall.ENOENT) {
		return fmt.Errorf("spawning a missing program: %v, want ENOENT", err)
	}
	if err := libos.Kill(1, syscall.SIGKILL); !errors.Is(err, syscall.EPERM) && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("killing a process that is not a child: %v", err)
	}
	if _, _, err := libos.Wait(99999); !errors.Is(err, syscall.ECHILD) {
		return fmt.Errorf("waiting for a stranger: %v, want ECHILD", err)
	}
	return nil
}

// crashes are the ways a child can die; each must kill only the child.
var crashes = []struct {
	kind   string
	status func(syscall.WaitStatus) bool
	want   string
}{
	// Go turns these into a fatal panic or error: exit status 2.
	{"nil", exited(2), "exit status 2"},
	{"illegal", exited(2), "exit status 2"},
	{"divide", exited(2), "exit status 2"},
	{"kernel-write", exited(2), "exit status 2"},
	{"stack-overflow", exited(2), "exit status 2"},
	{"wild-jump", exited(2), "exit status 2"},
	// With no handler installed the kernel's default action kills it.
	{"raw-segv", signaled(syscall.SIGSEGV), "killed by SIGSEGV"},
	{"raw-ill", signaled(syscall.SIGILL), "killed by SIGILL"},
	{"self-kill", signaled(syscall.SIGKILL), "killed by SIGKILL"},
}

func exited(code int) func(syscall.WaitStatus) bool {
	return func(s syscall.WaitStatus) bool { return s.Exited() && s.ExitStatus() == code }
}

func signaled(sig syscall.Signal) func(syscall.WaitStatus) bool {
	return func(s syscall.WaitStatus) bool { return s.Signaled() && s.Signal() == sig }
}

func testCrashes() error {
	for _, c := range crashes {
		cmd := exec.Command(self, "crash", c.kind)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		st := cmd.ProcessState.Sys().(syscall.WaitStatus)
		if !c.status(st) {
			return fmt.Errorf("crash %s: %v (status %#x), want %s; output:\n%s", c.kind, err, uint32(st), c.want, out.Bytes())
		}
	}
	// And the parent is fine: it still computes and makes system calls.
	if os.Getpid() <= 0 {
		return errors.New("getpid failed after the crashes")
	}
	return nil
}

// testSpawnCycles starts and reaps many short-lived children and checks
// that the memory user processes hold returns to where it was.
func testSpawnCycles() error {
	const cycles = 200
	before, err := libos.MemInfo()
	if err != nil {
		return err
	}
	for i := 0; i < cycles; i++ {
		pid, err := libos.Spawn(self, []string{"usertests", "exit=0"}, nil)
		if err != nil {
			return fmt.Errorf("cycle %d: %v", i, err)
		}
		if _, st, err := libos.Wait(pid); err != nil || st.ExitStatus() != 0 {
			return fmt.Errorf("cycle %d: status %v err %v", i, st, err)
		}
	}
	after, err := libos.MemInfo()
	if err != nil {
		return err
	}
	// Everything the children held must be back: user pages other than
	// this process's own (whose heap may have grown meanwhile).
	if b, a := before.UserPages-before.Self, after.UserPages-after.Self; a != b {
		return fmt.Errorf("pages held by other processes went from %d to %d KiB over %d spawn/exit cycles", b>>10, a>>10, cycles)
	}
	// Free memory may move a little with the kernel's own heap, but not by
	// anything like a child's footprint per cycle.
	if before.Free > after.Free && before.Free-after.Free > 8<<20 {
		return fmt.Errorf("free memory went from %d to %d KiB over %d cycles", before.Free>>10, after.Free>>10, cycles)
	}
	fmt.Printf("usertests: spawn-cycles: others' pages %d -> %d KiB, own %d -> %d KiB, free %d -> %d KiB\n",
		(before.UserPages-before.Self)>>10, (after.UserPages-after.Self)>>10,
		before.Self>>10, after.Self>>10, before.Free>>10, after.Free>>10)
	return nil
}

// testUnsupported makes a call the kernel does not implement: ENOSYS,
// and the kernel logs it once.
func testUnsupported() error {
	for i := 0; i < 2; i++ {
		if _, _, e := syscall.Syscall(syscall.SYS_ACCT, 0, 0, 0); e != syscall.ENOSYS {
			return fmt.Errorf("acct: %v, want ENOSYS", e)
		}
	}
	return nil
}
