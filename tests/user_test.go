package tests

import (
	"regexp"
	"strings"
	"testing"
)

// usertests are the checks the usertests program reports one by one.
var usertests = []string{
	"args-env", "goroutines", "maps", "gc", "timers", "preempt", "recover-nil", "mmap",
	"mprotect-fault", "bad-pointers", "files", "pipes", "poll-select", "exec", "spawn-wait-kill", "crashes",
	"spawn-cycles", "unsupported",
}

// TestUsertests runs the user-space test program as init: stock Go
// binaries in ring 3, their system calls, os/exec, the native process
// calls, crashing children, and 200 spawn/exit cycles. The kernel must
// report each crash and keep running, and power off with status 0 when
// usertests exits 0. It runs in debug mode (debug_test.go): the kernel
// checks its invariants after every change.
func TestUsertests(t *testing.T) {
	m := boot(t, "init=/bin/usertests debug")
	verdict := m.Expect(`usertests: (PASS|FAIL)\b`, bootTimeout)[1]
	t.Logf("QEMU launch to \"usertests: %s\": %v", verdict, m.Elapsed())
	code := m.ExpectExit(stepTimeout)
	out := m.Output()
	if verdict != "PASS" {
		t.Errorf("usertests reported %s", verdict)
	}
	if code != 0 {
		t.Errorf("QEMU exited with status %d, want 0", code)
	}
	for _, name := range usertests {
		if !regexp.MustCompile(`usertests: ` + regexp.QuoteMeta(name) + `: ok\b`).MatchString(out) {
			t.Errorf("no %q: ok line", name)
		}
	}
	checkDebugMode(t, out)
	// Every crash is reported by the kernel with the process, the signal
	// and the faulting address.
	for _, re := range []string{
		`proc: pid \d+ \(usertests\) exited with status 2; last fault: page fault: SIGSEGV at 0x0 \(rip 0x[0-9a-f]+`,
		`last fault: invalid opcode: SIGILL at 0x[0-9a-f]+`,
		`last fault: divide error: SIGFPE at 0x[0-9a-f]+`,
		`last fault: page fault: SIGSEGV at 0xffff800000100000`,
		`last fault: page fault: SIGSEGV at 0xdead0000 \(rip 0xdead0000`,
		`proc: pid \d+ \(usertests\) killed by signal 11 \(SIGSEGV\); last fault: page fault: SIGSEGV at 0x1000`,
		`proc: pid \d+ \(usertests\) killed by signal 4 \(SIGILL\)`,
		`proc: pid \d+ \(usertests\) killed by signal 9 \(SIGKILL\)`,
		`init: pid 1 \(usertests\) exited with status 0; powering off`,
	} {
		if !regexp.MustCompile(re).MatchString(out) {
			t.Errorf("the console lacks %s", re)
		}
	}
	// An unsupported call is logged once, by name and process.
	unsupported := regexp.MustCompile(`proc: pid 1 \(usertests\): unsupported system call acct \(163\): ENOSYS`)
	if n := len(unsupported.FindAllString(out, -1)); n != 1 {
		t.Errorf("the unsupported call was logged %d times, want once", n)
	}
}

// TestUserProgram runs a small stock Go program as init.
func TestUserProgram(t *testing.T) {
	m := boot(t, "init=/bin/hello")
	m.Expect(`hello from pid 1: args \["/bin/hello"\], HOME="/"`, bootTimeout)
	m.Expect(`hello: goroutines say \[0 1 4 9 16 25 36 49\]`, stepTimeout)
	if code := m.ExpectExit(stepTimeout); code != 0 {
		t.Errorf("QEMU exited with status %d, want 0", code)
	}
}

// TestInitMissing names an init that does not exist: the kernel says so
// and QEMU exits with a failure status.
func TestInitMissing(t *testing.T) {
	m := boot(t, "init=/bin/no-such-init")
	m.Expect(`init: cannot start /bin/no-such-init: .*no such file or directory`, bootTimeout)
	if code := m.ExpectExit(stepTimeout); code == 0 {
		t.Errorf("QEMU exited with status 0 without an init")
	}
	if strings.Contains(m.Output(), "Kernel panic") {
		t.Errorf("a missing init is not a kernel panic")
	}
}
