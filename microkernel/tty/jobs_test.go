package tty

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile/kfiletest"
)

func sent(kind string, id int, sig linux.Signal) string {
	return fmt.Sprintf("%s %d %d", kind, id, sig)
}

// TestSignalCharacters: ^C, ^\ and ^Z go to the foreground group once
// job control has set one, to the last reader before; the input typed
// before them is discarded unless NOFLSH; without ISIG they are data.
func TestSignalCharacters(t *testing.T) {
	tests := []struct {
		name      string
		explicit  bool // a foreground group set by job control
		set       func(*linux.KernelTermios)
		typed     string
		wantSent  []string
		wantRead  []string
		wantEcho  string
		noReaders bool
	}{
		{name: "^C to the foreground group", explicit: true, typed: "sleep\x03",
			wantSent: []string{sent("group", 7, linux.SIGINT)}, wantEcho: "sleep^C"},
		{name: "^\\ and ^Z", explicit: true, typed: "\x1c\x1a",
			wantSent: []string{sent("group", 7, linux.SIGQUIT), sent("group", 7, linux.SIGTSTP)}, wantEcho: "^\\^Z"},
		{name: "before job control, to the last reader", typed: "x\x03",
			wantSent: []string{sent("pid", 42, linux.SIGINT)}, wantEcho: "x^C"},
		{name: "nobody has read", typed: "\x03", noReaders: true, wantEcho: "^C"},
		{name: "the line typed before is discarded", explicit: true, typed: "ab\rcd\x03ef\r",
			wantSent: []string{sent("group", 7, linux.SIGINT)}, wantRead: []string{"ef\n"}, wantEcho: "ab\r\ncd^Cef\r\n"},
		{name: "NOFLSH keeps it", explicit: true, set: func(t *linux.KernelTermios) { t.LocalFlags |= linux.NOFLSH },
			typed: "ab\rcd\x03ef\r", wantSent: []string{sent("group", 7, linux.SIGINT)},
			wantRead: []string{"ab\n", "cdef\n"}, wantEcho: "ab\r\ncd^Cef\r\n"},
		{name: "without ISIG they are data", explicit: true, set: func(t *linux.KernelTermios) { t.LocalFlags &^= linux.ISIG },
			typed: "\x03\x1a\r", wantRead: []string{"\x03\x1a\n"}, wantEcho: "^C^Z\r\n"},
		{name: "in raw mode too", explicit: true, set: func(t *linux.KernelTermios) { makeRaw(t); t.LocalFlags |= linux.ISIG },
			typed: "ab\x03", wantSent: []string{sent("group", 7, linux.SIGINT)}},
		{name: "other characters", explicit: true, set: func(t *linux.KernelTermios) {
			t.ControlCharacters[linux.VINTR] = 'i'
			t.ControlCharacters[linux.VSUSP] = 0 // disabled
		}, typed: "\x03\x1ai", wantSent: []string{sent("group", 7, linux.SIGINT)}, wantEcho: "^C^Zi"},
		{name: "a literal ^C", explicit: true, typed: "\x16\x03\r", wantRead: []string{"\x03\n"}, wantEcho: "^\b^C\r\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, dev, jobs := newTest()
			c.Attach(1, 1, false)
			if tc.explicit {
				c.SetForeground(7)
			}
			if !tc.noReaders {
				c.Read(kfiletest.NewCaller(42), make([]byte, 1), 0, true)
			}
			if tc.set != nil {
				tm := c.Termios()
				tc.set(&tm)
				c.SetTermios(tm, false)
			}
			c.input([]byte(tc.typed))
			if diff := cmp.Diff(tc.wantSent, jobs.signals()); diff != "" {
				t.Errorf("signals (-want +got):\n%s", diff)
			}
			if tc.wantRead != nil {
				if diff := cmp.Diff(tc.wantRead, readAll(t, c, kfiletest.NewCaller(42))); diff != "" {
					t.Errorf("reads (-want +got):\n%s", diff)
				}
			}
			if diff := cmp.Diff(tc.wantEcho, dev.output()); diff != "" {
				t.Errorf("echo (-want +got):\n%s", diff)
			}
		})
	}
}

