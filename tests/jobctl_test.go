package tests

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// jobTests are jobtests' checks (userland/jobtests), the same that its
// TestLinux runs on the host's Linux.
var jobTests = []string{
	"group-ids", "setpgid-rules", "setsid-rules", "kill-group", "kill-from-child", "wait-group",
	"stop-continue", "stop-caught", "stop-kill", "stop-races", "orphaned-stop",
	"tty-ids", "tty-raw", "tty-foreground", "tty-background", "tty-sessions", "proc-stat",
}

// TestJobControl runs jobtests as init, in debug mode: process groups
// and sessions, kill and wait by group, stopping and continuing (with
// stops, continues and kills raced from several threads, and a stopped
// process whose parent dies), and the console as the controlling
// terminal of the first process's session (tcsetpgrp, SIGTTIN, SIGTTOU,
// TOSTOP, raw mode, VMIN and VTIME, /proc/<pid>/stat).
func TestJobControl(t *testing.T) {
	out := runVerdict(t, "jobtests", "debug init=/bin/jobtests", bootTimeout)
	for _, name := range jobTests {
		if !regexp.MustCompile(`jobtests: ` + regexp.QuoteMeta(name) + `: ok\b`).MatchString(out) {
			t.Errorf("no %q: ok line", name)
		}
	}
	if t.Failed() {
		t.Logf("console:\n%s", out)
	}
}

// TestJobControlConsole types at jobtests' minimal job-control shell on
// the serial console, as a person would: ^C ends the foreground job and
// not the shell (nor ^C at its prompt), ^Z stops the job (wait4
// WUNTRACED), bg and fg continue it (SIGCONT to its group, the terminal
// given to it), ^\ quits it, and a job reading the terminal from the
// background stops with SIGTTIN and reads the line typed once it is in
// the foreground. The transcript must match Linux's (userland/jobtests'
// TestShellLinux types the same at a pseudo-terminal).
func TestJobControlConsole(t *testing.T) {
	m := boot(t, "init=/bin/jobtests -- shell")
	prompt := `jobsh\$ `
	m.Expect(prompt, bootTimeout)
	steps := []struct {
		send   string
		pause  time.Duration
		expect string
	}{
		{send: "run\r", expect: `sleeper \d+ running`},
		{send: "\x03", pause: time.Second, expect: `jobsh: \[1\] \d+ killed by SIGINT`},
		{expect: prompt},
		{send: "\x03"},
		{send: "jobs\r", pause: time.Second, expect: prompt},
		{send: "run\r", expect: `sleeper \d+ running`},
		{send: "\x1a", pause: time.Second, expect: `jobsh: \[2\] \d+ stopped by SIGTSTP`},
		{send: "jobs\r", expect: `jobsh: \[2\] \d+ stopped`},
		{send: "bg\r", expect: `(?s)continued in the background.*sleeper \d+ continued|sleeper \d+ continued.*continued in the background`},
		{send: "fg\r", expect: `sleeper \d+ continued`},
		{send: "\x1c", pause: time.Second, expect: `jobsh: \[2\] \d+ exited 3`},
		{send: "bgread\r", expect: `jobsh: \[3\] \d+ stopped by SIGTTIN`},
		{send: "fg\r"},
		{send: "hello\r", pause: 3 * time.Second, expect: `reader: got "hello\\n"`},
		{expect: `jobsh: \[3\] \d+ exited 0`},
		{send: "exit\r", expect: `jobsh: bye`},
	}
	for _, s := range steps {
		if s.send != "" {
			time.Sleep(s.pause)
			m.Send(s.send)
		}
		if s.expect != "" {
			m.Expect(s.expect, stepTimeout)
		}
	}
	if code := m.ExpectExit(stepTimeout); code != 0 {
		t.Errorf("QEMU exited with status %d, want 0", code)
	}
	out := m.Output()
	if strings.Contains(out, "Kernel panic") {
		t.Errorf("the kernel panicked")
	}
	// The shell survived the ^C typed at its prompt: it answered jobs and
	// ran the rest; the echo of the signal characters is Linux's.
	for _, echo := range []string{"^C", "^Z", "^\\"} {
		if !strings.Contains(out, echo) {
			t.Errorf("no echo %q", echo)
		}
	}
	if t.Failed() {
		t.Logf("console:\n%s", out)
	}
}
