package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
	"mvdan.cc/sh/v3/interp"
)

// builtinPrefix marks a command name the call handler routed to the
// shell's own builtins. interp lists jobs, fg, bg, kill, umask and history
// as builtins but does not implement them, and its wait knows only its own
// goroutines; the call handler renames them so that interp passes them to
// the exec handler, which runs them here. No word of shell source can
// start with a NUL byte.
const builtinPrefix = "\x00sh:"

var ownBuiltins = map[string]bool{
	"jobs": true, "fg": true, "bg": true, "kill": true, "wait": true,
	"umask": true, "history": true,
}

// call is interp's call handler: it runs on every simple command after
// expansion.
func (s *shell) call(ctx context.Context, args []string) ([]string, error) {
	if args[0] == "exec" && len(args) > 1 {
		if replacement := s.execReplace(ctx, args[1:]); replacement != nil {
			return replacement, nil
		}
		return args, nil
	}
	i := 0
	if args[0] == "command" && len(args) > 1 && !strings.HasPrefix(args[1], "-") {
		i = 1
	}
	if ownBuiltins[args[i]] {
		args = slices.Clone(args)
		args[i] = builtinPrefix + args[i]
	}
	return args, nil
}

// exec is interp's exec handler: the shell's own builtins, or a program.
func (s *shell) exec(ctx context.Context, args []string) error {
	name, ok := strings.CutPrefix(args[0], builtinPrefix)
	if !ok {
		return s.runExternal(ctx, args)
	}
	hc := interp.HandlerCtx(ctx)
	switch args = args[1:]; name {
	case "jobs":
		return s.builtinJobs(hc, args)
	case "fg":
		return s.builtinFg(ctx, hc, args)
	case "bg":
		return s.builtinBg(hc, args)
	case "kill":
		return s.builtinKill(hc, args)
	case "wait":
		return s.builtinWait(ctx, hc, args)
	case "umask":
		return builtinUmask(hc, args)
	case "history":
		return s.builtinHistory(hc, args)
	}
	return fmt.Errorf("sh: unknown builtin %q", name)
}

// execReplace implements "exec command": it replaces the shell with the
// program (interp would run it as a child and exit), with the command's
// redirections as its descriptors 0, 1 and 2. It returns only when it could
// not: nil to let interp report a command it cannot find, or an exit
// command for a program that failed to execute.
func (s *shell) execReplace(ctx context.Context, argv []string) []string {
	hc := interp.HandlerCtx(ctx)
	path, err := interp.LookPathDir(hc.Dir, hc.Env, argv[0])
	if err != nil {
		return nil
	}
	var files [3]*os.File
	var ok bool
	if hc.Stdin == nil {
		files[0] = nil
	} else if files[0], ok = hc.Stdin.(*os.File); !ok {
		return nil
	}
	for i, w := range []any{hc.Stdout, hc.Stderr} {
		if files[i+1], ok = w.(*os.File); !ok {
			return nil
		}
	}
	env := execEnv(hc.Env)
	// Move the descriptors into place through temporaries, since a source
	// may itself be 0, 1 or 2; keep the originals to restore on failure.
	var saved, tmp [3]int
	for i := range 3 {
		saved[i], _ = unix.FcntlInt(uintptr(i), unix.F_DUPFD_CLOEXEC, 10)
		tmp[i] = -1
		if files[i] != nil {
			tmp[i], _ = unix.FcntlInt(files[i].Fd(), unix.F_DUPFD_CLOEXEC, 10)
		}
	}
	for i := range 3 {
		if tmp[i] >= 0 {
			unix.Dup3(tmp[i], i, 0)
			unix.Close(tmp[i])
		} else {
			unix.Close(i)
		}
	}
	if s.tty != nil {
		s.tty.setModes(s.tty.modes)
	}
	unix.Chdir(hc.Dir)
	err = syscall.Exec(path, argv, env)
	if errors.Is(err, syscall.ENOEXEC) {
		err = syscall.Exec(s.self(), append([]string{"sh", path}, argv[1:]...), env)
	}
	for i := range 3 {
		if saved[i] >= 0 {
			unix.Dup3(saved[i], i, 0)
			unix.Close(saved[i])
		}
	}
	fmt.Fprintf(os.Stderr, "sh: exec: %s: %v\n", argv[0], err)
	return []string{"exit", "126"}
}

