package qemu

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestFailures checks that each way a conversation with QEMU can go wrong
// fails the test promptly, with a message that shows what was expected and
// what the console said, and that the console output is saved.
func TestFailures(t *testing.T) {
	var long strings.Builder
	for i := range 400 {
		fmt.Fprintf(&long, "[%5d.000000] line %d of a long boot log\r\n", i, i)
	}
	tests := []struct {
		name    string
		steps   []string
		timeout time.Duration // Options.Timeout; zero keeps fakeBoot's
		body    func(m *Machine)
		want    []string // substrings of the failure; none means the test passes
		notWant []string
	}{
		{
			name:  "passes",
			steps: []string{"out ok\r\n", "exit 0"},
			body:  func(m *Machine) { m.Expect("ok", time.Minute); m.ExpectExit(time.Minute) },
		},
		{
			name:  "expect timeout",
			steps: []string{"out booting\r\n", "hang"},
			body: func(m *Machine) {
				m.Expect("booting", time.Minute)
				m.Expect("never", 300*time.Millisecond)
			},
			want: []string{`Expect("never"): no match within 300ms`, "booting"},
		},
		{
			name:  "exit before match",
			steps: []string{"out partial output\r\n", "err qemu-system-x86_64: could not load kernel\n", "exit 1"},
			body:  func(m *Machine) { m.Expect("never", time.Minute) },
			want:  []string{"exited with status 1 before the output matched", "partial output", "standard error", "could not load kernel"},
		},
		{
			name:  "exit timeout",
			steps: []string{"out still running\r\n", "hang"},
			body: func(m *Machine) {
				m.Expect("still running", time.Minute)
				m.ExpectExit(300 * time.Millisecond)
			},
			want: []string{"did not exit within 300ms; killed it", "still running"},
		},
		{
			name:    "overall timeout in Expect",
			steps:   []string{"hang"},
			timeout: 500 * time.Millisecond,
			body:    func(m *Machine) { m.Expect("never", time.Minute) },
			want:    []string{"killed after the overall timeout of 500ms"},
		},
		{
			name:    "overall timeout in ExpectExit",
			steps:   []string{"hang"},
			timeout: 500 * time.Millisecond,
			body:    func(m *Machine) { m.ExpectExit(time.Minute) },
			want:    []string{"killed after the overall timeout of 500ms"},
		},
		{
			name:    "exit before the overall timeout is not a timeout",
			steps:   []string{"exit 7"},
			timeout: 2 * time.Second,
			body: func(m *Machine) {
				<-m.done                                                              // QEMU exits by itself,
				time.Sleep(time.Until(m.start.Add(m.timeout + 200*time.Millisecond))) // then the deadline passes.
				if code := m.ExpectExit(time.Minute); code != 7 {
					m.t.Errorf("ExpectExit() = %d, want 7", code)
				}
			},
		},
		{
			name:  "send after exit",
			steps: []string{"exit 0"},
			body:  func(m *Machine) { m.ExpectExit(time.Minute); m.SendLine("help") },
			want:  []string{`Send("help\r"): QEMU exited with status 0`},
		},
		{
			name:  "bad regexp",
			steps: []string{"hang"},
			body:  func(m *Machine) { m.Expect("(", time.Minute) },
			want:  []string{"bad regexp"},
		},
		{
			name:  "long output is cut",
			steps: []string{"out " + long.String(), "hang"},
			body: func(m *Machine) {
				m.Expect("line 399 of a long boot log", time.Minute)
				m.Expect("never", 300*time.Millisecond)
			},
			want:    []string{"last 40", "line 399 of a long boot log"},
			notWant: []string{"line 0 of", "\r"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts, _, logs := fakeBoot(t, tc.steps...)
			if tc.timeout != 0 {
				opts.Timeout = tc.timeout
			}
			start := time.Now()
			f := runTB(t, "TestFake/"+tc.name, func(tb testing.TB) {
				tc.body(Boot(tb, opts))
			})
			if elapsed := time.Since(start); elapsed > 30*time.Second {
				t.Errorf("the failure took %v to report", elapsed)
			}
			logFile := filepath.Join(logs, logFileName("TestFake/"+tc.name)+".log")
			saved, err := os.ReadFile(logFile)
			if len(tc.want) == 0 {
				if f.Failed() {
					t.Errorf("the test failed: %s", f.message())
				}
				if err == nil {
					t.Errorf("a passing test saved its console output to %s", logFile)
				}
				return
			}
			if !f.Failed() {
				t.Fatalf("the test did not fail; it reported %q", f.message())
			}
			msg := f.message()
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("the failure does not mention %q:\n%s", w, msg)
				}
			}
			for _, w := range tc.notWant {
				if strings.Contains(msg, w) {
					t.Errorf("the failure mentions %q:\n%s", w, msg)
				}
			}
			if err != nil {
				t.Errorf("console output not saved: %v", err)
			}
			if !strings.Contains(f.allLogs(), "full console output") {
				t.Errorf("the full console output was not logged; the logs are:\n%s", f.allLogs())
			}
			for _, step := range tc.steps {
				if out, ok := strings.CutPrefix(step, "out "); ok {
					if want := strings.ReplaceAll(out, "\r\n", "\n"); !strings.Contains(string(saved), want) {
						t.Errorf("the saved console output lacks %.60q...; it is:\n%s", want, saved)
					}
				}
			}
		})
	}
}

// TestFindQEMU checks what Boot does when QEMU cannot be found.
func TestFindQEMU(t *testing.T) {
	tests := []struct {
		name     string
		qemu     string // QEMU
		ci       string // CI
		wantSkip bool
		want     string // substring of the message
	}{
		{name: "missing", wantSkip: true, want: MissingQEMU},
		{name: "missing under CI", ci: "true", want: MissingQEMU},
		{name: "missing, CI false", ci: "false", wantSkip: true, want: MissingQEMU},
		{name: "QEMU names nothing", qemu: "/nonexistent/qemu", want: "QEMU=/nonexistent/qemu"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts, _, _ := fakeBoot(t, "exit 0")
			t.Setenv(QEMUEnv, tc.qemu)
			t.Setenv(CIEnv, tc.ci)
			t.Setenv("PATH", t.TempDir())
			f := runTB(t, "TestFake", func(tb testing.TB) { Boot(tb, opts) })
			if f.skipped != tc.wantSkip || f.failed == tc.wantSkip {
				t.Errorf("skipped, failed = %v, %v; want %v, %v", f.skipped, f.failed, tc.wantSkip, !tc.wantSkip)
			}
			if msg := f.message(); !strings.Contains(msg, tc.want) {
				t.Errorf("message %q does not contain %q", msg, tc.want)
			}
		})
	}
}

// TestBootBadImage checks that Boot refuses images it cannot pass to QEMU.
func TestBootBadImage(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name  string
		paths Paths
		want  string
	}{
		{"comma", Paths{Kernel: "/k", Initfs: "/a,b/initfs.tar", Syms: "/s"}, "comma"},
		{"missing files", ImagePaths(dir), "missing boot image files"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opts, _, _ := fakeBoot(t, "exit 0")
			opts.Paths = &tc.paths
			f := runTB(t, "TestFake", func(tb testing.TB) { Boot(tb, opts) })
			if msg := f.message(); !f.Failed() || !strings.Contains(msg, tc.want) {
				t.Errorf("failed = %v with %q; want a failure mentioning %q", f.Failed(), msg, tc.want)
			}
		})
	}
}
