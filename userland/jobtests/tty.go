package main

import (
	"fmt"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The terminal tests run with descriptor 0 this process's controlling
// terminal and its group in the foreground (ownsTerminal); each leaves
// it so.

// restoreTermios returns a function that puts the settings back.
func restoreTermios() (func(), error) {
	orig, err := unix.IoctlGetTermios(0, unix.TCGETS)
	if err != nil {
		return nil, err
	}
	return func() {
		withIgnored(syscall.SIGTTOU, func() error { return unix.IoctlSetTermios(0, unix.TCSETS, orig) })
	}, nil
}

// takeBack makes this process's group the foreground again, from the
// background, as a shell does: with SIGTTOU ignored.
func takeBack() error {
	return withIgnored(syscall.SIGTTOU, func() error { return tcsetpgrp(0, syscall.Getpgrp()) })
}

// tty-ids: tcgetpgrp (from the foreground and the background), TIOCGSID,
// the line discipline, the window size (set, got back), FIONREAD and
// TIOCOUTQ with nothing pending.
func testTTYIDs() error {
	me := syscall.Getpgrp()
	if sid, err := unix.IoctlGetInt(0, unix.TIOCGSID); err != nil || sid != mustSid(0) {
		return fmt.Errorf("TIOCGSID = %d, %v; want the session %d", sid, err, mustSid(0))
	}
	for _, attr := range []*syscall.SysProcAttr{nil, inGroup(0)} {
		pid, err := child{attr: attr}.start("tty", "pgrp", strconv.Itoa(me))
		if err != nil {
			return err
		}
		if err := expectDeath(pid, 0, 0); err != nil {
			return fmt.Errorf("tcgetpgrp in a child (own group %v): %v", attr != nil, err)
		}
	}
	if d, err := unix.IoctlGetInt(0, unix.TIOCGETD); err != nil || d != 0 {
		return fmt.Errorf("TIOCGETD = %d, %v; want 0 (N_TTY)", d, err)
	}
	ws, err := unix.IoctlGetWinsize(0, unix.TIOCGWINSZ)
	if err != nil {
		return fmt.Errorf("TIOCGWINSZ: %v", err)
	}
	want := unix.Winsize{Row: 33, Col: 101, Xpixel: 7, Ypixel: 9}
	if err := unix.IoctlSetWinsize(0, unix.TIOCSWINSZ, &want); err != nil {
		return fmt.Errorf("TIOCSWINSZ: %v", err)
	}
	got, err := unix.IoctlGetWinsize(0, unix.TIOCGWINSZ)
	unix.IoctlSetWinsize(0, unix.TIOCSWINSZ, ws)
	if err != nil || *got != want {
		return fmt.Errorf("TIOCGWINSZ after TIOCSWINSZ = %+v, %v; want %+v", got, err, want)
	}
	if n, err := unix.IoctlGetInt(0, unix.TIOCOUTQ); err != nil || n != 0 {
		return fmt.Errorf("TIOCOUTQ = %d, %v; want 0", n, err)
	}
	return nil
}

// tty-raw: raw mode as golang.org/x/term's MakeRaw sets it, TCSETS then
// TCGETS; non-canonical reads with VMIN 0 (a poll, and a VTIME timeout);
// flushing; bad pointers and bad arguments; the settings restored.
func testTTYRaw() error {
	orig, err := unix.IoctlGetTermios(0, unix.TCGETS)
	if err != nil {
		return err
	}
	restore, _ := restoreTermios()
	defer restore()
	raw := *orig
	raw.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	raw.Oflag &^= unix.OPOST
	raw.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	raw.Cflag &^= unix.CSIZE | unix.PARENB
	raw.Cflag |= unix.CS8
	raw.Cc[unix.VMIN], raw.Cc[unix.VTIME] = 0, 0
	if err := unix.IoctlSetTermios(0, unix.TCSETS, &raw); err != nil {
		return fmt.Errorf("TCSETS raw: %v", err)
	}
	got, err := unix.IoctlGetTermios(0, unix.TCGETS)
	if err != nil {
		return err
	}
	if got.Iflag != raw.Iflag || got.Oflag != raw.Oflag || got.Lflag != raw.Lflag || got.Cflag&^unix.CBAUD != raw.Cflag&^unix.CBAUD ||
		got.Cc != raw.Cc {
		return fmt.Errorf("TCGETS after TCSETS = %+v, want %+v", *got, raw)
	}
	t0 := time.Now()
	n, err := syscall.Read(0, make([]byte, 8))
	if err != nil || n != 0 || time.Since(t0) > time.Second {
		return fmt.Errorf("a read with VMIN 0 VTIME 0 = %d, %v after %v; want 0 at once", n, err, time.Since(t0))
	}
	raw.Cc[unix.VTIME] = 3
	unix.IoctlSetTermios(0, unix.TCSETSW, &raw)
	t0 = time.Now()
	n, err = syscall.Read(0, make([]byte, 8))
	if took := time.Since(t0); err != nil || n != 0 || took < 250*time.Millisecond || took > 5*time.Second {
		return fmt.Errorf("a read with VMIN 0 VTIME 3 = %d, %v after %v; want 0 after 0.3s", n, err, took)
	}
	if err := unix.IoctlSetTermios(0, unix.TCSETSF, &raw); err != nil {
		return fmt.Errorf("TCSETSF: %v", err)
	}
	if n, err := unix.IoctlGetInt(0, unix.TIOCINQ); err != nil || n != 0 {
		return fmt.Errorf("FIONREAD after TCSETSF = %d, %v; want 0", n, err)
	}
	if err := unix.IoctlSetInt(0, unix.TCFLSH, unix.TCIFLUSH); err != nil {
		return fmt.Errorf("TCFLSH: %v", err)
	}
	if err := unix.IoctlSetInt(0, unix.TCFLSH, 99); err != syscall.EINVAL {
		return fmt.Errorf("TCFLSH 99: %v, want EINVAL", err)
	}
	for _, req := range []uintptr{unix.TCGETS, unix.TCSETS, unix.TIOCGWINSZ, unix.TIOCGPGRP, unix.TIOCSPGRP} {
		if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, 0, req, 8); e != syscall.EFAULT {
			return fmt.Errorf("ioctl %#x with a bad pointer: %v, want EFAULT", req, e)
		}
	}
	restore()
	back, err := unix.IoctlGetTermios(0, unix.TCGETS)
	if err != nil || back.Lflag != orig.Lflag || back.Iflag != orig.Iflag || back.Oflag != orig.Oflag || back.Cc != orig.Cc {
		return fmt.Errorf("the settings restored: %+v, %v; want %+v", back, err, *orig)
	}
	return nil
}

