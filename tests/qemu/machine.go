package qemu

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// Environment variables that Boot reads.
const (
	// QEMUEnv names the QEMU binary to run instead of
	// qemu-system-x86_64 from PATH.
	QEMUEnv = "QEMU"
	// CIEnv, when true, turns a missing QEMU from a skip into a failure.
	CIEnv = "CI"
)

// MissingQEMU is the message with which Boot skips, or under CI fails, a
// test when QEMU is not installed.
const MissingQEMU = "qemu-system-x86_64 not found: install it with `apt-get install qemu-system-x86`"

const (
	// tailBytes is how much console output a failed wait shows.
	tailBytes = 4096
	// rescanInterval bounds how often Expect rescans the output; QEMU
	// writes the serial console a byte at a time.
	rescanInterval = 20 * time.Millisecond
	// waitDelay bounds how long Wait waits for QEMU's output pipes to
	// close after QEMU itself has exited.
	waitDelay = 10 * time.Second
	// deadlineMargin is how long before the test binary's own deadline
	// (go test -timeout) the machine is killed, leaving the harness time
	// to report the failure.
	deadlineMargin = 30 * time.Second
)

// Machine is a running QEMU with Valence's serial console attached.
// Its methods must be called from the test's goroutine.
type Machine struct {
	t       testing.TB
	cmd     *exec.Cmd
	stdin   io.Writer
	console *console
	stderr  lockedBuffer
	start   time.Time
	timeout time.Duration
	logDir  string

	pos      int         // console offset just past the previous Expect match
	deadline *time.Timer // kills QEMU at the overall deadline

	done     chan struct{} // closed once QEMU has exited and its output is in
	exitCode int           // valid once done is closed
	waitErr  error         // valid once done is closed
	timedOut atomic.Bool   // killed at the overall deadline
	killed   atomic.Bool   // killed by Kill
}

// Boot starts QEMU on the boot image and returns the running machine. QEMU
// is killed when the test ends, if it has not exited by then.
func Boot(t testing.TB, opts Options) *Machine {
	t.Helper()
	qemu := findQEMU(t)
	var p Paths
	if opts.Paths != nil {
		p = *opts.Paths
	} else {
		p = Image(t)
	}
	if err := p.Check(); err != nil {
		t.Fatalf("qemu: cannot boot this image: %v", err)
	}
	if err := p.exist(); err != nil {
		t.Fatalf("qemu: missing boot image files: %v", err)
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	if d, ok := t.(interface{ Deadline() (time.Time, bool) }); ok {
		if end, ok := d.Deadline(); ok {
			if left := time.Until(end) - deadlineMargin; left < timeout {
				t.Logf("qemu: shortening the overall timeout from %v to %v to end before the test binary's deadline", timeout, left.Round(time.Second))
				timeout = max(left, time.Second)
			}
		}
	}

	args := Args(p, opts)
	m := &Machine{
		t:       t,
		console: newConsole(),
		timeout: timeout,
		logDir:  logDir(),
		done:    make(chan struct{}),
	}
	m.cmd = exec.Command(qemu, args...)
	m.cmd.Stdout = m.console
	m.cmd.Stderr = &m.stderr
	m.cmd.WaitDelay = waitDelay
	setProcAttr(m.cmd)
	stdin, err := m.cmd.StdinPipe()
	if err != nil {
		t.Fatalf("qemu: %v", err)
	}
	m.stdin = stdin

	t.Logf("qemu: %s", shellQuote(append([]string{qemu}, args...)))
	m.start = time.Now()
	if err := m.cmd.Start(); err != nil {
		t.Fatalf("qemu: starting %s: %v", qemu, err)
	}
	go m.wait()
	m.deadline = time.AfterFunc(timeout, func() {
		if !m.exited() {
			m.timedOut.Store(true)
			m.cmd.Process.Kill()
		}
	})
	t.Cleanup(m.cleanup)
	return m
}

// findQEMU returns the QEMU binary to run, or skips or fails the test.
func findQEMU(t testing.TB) string {
	t.Helper()
	if name := os.Getenv(QEMUEnv); name != "" {
		path, err := exec.LookPath(name)
		if err != nil {
			t.Fatalf("qemu: %s=%s: %v", QEMUEnv, name, err)
		}
		return path
	}
	path, err := exec.LookPath("qemu-system-x86_64")
	if err != nil {
		if ci, _ := strconv.ParseBool(os.Getenv(CIEnv)); ci {
			t.Fatal(MissingQEMU)
		}
		t.Skip(MissingQEMU)
	}
	return path
}

// wait collects QEMU's exit status; it runs on its own goroutine.
func (m *Machine) wait() {
	m.waitErr = m.cmd.Wait()
	m.console.flush()
	m.exitCode = m.cmd.ProcessState.ExitCode()
	close(m.done)
}

// exited reports whether QEMU has exited and all of its output is in.
func (m *Machine) exited() bool {
	select {
	case <-m.done:
		return true
	default:
		return false
	}
}

// Expect waits until the regular expression re matches the console output
// that follows the previous Expect's match, and returns the match and its
// submatches as regexp.FindStringSubmatch does. It fails the test if re does
// not match within timeout or QEMU exits first.
func (m *Machine) Expect(re string, timeout time.Duration) []string {
	m.t.Helper()
	rx, err := regexp.Compile(re)
	if err != nil {
		m.t.Fatalf("qemu: Expect: bad regexp: %v", err)
	}
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		exited := m.exited()
		scanned := time.Now()
		text, changed := m.console.since(m.pos)
		if loc := rx.FindStringSubmatchIndex(text); loc != nil {
			subs := make([]string, len(loc)/2)
			for i := range subs {
				if loc[2*i] >= 0 {
					subs[i] = text[loc[2*i]:loc[2*i+1]]
				}
			}
			m.pos += loc[1]
			return subs
		}
		if exited {
			m.t.Fatal(m.failure(fmt.Sprintf("Expect(%q): QEMU %s before the output matched", re, m.exitStatus())))
		}
		select {
		case <-changed:
		case <-m.done:
		case <-timer.C:
			m.t.Fatal(m.failure(fmt.Sprintf("Expect(%q): no match within %v (%d bytes of output since the previous match)", re, timeout, len(text))))
		}
		time.Sleep(time.Until(scanned.Add(rescanInterval)))
	}
}

