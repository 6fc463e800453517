package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// expectTimeout is how long a session waits for the shell's output: long,
// since nothing here depends on timing, only on output eventually coming.
const expectTimeout = 30 * time.Second

// ptySession is an interactive shell on a pseudo-terminal, its session
// leader with the terminal as its controlling terminal, as on a console.
type ptySession struct {
	t      *testing.T
	master *os.File
	cmd    *exec.Cmd
	mu     sync.Mutex
	out    []byte // everything read
	seen   int    // output before this was matched already
	done   chan struct{}
}

// openPty opens a new pseudo-terminal pair (pty(7): /dev/ptmx, unlockpt,
// ptsname).
func openPty() (master, slave *os.File, err error) {
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		return nil, nil, err
	}
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		return nil, nil, err
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		m.Close()
		return nil, nil, err
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		return nil, nil, err
	}
	unix.IoctlSetWinsize(int(s.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: 200})
	return m, s, nil
}

func startPtyShell(t *testing.T, env []string, args ...string) *ptySession {
	t.Helper()
	master, slave, err := openPty()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	home := t.TempDir()
	cmd := shellCmd(t, context.Background(), home, args...)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close()
	s := &ptySession{t: t, master: master, cmd: cmd, done: make(chan struct{})}
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := master.Read(buf)
			s.mu.Lock()
			s.out = append(s.out, buf[:n]...)
			s.mu.Unlock()
			if err != nil {
				close(s.done)
				return
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		master.Close()
		cmd.Wait()
		// Any job the shell left behind is still in its session.
		for _, pid := range sessionProcs(cmd.Process.Pid, "") {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	})
	return s
}

