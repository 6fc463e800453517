package main

import (
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/unix"
)

func main() {
	os.Exit(shellMain(os.Args))
}

func shellMain(argv []string) int {
	o, err := parseArgs(argv)
	if err != nil {
		fmt.Fprintf(os.Stderr, "sh: %v\n%v\n", err, errUsage)
		return 2
	}
	// POSIX sh(1p): with no operands and standard input and standard error
	// on a terminal, the shell is interactive.
	interactive := o.interactive ||
		(!o.hasCommand && o.script == "" && isTerminal(0) && isTerminal(2))
	var tty *terminal
	if interactive && isTerminal(0) {
		// A private descriptor for the terminal, so that redirections of
		// the shell's own descriptor 0 (exec <file) do not lose it.
		if fd, err := unix.FcntlInt(0, unix.F_DUPFD_CLOEXEC, 10); err == nil {
			if tty, err = openTerminal(fd); err != nil {
				unix.Close(fd)
				fmt.Fprintf(os.Stderr, "sh: no job control in this shell: %v\n", err)
			}
		}
	}
	s, err := newShell(o, tty, interactive)
	if err != nil {
		fmt.Fprintf(os.Stderr, "sh: %v\n", err)
		return 2
	}
	if interactive {
		s.catchSignals()
		s.startup(o.login)
		s.openHistory()
		return s.interact(s.newLineReader())
	}
	if o.login {
		s.startup(true)
	}
	switch {
	case o.hasCommand:
		return s.runScript(strings.NewReader(o.command), "")
	case o.script != "":
		f, err := os.Open(o.script)
		if err != nil {
			fmt.Fprintf(os.Stderr, "sh: %v\n", err)
			if os.IsNotExist(err) {
				return 127
			}
			return 126
		}
		defer f.Close()
		return s.runScript(f, o.script)
	}
	if fi, err := os.Stdin.Stat(); err == nil && fi.Mode().IsRegular() {
		return s.runScript(os.Stdin, "")
	}
	return s.runScript(byteReader{os.Stdin}, "")
}