// ExpectExit waits for QEMU to exit and returns its exit status. If QEMU
// has not exited within timeout, ExpectExit kills it and fails the test.
func (m *Machine) ExpectExit(timeout time.Duration) int {
	m.t.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case <-m.done:
	case <-timer.C:
		m.Kill()
		m.t.Fatal(m.failure(fmt.Sprintf("ExpectExit: QEMU did not exit within %v; killed it", timeout)))
	}
	if m.timedOut.Load() {
		m.t.Fatal(m.failure("ExpectExit: QEMU " + m.exitStatus()))
	}
	return m.exitCode
}

// Send writes s to the serial console, in chunks the guest's UART can take.
func (m *Machine) Send(s string) {
	m.t.Helper()
	if m.exited() {
		m.t.Fatal(m.failure(fmt.Sprintf("Send(%q): QEMU %s", s, m.exitStatus())))
	}
	if err := sendSlowly(m.stdin, s, sendChunk, sendPause); err != nil {
		m.t.Fatal(m.failure(fmt.Sprintf("Send(%q): %v", s, err)))
	}
}

// SendLine sends s followed by a carriage return, as the Enter key does.
func (m *Machine) SendLine(s string) {
	m.t.Helper()
	m.Send(s + "\r")
}

// Output returns all console output so far, with line endings normalised
// to "\n".
func (m *Machine) Output() string {
	return m.console.String()
}

// Stderr returns what QEMU has written to its standard error so far.
func (m *Machine) Stderr() string {
	return m.stderr.String()
}

// Elapsed returns the time since QEMU was started.
func (m *Machine) Elapsed() time.Duration {
	return time.Since(m.start)
}

// Kill kills QEMU, if it is still running, and waits for it to exit.
func (m *Machine) Kill() {
	if !m.exited() {
		m.killed.Store(true)
		m.cmd.Process.Kill()
	}
	<-m.done
}

// exitStatus describes how QEMU ended, for messages.
func (m *Machine) exitStatus() string {
	switch {
	case !m.exited():
		return "is still running"
	case m.timedOut.Load():
		return fmt.Sprintf("was killed after the overall timeout of %v", m.timeout)
	case m.killed.Load():
		return "was killed"
	case m.exitCode < 0:
		return fmt.Sprintf("ended abnormally (%v)", m.waitErr)
	}
	return fmt.Sprintf("exited with status %d", m.exitCode)
}

// failure formats msg with the end of the console output and QEMU's
// standard error.
func (m *Machine) failure(msg string) string {
	out, cut := tail(m.Output(), tailBytes)
	what := "console output"
	if cut {
		what = fmt.Sprintf("last %d bytes of console output", len(out))
	}
	msg = fmt.Sprintf("qemu: %s\n--- %s ---\n%s\n--- end of console output ---", msg, what, strings.TrimSuffix(out, "\n"))
	if stderr := m.Stderr(); stderr != "" {
		msg += fmt.Sprintf("\n--- QEMU's standard error ---\n%s\n--- end of standard error ---", strings.TrimSuffix(stderr, "\n"))
	}
	return msg
}

// cleanup kills QEMU and, if the test failed, reports the whole session.
func (m *Machine) cleanup() {
	m.deadline.Stop()
	m.Kill()
	if !m.t.Failed() {
		return
	}
	out := m.Output()
	m.t.Logf("qemu: QEMU %s after %v; full console output (%d bytes):\n%s", m.exitStatus(), m.Elapsed().Round(time.Millisecond), len(out), out)
	if stderr := m.Stderr(); stderr != "" {
		m.t.Logf("qemu: QEMU's standard error:\n%s", stderr)
	}
	if path, err := saveLog(m.logDir, m.t.Name(), out); err != nil {
		m.t.Logf("qemu: could not save the console output: %v", err)
	} else {
		m.t.Logf("qemu: console output saved to %s", path)
	}
}
