package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/interp"
	"mvdan.cc/sh/v3/syntax"
)

// shell is one shell process: the interpreter and what the shell keeps
// around it.
type shell struct {
	r           *interp.Runner
	jobs        *jobTable
	tty         *terminal // nil without job control
	interactive bool
	hist        *history
	stderr      *os.File

	intr chan struct{} // SIGINT that arrived while no statement ran

	mu       sync.Mutex
	cancelFg context.CancelFunc // interrupts the statement in the foreground
}

func newShell(o options, tty *terminal, interactive bool) (*shell, error) {
	s := &shell{
		jobs:        newJobTable(tty, os.Stderr),
		tty:         tty,
		interactive: interactive,
		stderr:      os.Stderr,
		intr:        make(chan struct{}, 1),
	}
	env := &shellEnviron{
		base:   expand.ListEnviron(os.Environ()...),
		argv0:  o.argv0,
		lastBg: s.lastBg,
	}
	params := append(append([]string{}, o.set...), "--")
	params = append(params, o.params...)
	r, err := interp.New(
		interp.Env(env),
		interp.StdIO(os.Stdin, os.Stdout, os.Stderr),
		interp.Interactive(interactive),
		interp.CallHandler(s.call),
		interp.ExecHandlers(func(interp.ExecHandlerFunc) interp.ExecHandlerFunc { return s.exec }),
		interp.Params(params...),
	)
	if err != nil {
		return nil, err
	}
	s.r = r
	return s, nil
}

func (s *shell) lastBg() string {
	s.jobs.mu.Lock()
	defer s.jobs.mu.Unlock()
	if s.jobs.lastBg == 0 {
		return ""
	}
	return strconv.Itoa(s.jobs.lastBg)
}

// statusOf turns Run's result into an exit status.
func statusOf(err error) int {
	var es interp.ExitStatus
	switch {
	case err == nil:
		return 0
	case errors.As(err, &es):
		return int(es)
	case errors.Is(err, errForegroundInterrupt), errors.Is(err, context.Canceled):
		return 130
	}
	return 1
}

// runStmt runs one top-level statement and reports whether the shell must
// exit, with what status.
func (s *shell) runStmt(st *syntax.Stmt, text string) (bool, int) {
	renameArgv0(st)
	if st.Background && !st.Coprocess && !st.Disown {
		s.runBackground(st, text)
		return false, 0
	}
	run := &stmtRun{text: text, fg: true}
	ctx, cancel := context.WithCancel(context.Background())
	s.mu.Lock()
	s.cancelFg = cancel
	s.mu.Unlock()
	clear(s.r.Vars)
	err := s.r.Run(withRun(ctx, run), st)
	s.mu.Lock()
	s.cancelFg = nil
	s.mu.Unlock()
	// The context is not cancelled when the statement ends: a background
	// subshell it started inside (interp's own "&", as in "{ cmd & }") runs
	// on with it.
	interrupted := ctx.Err() != nil || errors.Is(err, errForegroundInterrupt)
	code := statusOf(err)
	s.jobs.finish(run, code)
	if s.tty != nil {
		s.tty.reclaim()
	}
	if interrupted && s.interactive {
		fmt.Fprintln(s.stderr) // end the line the terminal echoed ^C on
		s.setStatus(130)
		return false, 130
	}
	if s.r.Exited() {
		return true, code
	}
	return false, code
}

// setStatus sets $? after a statement that interp did not finish itself.
func (s *shell) setStatus(code int) {
	f, err := syntax.NewParser().Parse(strings.NewReader("(exit "+strconv.Itoa(code)+")"), "")
	if err == nil {
		s.r.Run(context.Background(), f.Stmts[0])
	}
}

