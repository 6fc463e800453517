package main

import (
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// role plays a child role and returns the exit code: 0 when what it
// checked held, 1 (with a message) when not.
func role(name string, args []string) int {
	arg := func(i int) int {
		if i >= len(args) {
			return 0
		}
		n, _ := strconv.Atoi(args[i])
		return n
	}
	var err error
	switch name {
	case "beat":
		beat(4)
	case "beat-ignoring":
		// Ignores signal args[0] (by number) and beats.
		err = setAction(syscall.Signal(arg(0)), sigIgn)
		if err == nil {
			beat(2)
		}
	case "beat-default":
		// Gives signal args[0] its default action back (Go handles it
		// otherwise) and beats.
		err = setAction(syscall.Signal(arg(0)), sigDfl)
		if err == nil {
			beat(2)
		}
	case "beat-catching":
		// Catches signal args[0] and beats.
		c := make(chan os.Signal, 16)
		signal.Notify(c, syscall.Signal(arg(0)))
		beat(2)
	case "beat-pair":
		// Starts another beating child in its group, then beats.
		if _, err = (child{extra: []*os.File{os.NewFile(3, "beat")}}).start("beat"); err == nil {
			beat(2)
		}
	case "sleep":
		time.Sleep(time.Hour)
	case "exit":
		return arg(0)
	case "setpgid":
		err = expectErrno("setpgid", syscall.Setpgid(arg(0), arg(1)), syscall.Errno(arg(2)))
	case "setsid":
		err = setsidRole(args)
	case "kill0":
		// In a group of its own with a beating child: kill(0) ends both.
		if _, err = (child{extra: []*os.File{os.NewFile(3, "beat")}}).start("beat"); err == nil {
			time.Sleep(50 * time.Millisecond)
			err = syscall.Kill(0, syscall.SIGTERM)
			time.Sleep(time.Minute) // SIGTERM ends it first
			err = fmt.Errorf("kill(0, SIGTERM) returned %v and the caller lives", err)
		}
	case "kill-1":
		// Valence only: kill(-1) reaches this child's descendants, not
		// its ancestors nor itself.
		if _, err = (child{extra: []*os.File{os.NewFile(3, "beat")}}).start("beat"); err == nil {
			time.Sleep(50 * time.Millisecond)
			err = expectErrno("kill(-1, SIGTERM)", syscall.Kill(-1, syscall.SIGTERM), 0)
		}
	case "kill0-up":
		// Valence only: kill(0) in its parent's group reaches itself
		// (caught) and not the parent.
		c := make(chan os.Signal, 1)
		signal.Notify(c, syscall.SIGUSR2)
		if err = syscall.Kill(0, syscall.SIGUSR2); err == nil {
			select {
			case <-c:
			case <-time.After(10 * time.Second):
				err = errors.New("kill(0) did not reach the caller")
			}
		}
	case "tty":
		err = ttyRole(args)
	case "orphan-parent":
		err = orphanParent(args)
	case "reader":
		// The e2e test's job that reads a line from the terminal.
		b := make([]byte, 256)
		n, rerr := os.Stdin.Read(b)
		fmt.Printf("reader: got %q %v\n", b[:n], rerr)
	case "sleeper":
		// The e2e test's job: says when it starts and is continued, and
		// ends with 3 on SIGQUIT.
		return sleeper()
	default:
		err = fmt.Errorf("unknown role %q %q", name, args)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "jobtests: role %s: %v\n", name, err)
		return 1
	}
	return 0
}