// TestBackground: what a process of a background group gets from its
// controlling terminal (__tty_check_change), and who is never held back.
func TestBackground(t *testing.T) {
	tests := []struct {
		name     string
		pgid     int
		notCtty  bool
		ignored  linux.Signal
		orphaned bool
		fg       int
		tostop   bool
		write    bool
		wantErr  errno.Errno
		wantSent []string
	}{
		{name: "foreground read", pgid: 5, fg: 5},
		{name: "background read: SIGTTIN to its group, restarted", pgid: 9, fg: 5,
			wantErr: errno.EINTR, wantSent: []string{sent("group", 9, linux.SIGTTIN)}},
		{name: "background read, SIGTTIN ignored: EIO", pgid: 9, fg: 5, ignored: linux.SIGTTIN, wantErr: errno.EIO},
		{name: "background read, orphaned group: EIO", pgid: 9, fg: 5, orphaned: true, wantErr: errno.EIO},
		{name: "not its controlling terminal", pgid: 9, fg: 5, notCtty: true},
		{name: "no foreground group", pgid: 9, fg: 0},
		{name: "background write without TOSTOP", pgid: 9, fg: 5, write: true},
		{name: "background write with TOSTOP: SIGTTOU", pgid: 9, fg: 5, write: true, tostop: true,
			wantErr: errno.EINTR, wantSent: []string{sent("group", 9, linux.SIGTTOU)}},
		{name: "TOSTOP, SIGTTOU ignored: written", pgid: 9, fg: 5, write: true, tostop: true, ignored: linux.SIGTTOU},
		{name: "TOSTOP, orphaned: EIO", pgid: 9, fg: 5, write: true, tostop: true, orphaned: true, wantErr: errno.EIO},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, dev, jobs := newTest()
			c.Attach(1, tc.fg, true)
			c.input([]byte("line\r"))
			dev.reset()
			m := newMember(3, tc.pgid, 1, c)
			if tc.notCtty {
				m.ctty = nil
			}
			m.ignored = map[linux.Signal]bool{tc.ignored: true}
			m.orphaned = tc.orphaned
			if tc.tostop {
				tm := c.Termios()
				tm.LocalFlags |= linux.TOSTOP
				c.SetTermios(tm, false)
			}
			var e errno.Errno
			if tc.write {
				_, e = c.Write(m, []byte("out"), 0, true)
				if want := map[bool]string{true: "", false: "out"}[tc.wantErr != 0]; dev.output() != want {
					t.Errorf("device output %q, want %q", dev.output(), want)
				}
			} else {
				var n int
				b := make([]byte, 16)
				n, e = c.Read(m, b, 0, true)
				if e == 0 && string(b[:n]) != "line\n" {
					t.Errorf("read %q", b[:n])
				}
			}
			if e != tc.wantErr {
				t.Errorf("got %v, want %v", e, tc.wantErr)
			}
			if diff := cmp.Diff(tc.wantSent, jobs.signals()); diff != "" {
				t.Errorf("signals (-want +got):\n%s", diff)
			}
			// The same rule for a change of settings.
			if !tc.write && !tc.tostop {
				jobs.sent = nil
				ce := c.CheckChange(m)
				switch {
				case tc.fg == 0 || tc.fg == tc.pgid || tc.notCtty || tc.ignored == linux.SIGTTOU:
					if ce != 0 {
						t.Errorf("CheckChange = %v, want 0", ce)
					}
				case tc.orphaned:
					if ce != errno.EIO {
						t.Errorf("CheckChange = %v, want EIO", ce)
					}
				default:
					if ce != errno.EINTR || !cmp.Equal(jobs.signals(), []string{sent("group", tc.pgid, linux.SIGTTOU)}) {
						t.Errorf("CheckChange = %v, sent %v; want EINTR and SIGTTOU", ce, jobs.signals())
					}
				}
			}
		})
	}
}

// TestSessionState: attaching, setting the foreground and detaching.
func TestSessionState(t *testing.T) {
	c, _, jobs := newTest()
	if sid, fg := c.Session(); sid != 0 || fg != 0 {
		t.Errorf("a new terminal has session %d, foreground %d", sid, fg)
	}
	c.Attach(1, 1, false)
	c.Read(kfiletest.NewCaller(4), nil, 0, true)
	c.SetWinsize(linux.Winsize{Row: 50, Col: 132})
	c.SetWinsize(linux.Winsize{Row: 50, Col: 132}) // unchanged: no signal
	c.SetForeground(6)
	if sid, fg := c.Session(); sid != 1 || fg != 6 {
		t.Errorf("session %d, foreground %d; want 1, 6", sid, fg)
	}
	c.SetWinsize(linux.Winsize{Row: 25, Col: 80})
	if fg := c.Detach(); fg != 6 {
		t.Errorf("Detach = %d, want 6", fg)
	}
	if sid, fg := c.Session(); sid != 0 || fg != 0 {
		t.Errorf("after Detach: session %d, foreground %d", sid, fg)
	}
	want := []string{sent("pid", 4, linux.SIGWINCH), sent("group", 6, linux.SIGWINCH)}
	if diff := cmp.Diff(want, jobs.signals()); diff != "" {
		t.Errorf("signals (-want +got):\n%s", diff)
	}
	if ws := c.Winsize(); ws != (linux.Winsize{Row: 25, Col: 80}) {
		t.Errorf("Winsize = %+v", ws)
	}
}
