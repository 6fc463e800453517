package tests

import (
	"strings"
	"testing"
)

// prompt is the monitor's prompt.
const prompt = `valence# `

// TestConsole talks to the kernel's monitor: each command's output must
// appear, followed by a new prompt, and poweroff must end QEMU cleanly.
func TestConsole(t *testing.T) {
	m := boot(t, "")
	m.Expect(prompt, bootTimeout)
	t.Logf("QEMU launch to the first prompt: %v", m.Elapsed())

	commands := []struct {
		line string
		want string // a regular expression for the command's output
	}{
		// Anchored at the start of a line so that the echo of the
		// command line itself does not count.
		{"echo hello from the console", `(?m)^hello from the console\r?$`},
		{"uptime", `up \d+`},
	}
	for _, c := range commands {
		m.SendLine(c.line)
		m.Expect(c.want, stepTimeout)
		m.Expect(prompt, stepTimeout)
	}

	m.SendLine("poweroff")
	if code := m.ExpectExit(stepTimeout); code != 0 {
		t.Errorf("QEMU exited with status %d after poweroff, want 0", code)
	}
	if out := m.Output(); !strings.Contains(out, "reboot: Power down") {
		t.Errorf("the output lacks %q", "reboot: Power down")
	}
}