// builtinUmask implements umask(1p): print the mask in octal, or with -S
// symbolically; set it from an octal number or a symbolic mode such as
// u=rwx,g=rx,o= (which, as in chmod, names the permissions to allow).
func builtinUmask(hc interp.HandlerContext, args []string) error {
	symbolic := false
	if len(args) > 0 && args[0] == "-S" {
		symbolic, args = true, args[1:]
	}
	old := syscall.Umask(0)
	syscall.Umask(old)
	if len(args) == 0 {
		if symbolic {
			fmt.Fprintln(hc.Stdout, symbolicMask(old))
		} else {
			fmt.Fprintf(hc.Stdout, "%04o\n", old)
		}
		return nil
	}
	mask, err := parseUmask(args[0], old)
	if err != nil {
		fmt.Fprintf(hc.Stderr, "sh: umask: %v\n", err)
		return exitStatus(1)
	}
	syscall.Umask(mask)
	return nil
}

func symbolicMask(mask int) string {
	allow := ^mask & 0o777
	var parts []string
	for i, who := range []string{"u", "g", "o"} {
		bits := allow >> (6 - 3*i) & 7
		p := who + "="
		for j, c := range "rwx" {
			if bits&(4>>j) != 0 {
				p += string(c)
			}
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ",")
}

// parseUmask reads an octal mask or a symbolic mode relative to old.
func parseUmask(s string, old int) (int, error) {
	if n, err := strconv.ParseUint(s, 8, 32); err == nil {
		if n > 0o777 {
			return 0, fmt.Errorf("%s: octal number out of range", s)
		}
		return int(n), nil
	}
	allow := ^old & 0o777
	for _, clause := range strings.Split(s, ",") {
		who := 0
		i := 0
		for ; i < len(clause) && strings.IndexByte("ugoa", clause[i]) >= 0; i++ {
			who |= map[byte]int{'u': 0o700, 'g': 0o070, 'o': 0o007, 'a': 0o777}[clause[i]]
		}
		if who == 0 {
			who = 0o777
		}
		if i == len(clause) {
			return 0, fmt.Errorf("%s: invalid symbolic mode", s)
		}
		for i < len(clause) {
			op := clause[i]
			if op != '+' && op != '-' && op != '=' {
				return 0, fmt.Errorf("%s: invalid symbolic mode", s)
			}
			i++
			perm := 0
			for ; i < len(clause) && strings.IndexByte("rwx", clause[i]) >= 0; i++ {
				perm |= map[byte]int{'r': 0o444, 'w': 0o222, 'x': 0o111}[clause[i]]
			}
			switch op {
			case '+':
				allow |= perm & who
			case '-':
				allow &^= perm & who
			case '=':
				allow = allow&^who | perm&who
			}
		}
	}
	return ^allow & 0o777, nil
}

// builtinHistory lists the history (history [n]: the last n entries) or
// clears it (history -c).
func (s *shell) builtinHistory(hc interp.HandlerContext, args []string) error {
	if s.hist == nil {
		return nil
	}
	entries := s.hist.list()
	if len(args) > 0 {
		switch {
		case args[0] == "-c":
			s.hist.clear()
			return nil
		default:
			n, err := strconv.Atoi(args[0])
			if err != nil || n < 0 {
				return usageError(hc, "history", "history [-c] [n]")
			}
			if n < len(entries) {
				entries = entries[len(entries)-n:]
			}
		}
	}
	first := len(s.hist.list()) - len(entries) + 1
	for i, e := range entries {
		fmt.Fprintf(hc.Stdout, "%5d  %s\n", first+i, strings.ReplaceAll(e, "\n", "\n       "))
	}
	return nil
}