// beat writes a byte to descriptor 3 every 5ms from n goroutines (and so
// from several threads), until it dies. Before, it says it is set up by
// closing descriptor 4, if it has one.
func beat(n int) {
	syscall.Close(4)
	f := os.NewFile(3, "beat")
	for range n {
		go func() {
			for {
				if _, err := f.Write([]byte{'.'}); err != nil {
					os.Exit(2)
				}
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	select {}
}

// expectErrno checks a call's error against want (0: success).
func expectErrno(what string, err error, want syscall.Errno) error {
	var got syscall.Errno
	if err != nil && !errors.As(err, &got) {
		return fmt.Errorf("%s: %v", what, err)
	}
	if got != want {
		return fmt.Errorf("%s: %v, want %v", what, errnoName(got), errnoName(want))
	}
	return nil
}

func errnoName(e syscall.Errno) string {
	if e == 0 {
		return "success"
	}
	return unix.ErrnoName(e)
}

// setsidRole calls setsid and checks what follows, by args[0] ("eperm":
// that it fails, the caller leads a group):
// "again" (setsid again: EPERM, a group leader now), "setpgid"
// (setpgid(0,0): EPERM, a session leader), "ids" (its IDs are its PID),
// "notty" (the terminal of its old session is not its own: ENOTTY for
// TIOCGPGRP and TIOCGSID, EPERM for TIOCSCTTY and for tcsetpgrp...),
// "group" (leads group args[1] is checked against, then sleeps: a group
// in another session for the parent to try).
func setsidRole(args []string) error {
	if len(args) > 0 && args[0] == "eperm" { // it leads a group
		_, err := syscall.Setsid()
		return expectErrno("setsid by a group leader", err, syscall.EPERM)
	}
	sid, err := syscall.Setsid()
	if err != nil {
		return fmt.Errorf("setsid: %v", err)
	}
	pid := os.Getpid()
	if sid != pid {
		return fmt.Errorf("setsid = %d, want the pid %d", sid, pid)
	}
	what := ""
	if len(args) > 0 {
		what = args[0]
	}
	switch what {
	case "again":
		_, err := syscall.Setsid()
		return expectErrno("setsid by a session leader", err, syscall.EPERM)
	case "setpgid":
		return expectErrno("setpgid(0, 0) by a session leader", syscall.Setpgid(0, 0), syscall.EPERM)
	case "ids":
		if g, s := syscall.Getpgrp(), mustSid(0); g != pid || s != pid {
			return fmt.Errorf("after setsid: group %d, session %d; want %d", g, s, pid)
		}
	case "notty":
		_, err := unix.IoctlGetInt(0, unix.TIOCGPGRP)
		if err := expectErrno("TIOCGPGRP on another session's terminal", err, syscall.ENOTTY); err != nil {
			return err
		}
		_, err = unix.IoctlGetInt(0, unix.TIOCGSID)
		if err := expectErrno("TIOCGSID on another session's terminal", err, syscall.ENOTTY); err != nil {
			return err
		}
		if err := expectErrno("tcsetpgrp on another session's terminal", tcsetpgrp(0, pid), syscall.ENOTTY); err != nil {
			return err
		}
		// Taking the terminal from the other session needs arg 1 and
		// CAP_SYS_ADMIN: not tried, it would take the test's terminal.
		return expectErrno("TIOCSCTTY of another session's terminal", unix.IoctlSetInt(0, unix.TIOCSCTTY, 0), syscall.EPERM)
	case "group":
		time.Sleep(time.Hour)
	}
	return nil
}

func mustSid(pid int) int {
	sid, err := unix.Getsid(pid)
	if err != nil {
		return -1
	}
	return sid
}

// ttyRole runs in a background group of the test's session (the test's
// terminal is its controlling terminal), with the stop signals at their
// default actions, and does args[0]:
//
//	read        read the terminal (SIGTTIN stops it; after a continue in
//	            the foreground, the restarted read gets what is typed, or
//	            returns at once with VMIN 0)
//	read-ign    read with SIGTTIN ignored: EIO
//	write       write to the terminal (with TOSTOP, SIGTTOU stops it)
//	write-ign   write with SIGTTOU ignored: written even with TOSTOP
//	setfg       tcsetpgrp to its own group (SIGTTOU stops it; once it is
//	            the foreground group, the restarted call succeeds), then
//	            give the foreground back to group args[1]
//	setfg-ign   tcsetpgrp with SIGTTOU ignored: allowed from the background
//	settings    TCSETS with the current settings (SIGTTOU stops it)
//	notty       give up the terminal (TIOCNOTTY, not a leader): then
//	            TIOCGPGRP is ENOTTY
//	sctty       TIOCSCTTY, not a session leader: EPERM
//	pgrp        tcgetpgrp is args[1]
func ttyRole(args []string) error {
	for _, s := range []syscall.Signal{syscall.SIGTTIN, syscall.SIGTTOU, syscall.SIGTSTP} {
		if err := setAction(s, sigDfl); err != nil {
			return err
		}
	}
	n := 0
	if len(args) > 1 {
		n, _ = strconv.Atoi(args[1])
	}
	switch args[0] {
	case "read":
		b := make([]byte, 16)
		_, err := syscall.Read(0, b)
		for err == syscall.EINTR {
			_, err = syscall.Read(0, b)
		}
		return expectErrno("read from the foreground", err, 0)
	case "read-ign":
		setAction(syscall.SIGTTIN, sigIgn)
		_, err := syscall.Read(0, make([]byte, 16))
		return expectErrno("background read with SIGTTIN ignored", err, syscall.EIO)
	case "write":
		_, err := syscall.Write(1, []byte("jobtests: a background write\n"))
		return expectErrno("write", err, 0)
	case "write-ign":
		setAction(syscall.SIGTTOU, sigIgn)
		_, err := syscall.Write(1, []byte("jobtests: a background write, SIGTTOU ignored\n"))
		return expectErrno("background write with SIGTTOU ignored", err, 0)
	case "setfg":
		if err := expectErrno("tcsetpgrp to itself", tcsetpgrp(0, syscall.Getpgrp()), 0); err != nil {
			return err
		}
		if fg, err := tcgetpgrp(0); err != nil || fg != syscall.Getpgrp() {
			return fmt.Errorf("after tcsetpgrp: foreground %d, %v; want %d", fg, err, syscall.Getpgrp())
		}
		return expectErrno("tcsetpgrp back, from the foreground", tcsetpgrp(0, n), 0)
	case "setfg-ign":
		setAction(syscall.SIGTTOU, sigIgn)
		if err := expectErrno("background tcsetpgrp, SIGTTOU ignored", tcsetpgrp(0, syscall.Getpgrp()), 0); err != nil {
			return err
		}
		return expectErrno("tcsetpgrp back", tcsetpgrp(0, n), 0)
	case "settings":
		t, err := unix.IoctlGetTermios(0, unix.TCGETS)
		if err != nil {
			return err
		}
		return expectErrno("TCSETS", unix.IoctlSetTermios(0, unix.TCSETS, t), 0)
	case "notty":
		if err := expectErrno("TIOCNOTTY", unix.IoctlSetInt(0, unix.TIOCNOTTY, 0), 0); err != nil {
			return err
		}
		_, err := tcgetpgrp(0)
		return expectErrno("tcgetpgrp after TIOCNOTTY", err, syscall.ENOTTY)
	case "sctty":
		return expectErrno("TIOCSCTTY, not a session leader", unix.IoctlSetInt(0, unix.TIOCSCTTY, 0), syscall.EPERM)
	case "pgrp":
		if fg, err := tcgetpgrp(0); err != nil || fg != n {
			return fmt.Errorf("tcgetpgrp = %d, %v; want %d", fg, err, n)
		}
		return nil
	}
	return fmt.Errorf("unknown tty action %q", args)
}

// orphanParent starts a beating child in its own group (this process's
// group: it leads one, started with Setpgid), stops it, writes its pid
// to descriptor 4, and exits: the group is orphaned with a stopped
// member. args[0] is "die" (the child has SIGHUP's default action) or
// "survive" (it ignores SIGHUP).
func orphanParent(args []string) error {
	role := "beat"
	rargs := []string{}
	if len(args) > 0 && args[0] == "survive" {
		role, rargs = "beat-ignoring", []string{strconv.Itoa(int(syscall.SIGHUP))}
	}
	rr, rw, err := os.Pipe()
	if err != nil {
		return err
	}
	pid, err := (child{extra: []*os.File{os.NewFile(3, "beat"), rw}}).start(role, rargs...)
	rw.Close()
	if err != nil {
		return err
	}
	rr.Read(make([]byte, 1)) // end of file once it is set up
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		return err
	}
	if err := expectStop(pid, syscall.SIGSTOP); err != nil {
		return err
	}
	_, err = fmt.Fprintf(os.NewFile(4, "report"), "%d\n", pid)
	return err
}

// sleeper is the e2e test's job.
func sleeper() int {
	c := make(chan os.Signal, 4)
	signal.Notify(c, syscall.SIGCONT, syscall.SIGQUIT)
	fmt.Printf("sleeper %d running\n", os.Getpid())
	for s := range c {
		if s == syscall.SIGQUIT {
			fmt.Printf("sleeper %d quits\n", os.Getpid())
			return 3
		}
		fmt.Printf("sleeper %d continued\n", os.Getpid())
	}
	return 0
}
