package main

import (
	"errors"
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// terminal is the shell's controlling terminal while job control is on: the
// descriptor it passes to tcsetpgrp and tcsetattr, its own process group, and
// the terminal modes it restores when a foreground job stops or dies.
type terminal struct {
	fd    int
	pgid  int
	modes *unix.Termios // the shell's own modes (updated after a job exits normally)
}

// openTerminal takes the terminal on fd for job control, following POSIX
// XCU 2.11 and the steps of the glibc manual's "Initializing the Shell": wait
// until the shell is in the foreground, put it in its own process group, make
// that group the terminal's foreground group. It returns an error, leaving
// the process group as it was, when fd is not the controlling terminal (no
// TIOCGPGRP) or the terminal cannot be taken; the caller then runs without
// job control.
func openTerminal(fd int) (*terminal, error) {
	modes, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil, err
	}
	for {
		fg, err := unix.IoctlGetInt(fd, unix.TIOCGPGRP)
		if err != nil {
			return nil, err // not our controlling terminal
		}
		pgrp := unix.Getpgrp()
		if fg == pgrp {
			break
		}
		// Started in the background: stop until someone continues us in the
		// foreground, as a job-control shell must (SIGTTIN's default action).
		if err := unix.Kill(-pgrp, unix.SIGTTIN); err != nil {
			return nil, err
		}
	}
	orig := unix.Getpgrp()
	pid := os.Getpid()
	if orig != pid {
		if err := unix.Setpgid(0, 0); err != nil {
			return nil, err
		}
	}
	t := &terminal{fd: fd, pgid: pid, modes: modes}
	if err := t.setForeground(pid); err != nil {
		if orig != pid {
			unix.Setpgid(0, orig)
		}
		return nil, err
	}
	return t, nil
}

// setForeground makes pgid the terminal's foreground process group. A process
// outside the foreground group that calls tcsetpgrp gets SIGTTOU unless it
// blocks or ignores the signal (tcsetpgrp(3p)); the shell catches SIGTTOU
// with a Go handler (so that its children start with the default action), and
// a caught signal would restart the ioctl forever, so the signal is blocked
// on this thread for the duration of the call.
func (t *terminal) setForeground(pgid int) error {
	return withTTOUBlocked(func() error {
		return unix.IoctlSetPointerInt(t.fd, unix.TIOCSPGRP, pgid)
	})
}

// reclaim gives the terminal back to the shell's own process group.
func (t *terminal) reclaim() error {
	fg, err := unix.IoctlGetInt(t.fd, unix.TIOCGPGRP)
	if err == nil && fg == t.pgid {
		return nil
	}
	return t.setForeground(t.pgid)
}

// getModes reads the terminal's current modes.
func (t *terminal) getModes() *unix.Termios {
	m, err := unix.IoctlGetTermios(t.fd, unix.TCGETS)
	if err != nil {
		return nil
	}
	return m
}

// setModes applies modes (TCSANOW).
func (t *terminal) setModes(m *unix.Termios) error {
	if m == nil {
		return nil
	}
	return withTTOUBlocked(func() error {
		return unix.IoctlSetTermios(t.fd, unix.TCSETS, m)
	})
}

// withTTOUBlocked runs f on a locked OS thread with SIGTTOU blocked, so that
// terminal-changing ioctls from a background process group succeed instead
// of signalling the shell (Linux tty_check_change allows blocked SIGTTOU).
func withTTOUBlocked(f func() error) error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var set, old unix.Sigset_t
	sigaddset(&set, unix.SIGTTOU)
	if err := unix.PthreadSigmask(unix.SIG_BLOCK, &set, &old); err != nil {
		return f()
	}
	err := f()
	if e := unix.PthreadSigmask(unix.SIG_SETMASK, &old, nil); e != nil && err == nil {
		err = e
	}
	return err
}

func sigaddset(set *unix.Sigset_t, sig unix.Signal) {
	n := uint(sig) - 1
	set.Val[n/64] |= 1 << (n % 64)
}

// rawModes derives the line editor's mode from m: no canonical input, no
// echo, no signal characters (^C, ^Z and ^\ arrive as bytes the editor
// interprets), no CR translation, one byte per read. Output processing
// (OPOST) stays on so that "\n" still moves to the start of the next line.
func rawModes(m *unix.Termios) *unix.Termios {
	r := *m
	r.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON | unix.ISTRIP | unix.INPCK
	r.Lflag &^= unix.ICANON | unix.ECHO | unix.ECHONL | unix.ISIG | unix.IEXTEN
	r.Cflag |= unix.CS8
	r.Cc[unix.VMIN] = 1
	r.Cc[unix.VTIME] = 0
	return &r
}

// errNoRaw reports that the input cannot be put in raw mode.
var errNoRaw = errors.New("raw mode unavailable")

// enterRaw puts fd in the editor's raw mode and returns its previous modes.
func enterRaw(fd int) (*unix.Termios, error) {
	old, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return nil, errNoRaw
	}
	err = withTTOUBlocked(func() error {
		return unix.IoctlSetTermios(fd, unix.TCSETS, rawModes(old))
	})
	if err != nil {
		return nil, errNoRaw
	}
	return old, nil
}

// leaveRaw restores modes saved by enterRaw.
func leaveRaw(fd int, old *unix.Termios) {
	withTTOUBlocked(func() error {
		return unix.IoctlSetTermios(fd, unix.TCSETS, old)
	})
}

// isTerminal reports whether fd is a terminal (TCGETS succeeds).
func isTerminal(fd int) bool {
	_, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	return err == nil
}

// termWidth is the terminal's width in columns, 80 when the terminal does
// not know (a serial console reports 0).
func termWidth(fd int) int {
	ws, err := unix.IoctlGetWinsize(fd, unix.TIOCGWINSZ)
	if err != nil || ws.Col == 0 {
		return 80
	}
	return int(ws.Col)
}
