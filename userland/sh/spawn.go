package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"mvdan.cc/sh/v3/interp"
)

type runKey struct{}

// withRun attaches the statement whose processes the exec handler starts.
func withRun(ctx context.Context, run *stmtRun) context.Context {
	return context.WithValue(ctx, runKey{}, run)
}

// errForegroundInterrupt aborts the rest of a statement whose foreground
// process died of SIGINT: like other shells, ^C stops a whole command line,
// not just the process that was running (a loop would otherwise go on).
var errForegroundInterrupt = errors.New("interrupted")

// childStdio is the descriptors a child gets for 0, 1 and 2, and what the
// shell must do around its life: close its copies of pipe ends it made, and
// wait for the goroutines that copy output into non-file writers (a command
// substitution's buffer).
type childStdio struct {
	fds     [3]uintptr
	closeMe []*os.File
	copies  sync.WaitGroup
	files   bool // all three are the interpreter's own files
}

func newChildStdio(stdin io.Reader, stdout, stderr io.Writer) (*childStdio, error) {
	c := &childStdio{files: true}
	switch r := stdin.(type) {
	case *os.File:
		c.fds[0] = r.Fd()
	case nil:
		f, err := os.Open(os.DevNull)
		if err != nil {
			return nil, err
		}
		c.fds[0], c.closeMe = f.Fd(), append(c.closeMe, f)
	default:
		pr, pw, err := os.Pipe()
		if err != nil {
			return nil, err
		}
		c.files = false
		c.fds[0], c.closeMe = pr.Fd(), append(c.closeMe, pr)
		go func() {
			io.Copy(pw, r)
			pw.Close()
		}()
	}
	for i, w := range []io.Writer{stdout, stderr} {
		if f, ok := w.(*os.File); ok {
			c.fds[i+1] = f.Fd()
			continue
		}
		if w == nil {
			w = io.Discard
		}
		pr, pw, err := os.Pipe()
		if err != nil {
			c.release()
			return nil, err
		}
		c.files = false
		c.fds[i+1], c.closeMe = pw.Fd(), append(c.closeMe, pw)
		c.copies.Add(1)
		go func() {
			defer c.copies.Done()
			io.Copy(w, pr)
			pr.Close()
		}()
	}
	return c, nil
}

// release closes the shell's copies of the child's ends.
func (c *childStdio) release() {
	for _, f := range c.closeMe {
		f.Close()
	}
	c.closeMe = nil
}

// runExternal is the exec handler's path for a program: find it, start it
// in its job's process group, wait for it to exit or stop.
func (s *shell) runExternal(ctx context.Context, args []string) error {
	hc := interp.HandlerCtx(ctx)
	path, err := interp.LookPathDir(hc.Dir, hc.Env, args[0])
	if err != nil {
		return notRunnable(hc, args[0])
	}
	stdio, err := newChildStdio(hc.Stdin, hc.Stdout, hc.Stderr)
	if err != nil {
		fmt.Fprintf(hc.Stderr, "sh: %s: %v\n", args[0], err)
		return interp.ExitStatus(126)
	}
	run, _ := ctx.Value(runKey{}).(*stmtRun)
	if run == nil {
		run = &stmtRun{fg: true}
	}
	env := execEnv(hc.Env)
	j, p, err := s.start(run, path, args, env, hc.Dir, stdio.fds)
	if errors.Is(err, syscall.ENOEXEC) {
		// POSIX XCU 2.9.1.1: a file the kernel will not execute is a script
		// for a new shell.
		self := s.self()
		j, p, err = s.start(run, self, append([]string{"sh", path}, args[1:]...), env, hc.Dir, stdio.fds)
	}
	stdio.release()
	if err != nil {
		stdio.copies.Wait()
		fmt.Fprintf(hc.Stderr, "sh: %s: %v\n", args[0], err)
		if errors.Is(err, syscall.ENOENT) {
			return interp.ExitStatus(127)
		}
		return interp.ExitStatus(126)
	}
	// A stopped process gives the statement back (the shell goes on to its
	// next command, or to the prompt) unless output is being copied into
	// the interpreter, which must not change under it later.
	code, detached := s.waitProc(j, p, stdio.files)
	if !detached {
		stdio.copies.Wait()
	}
	s.jobs.mu.Lock()
	fgDeath := p.fgDeath
	s.jobs.mu.Unlock()
	if fgDeath && s.interactive {
		return errForegroundInterrupt
	}
	if code == 0 {
		return nil
	}
	return interp.ExitStatus(uint8(code))
}

