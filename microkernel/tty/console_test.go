package tty

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile/kfiletest"
)

// rub is the echo that erases one column.
const rub = "\b \b"

// TestLineDiscipline types input in the default (canonical) settings and
// checks what reads return (a line at a time) and what is echoed (with
// ONLCR, as Linux echoes).
func TestLineDiscipline(t *testing.T) {
	tests := []struct {
		name     string
		typed    string
		wantRead []string
		wantEcho string
	}{
		{"a line", "ls -l\r", []string{"ls -l\n"}, "ls -l\r\n"},
		{"newline too", "a\nb\n", []string{"a\n", "b\n"}, "a\r\nb\r\n"},
		{"not a whole line yet", "abc", nil, "abc"},
		{"backspace", "cax\x7ft\r", []string{"cat\n"}, "cax" + rub + "t\r\n"},
		{"^H is not VERASE", "ab\x08c\r", []string{"ab\x08c\n"}, "ab^Hc\r\n"},
		{"backspace at line start", "\x7fx\r", []string{"x\n"}, "x\r\n"},
		{"^U kills the line", "rm -rf\x15ls\r", []string{"ls\n"}, "rm -rf" + strings.Repeat(rub, 6) + "ls\r\n"},
		{"^W erases a word", "cat foo bar\x17baz\r", []string{"cat foo baz\n"}, "cat foo bar" + strings.Repeat(rub, 3) + "baz\r\n"},
		{"^W erases trailing blanks too", "a bc  \x17x\r", []string{"a x\n"}, "a bc  " + strings.Repeat(rub, 4) + "x\r\n"},
		{"^D at line start", "\x04", []string{"<EOF>"}, ""},
		{"^D mid-line delivers it", "abc\x04", []string{"abc"}, "abc"},
		{"two ^Ds", "\x04\x04", []string{"<EOF>", "<EOF>"}, ""},
		{"end of file in order", "a\r\x04b\r", []string{"a\n", "<EOF>", "b\n"}, "a\r\nb\r\n"},
		{"control characters kept, echoed as ^X", "a\x01\x1bb\r", []string{"a\x01\x1bb\n"}, "a^A^[b\r\n"},
		{"erasing ^X rubs two columns", "a\x01\x7f\r", []string{"a\n"}, "a^A" + rub + rub + "\r\n"},
		{"tab kept", "a\tb\r", []string{"a\tb\n"}, "a\tb\r\n"},
		{"erasing a tab backs up its columns", "ab\t\x7f\r", []string{"ab\n"}, "ab\t" + strings.Repeat("\b", 6) + "\r\n"},
		{"^V takes the next byte literally", "a\x16\x03\x16\x7f\r", []string{"a\x03\x7f\n"}, "a^\b^C^\b^?\r\n"},
		{"^R reprints the line", "ab\x12c\r", []string{"abc\n"}, "ab^R\r\nabc\r\n"},
		{"long line", strings.Repeat("x", 5000) + "\r", []string{strings.Repeat("x", 4095) + "\n"}, strings.Repeat("x", 4095) + "\r\n"},
		{"^S and ^Q are flow control", "a\x13b\x11\r", []string{"ab\n"}, "ab\r\n"},
		{"NUL is data, not a disabled character", "a\x00\r", []string{"a\x00\n"}, "a^@\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, dev, _ := newTest()
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

// TestSettings types input under changed settings: each case edits the
// defaults.
func TestSettings(t *testing.T) {
	tests := []struct {
		name     string
		set      func(*linux.KernelTermios)
		typed    string
		wantRead []string
		wantEcho string
	}{
		{"raw (MakeRaw)", makeRaw, "ab\r\x03\x1a\x7f", []string{"ab\r\x03\x1a\x7f"}, ""},
		{"raw with echo", func(t *linux.KernelTermios) { makeRaw(t); t.LocalFlags |= linux.ECHO | linux.ECHOCTL },
			"a\r\x01", []string{"a\r\x01"}, "a^M^A"},
		{"cbreak: no ICANON, echo on", func(t *linux.KernelTermios) { t.LocalFlags &^= linux.ICANON },
			"hi\r", []string{"hi\n"}, "hi\r\n"},
		{"no echo", func(t *linux.KernelTermios) { t.LocalFlags &^= linux.ECHO },
			"secret\r", []string{"secret\n"}, ""},
		{"ECHONL without ECHO", func(t *linux.KernelTermios) { t.LocalFlags = t.LocalFlags&^linux.ECHO | linux.ECHONL },
			"pw\r", []string{"pw\n"}, "\r\n"},
		{"no ECHOCTL", func(t *linux.KernelTermios) { t.LocalFlags &^= linux.ECHOCTL },
			"a\x01\x7f\r", []string{"a\n"}, "a\x01\r\n"},
		{"no ECHOE: the erase character is echoed", func(t *linux.KernelTermios) { t.LocalFlags &^= linux.ECHOE },
			"ab\x7f\r", []string{"a\n"}, "ab^?\r\n"},
		{"ECHOK without ECHOKE: kill echoes ^U and a newline", func(t *linux.KernelTermios) { t.LocalFlags &^= linux.ECHOKE },
			"ab\x15c\r", []string{"c\n"}, "ab^U\r\nc\r\n"},
		{"no ICRNL", func(t *linux.KernelTermios) { t.InputFlags &^= linux.ICRNL },
			"a\rb\n", []string{"a\rb\n"}, "a^Mb\r\n"},
		{"IGNCR", func(t *linux.KernelTermios) { t.InputFlags |= linux.IGNCR },
			"a\rb\n", []string{"ab\n"}, "ab\r\n"},
		{"INLCR without ICRNL", func(t *linux.KernelTermios) {
			t.InputFlags = t.InputFlags&^linux.ICRNL | linux.INLCR
			t.LocalFlags &^= linux.ICANON
		},
			"a\n", []string{"a\r"}, "a^M"},
		{"ISTRIP", func(t *linux.KernelTermios) { t.InputFlags |= linux.ISTRIP },
			"\xe1\r", []string{"a\n"}, "a\r\n"},
		{"IUTF8 erases a whole character", func(t *linux.KernelTermios) { t.InputFlags |= linux.IUTF8 },
			"aé\x7f\r", []string{"a\n"}, "aé" + rub + "\r\n"},
		{"other erase and kill characters", func(t *linux.KernelTermios) {
			t.ControlCharacters[linux.VERASE] = '#'
			t.ControlCharacters[linux.VKILL] = '@'
		}, "ab#c\r" + "xy@z\r", []string{"ac\n", "z\n"}, "ab" + rub + "c\r\nxy" + rub + rub + "z\r\n"},
		{"VEOL ends a line", func(t *linux.KernelTermios) { t.ControlCharacters[linux.VEOL] = ';' },
			"a;b\r", []string{"a;", "b\n"}, "a;b\r\n"},
		{"VEOF disabled", func(t *linux.KernelTermios) { t.ControlCharacters[linux.VEOF] = 0 },
			"\x04\r", []string{"\x04\n"}, "^D\r\n"},
		{"no IEXTEN: ^W and ^V are data", func(t *linux.KernelTermios) { t.LocalFlags &^= linux.IEXTEN },
			"a\x17\x16\r", []string{"a\x17\x16\n"}, "a^W^V\r\n"},
		{"no IXON: ^S is data", func(t *linux.KernelTermios) { t.InputFlags &^= linux.IXON },
			"\x13\r", []string{"\x13\n"}, "^S\r\n"},
		{"no OPOST: echo unprocessed", func(t *linux.KernelTermios) { t.OutputFlags &^= linux.OPOST },
			"a\r", []string{"a\n"}, "a\n"},
		{"no OPOST, erase still rubs out", func(t *linux.KernelTermios) { t.OutputFlags &^= linux.OPOST },
			"ab\x7f\r", []string{"a\n"}, "ab" + rub + "\n"},
		{"full buffer rings with IMAXBEL", func(t *linux.KernelTermios) { t.InputFlags |= linux.IMAXBEL },
			strings.Repeat("y", 4096), nil, strings.Repeat("y", 4095) + "\a"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, dev, jobs := newTest()
			tm := c.Termios()
			tc.set(&tm)
			c.SetTermios(tm, false)
			c.input([]byte(tc.typed))
			got := readAll(t, c, kfiletest.NewCaller(1))
			if len(got) > 0 && len(got[0]) == 64 {
				got = []string{strings.Join(got, "")}
			}
			if len(tc.typed) > 1000 {
				if want := ""; len(got) != 0 {
					t.Errorf("a full canonical buffer with no line end is not readable: got %d reads%s", len(got), want)
				}
			} else if diff := cmp.Diff(tc.wantRead, got); diff != "" {
				t.Errorf("reads (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tc.wantEcho, dev.output()); diff != "" {
				t.Errorf("echo (-want +got):\n%s", diff)
			}
			if s := jobs.signals(); len(s) != 0 {
				t.Errorf("signals sent: %v", s)
			}
		})
	}
}

// TestOutput checks the output processing of writes.
func TestOutput(t *testing.T) {
	tests := []struct {
		name  string
		oflag uint32
		write string
		want  string
	}{
		{"OPOST|ONLCR", linux.OPOST | linux.ONLCR, "a\nb\n", "a\r\nb\r\n"},
		{"no OPOST", linux.ONLCR, "a\nb\r", "a\nb\r"},
		{"OPOST alone", linux.OPOST, "a\nb", "a\nb"},
		{"OCRNL", linux.OPOST | linux.OCRNL, "a\rb", "a\nb"},
		{"ONOCR drops CR at column 0", linux.OPOST | linux.ONOCR, "\rab\r\r", "ab\r"},
		{"XTABS", linux.OPOST | linux.XTABS, "ab\tc\t", "ab      c       "},
		{"OLCUC", linux.OPOST | linux.OLCUC, "Hi!", "HI!"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, dev, _ := newTest()
			tm := c.Termios()
			tm.OutputFlags = tc.oflag
			c.SetTermios(tm, false)
			if n, e := c.Write(kfiletest.NewCaller(1), []byte(tc.write), 0, false); n != len(tc.write) || e != 0 {
				t.Fatalf("Write = %d, %v", n, e)
			}
			if diff := cmp.Diff(tc.want, dev.output()); diff != "" {
				t.Errorf("device output (-want +got):\n%s", diff)
			}
		})
	}
}

// TestReadOneLine: a read returns at most one line, and at most what
// fits, leaving the rest for the next.
func TestReadOneLine(t *testing.T) {
	c, _, _ := newTest()
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
	if n, e := c.Read(caller, b, 0, true); e != errno.EAGAIN {
		t.Errorf("Read with nothing typed = %d, %v; want EAGAIN", n, e)
	}
}

// TestModeSwitch: leaving canonical mode makes the line being edited
// readable; entering it makes what was typed raw readable as a line.
func TestModeSwitch(t *testing.T) {
	c, _, _ := newTest()
	caller := kfiletest.NewCaller(1)
	c.input([]byte("half"))
	tm := c.Termios()
	raw := tm
	makeRaw(&raw)
	c.SetTermios(raw, false)
	if got := readAll(t, c, caller); !cmp.Equal(got, []string{"half"}) {
		t.Errorf("after leaving canonical mode: reads %q, want the edited line", got)
	}
	c.input([]byte("xy"))
	c.SetTermios(tm, false)
	if got := readAll(t, c, caller); !cmp.Equal(got, []string{"xy"}) {
		t.Errorf("after entering canonical mode: reads %q, want the raw bytes as a line", got)
	}
	// TCSETSF discards what was typed.
	c.input([]byte("gone\r"))
	c.SetTermios(tm, true)
	if got := readAll(t, c, caller); len(got) != 0 {
		t.Errorf("after TCSETSF: reads %q, want none", got)
	}
}

// TestVMinVTime checks the four non-canonical read modes (termios(3)).
func TestVMinVTime(t *testing.T) {
	const tick = 100 * time.Millisecond // VTIME's unit
	tests := []struct {
		name       string
		vmin, vtim uint8
		typed      []string // sent 30ms apart, the first right after the read starts
		bufLen     int
		want       string
		atLeast    time.Duration
		atMost     time.Duration
	}{
		{"MIN 0 TIME 0: polls", 0, 0, nil, 8, "", 0, tick},
		{"MIN 0 TIME 2: times out", 0, 2, nil, 8, "", 2 * tick, 6 * tick},
		{"MIN 0 TIME 5: returns with the first byte", 0, 5, []string{"a"}, 8, "a", 0, 4 * tick},
		{"MIN 3 TIME 0: waits for three", 3, 0, []string{"a", "b", "cd"}, 8, "abcd", 50 * time.Millisecond, 10 * tick},
		{"MIN 3, a 2-byte buffer", 3, 0, []string{"abc"}, 2, "ab", 0, 4 * tick},
		{"MIN 5 TIME 1: inter-byte timer", 5, 1, []string{"a", "b"}, 8, "ab", 100 * time.Millisecond, 10 * tick},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _, _ := newTest()
			tm := c.Termios()
			makeRaw(&tm)
			tm.ControlCharacters[linux.VMIN], tm.ControlCharacters[linux.VTIME] = tc.vmin, tc.vtim
			c.SetTermios(tm, false)
			go func() {
				for _, s := range tc.typed {
					time.Sleep(30 * time.Millisecond)
					c.input([]byte(s))
				}
			}()
			start := time.Now()
			b := make([]byte, tc.bufLen)
			n, e := c.Read(kfiletest.NewCaller(1), b, 0, false)
			took := time.Since(start)
			if e != 0 || string(b[:n]) != tc.want {
				t.Errorf("Read = %q, %v; want %q", b[:n], e, tc.want)
			}
			if took < tc.atLeast || took > tc.atMost {
				t.Errorf("Read took %v, want between %v and %v", took, tc.atLeast, tc.atMost)
			}
		})
	}
	// A non-blocking read with MIN 0 TIME 0 returns 0, not EAGAIN (Linux).
	c, _, _ := newTest()
	tm := c.Termios()
	makeRaw(&tm)
	tm.ControlCharacters[linux.VMIN] = 0
	c.SetTermios(tm, false)
	if n, e := c.Read(kfiletest.NewCaller(1), make([]byte, 4), 0, true); n != 0 || e != 0 {
		t.Errorf("non-blocking polling read = %d, %v; want 0, 0", n, e)
	}
	tm.ControlCharacters[linux.VMIN] = 1
	c.SetTermios(tm, false)
	if n, e := c.Read(kfiletest.NewCaller(1), make([]byte, 4), 0, true); e != errno.EAGAIN {
		t.Errorf("non-blocking read with MIN 1 = %d, %v; want EAGAIN", n, e)
	}
}

