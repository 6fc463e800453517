// Command jobtests exercises job control as a shell relies on it:
// process groups and sessions (setpgid, setsid, getpgid, getsid), kill
// and wait for a group, stopping and continuing (SIGSTOP, SIGTSTP, wait4
// WUNTRACED and WCONTINUED, waitid, SIGCHLD, SIGKILL of a stopped
// process, orphaned stopped groups), and the controlling terminal
// (tcgetpgrp, tcsetpgrp, SIGTTIN and SIGTTOU for background groups,
// TOSTOP, termios raw mode, VMIN and VTIME, the window size), with
// hostile cases: other sessions' groups, kill(0) and kill(-1) from a
// child, stops, continues and kills raced from several threads, a
// stopped process whose parent dies.
//
// It prints "jobtests: <name>: ok" per test that passes and
// "jobtests: FAIL <name>: <why>" per test that fails, then
// "jobtests: PASS" (exit 0) or "jobtests: FAIL (...)" (exit 1).
// JOBTESTS=a,b runs only those. The terminal tests need a controlling
// terminal on descriptor 0 whose foreground group is the program's own:
// as init on Valence it is the console; on Linux, run it as a session
// leader on a pseudo-terminal (jobtests_test.go does), and the same
// tests check Linux's answers. The tests that only Valence answers (its
// signal rule keeps a child from signalling its ancestors, so kill(-1)
// and kill(0) can be tried from a child safely) say so and are skipped
// elsewhere.
//
// "jobtests shell" is instead a minimal job-control shell for the
// console test (tests/jobctl_test.go): it runs a child in a foreground
// process group of its own, reports how it stopped or ended, and has fg,
// bg and jobs. With other arguments it plays a child role (roles.go).
package main

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"
)

type test struct {
	name string
	run  func() error
	tty  bool // needs the controlling terminal
}

var tests = []test{
	{name: "group-ids", run: testGroupIDs},
	{name: "setpgid-rules", run: testSetpgidRules},
	{name: "setsid-rules", run: testSetsidRules},
	{name: "kill-group", run: testKillGroup},
	{name: "kill-from-child", run: testKillFromChild},
	{name: "wait-group", run: testWaitGroup},
	{name: "stop-continue", run: testStopContinue},
	{name: "stop-caught", run: testStopCaught},
	{name: "stop-kill", run: testStopKill},
	{name: "stop-races", run: testStopRaces},
	{name: "orphaned-stop", run: testOrphanedStop},
	{name: "tty-ids", run: testTTYIDs, tty: true},
	{name: "tty-raw", run: testTTYRaw, tty: true},
	{name: "tty-foreground", run: testTTYForeground, tty: true},
	{name: "tty-background", run: testTTYBackground, tty: true},
	{name: "tty-sessions", run: testTTYSessions, tty: true},
	{name: "proc-stat", run: testProcStat, tty: true},
}

// testTimeout bounds one test: a kernel that loses a wakeup makes it
// fail instead of hanging the run.
const testTimeout = 3 * time.Minute

func main() {
	if len(os.Args) > 1 {
		if os.Args[1] == "shell" {
			os.Exit(shell())
		}
		os.Exit(role(os.Args[1], os.Args[2:]))
	}
	start := time.Now()
	named := map[string]bool{}
	for _, n := range strings.Split(os.Getenv("JOBTESTS"), ",") {
		if n = strings.TrimSpace(n); n != "" {
			named[n] = true
		}
	}
	haveTTY := ownsTerminal()
	var failed []string
	ran := 0
	for _, t := range tests {
		if len(named) > 0 && !named[t.name] {
			continue
		}
		if t.tty && !haveTTY {
			fmt.Printf("jobtests: %s: skipped (descriptor 0 is not a controlling terminal in the foreground)\n", t.name)
			continue
		}
		ran++
		t0 := time.Now()
		if err := runOne(t); err != nil {
			fmt.Printf("jobtests: FAIL %s: %v\n", t.name, err)
			failed = append(failed, t.name)
			continue
		}
		fmt.Printf("jobtests: %s: ok (%v)\n", t.name, time.Since(t0).Round(time.Millisecond))
	}
	if len(failed) > 0 {
		fmt.Printf("jobtests: FAIL (%d of %d failed: %s)\n", len(failed), ran, strings.Join(failed, ", "))
		os.Exit(1)
	}
	fmt.Printf("jobtests: PASS (%v)\n", time.Since(start).Round(time.Millisecond))
}

// runOne runs a test with a time limit, then ends and reaps any child it
// left behind.
func runOne(t test) error {
	done := make(chan error, 1)
	go func() { done <- t.run() }()
	var err error
	select {
	case err = <-done:
	case <-time.After(testTimeout):
		fmt.Printf("jobtests: FAIL %s: timed out after %v\n", t.name, testTimeout)
		os.Exit(1)
	}
	cleanup()
	return err
}

// onValence reports whether the kernel is Valence's.
func onValence() bool {
	var u syscall.Utsname
	if syscall.Uname(&u) != nil {
		return false
	}
	var b []byte
	for _, c := range u.Sysname {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	return string(b) == "Valence"
}

// ownsTerminal reports whether descriptor 0 is this process's controlling
// terminal with its group in the foreground.
func ownsTerminal() bool {
	fg, err := tcgetpgrp(0)
	return err == nil && fg == syscall.Getpgrp()
}
