package tests

import (
	"regexp"
	"strings"
	"testing"
)

// selftests are the in-kernel tests that must each report
// "selftest: <name>: ok".
var selftests = []string{"goroutines", "channels", "maps", "gc", "sleep", "preempt", "syscalls"}

// TestSelftest runs the kernel's self-test and checks its verdict, its
// individual results and QEMU's exit status.
func TestSelftest(t *testing.T) {
	m := boot(t, "selftest")
	verdict := m.Expect(`selftest: (PASS|FAIL)\b`, bootTimeout)[1]
	t.Logf("QEMU launch to \"selftest: %s\": %v", verdict, m.Elapsed())
	code := m.ExpectExit(stepTimeout)
	out := m.Output()

	if verdict != "PASS" {
		t.Errorf("the self-test reported %s, want PASS", verdict)
	}
	if code != 0 {
		t.Errorf("QEMU exited with status %d, want 0", code)
	}
	for i, line := range lines(out) {
		if strings.Contains(line, "selftest: FAIL") {
			t.Errorf("console line %d reports a failure: %q", i+1, line)
		}
	}
	// The syscalls check makes an unsupported call (acct) twice: the kernel
	// answers ENOSYS both times and logs it once, by name.
	unsupported := regexp.MustCompile(`(?m)^\[ *\d+\.\d{6}\] rt: unsupported system call acct \(163\)`)
	if n := len(unsupported.FindAllString(out, -1)); n != 1 {
		t.Errorf("the unsupported call was logged %d times, want once (%s)", n, unsupported)
	}
	for _, name := range selftests {
		t.Run(name, func(t *testing.T) {
			re := regexp.MustCompile(`selftest: ` + regexp.QuoteMeta(name) + `: ok\b`)
			if !re.MatchString(out) {
				t.Errorf("no line matches %s", re)
			}
		})
	}
}