// TestDevice: input arrives from the device once a program reads, and
// wakes a blocked reader; writes go to the device after output
// processing.
func TestDevice(t *testing.T) {
	dev, jobs := newFakeDevice(), &fakeJobs{}
	c := New(dev, jobs)
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
	if got := dev.output(); got != "hi\r\nout\r\n" {
		t.Errorf("device output %q, want the echo then the write", got)
	}
}

func TestReadInterrupted(t *testing.T) {
	c, _, _ := newTest()
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

// TestFlowControl: ^S stops output, a write waits (or is EAGAIN without
// blocking), ^Q restarts it; TCOOFF is undone only by TCOON.
func TestFlowControl(t *testing.T) {
	c, dev, _ := newTest()
	caller := kfiletest.NewCaller(1)
	c.input([]byte{0x13})
	if ev, _ := c.Poll(); ev&linux.EPOLLOUT != 0 {
		t.Errorf("Poll while stopped = %#x, want no EPOLLOUT", ev)
	}
	if _, e := c.Write(caller, []byte("x"), 0, true); e != errno.EAGAIN {
		t.Errorf("non-blocking write while stopped: %v, want EAGAIN", e)
	}
	done := make(chan struct{})
	go func() {
		c.Write(caller, []byte("late"), 0, false)
		close(done)
	}()
	time.Sleep(20 * time.Millisecond)
	if got := dev.output(); got != "" {
		t.Errorf("output while stopped: %q", got)
	}
	c.input([]byte{0x11})
	<-done
	if got := dev.output(); got != "late" {
		t.Errorf("output after ^Q: %q", got)
	}
	if e := c.Flow(TCOOFF); e != 0 {
		t.Fatal(e)
	}
	c.input([]byte{0x11}) // ^Q does not undo TCOOFF
	if _, e := c.Write(caller, []byte("x"), 0, true); e != errno.EAGAIN {
		t.Errorf("write after TCOOFF and ^Q: %v, want EAGAIN", e)
	}
	c.Flow(TCOON)
	if _, e := c.Write(caller, []byte("x"), 0, true); e != 0 {
		t.Errorf("write after TCOON: %v", e)
	}
	dev.reset()
	c.Flow(TCIOFF)
	c.Flow(TCION)
	if got := dev.output(); got != "\x13\x11" {
		t.Errorf("TCIOFF, TCION sent %q", got)
	}
	if e := c.Flow(9); e != errno.EINVAL {
		t.Errorf("Flow(9) = %v, want EINVAL", e)
	}
}

func TestPoll(t *testing.T) {
	c, _, _ := newTest()
	var got []uint32
	poll := func() {
		ev, _ := c.Poll()
		got = append(got, ev)
	}
	poll()
	c.input([]byte("partial"))
	poll()
	c.input([]byte("\r"))
	poll()
	readAll(t, c, kfiletest.NewCaller(1))
	c.input([]byte{0x04})
	poll()
	readAll(t, c, kfiletest.NewCaller(1))
	tm := c.Termios()
	makeRaw(&tm)
	tm.ControlCharacters[linux.VMIN] = 2
	c.SetTermios(tm, false)
	c.input([]byte("a"))
	poll() // MIN 2, one byte: a read would block
	c.input([]byte("b"))
	poll()
	want := []uint32{linux.EPOLLOUT, linux.EPOLLOUT, linux.EPOLLOUT | linux.EPOLLIN, linux.EPOLLOUT | linux.EPOLLIN,
		linux.EPOLLOUT, linux.EPOLLOUT | linux.EPOLLIN}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Poll (-want +got):\n%s", diff)
	}
}

