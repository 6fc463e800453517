package tests

import (
	"regexp"
	"strings"
	"testing"

	"valence.dev/tests/qemu"
)

var (
	// bannerRE matches the text of the kernel's first log line.
	bannerRE = regexp.MustCompile(`^Valence \d+\.\d+\.\d+ \(go1\.\d+(\.\d+)?\) booting on x86_64$`)
	// upRE matches the runtime's report of the time from the kernel's
	// first instruction to the kernel's main function.
	upRE = regexp.MustCompile(`runtime: up in (\d+(?:\.\d+)?) ms`)
)

// subsystems announce themselves in the boot log with "<name>: " lines.
var subsystems = []string{"console", "cpu", "mm", "clock", "timer", "runtime", "acpi", "interrupts", "initfs"}

// TestBootLog boots with the selftest command line, so that the kernel
// ends by itself, and checks the log it prints before the self-test
// begins.
func TestBootLog(t *testing.T) {
	m := boot(t, "selftest")
	m.Expect(`selftest: `, bootTimeout)
	t.Logf("the boot log took %v from QEMU's launch", m.Elapsed())
	bootLog := beforeLineWith(m.Output(), "selftest: ")
	m.Kill() // the self-test is TestSelftest's business
	entries := qemu.ParseLog(bootLog)
	if len(entries) == 0 {
		t.Fatalf("no log lines before the self-test; the console said:\n%s", bootLog)
	}

	t.Run("banner", func(t *testing.T) {
		if text := entries[0].Text; !bannerRE.MatchString(text) {
			t.Errorf("the first log line is %q, want a match for %s", text, bannerRE)
		}
	})
	t.Run("every bracketed line is a log line", func(t *testing.T) {
		for i, line := range lines(bootLog) {
			if strings.HasPrefix(line, "[") && !qemu.LogLine.MatchString(line) {
				t.Errorf("console line %d is not a well-formed log line: %q", i+1, line)
			}
		}
	})
	t.Run("timestamps never go backwards", func(t *testing.T) {
		for i := 1; i < len(entries); i++ {
			if prev, cur := entries[i-1], entries[i]; cur.Time < prev.Time {
				t.Errorf("log line %q at %v comes after %q at %v", cur.Text, cur.Time, prev.Text, prev.Time)
			}
		}
	})
	t.Run("runtime up", func(t *testing.T) {
		for _, e := range entries {
			if sub := upRE.FindStringSubmatch(e.Text); sub != nil {
				t.Logf("first instruction to kernel main: %s ms", sub[1])
				return
			}
		}
		t.Errorf("no log line matches %s", upRE)
	})
	for _, name := range subsystems {
		t.Run("subsystem "+name, func(t *testing.T) {
			prefix := name + ": "
			for _, e := range entries {
				if strings.HasPrefix(e.Text, prefix) {
					return
				}
			}
			t.Errorf("no log line starts with %q", prefix)
		})
	}
}

// beforeLineWith returns the lines of out that come before the first line
// containing s.
func beforeLineWith(out, s string) string {
	i := strings.Index(out, s)
	if i < 0 {
		return out
	}
	return out[:strings.LastIndexByte(out[:i], '\n')+1]
}

func TestBeforeLineWith(t *testing.T) {
	tests := []struct{ out, want string }{
		{"a\nb\n[ 1.000000] selftest: x\nc\n", "a\nb\n"},
		{"selftest: x\n", ""},
		{"a\nno marker\n", "a\nno marker\n"},
		{"a\nselftest: x\nselftest: y\n", "a\n"},
	}
	for _, tc := range tests {
		if got := beforeLineWith(tc.out, "selftest: "); got != tc.want {
			t.Errorf("beforeLineWith(%q) = %q, want %q", tc.out, got, tc.want)
		}
	}
}