// tty-foreground: tcsetpgrp from a background group stops it with
// SIGTTOU until it is continued in the foreground; with SIGTTOU ignored
// it is allowed; changing the settings from the background stops too;
// tcsetpgrp's errors; the foreground group given away and taken back.
func testTTYForeground() error {
	me := syscall.Getpgrp()
	defer takeBack()
	pid, err := child{attr: inGroup(0)}.start("tty", "setfg", strconv.Itoa(me))
	if err != nil {
		return err
	}
	if err := expectStop(pid, syscall.SIGTTOU); err != nil {
		return fmt.Errorf("a background tcsetpgrp: %v", err)
	}
	if err := tcsetpgrp(0, pid); err != nil {
		return fmt.Errorf("giving the child the foreground: %v", err)
	}
	if fg, _ := tcgetpgrp(0); fg != pid {
		return fmt.Errorf("tcgetpgrp = %d after tcsetpgrp(%d)", fg, pid)
	}
	syscall.Kill(-pid, syscall.SIGCONT)
	if err := expectDeath(pid, 0, 0); err != nil {
		return fmt.Errorf("the child continued in the foreground: %v", err)
	}
	if fg, err := tcgetpgrp(0); err != nil || fg != me {
		return fmt.Errorf("the child gave the foreground back to %d, %v; want %d", fg, err, me)
	}
	pid, err = child{attr: inGroup(0)}.start("tty", "setfg-ign", strconv.Itoa(me))
	if err != nil {
		return err
	}
	if err := expectDeath(pid, 0, 0); err != nil {
		return fmt.Errorf("a background tcsetpgrp with SIGTTOU ignored: %v", err)
	}
	pid, err = child{attr: inGroup(0)}.start("tty", "settings")
	if err != nil {
		return err
	}
	if err := expectStop(pid, syscall.SIGTTOU); err != nil {
		return fmt.Errorf("a background TCSETS: %v", err)
	}
	syscall.Kill(pid, syscall.SIGKILL)
	if err := expectDeath(pid, syscall.SIGKILL, 0); err != nil {
		return err
	}
	other, err := child{}.start("setsid", "group")
	if err != nil {
		return err
	}
	if !eventually(5*time.Second, func() bool { return mustSid(other) == other }) {
		return fmt.Errorf("the child did not make a session")
	}
	for _, c := range []struct {
		what string
		pgid int
		want syscall.Errno
	}{
		{"another session's group", other, syscall.EPERM},
		{"a group that does not exist", 1 << 30, syscall.ESRCH},
		{"a negative group", -1, syscall.EINVAL},
	} {
		if err := expectErrno("tcsetpgrp to "+c.what, tcsetpgrp(0, c.pgid), c.want); err != nil {
			return err
		}
	}
	if fg, err := tcgetpgrp(0); err != nil || fg != me {
		return fmt.Errorf("after the refused tcsetpgrps the foreground is %d, %v; want %d", fg, err, me)
	}
	// Given away to a sleeping child's group, taken back from the
	// background with SIGTTOU ignored.
	bg, err := child{attr: inGroup(0)}.start("sleep")
	if err != nil {
		return err
	}
	if err := tcsetpgrp(0, bg); err != nil {
		return err
	}
	if err := takeBack(); err != nil {
		return fmt.Errorf("taking the foreground back: %v", err)
	}
	if fg, _ := tcgetpgrp(0); fg != me {
		return fmt.Errorf("after taking it back the foreground is %d, want %d", fg, me)
	}
	return nil
}