// notRunnable reports a command that cannot be run: 127 when there is no
// such file, 126 when a path names one that is not an executable file
// (POSIX XCU 2.8.2).
func notRunnable(hc interp.HandlerContext, name string) error {
	if strings.Contains(name, "/") {
		path := name
		if !filepath.IsAbs(path) {
			path = filepath.Join(hc.Dir, path)
		}
		if fi, err := os.Stat(path); err == nil {
			why := "Permission denied"
			if fi.IsDir() {
				why = "Is a directory"
			}
			fmt.Fprintf(hc.Stderr, "sh: %s: %s\n", name, why)
			return interp.ExitStatus(126)
		}
	}
	fmt.Fprintf(hc.Stderr, "sh: %s: not found\n", name)
	return interp.ExitStatus(127)
}

// self is the shell's own executable, for scripts without #!.
func (s *shell) self() string {
	if exe, err := os.Executable(); err == nil {
		return exe
	}
	return "/bin/sh"
}

// start forks and executes path in run's current job. With job control the
// child enters the job's process group (the first one makes the group) and,
// for a foreground job, takes the terminal itself between fork and exec
// (SysProcAttr.Foreground: the child blocks signals there, so SIGTTOU does
// not stop it), so there is no moment where it runs in the background. The
// table lock is held throughout so that the shell does not take the
// terminal back from a process it is starting.
func (s *shell) start(run *stmtRun, path string, argv, env []string, dir string, fds [3]uintptr) (*job, *proc, error) {
	t := s.jobs
	t.mu.Lock()
	defer t.mu.Unlock()
	j := t.jobFor(run)
	attr := &syscall.ProcAttr{Dir: dir, Env: env, Files: fds[:], Sys: &syscall.SysProcAttr{}}
	var pid int
	var err error
	for delay := time.Millisecond; ; delay *= 2 {
		if t.tty != nil {
			attr.Sys.Setpgid, attr.Sys.Pgid = true, j.pgid
			attr.Sys.Foreground, attr.Sys.Ctty = j.fg, t.tty.fd
		}
		pid, err = syscall.ForkExec(path, argv, attr)
		if (err == syscall.EPERM || err == syscall.ESRCH) && j.pgid != 0 {
			// Every process of the group exited and was reaped: the group
			// is gone, so this process starts it again.
			j.pgid = 0
			continue
		}
		// ETXTBSY: another fork still holds the file open for writing
		// (go.dev/issue/22315); it goes away in a moment.
		if err == syscall.ETXTBSY && delay < 300*time.Millisecond {
			time.Sleep(delay)
			continue
		}
		break
	}
	if err != nil {
		return nil, nil, err
	}
	if t.tty != nil && j.pgid == 0 {
		j.pgid = pid
	}
	p := &proc{pid: pid, argv: strings.Join(argv, " ")}
	j.procs = append(j.procs, p)
	t.broadcast()
	go t.watch(j, p)
	return j, p, nil
}

// waitProc waits until p exits, or stops when detach allows; it returns
// the exit status ($?) and whether p stopped.
func (s *shell) waitProc(j *job, p *proc, detach bool) (int, bool) {
	t := s.jobs
	t.mu.Lock()
	defer t.mu.Unlock()
	for {
		switch p.state {
		case procExited:
			if j.fg && p.status.Signaled() && !p.fgDeath && p.status.Signal() != syscall.SIGPIPE && t.tty != nil {
				fmt.Fprintln(t.out, signalDescription(p.status))
			}
			return p.exitCode(), false
		case procStopped:
			if detach {
				j.detached = true
				return 128 + int(p.stopSig), true
			}
		}
		ch := t.changed
		t.mu.Unlock()
		<-ch
		t.mu.Lock()
	}
}
