package tty

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile"
	"valence.dev/microkernel/kfile/kfiletest"
)

var _ kfile.File = (*Console)(nil)

// fakeDevice is a serial port: typed input comes from a channel, output
// is recorded.
type fakeDevice struct {
	in  chan []byte
	mu  sync.Mutex
	out []byte
}

func newFakeDevice() *fakeDevice { return &fakeDevice{in: make(chan []byte, 16)} }

func (d *fakeDevice) Read(b []byte) int { return copy(b, <-d.in) }

func (d *fakeDevice) Write(b []byte) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.out = append(d.out, b...)
	return len(b)
}

func (d *fakeDevice) output() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return string(d.out)
}

// interrupts records the processes ^C interrupted.
type interrupts struct {
	mu   sync.Mutex
	pids []int
}

func (i *interrupts) send(pid int) {
	i.mu.Lock()
	i.pids = append(i.pids, pid)
	i.mu.Unlock()
}

// readAll reads what is ready, a read(2) at a time, without blocking.
func readAll(t *testing.T, c *Console, caller kfile.Caller) []string {
	t.Helper()
	var got []string
	b := make([]byte, 64)
	for {
		n, e := c.Read(caller, b, 0, true)
		if e == errno.EAGAIN {
			return got
		}
		if e != 0 {
			t.Fatalf("Read: %v", e)
		}
		got = append(got, string(b[:n]))
		if n == 0 {
			got[len(got)-1] = "<EOF>"
		}
	}
}