// tty-background: a background read stops with SIGTTIN until continued
// in the foreground; with SIGTTIN ignored it is EIO; a background write
// is allowed, but with TOSTOP stops with SIGTTOU unless SIGTTOU is
// ignored; an orphaned background group gets EIO and ENOTTY instead of
// stopping; a process that gives up its terminal (TIOCNOTTY) has none;
// TIOCSCTTY by a process that is not a session leader is EPERM.
func testTTYBackground() error {
	me := syscall.Getpgrp()
	restore, err := restoreTermios()
	if err != nil {
		return err
	}
	defer restore()
	defer takeBack()
	pid, err := child{attr: inGroup(0)}.start("tty", "read")
	if err != nil {
		return err
	}
	if err := expectStop(pid, syscall.SIGTTIN); err != nil {
		return fmt.Errorf("a background read: %v", err)
	}
	// In the foreground, with VMIN 0, the restarted read returns at once.
	t, _ := unix.IoctlGetTermios(0, unix.TCGETS)
	t.Lflag &^= unix.ICANON
	t.Cc[unix.VMIN], t.Cc[unix.VTIME] = 0, 0
	if err := unix.IoctlSetTermios(0, unix.TCSETS, t); err != nil {
		return err
	}
	if err := tcsetpgrp(0, pid); err != nil {
		return err
	}
	syscall.Kill(pid, syscall.SIGCONT)
	if err := expectDeath(pid, 0, 0); err != nil {
		return fmt.Errorf("the reader continued in the foreground: %v", err)
	}
	if err := takeBack(); err != nil {
		return err
	}
	restore()
	for _, c := range []struct{ action, what string }{
		{"read-ign", "a background read with SIGTTIN ignored"},
		{"write", "a background write"},
		{"notty", "TIOCNOTTY"},
		{"sctty", "TIOCSCTTY by a process that is not a session leader"},
	} {
		pid, err := child{attr: inGroup(0)}.start("tty", c.action)
		if err != nil {
			return err
		}
		if err := expectDeath(pid, 0, 0); err != nil {
			return fmt.Errorf("%s: %v", c.what, err)
		}
	}
	if _, err := tcgetpgrp(0); err != nil {
		return fmt.Errorf("a child's TIOCNOTTY took the terminal from its parent: %v", err)
	}
	t, _ = unix.IoctlGetTermios(0, unix.TCGETS)
	t.Lflag |= unix.TOSTOP
	if err := unix.IoctlSetTermios(0, unix.TCSETS, t); err != nil {
		return err
	}
	pid, err = child{attr: inGroup(0)}.start("tty", "write")
	if err != nil {
		return err
	}
	if err := expectStop(pid, syscall.SIGTTOU); err != nil {
		return fmt.Errorf("a background write with TOSTOP: %v", err)
	}
	syscall.Kill(pid, syscall.SIGKILL)
	if err := expectDeath(pid, syscall.SIGKILL, 0); err != nil {
		return err
	}
	pid, err = child{attr: inGroup(0)}.start("tty", "write-ign")
	if err != nil {
		return err
	}
	if err := expectDeath(pid, 0, 0); err != nil {
		return fmt.Errorf("a background write with TOSTOP and SIGTTOU ignored: %v", err)
	}
	restore()
	// This process's own group in the background: orphaned (its parent
	// is not in this session, or it has none), so it gets EIO for a read
	// and ENOTTY for tcsetpgrp instead of being stopped for good.
	if !orphaned() {
		fmt.Println("jobtests: tty-background: this process's group is not orphaned; the orphaned-group checks are skipped")
		return nil
	}
	bg, err := child{attr: inGroup(0)}.start("sleep")
	if err != nil {
		return err
	}
	if err := tcsetpgrp(0, bg); err != nil {
		return err
	}
	_, rerr := syscall.Read(0, make([]byte, 1))
	serr := tcsetpgrp(0, me)
	if err := takeBack(); err != nil {
		return err
	}
	if err := expectErrno("a background read by an orphaned group", rerr, syscall.EIO); err != nil {
		return err
	}
	return expectErrno("a background tcsetpgrp by an orphaned group", serr, syscall.ENOTTY)
}

