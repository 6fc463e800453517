package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"valence.dev/ipc"
	"valence.dev/libos"
)

// Signals and the process table, attacked: signalling processes one has
// no authority over, an unkillable vfork parent, zombies nobody reaps,
// and a signal lost behind an IPC call.

func init() {
	// The main goroutine stays on the main thread (TID == PID), which
	// the kernel once always picked for process-directed signals.
	runtime.LockOSThread()
	addTest("kill-rule", testKillRule)
	addTest("vfork-kill", testVforkKill)
	addTest("zombie-reap", testZombieReap)
	addTest("signal-in-call", testSignalInCall)
	addRole("sleeper", func([]string) int { time.Sleep(time.Hour); return 0 })
	addRole("kill-others", killOthers)
	addRole("vfork-spin", vforkRole)
	addRole("zombie-maker", zombieMaker)
	addRole("sig-in-call", sigInCall)
	addRole("exit", func([]string) int { return 0 })
}

// vforkSpin is in vfork_amd64.s.
func vforkSpin() int64

// generous bounds a wait for something that must happen, not how fast:
// TCG on a loaded machine is slow.
const generous = 60 * time.Second

// startRole starts this program in a role with os/exec; its output is
// read through the returned scanner.
func startRole(name string, args ...string) (*exec.Cmd, *bufio.Scanner, error) {
	cmd := exec.Command(self(), append([]string{"role", name}, args...)...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, err
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	return cmd, bufio.NewScanner(out), nil
}

// waitWithin waits for cmd, failing if it has not ended within d.
func waitWithin(cmd *exec.Cmd, d time.Duration) error {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		return fmt.Errorf("pid %d has not ended %v later", cmd.Process.Pid, d)
	}
}

// alive reports whether pid names a process (or zombie) at all.
func alive(pid int) bool {
	return syscall.Kill(pid, 0) != syscall.ESRCH
}

// testKillRule: a child may not signal its sibling, its parent or, with
// kill(-1), anyone but its own descendants; it may signal its own child.
func testKillRule() error {
	victim, _, err := startRole("sleeper")
	if err != nil {
		return err
	}
	defer func() { victim.Process.Kill(); victim.Wait() }()
	attacker, out, err := startRole("kill-others", strconv.Itoa(victim.Process.Pid))
	if err != nil {
		return err
	}
	var report []string
	for out.Scan() {
		report = append(report, out.Text())
	}
	if err := waitWithin(attacker, generous); err != nil {
		return fmt.Errorf("the attacker: %v; it said %q", err, report)
	}
	if !alive(victim.Process.Pid) {
		return errors.New("the sibling was killed")
	}
	var st syscall.WaitStatus
	if pid, _ := syscall.Wait4(victim.Process.Pid, &st, syscall.WNOHANG, nil); pid != 0 {
		return fmt.Errorf("the sibling ended: %v", st)
	}
	return nil
}

// killOthers is the attacker: every refused signal must be EPERM.
func killOthers(args []string) int {
	sibling, _ := strconv.Atoi(args[0])
	parent := os.Getppid()
	bad := 0
	try := func(what string, err error, want error) {
		if err != want {
			fmt.Printf("%s: got %v, want %v\n", what, err, want)
			bad++
		}
	}
	try("kill(sibling, SIGKILL)", syscall.Kill(sibling, syscall.SIGKILL), syscall.EPERM)
	try("kill(sibling, 0)", syscall.Kill(sibling, 0), syscall.EPERM)
	try("tgkill(sibling, sibling, SIGKILL)", syscall.Tgkill(sibling, sibling, syscall.SIGKILL), syscall.EPERM)
	try("kill(parent, SIGTERM)", syscall.Kill(parent, syscall.SIGTERM), syscall.EPERM)
	try("kill(1, SIGKILL)", syscall.Kill(1, syscall.SIGKILL), syscall.EPERM)
	try("tgkill(1, 1, SIGKILL)", syscall.Tgkill(1, 1, syscall.SIGKILL), syscall.EPERM)
	try("kill(-1, SIGKILL) with no descendants", syscall.Kill(-1, syscall.SIGKILL), syscall.ESRCH)
	// Its own child is fair game, also through kill(-1).
	child := exec.Command(self(), "role", "sleeper")
	if err := child.Start(); err != nil {
		fmt.Println("start:", err)
		return 3
	}
	try("kill(-1, SIGKILL) with a child", syscall.Kill(-1, syscall.SIGKILL), nil)
	if err := child.Wait(); err == nil || !strings.Contains(err.Error(), "killed") {
		fmt.Printf("own child after kill(-1): %v\n", err)
		bad++
	}
	if bad > 0 {
		return 1
	}
	return 0
}

