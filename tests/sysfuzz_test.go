package tests

import (
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"valence.dev/tests/qemu"
)

// TestSysfuzz runs the system call fuzzer as init for a minute: hostile
// arguments to every call the kernel implements, Linux and native, from
// four threads of each of many child processes. The kernel must stay up,
// every page the children held must come back, and in debug mode no
// invariant of capabilities, frames or mappings may break.
func TestSysfuzz(t *testing.T) {
	runSysfuzz(t, "-time 60s", bootTimeout)
}

// TestSoakSysfuzz is the long run (make soak): at least 10^6 calls.
func TestSoakSysfuzz(t *testing.T) {
	soak(t)
	runSysfuzz(t, "-time 1m -min-calls 1000000", 3*time.Hour)
}

func runSysfuzz(t *testing.T, args string, timeout time.Duration) {
	out := runVerdict(t, "sysfuzz", "debug init=/bin/sysfuzz -- "+args, timeout)
	if sum := regexp.MustCompile(`sysfuzz: \d+ children: .*`).FindString(out); sum != "" {
		t.Log(sum)
	}
}

// runVerdict boots a debug-mode command line whose init is program, which
// ends by printing "<program>: PASS" or "<program>: FAIL ...": it must
// say PASS, QEMU must exit 0, the kernel must not panic, and debug mode
// must have checked and found nothing. It returns the console output.
func runVerdict(t *testing.T, program, cmdline string, timeout time.Duration) string {
	t.Helper()
	return runVerdictArgs(t, program, cmdline, timeout, nil)
}

// runVerdictArgs is runVerdict with extra QEMU arguments (devices).
func runVerdictArgs(t *testing.T, program, cmdline string, timeout time.Duration, extra []string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("boots the kernel under QEMU; skipped with -short")
	}
	m := qemu.Boot(t, qemu.Options{Cmdline: cmdline, Timeout: timeout, ExtraArgs: extra})
	verdict := m.Expect(program+`: (PASS|FAIL)\b.*`, timeout)
	t.Logf("QEMU launch to %q: %v", verdict[0], m.Elapsed())
	code := m.ExpectExit(stepTimeout)
	out := m.Output()
	if verdict[1] != "PASS" {
		t.Errorf("%s said %q", program, verdict[0])
	}
	if code != 0 {
		t.Errorf("QEMU exited with status %d, want 0", code)
	}
	if i := strings.Index(out, "Kernel panic"); i >= 0 {
		t.Errorf("the kernel panicked:\n%s", out[i:])
	}
	if slices.Contains(strings.Fields(cmdline), "debug") {
		checkDebugMode(t, out)
	}
	return out
}

// soak skips a test unless VALENCE_LONG is set (make soak).
func soak(t *testing.T) {
	t.Helper()
	if os.Getenv("VALENCE_LONG") == "" {
		t.Skip("a long run: make soak (VALENCE_LONG=1)")
	}
}
