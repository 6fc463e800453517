package tests

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Debug mode (docs/debugging.md): the kernel word "debug" makes the kernel
// check its capability, frame and mapping invariants after every system
// call that changes them, and panic on a violation. TestUsertests, TestIPC
// and TestAttacks boot with it.

var (
	// debugBootRE matches the line the kernel logs at boot in debug mode.
	debugBootRE = regexp.MustCompile(`debug: invariant checks after every change\b`)
	// debugSummaryRE matches the line it logs when the first process ends
	// and no violation was found.
	debugSummaryRE = regexp.MustCompile(`debug: checked after (\d+) system calls: \d+ address-space checks, (\d+) global checks\b.*; no violation`)
	// debugFailRE matches the panic message of a violation.
	debugFailRE = regexp.MustCompile(`debug: .* check failed after .*`)
)

// checkDebugMode checks the console of a run booted with "debug".
func checkDebugMode(t *testing.T, out string) {
	t.Helper()
	problems, summary := debugModeProblems(out)
	for _, p := range problems {
		t.Error(p)
	}
	if summary != "" {
		t.Logf("debug mode: %s", summary)
	}
}

// debugModeProblems returns what is wrong with a debug-mode run's console:
// the kernel must have said it was checking, reported no violation, and
// actually run checks (a suite that makes system calls cannot get through
// without). summary describes the checks that ran.
func debugModeProblems(out string) (problems []string, summary string) {
	if !debugBootRE.MatchString(out) {
		problems = append(problems, fmt.Sprintf("no %q line: the kernel did not run in debug mode", debugBootRE))
	}
	if v := debugFailRE.FindString(out); v != "" {
		problems = append(problems, "debug mode found a violated invariant: "+v)
	}
	m := debugSummaryRE.FindStringSubmatch(out)
	if m == nil {
		return append(problems, fmt.Sprintf("no %q line at the end", debugSummaryRE)), ""
	}
	calls, _ := strconv.Atoi(m[1])
	globals, _ := strconv.Atoi(m[2])
	if calls == 0 || globals == 0 {
		problems = append(problems, fmt.Sprintf("debug mode checked after %d system calls and ran %d global checks; want some of each", calls, globals))
	}
	return problems, fmt.Sprintf("checks after %d system calls, %d global checks", calls, globals)
}

func TestDebugModeProblems(t *testing.T) {
	const boot = "[    0.151059] debug: invariant checks after every change (details)\n"
	const summary = "[   17.015996] debug: checked after 6459 system calls: 5871 address-space checks, 265 global checks (0 frame checks redone), 2.4 s checking (0.1 s global); no violation\n"
	const violation = "panic: debug: address space check failed after valence_mem_map by pid 1 (attacks): mm: boom\n\ngoroutine 9\n"
	for _, tc := range []struct {
		name, out string
		want      int // problems
	}{
		{"checked, clean", boot + "usertests: PASS\n" + summary, 0},
		{"not in debug mode", "usertests: PASS\n", 2},
		{"no summary", boot + "usertests: PASS\n", 1},
		{"violation", boot + violation, 2},
		{"no checks ran", boot + strings.Replace(summary, "6459", "0", 1), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			problems, _ := debugModeProblems(tc.out)
			if len(problems) != tc.want {
				t.Errorf("got %d problems %q, want %d", len(problems), problems, tc.want)
			}
		})
	}
}
