package tests

import (
	"regexp"
	"testing"
)

// TestPanic makes the kernel die on purpose and checks that it says why,
// with a trace a person can read, and that QEMU then exits with a non-zero
// status instead of hanging or rebooting.
func TestPanic(t *testing.T) {
	tests := []struct {
		cmdline string
		want    []string // regular expressions the output must match
	}{
		{
			// A nil pointer dereference in kernel Go code: the Go runtime
			// turns the fault into a panic with a symbolized stack trace.
			cmdline: "selftest=panic",
			want: []string{
				`(?i)kernel panic`,
				`nil pointer dereference`,
				`valence\.dev/microkernel/selftest\.\w`,
			},
		},
		{
			// A fault in the trap handler itself, where the Go runtime
			// cannot help: the kernel dumps the registers and walks the
			// stack by itself.
			cmdline: "selftest=panic-trap",
			want: []string{
				`(?i)kernel panic`,
				`RIP:`,
				`RSP:`,
				`CR2:`,
				`(?s)Call Trace:[^\n]*\n.*valence\.dev/microkernel/\w`,
			},
		},
		{
			// A page fault the CPU cannot deliver (its interrupt stack is
			// unmapped) becomes a double fault, which has its own stack.
			cmdline: "selftest=panic-double",
			want: []string{
				`(?i)kernel panic - not syncing: #DF double fault`,
				`RIP:`,
				`Vector: 8 `,
				`(?s)Call Trace:[^\n]*\n.*valence\.dev/microkernel/rt\.sysDebugDoubleFault`,
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.cmdline, func(t *testing.T) {
			m := boot(t, tc.cmdline)
			m.Expect(`(?i)kernel panic`, bootTimeout)
			code := m.ExpectExit(bootTimeout)
			out := m.Output()
			for _, re := range tc.want {
				if !regexp.MustCompile(re).MatchString(out) {
					t.Errorf("the output does not match %s", re)
				}
			}
			if code == 0 {
				t.Errorf("QEMU exited with status 0 after a kernel panic, want non-zero")
			}
		})
	}
}