// expect waits for output matching re after what earlier calls matched,
// and returns the match.
func (s *ptySession) expect(re string) string {
	s.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(expectTimeout)
	for {
		s.mu.Lock()
		out := string(s.out[s.seen:])
		loc := rx.FindStringIndex(out)
		if loc != nil {
			s.seen += loc[1]
		}
		s.mu.Unlock()
		if loc != nil {
			return out[loc[0]:loc[1]]
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("no %q in the shell's output after %v; output since the last match ends:\n%q", re, expectTimeout, tail(out))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (s *ptySession) send(text string) {
	s.t.Helper()
	if _, err := s.master.WriteString(text); err != nil {
		s.t.Fatalf("writing to the terminal: %v", err)
	}
}

// pokeUntil presses Enter on an empty line until output matches re: for
// a notice the shell prints before some next prompt, whichever it is.
func (s *ptySession) pokeUntil(re string) {
	s.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(expectTimeout)
	for {
		s.mu.Lock()
		out := string(s.out[s.seen:])
		loc := rx.FindStringIndex(out)
		if loc != nil {
			s.seen += loc[1]
		}
		s.mu.Unlock()
		if loc != nil {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("no %q in the shell's output; output ends:\n%q", re, tail(out))
		}
		s.send("\r")
		time.Sleep(200 * time.Millisecond)
	}
}

// waitExit waits for the shell to exit and returns its status.
func (s *ptySession) waitExit() int {
	s.t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- s.cmd.Wait() }()
	select {
	case err := <-errc:
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		if err != nil {
			s.t.Fatal(err)
		}
		return 0
	case <-time.After(expectTimeout):
		s.t.Fatalf("the shell did not exit; output ends %q", tail(string(s.out[s.seen:])))
	}
	return -1
}

// promptRE matches the prompt "[n]# " these tests set (PS1='[!]# ', ! being
// the history number), which changes with every command line and so
// tells one prompt from the next.
func promptRE(n int) string { return regexp.QuoteMeta(fmt.Sprintf("[%d]# ", n)) }

// sessionProcs lists the processes in session sid whose command line is
// cmdline, from /proc (proc(5): stat field 6 is the session).
func sessionProcs(sid int, cmdline string) []int {
	var pids []int
	dirs, _ := os.ReadDir("/proc")
	for _, d := range dirs {
		pid, err := strconv.Atoi(d.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + d.Name() + "/stat")
		if err != nil {
			continue
		}
		// The fields after the parenthesized command name.
		i := strings.LastIndexByte(string(stat), ')')
		if i < 0 {
			continue
		}
		f := strings.Fields(string(stat[i+1:]))
		if len(f) < 4 || f[3] != strconv.Itoa(sid) {
			continue
		}
		cmd, _ := os.ReadFile("/proc/" + d.Name() + "/cmdline")
		if cmdline == "" || strings.ReplaceAll(strings.TrimRight(string(cmd), "\x00"), "\x00", " ") == cmdline {
			pids = append(pids, pid)
		}
	}
	return pids
}

// sleepRunning reports whether a process runs "sleep 100" in the session.
func sleepRunning(s *ptySession) bool {
	return len(sessionProcs(s.cmd.Process.Pid, "sleep 100")) > 0
}

// TestJobControl drives an interactive shell as a person at a terminal
// would, with the line editor (TERM=xterm) and without it (TERM=dumb: the
// terminal's canonical mode does the editing).
func TestJobControl(t *testing.T) {
	for _, term := range []string{"xterm", "dumb"} {
		t.Run(term, func(t *testing.T) {
			s := startPtyShell(t, []string{"TERM=" + term, "PS1=[!]# "})
			s.expect(promptRE(1))

			// ^C interrupts the foreground job and returns to the prompt.
			s.send("sleep 100\r")
			waitFor(t, func() bool { return sleepRunning(s) })
			s.send("\x03")
			s.expect(promptRE(2))
			s.send("echo status=$?\r")
			s.expect(`status=130`)
			s.expect(promptRE(3))

			// A background job: [n] pid, listed by jobs, ended by kill %1.
			s.send("sleep 100 &\r")
			s.expect(`\[1\] \d+`)
			s.expect(promptRE(4))
			s.send("jobs\r")
			s.expect(`\[1\]\+\s+Running\s+sleep 100 &`)
			s.expect(promptRE(5))
			s.send("kill %1\r")
			s.pokeUntil(`\[1\]\+\s+Terminated\s+sleep 100`)
			s.expect(promptRE(6))

			// ^Z stops the foreground job; bg continues it; fg brings it back;
			// ^C ends it.
			s.send("sleep 100\r")
			waitFor(t, func() bool { return sleepRunning(s) })
			s.send("\x1a")
			s.expect(`\[1\]\+\s+Stopped\s+sleep 100`)
			s.expect(promptRE(7))
			s.send("echo status=$?\r")
			s.expect(`status=148`)
			s.send("jobs -l\r")
			s.expect(`\[1\]\+\s+\d+ Stopped\s+sleep 100`)
			s.expect(promptRE(9))
			s.send("bg\r")
			s.expect(`\[1\]\+ sleep 100 &`)
			s.expect(promptRE(10))
			s.send("jobs\r")
			s.expect(`\[1\]\+\s+Running\s+sleep 100 &`)
			s.expect(promptRE(11))
			s.send("fg %1\r")
			s.expect(`sleep 100\r\n`)
			s.send("\x03")
			s.expect(promptRE(12))
			s.send("jobs; echo end-of-jobs\r")
			if out := s.expect(`(?s).*end-of-jobs\r\n`); strings.Contains(out, "[1]") {
				t.Errorf("a job is left after fg and ^C: %q", out)
			}
			s.expect(promptRE(13))
			if sleepRunning(s) {
				t.Errorf("sleep 100 still runs")
			}

			// A finished background job is reported before the next prompt.
			s.send("sleep 0.1 &\r")
			s.expect(`\[1\] \d+`)
			s.send("wait\r")
			s.expect(promptRE(15))
			s.send("true\r")
			s.expect(promptRE(16))
			s.send("sleep 0.1 &\r")
			s.pokeUntil(`\[1\]\+\s+Done\s+sleep 0.1`)
			s.expect(promptRE(17))

			// ^D at the prompt ends the shell with the last status.
			s.send("false\r")
			s.expect(promptRE(18))
			s.send("\x04")
			if code := s.waitExit(); code != 1 {
				t.Errorf("exit status after ^D: %d, want 1", code)
			}
		})
	}
}

// tail is the end of a long output, for failure messages.
func tail(s string) string {
	if len(s) > 2000 {
		return "..." + s[len(s)-2000:]
	}
	return s
}

// waitFor polls cond until it holds (a process starting, not a sleep of a
// guessed length).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(expectTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition never held")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestPromptDefaultAndExit(t *testing.T) {
	s := startPtyShell(t, []string{"TERM=vt100"})
	want := "$ "
	if os.Geteuid() == 0 {
		want = "# "
	}
	s.expect(regexp.QuoteMeta(want))
	s.send("exit 42\r")
	if code := s.waitExit(); code != 42 {
		t.Errorf("exit 42 gave %d", code)
	}
}

// TestEditorKeys edits lines with the keys the brief names: arrows,
// backspace, ^A, ^E, ^U, ^W and history.
func TestEditorKeys(t *testing.T) {
	s := startPtyShell(t, []string{"TERM=linux", "PS1=[!]# "})
	s.expect(promptRE(1))
	s.send("ecXho one\x1b[D\x1b[D\x1b[D\x1b[D\x1b[D\x1b[D\x7f\x05 two\r")
	s.expect(`one two\r\n`)
	s.send("junk\x15echo three\r")
	s.expect(`\nthree\r\n`)
	s.send("echo four five\x17six\r")
	s.expect(`four six\r\n`)
	s.send("cho seven\x01e\r")
	s.expect(`\nseven\r\n`)
	s.send("\x1b[A\x1b[A\r") // two back: "echo four six"
	s.expect(`\nfour six\r\n`)
	s.expect(promptRE(6))
	s.send("history\r")
	s.expect(`5  echo four six`)
	s.expect(promptRE(7))
	// Hostile input: terminal garbage and a huge line, then the shell
	// still works.
	rng := rand.New(rand.NewPCG(1, 2))
	garbage := make([]byte, 4096)
	for i := range garbage {
		garbage[i] = byte(rng.UintN(256))
		switch garbage[i] {
		case '\r', '\n', 0x03, 0x04:
			garbage[i] = 'g'
		}
	}
	s.send(string(garbage))
	s.send("\x03")
	s.expect(`\^C\r+\n`)
	s.expect(promptRE(7))
	big := strings.Repeat("x", 20000)
	s.send("echo " + big + "\r")
	s.expect(`\n` + big + `\r\n`)
	s.expect(promptRE(8))
	s.send("exit\r")
	s.waitExit()
}