// runBackground runs "stmt &": in a copy of the interpreter on its own
// goroutine (interp's own model of an asynchronous list), with the
// statement's processes in a background job. An interactive shell prints
// the job number and the process ID ($!) once the job's first process
// runs, or once the statement ends if it runs none.
func (s *shell) runBackground(st *syntax.Stmt, text string) {
	t := s.jobs
	st2 := *st
	st2.Background = false
	run := &stmtRun{text: text}
	t.mu.Lock()
	j := t.jobFor(run)
	t.mu.Unlock()
	r2 := s.r.Subshell()
	if s.tty == nil {
		// POSIX XCU 2.9.3.1: without job control an asynchronous list's
		// standard input is /dev/null.
		if null, err := os.Open(os.DevNull); err == nil {
			interp.StdIO(null, os.Stdout, os.Stderr)(r2)
		}
	}
	go func() {
		err := r2.Run(withRun(context.Background(), run), &st2)
		t.finish(run, statusOf(err))
	}()
	timeout := time.NewTimer(2 * time.Second)
	defer timeout.Stop()
	expired := false
	t.mu.Lock()
	for len(j.procs) == 0 && !run.done && !expired {
		ch := t.changed
		t.mu.Unlock()
		select {
		case <-ch:
		case <-timeout.C:
			expired = true
		}
		t.mu.Lock()
	}
	pid := ""
	if len(j.procs) > 0 {
		t.lastBg = j.procs[0].pid
		pid = " " + strconv.Itoa(t.lastBg)
	}
	id := j.id
	t.mu.Unlock()
	if s.interactive {
		fmt.Fprintf(s.stderr, "[%d]%s\n", id, pid)
	}
}

// maxStatement bounds the source text of one statement of a script.
const maxStatement = 16 << 20

// runScript reads and runs statements one at a time until the end of src
// (POSIX: a shell reads and executes a command before reading the next).
// A syntax error ends a non-interactive shell with status 2.
func (s *shell) runScript(src io.Reader, name string) int {
	lim := &limitedSource{r: src, limit: maxStatement}
	p := syntax.NewParser()
	printer := syntax.NewPrinter()
	for st, err := range p.StmtsSeq(lim) {
		if err != nil {
			if name != "" {
				fmt.Fprintf(s.stderr, "sh: %s:%v\n", name, err)
			} else {
				fmt.Fprintf(s.stderr, "sh: %v\n", err)
			}
			s.hangUp(false)
			return 2
		}
		lim.reset()
		var text strings.Builder
		if st.Background {
			st2 := *st
			st2.Background = false
			printer.Print(&text, &st2)
		}
		if exit, code := s.runStmt(st, text.String()); exit {
			s.hangUp(false)
			return code
		}
	}
	return s.exitShell()
}

// exitShell runs "exit": the EXIT trap, and $? as the status.
func (s *shell) exitShell() int {
	f, _ := syntax.NewParser().Parse(strings.NewReader("exit"), "")
	err := s.r.Run(context.Background(), f.Stmts[0])
	s.hangUp(false)
	return statusOf(err)
}

// hangUp sends SIGHUP (and SIGCONT, so that they see it) to the stopped
// jobs as the shell leaves, or to every job when the terminal hung up, as
// the kernel does for the process groups a session leader leaves orphaned.
func (s *shell) hangUp(all bool) {
	t := s.jobs
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, j := range t.jobs {
		if all || j.stopped() {
			t.signalJob(j, syscall.SIGHUP)
			t.signalJob(j, syscall.SIGCONT)
		}
	}
}

// lookup reads a shell variable as of the last statement.
func (s *shell) lookup(name string) (string, bool) {
	if vr, ok := s.r.Vars[name]; ok && vr.IsSet() {
		return vr.String(), true
	}
	if _, ok := s.r.Vars[name]; !ok && len(s.r.Vars) == 0 {
		return os.LookupEnv(name)
	}
	return "", false
}

// expandVars performs parameter expansion on s (for PS1, PS2 and ENV).
func (s *shell) expandVars(v string) string {
	word, err := syntax.NewParser().Document(strings.NewReader(v))
	if err != nil {
		return v
	}
	cfg := &expand.Config{Env: expand.FuncEnviron(func(name string) string {
		val, _ := s.lookup(name)
		return val
	})}
	out, err := expand.Document(cfg, word)
	if err != nil {
		return v
	}
	return out
}