// orphaned reports whether this process's group is orphaned: its parent
// is in another session (or there is none). (It is the only member.)
func orphaned() bool {
	pp := syscall.Getppid()
	if pp == 0 {
		return true
	}
	psid, err := unix.Getsid(pp)
	return err != nil || psid != mustSid(0)
}

// tty-sessions: a child in a session of its own has no controlling
// terminal (TIOCGPGRP, TIOCGSID, tcsetpgrp: ENOTTY) and cannot take this
// session's (TIOCSCTTY: EPERM); this process, its session's leader,
// already has it (TIOCSCTTY: 0).
func testTTYSessions() error {
	pid, err := child{}.start("setsid", "notty")
	if err != nil {
		return err
	}
	if err := expectDeath(pid, 0, 0); err != nil {
		return fmt.Errorf("a child in a new session: %v", err)
	}
	if mustSid(0) == syscall.Getpid() {
		if err := unix.IoctlSetInt(0, unix.TIOCSCTTY, 0); err != nil {
			return fmt.Errorf("TIOCSCTTY by the leader whose terminal it is: %v, want success", err)
		}
	}
	return nil
}

// proc-stat: /proc/<pid>/stat shows the process group, session, the
// controlling terminal (tty_nr) and its foreground group (tpgid), and
// 'T' for a stopped process; a process in a new session has no terminal.
func testProcStat() error {
	me, sid := syscall.Getpgrp(), mustSid(0)
	mine, err := procStat(syscall.Getpid())
	if err != nil {
		return err
	}
	if mine[5] != strconv.Itoa(me) || mine[6] != strconv.Itoa(sid) || mine[8] != strconv.Itoa(me) || mine[7] == "0" {
		return fmt.Errorf("own stat pgrp %s session %s tty_nr %s tpgid %s; want %d %d (a terminal) %d", mine[5], mine[6], mine[7], mine[8], me, sid, me)
	}
	pid, hb, err := beating(inGroup(0), "beat")
	if hb != nil {
		defer hb.r.Close()
	}
	if err != nil {
		return err
	}
	syscall.Kill(pid, syscall.SIGSTOP)
	if err := expectStop(pid, syscall.SIGSTOP); err != nil {
		return err
	}
	f, err := procStat(pid)
	if err != nil {
		return err
	}
	if f[3] != "T" || f[5] != strconv.Itoa(pid) || f[6] != strconv.Itoa(sid) || f[7] != mine[7] || f[8] != strconv.Itoa(me) {
		return fmt.Errorf("a stopped child's stat: state %s pgrp %s session %s tty_nr %s tpgid %s; want T %d %d %s %d",
			f[3], f[5], f[6], f[7], f[8], pid, sid, mine[7], me)
	}
	other, err := child{}.start("setsid", "group")
	if err != nil {
		return err
	}
	if !eventually(5*time.Second, func() bool { return mustSid(other) == other }) {
		return fmt.Errorf("the child did not make a session")
	}
	f, err = procStat(other)
	if err != nil {
		return err
	}
	if f[5] != strconv.Itoa(other) || f[6] != strconv.Itoa(other) || f[7] != "0" || f[8] != "-1" {
		return fmt.Errorf("a session leader without a terminal: pgrp %s session %s tty_nr %s tpgid %s", f[5], f[6], f[7], f[8])
	}
	return nil
}
