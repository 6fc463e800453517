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
		{"free", `frames: \d+ KiB total`},
		{"ls", `/etc/motd`},
		{"cat /etc/motd", `Welcome to Valence`},
		{"nosuchcommand", `nosuchcommand: command not found`},
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

// TestConsoleEarlyInput types before the kernel is up, as a pipe into
// `make run` does: nothing may be lost, neither the byte the UART holds when
// the kernel programs it nor the input that arrives while its interrupt is
// still masked.
func TestConsoleEarlyInput(t *testing.T) {
	m := boot(t, "")
	m.Send("echo typed ahead\r")
	m.Expect(`(?m)^typed ahead\r?$`, bootTimeout)
	m.Expect(prompt, stepTimeout)
	m.SendLine("poweroff")
	if code := m.ExpectExit(stepTimeout); code != 0 {
		t.Errorf("QEMU exited with status %d after poweroff, want 0", code)
	}
}