// TestReadable: FIONREAD counts complete lines in canonical mode.
func TestReadable(t *testing.T) {
	c, _, _ := newTest()
	c.input([]byte("abc\rde"))
	if n := c.Readable(); n != 4 {
		t.Errorf("Readable = %d, want 4 (the complete line)", n)
	}
	if e := c.Flush(linux.TCIFLUSH); e != 0 || c.Readable() != 0 {
		t.Errorf("after TCIFLUSH: %v, Readable %d", e, c.Readable())
	}
	if e := c.Flush(7); e != errno.EINVAL {
		t.Errorf("Flush(7) = %v, want EINVAL", e)
	}
}

// TestTermios: the defaults are Linux's, and what is set is what is got.
func TestTermios(t *testing.T) {
	c, _, _ := newTest()
	tm := c.Termios()
	if tm.InputFlags != linux.ICRNL|linux.IXON || tm.OutputFlags != linux.OPOST|linux.ONLCR ||
		tm.LocalFlags != linux.ISIG|linux.ICANON|linux.ECHO|linux.ECHOE|linux.ECHOK|linux.ECHOCTL|linux.ECHOKE|linux.IEXTEN {
		t.Errorf("defaults %+v", tm)
	}
	for i, want := range map[int]uint8{linux.VINTR: 3, linux.VQUIT: 0x1c, linux.VERASE: 0x7f, linux.VKILL: 0x15,
		linux.VEOF: 4, linux.VMIN: 1, linux.VSUSP: 0x1a, linux.VSTART: 0x11, linux.VSTOP: 0x13} {
		if tm.ControlCharacters[i] != want {
			t.Errorf("c_cc[%d] = %#x, want %#x", i, tm.ControlCharacters[i], want)
		}
	}
	raw := tm
	makeRaw(&raw)
	c.SetTermios(raw, false)
	if got := c.Termios(); got != raw {
		t.Errorf("TCGETS after TCSETS: %+v, want %+v", got, raw)
	}
	if st := c.Stat(); st.Rdev != 5<<8|1 || st.Mode != linux.S_IFCHR|0o666 {
		t.Errorf("Stat: rdev %#x mode %#o", st.Rdev, st.Mode)
	}
}
