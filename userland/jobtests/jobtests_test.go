package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// asProgram makes the test binary this program (and its children, which
// inherit it, its child roles): TestLinux runs the suite on the host.
const asProgram = "JOBTESTS_AS_PROGRAM"

func TestMain(m *testing.M) {
	if os.Getenv(asProgram) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// openPty opens a pseudo-terminal pair (pty(7)).
func openPty() (master, replica *os.File, err error) {
	fd, err := unix.Open("/dev/ptmx", unix.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, nil, err
	}
	master = os.NewFile(uintptr(fd), "/dev/ptmx")
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		master.Close()
		return nil, nil, err
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		master.Close()
		return nil, nil, err
	}
	replica, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		master.Close()
		return nil, nil, err
	}
	return master, replica, nil
}

// TestLinux runs the suite on the host's Linux, as the leader of a new
// session whose controlling terminal is a pseudo-terminal: every test
// expects Linux's answers, so this is how they are checked against
// Linux (tests/jobctl_test.go runs the same suite inside Valence).
func TestLinux(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the whole suite; skipped with -short")
	}
	var u unix.Utsname
	if unix.Uname(&u) != nil || unix.ByteSliceToString(u.Sysname[:]) != "Linux" {
		t.Skip("not on Linux")
	}
	master, replica, err := openPty()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer master.Close()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), asProgram+"=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = replica, replica, replica
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	replica.Close()
	var out bytes.Buffer
	done := make(chan struct{})
	go func() {
		defer close(done)
		b := make([]byte, 4096)
		for {
			n, err := master.Read(b) // EIO once every descriptor on the replica is closed
			out.Write(b[:n])
			if err != nil {
				return
			}
		}
	}()
	waited := make(chan error, 1)
	go func() { waited <- cmd.Wait() }()
	select {
	case err = <-waited:
	case <-time.After(10 * time.Minute):
		cmd.Process.Kill()
		t.Fatalf("the suite did not end; output:\n%s", out.String())
	}
	select {
	case <-done:
	case <-time.After(10 * time.Second):
	}
	text := out.String()
	t.Logf("output:\n%s", text)
	if err != nil || !regexp.MustCompile(`jobtests: PASS`).MatchString(text) {
		t.Errorf("the suite on Linux: %v; output:\n%s", err, text)
	}
	for _, tc := range tests {
		if !regexp.MustCompile(`jobtests: ` + regexp.QuoteMeta(tc.name) + `: ok`).MatchString(text) {
			t.Errorf("no %q: ok line", tc.name)
		}
	}
}

// console is the test's end of a pseudo-terminal: what the program
// writes, searched front to back as tests/qemu's Expect does.
type console struct {
	t    *testing.T
	f    *os.File
	mu   sync.Mutex
	out  []byte
	seen int // where the next Expect starts
}

func newConsole(t *testing.T, f *os.File) *console {
	c := &console{t: t, f: f}
	go func() {
		b := make([]byte, 4096)
		for {
			n, err := f.Read(b)
			c.mu.Lock()
			c.out = append(c.out, b[:n]...)
			c.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	return c
}

func (c *console) expect(re string) {
	c.t.Helper()
	r := regexp.MustCompile(re)
	for end := time.Now().Add(time.Minute); time.Now().Before(end); time.Sleep(10 * time.Millisecond) {
		c.mu.Lock()
		loc := r.FindIndex(c.out[c.seen:])
		if loc != nil {
			c.seen += loc[1]
		}
		c.mu.Unlock()
		if loc != nil {
			return
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t.Fatalf("no %q in:\n%s", re, c.out[c.seen:])
}

func (c *console) send(s string) {
	if _, err := c.f.Write([]byte(s)); err != nil {
		c.t.Fatal(err)
	}
}

// TestShellLinux types at the minimal job-control shell on a
// pseudo-terminal, as tests/jobctl_test.go does on Valence's console:
// ^C ends the foreground job and not the shell, ^Z stops it, bg and fg
// continue it, ^\ quits it, a background read stops with SIGTTIN and
// reads once in the foreground.
func TestShellLinux(t *testing.T) {
	if testing.Short() {
		t.Skip("skipped with -short")
	}
	var u unix.Utsname
	if unix.Uname(&u) != nil || unix.ByteSliceToString(u.Sysname[:]) != "Linux" {
		t.Skip("not on Linux")
	}
	master, replica, err := openPty()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer master.Close()
	cmd := exec.Command(os.Args[0], "shell")
	cmd.Env = append(os.Environ(), asProgram+"=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = replica, replica, replica
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	replica.Close()
	defer cmd.Process.Kill()
	c := newConsole(t, master)
	for _, step := range shellScript {
		if step.send != "" {
			time.Sleep(step.pause)
			c.send(step.send)
		}
		if step.expect != "" {
			c.expect(step.expect)
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("the shell: %v", err)
	}
	c.mu.Lock()
	t.Logf("transcript:\n%s", c.out)
	c.mu.Unlock()
}

// shellScript is what TestShellLinux types and expects (tests/
// jobctl_test.go has the same for Valence's console).
var shellScript = []struct {
	send   string
	pause  time.Duration // before sending
	expect string
}{
	{expect: `jobsh\$ `},
	{send: "run\r", expect: `sleeper \d+ running`},
	{send: "\x03", pause: 200 * time.Millisecond, expect: `jobsh: \[1\] \d+ killed by SIGINT`},
	{expect: `jobsh\$ `},
	{send: "\x03", expect: ``},
	{send: "jobs\r", pause: 200 * time.Millisecond, expect: `jobsh\$ `},
	{send: "run\r", expect: `sleeper \d+ running`},
	{send: "\x1a", pause: 200 * time.Millisecond, expect: `jobsh: \[2\] \d+ stopped by SIGTSTP`},
	{send: "jobs\r", expect: `jobsh: \[2\] \d+ stopped`},
	{send: "bg\r", expect: `(?s)continued in the background.*sleeper \d+ continued|sleeper \d+ continued.*continued in the background`},
	{send: "fg\r", expect: `sleeper \d+ continued`},
	{send: "\x1c", pause: 200 * time.Millisecond, expect: `jobsh: \[2\] \d+ exited 3`},
	{send: "bgread\r", expect: `jobsh: \[3\] \d+ stopped by SIGTTIN`},
	{send: "fg\r", expect: ``},
	{send: "hello\r", pause: time.Second, expect: `reader: got "hello\\n"`},
	{expect: `jobsh: \[3\] \d+ exited 0`},
	{send: "exit\r", expect: `jobsh: bye`},
}