// TestLineDiscipline types input and checks what reads return (a line
// at a time) and what is echoed.
func TestLineDiscipline(t *testing.T) {
	tests := []struct {
		name     string
		typed    string
		wantRead []string
		wantEcho string
	}{
		{"a line", "ls -l\r", []string{"ls -l\n"}, "ls -l\n"},
		{"newline too", "a\nb\n", []string{"a\n", "b\n"}, "a\nb\n"},
		{"not a whole line yet", "abc", nil, "abc"},
		{"backspace", "cax\x7ft\r", []string{"cat\n"}, "cax\b \bt\n"},
		{"^H", "ab\x08\x08c\r", []string{"c\n"}, "ab\b \b\b \bc\n"},
		{"backspace at line start", "\x7fx\r", []string{"x\n"}, "x\n"},
		{"^U kills the line", "rm -rf\x15ls\r", []string{"ls\n"}, "rm -rf" + strings.Repeat("\b \b", 6) + "ls\n"},
		{"^D at line start", "\x04", []string{"<EOF>"}, ""},
		{"^D mid-line delivers it", "abc\x04", []string{"abc"}, "abc"},
		{"two ^Ds", "\x04\x04", []string{"<EOF>", "<EOF>"}, ""},
		{"control characters dropped", "a\x01\x1bb\r", []string{"ab\n"}, "ab\n"},
		{"tab kept", "a\tb\r", []string{"a\tb\n"}, "a\tb\n"},
		{"^C discards the line", "sleep\x03ok\r", []string{"ok\n"}, "sleep^C\nok\n"},
		{"long line", strings.Repeat("x", 5000) + "\r", []string{strings.Repeat("x", 4095) + "\n"}, strings.Repeat("x", 4095) + "\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dev := newFakeDevice()
			var intr interrupts
			c := New(dev, intr.send)
			c.start.Do(func() {}) // input comes from the test, not the device
			c.input([]byte(tc.typed))
			got := readAll(t, c, kfiletest.NewCaller(1))
			// Reads return at most 64 bytes: join the long line.
			if len(got) > 1 && len(got[0]) == 64 {
				got = []string{strings.Join(got, "")}
			}
			if diff := cmp.Diff(tc.wantRead, got); diff != "" {
				t.Errorf("reads (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantEcho, dev.output()); diff != "" {
				t.Errorf("echo (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReadOneLine: a read returns at most one line, and at most what
// fits, leaving the rest for the next.
func TestReadOneLine(t *testing.T) {
	c := New(newFakeDevice(), func(int) {})
	c.start.Do(func() {})
	c.input([]byte("first\rsecond\r"))
	caller := kfiletest.NewCaller(1)
	b := make([]byte, 4)
	var got []string
	for range 4 {
		n, e := c.Read(caller, b, 0, true)
		if e != 0 {
			t.Fatalf("Read: %v", e)
		}
		got = append(got, string(b[:n]))
	}
	if diff := cmp.Diff([]string{"firs", "t\n", "seco", "nd\n"}, got); diff != "" {
		t.Errorf("reads (-want +got):\n%s", diff)
	}
}

// TestInterrupt: ^C interrupts the foreground process, the last one that
// read from the terminal; before anyone read, nobody.
func TestInterrupt(t *testing.T) {
	var intr interrupts
	c := New(newFakeDevice(), intr.send)
	c.start.Do(func() {})
	c.input([]byte{0x03})
	c.Read(kfiletest.NewCaller(42), make([]byte, 1), 0, true)
	c.input([]byte{0x03})
	c.Read(kfiletest.NewCaller(7), make([]byte, 1), 0, true)
	c.input([]byte("x\x03"))
	if diff := cmp.Diff([]int{42, 7}, intr.pids); diff != "" {
		t.Errorf("interrupted processes (-want +got):\n%s", diff)
	}
}

// TestDevice: input arrives from the device once a program reads, and
// wakes a blocked reader; writes go to the device untranslated (the
// serial driver adds the carriage returns).
func TestDevice(t *testing.T) {
	dev := newFakeDevice()
	c := New(dev, func(int) {})
	caller := kfiletest.NewCaller(1)
	type result struct {
		s string
		e errno.Errno
	}
	done := make(chan result)
	go func() {
		b := make([]byte, 16)
		n, e := c.Read(caller, b, 0, false)
		done <- result{string(b[:n]), e}
	}()
	time.Sleep(10 * time.Millisecond)
	dev.in <- []byte("hi\r")
	if got := <-done; got != (result{"hi\n", 0}) {
		t.Errorf("Read = %+v", got)
	}
	if n, e := c.Write(caller, []byte("out\n"), 0, false); n != 4 || e != 0 {
		t.Errorf("Write = %d, %v", n, e)
	}
	if got := dev.output(); got != "hi\nout\n" {
		t.Errorf("device output %q, want the echo then the write", got)
	}
}

func TestReadInterrupted(t *testing.T) {
	c := New(newFakeDevice(), func(int) {})
	c.start.Do(func() {})
	caller := kfiletest.NewCaller(1)
	done := make(chan errno.Errno)
	go func() {
		_, e := c.Read(caller, make([]byte, 8), 0, false)
		done <- e
	}()
	time.Sleep(10 * time.Millisecond)
	caller.Interrupt()
	if e := <-done; e != errno.EINTR {
		t.Errorf("Read = %v, want EINTR", e)
	}
}

func TestPoll(t *testing.T) {
	c := New(newFakeDevice(), func(int) {})
	c.start.Do(func() {})
	var got []uint32
	ev, _ := c.Poll()
	got = append(got, ev)
	c.input([]byte("partial"))
	ev, _ = c.Poll()
	got = append(got, ev)
	c.input([]byte("\r"))
	ev, _ = c.Poll()
	got = append(got, ev)
	readAll(t, c, kfiletest.NewCaller(1))
	c.input([]byte{0x04})
	ev, _ = c.Poll()
	got = append(got, ev)
	want := []uint32{linux.EPOLLOUT, linux.EPOLLOUT, linux.EPOLLOUT | linux.EPOLLIN, linux.EPOLLOUT | linux.EPOLLIN}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Poll (-want +got):\n%s", diff)
	}
}

// TestTermios: the settings TCGETS reports are the discipline's.
func TestTermios(t *testing.T) {
	tm := New(newFakeDevice(), func(int) {}).Termios()
	for _, tc := range []struct {
		name string
		set  bool
	}{
		{"ICRNL", tm.InputFlags&linux.ICRNL != 0},
		{"ONLCR", tm.OutputFlags&linux.ONLCR != 0},
		{"ICANON", tm.LocalFlags&linux.ICANON != 0},
		{"ECHO", tm.LocalFlags&linux.ECHO != 0},
		{"ISIG", tm.LocalFlags&linux.ISIG != 0},
		{"VEOF is ^D", tm.ControlCharacters[linux.VEOF] == 0x04},
		{"VINTR is ^C", tm.ControlCharacters[linux.VINTR] == 0x03},
		{"VERASE is DEL", tm.ControlCharacters[linux.VERASE] == 0x7F},
		{"VKILL is ^U", tm.ControlCharacters[linux.VKILL] == 0x15},
	} {
		if !tc.set {
			t.Errorf("%s not reported", tc.name)
		}
	}
	if st := New(nil, nil).Stat(); st.Rdev != 5<<8|1 || st.Mode != linux.S_IFCHR|0o666 {
		t.Errorf("Stat: rdev %#x mode %#o", st.Rdev, st.Mode)
	}
}
