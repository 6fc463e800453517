package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"mvdan.cc/sh/v3/syntax"
)

// catchSignals sets up an interactive shell's signals (POSIX XCU 2.11 and
// sh(1p) ASYNCHRONOUS EVENTS): SIGINT abandons the line being typed or
// interrupts the statement running in the shell; SIGQUIT and SIGTERM are
// ignored; with job control SIGTSTP, SIGTTIN and SIGTTOU do not stop the
// shell; SIGHUP hangs up every job and ends the shell. They are caught
// rather than ignored: an ignored signal stays ignored in the programs the
// shell runs, a caught one is reset to its default by execve.
func (s *shell) catchSignals() {
	ch := make(chan os.Signal, 16)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTERM,
		syscall.SIGTSTP, syscall.SIGTTIN, syscall.SIGTTOU, syscall.SIGHUP)
	go func() {
		for sig := range ch {
			switch sig {
			case syscall.SIGINT:
				s.mu.Lock()
				cancel := s.cancelFg
				s.mu.Unlock()
				if cancel != nil {
					cancel()
					continue
				}
				select {
				case s.intr <- struct{}{}:
				default:
				}
			case syscall.SIGHUP:
				s.hangUp(true)
				os.Exit(128 + int(syscall.SIGHUP))
			}
		}
	}()
}

// newLineReader picks the interactive input: the line editor on a terminal
// whose TERM is not "dumb", else plain line reading.
func (s *shell) newLineReader() lineReader {
	canon := newCanonReader(os.Stdin, os.Stderr, s.intr)
	if !isTerminal(0) || !isTerminal(2) || os.Getenv("TERM") == "dumb" {
		return canon
	}
	return &rawEditor{in: os.Stdin, out: os.Stderr, canon: canon, history: func() []string {
		if s.hist == nil {
			return nil
		}
		return s.hist.list()
	}}
}

// startup reads the profile files: /etc/profile and $HOME/.profile for a
// login shell, then the file $ENV names (after parameter expansion) for an
// interactive one (sh(1p) ENVIRONMENT VARIABLES).
func (s *shell) startup(login bool) {
	if login {
		s.source("/etc/profile")
		if home, ok := s.lookup("HOME"); ok && home != "" {
			s.source(filepath.Join(home, ".profile"))
		}
	}
	if env, ok := s.lookup("ENV"); ok && env != "" {
		s.source(s.expandVars(env))
	}
}

// source runs ". file" when file exists.
func (s *shell) source(path string) {
	if fi, err := os.Stat(path); err != nil || fi.IsDir() {
		return
	}
	cmd := ". '" + strings.ReplaceAll(path, "'", `'\''`) + "'"
	f, err := syntax.NewParser().Parse(strings.NewReader(cmd), "")
	if err != nil {
		return
	}
	s.runStmt(f.Stmts[0], cmd)
}

// openHistory reads HISTFILE (default $HOME/.sh_history) and HISTSIZE
// (default 1000) as the profile left them.
func (s *shell) openHistory() {
	h := &history{errOut: s.stderr}
	size, _ := s.lookup("HISTSIZE")
	h.size = histSizeOf(size)
	if size == "" {
		h.size = defaultHistSize
	}
	if path, ok := s.lookup("HISTFILE"); ok {
		h.path = path
	} else if home, ok := s.lookup("HOME"); ok && home != "" {
		h.path = filepath.Join(home, ".sh_history")
	}
	h.load()
	s.hist = h
}

// prompt is PS1, or PS2 for a continuation line, after parameter
// expansion and with "!" as the history number ("!!" for a "!"), as
// sh(1p) says; the defaults end in "# " for the superuser, "$ " otherwise.
func (s *shell) prompt(continuation bool) string {
	if continuation {
		if ps2, ok := s.lookup("PS2"); ok {
			return s.expandVars(ps2)
		}
		return "> "
	}
	ps1, ok := s.lookup("PS1")
	if !ok {
		if os.Geteuid() == 0 {
			return "# "
		}
		return "$ "
	}
	n := 1
	if s.hist != nil {
		n = len(s.hist.list()) + 1
	}
	parts := strings.Split(ps1, "!!")
	for i, p := range parts {
		parts[i] = strings.ReplaceAll(s.expandVars(p), "!", fmt.Sprint(n))
	}
	return strings.Join(parts, "!")
}

// interact is the interactive loop: report jobs, prompt, read a command
// (continuation lines until it parses), record it, run its statements.
func (s *shell) interact(lr lineReader) int {
	var buf strings.Builder
	for {
		if buf.Len() == 0 {
			s.jobs.notify()
		}
		select {
		case <-s.intr:
		default:
		}
		line, err := lr.ReadLine(s.prompt(buf.Len() > 0))
		switch {
		case errors.Is(err, errInterrupted):
			buf.Reset()
			continue
		case errors.Is(err, errLineTooLong):
			fmt.Fprintln(s.stderr, "sh: input line too long")
			buf.Reset()
			continue
		case err != nil:
			if buf.Len() > 0 {
				fmt.Fprintln(s.stderr, "sh: syntax error: unexpected end of file")
			}
			if err != io.EOF {
				fmt.Fprintf(s.stderr, "sh: %v\n", err)
			}
			return s.exitShell()
		}
		buf.WriteString(line)
		buf.WriteByte('\n')
		if buf.Len() > maxLine {
			fmt.Fprintln(s.stderr, "sh: command too long")
			buf.Reset()
			continue
		}
		src := buf.String()
		f, err := syntax.NewParser().Parse(strings.NewReader(src), "")
		if err != nil && syntax.IsIncomplete(err) {
			continue
		}
		buf.Reset()
		if s.hist != nil {
			s.hist.add(src)
		}
		if err != nil {
			fmt.Fprintf(s.stderr, "sh: %v\n", err)
			s.setStatus(2)
			continue
		}
		for _, st := range f.Stmts {
			text := strings.TrimSpace(src[st.Pos().Offset():st.End().Offset()])
			if st.Background {
				text = strings.TrimSpace(strings.TrimSuffix(text, "&"))
			}
			if exit, code := s.runStmt(st, text); exit {
				s.hangUp(false)
				return code
			}
		}
	}
}
