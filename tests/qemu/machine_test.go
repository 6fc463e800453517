package qemu

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// A console session as the kernel's contract describes it, played by the
// fake QEMU: boot log, prompt, echo, uptime, poweroff.
var sessionSteps = []string{
	"out [    0.000000] Valence 0.1.0 (go1.26.8) booting on x86_64\r\n",
	"out [    0.002000] console: ready\r\n",
	"out valence# ",
	"in \r",
	"out echo hello from the console\r\nhello from the console\r\nvalence# ",
	"in \r",
	"out uptime\r\nup 42 ms\r\nvalence# ",
	"in poweroff\r",
	"out poweroff\r\n[    0.100000] reboot: Power down\r\n",
	"exit 0",
}

func TestBootSession(t *testing.T) {
	opts, argsFile, _ := fakeBoot(t, sessionSteps...)
	opts.Cmdline = "quiet"
	m := Boot(t, opts)
	m.Expect(`valence# `, time.Minute)
	m.SendLine("echo hello from the console")
	m.Expect(`(?m)^hello from the console$`, time.Minute)
	m.Expect(`valence# `, time.Minute)
	m.SendLine("uptime")
	if got := m.Expect(`up (\d+) ms`, time.Minute); got[1] != "42" {
		t.Errorf("uptime: got %q, want 42", got)
	}
	m.Expect(`valence# `, time.Minute)
	m.SendLine("poweroff")
	if code := m.ExpectExit(time.Minute); code != 0 {
		t.Errorf("ExpectExit() = %d, want 0", code)
	}
	out := m.Output()
	if !strings.Contains(out, "[    0.100000] reboot: Power down\n") || strings.Contains(out, "\r\n") {
		t.Errorf("Output() = %q, want normalised line endings and the power-down line", out)
	}
	if m.Elapsed() <= 0 {
		t.Errorf("Elapsed() = %v, want > 0", m.Elapsed())
	}

	data, err := os.ReadFile(argsFile)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	if err := json.Unmarshal(data, &got); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(Args(*opts.Paths, opts), got); diff != "" {
		t.Errorf("QEMU's command line differs from Args (-want +got):\n%s", diff)
	}
}

func TestExpectReadsForward(t *testing.T) {
	opts, _, _ := fakeBoot(t, "out a=1 ", "sleep 50ms", "out a=2 b=x\n", "sleep 50ms", "out a=3\n", "exit 0")
	m := Boot(t, opts)
	tests := []struct {
		re   string
		want []string
	}{
		{`a=(\d)`, []string{"a=1", "1"}},
		{`a=(\d)`, []string{"a=2", "2"}},
		{`b=(\w)|(c)`, []string{"b=x", "x", ""}},
		{`(?m)a=(\d)$`, []string{"a=3", "3"}},
		{`(?m)^$`, []string{""}}, // the empty match at the very end
	}
	for _, tc := range tests {
		if diff := cmp.Diff(tc.want, m.Expect(tc.re, time.Minute)); diff != "" {
			t.Errorf("Expect(%q) mismatch (-want +got):\n%s", tc.re, diff)
		}
	}
}

func TestExpectExitStatus(t *testing.T) {
	for _, code := range []int{0, 1, 3, 33, 255} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			opts, _, _ := fakeBoot(t, "out bye\r\n", "exit "+strconv.Itoa(code))
			m := Boot(t, opts)
			if got := m.ExpectExit(time.Minute); got != code {
				t.Errorf("ExpectExit() = %d, want %d", got, code)
			}
			// Once QEMU has exited the output is complete.
			if got := m.Output(); got != "bye\n" {
				t.Errorf("Output() = %q, want %q", got, "bye\n")
			}
		})
	}
}

func TestKill(t *testing.T) {
	opts, _, _ := fakeBoot(t, "out up\n", "hang")
	m := Boot(t, opts)
	m.Expect("up", time.Minute)
	m.Kill()
	m.Kill() // a second Kill is harmless
	if got := m.ExpectExit(time.Second); got != -1 {
		t.Errorf("ExpectExit() after Kill = %d, want -1", got)
	}
}