// testVforkKill: a process blocked in vfork while its child lives must
// still die of SIGKILL.
func testVforkKill() error {
	ph, pid, err := libos.ProcSpawn(self(), []string{"attacks", "role", "vfork-spin"}, nil, nil)
	if err != nil {
		return err
	}
	defer libos.Close(ph)
	time.Sleep(500 * time.Millisecond) // let it get into vfork
	if err := libos.ProcKill(ph, syscall.SIGKILL); err != nil {
		return err
	}
	done := make(chan syscall.WaitStatus, 1)
	go func() { st, _ := libos.ProcWait(ph); done <- st }()
	select {
	case st := <-done:
		if !st.Signaled() || st.Signal() != syscall.SIGKILL {
			return fmt.Errorf("pid %d ended with %#x, want killed by SIGKILL", pid, uint32(st))
		}
	case <-time.After(generous):
		return fmt.Errorf("pid %d, blocked in vfork, survived SIGKILL for %v", pid, generous)
	}
	return nil
}

func vforkRole([]string) int {
	r := vforkSpin()
	fmt.Println("vfork returned", r) // the child exits only once we are dead
	return 1
}

// testZombieReap: children that end before their parent, whose parent
// then exits without waiting, must not stay in the process table; nor
// must children still running when their parent exits, once they end.
func testZombieReap() error {
	for round := 0; round < 20; round++ {
		cmd, out, err := startRole("zombie-maker")
		if err != nil {
			return err
		}
		var pids []int
		for out.Scan() {
			for _, f := range strings.Fields(out.Text()) {
				if n, err := strconv.Atoi(f); err == nil {
					pids = append(pids, n)
				}
			}
		}
		if err := waitWithin(cmd, generous); err != nil {
			return fmt.Errorf("zombie-maker: %v", err)
		}
		if len(pids) != 2 {
			return fmt.Errorf("zombie-maker reported %v, want two PIDs", pids)
		}
		deadline := time.Now().Add(generous)
		for _, pid := range pids {
			for alive(pid) {
				if time.Now().After(deadline) {
					return fmt.Errorf("round %d: orphan pid %d is still in the process table %v after its parent exited", round, pid, generous)
				}
				time.Sleep(20 * time.Millisecond)
			}
		}
	}
	return nil
}

// zombieMaker starts a child that exits at once and one that lives a
// little longer, waits (without reaping) until the first has ended,
// prints both PIDs and exits without waiting for either.
func zombieMaker([]string) int {
	quick := exec.Command(self(), "role", "exit")
	slow := exec.Command(self(), "role", "sleeper")
	if quick.Start() != nil || slow.Start() != nil {
		return 2
	}
	// waitid(P_PID, pid, WEXITED|WNOWAIT): ended, not reaped: a zombie.
	var info [128]byte
	_, _, e := syscall.Syscall6(syscall.SYS_WAITID, 1, uintptr(quick.Process.Pid), uintptr(unsafePointer(&info[0])), 4|0x1000000, 0, 0)
	if e != 0 {
		fmt.Println("waitid:", e)
		return 3
	}
	fmt.Println(quick.Process.Pid, slow.Process.Pid)
	// The slow one is killed but not waited for: depending on timing it
	// ends before us (a zombie when we exit) or after (an orphan when it
	// ends); either way the kernel must reap it.
	slow.Process.Signal(syscall.SIGKILL)
	time.Sleep(10 * time.Millisecond)
	return 0
}

// testSignalInCall: a signal for a process whose main thread waits in an
// IPC call must reach another thread that can take it.
func testSignalInCall() error {
	cmd, out, err := startRole("sig-in-call")
	if err != nil {
		return err
	}
	if !out.Scan() || out.Text() != "ready" {
		cmd.Process.Kill()
		cmd.Wait()
		return fmt.Errorf("sig-in-call did not get ready: %q", out.Text())
	}
	time.Sleep(500 * time.Millisecond) // let the main thread block in its call
	if err := cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		return err
	}
	if err := waitWithin(cmd, generous); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return fmt.Errorf("SIGUSR1 was not delivered: %v", err)
	}
	return nil
}

// sigInCall blocks its main thread in a call that is never answered and
// exits 0 when SIGUSR1 arrives.
func sigInCall([]string) int {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGUSR1)
	go func() {
		<-ch
		os.Exit(0)
	}()
	ep, err := libos.NewEndpoint()
	if err != nil {
		return 2
	}
	fmt.Println("ready")
	var m, rep ipc.Message
	libos.Call(ep, &m, &rep) // nobody receives: blocks until we die
	return 3
}
