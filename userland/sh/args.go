package main

import (
	"errors"
	"fmt"
	"strings"
)

// options is the shell's command line (POSIX sh(1p) SYNOPSIS):
//
//	sh [-abefilnux] [-o option]... [command_file [argument...]]
//	sh -c [options] command_string [command_name [argument...]]
//	sh -s [options] [argument...]
//
// -l (login shell) is an extension, as in other shells; a login shell is
// also one whose argv[0] starts with "-".
type options struct {
	command     string // the -c command string
	hasCommand  bool
	script      string // the command_file operand
	argv0       string // $0
	params      []string
	interactive bool // -i
	login       bool
	stdin       bool     // -s, or no operands
	set         []string // for interp.Params: "-e", "+x", "-o", "pipefail"
}

// setFlags are the set(1p) options interp implements; others are refused
// rather than accepted and ignored.
const setFlags = "aefnux"

var errUsage = errors.New("usage: sh [-aefilnux] [-o option] [-c command_string [name [arg...]] | -s [arg...] | file [arg...]]")

func parseArgs(argv []string) (options, error) {
	var o options
	if len(argv) == 0 {
		argv = []string{"sh"}
	}
	o.argv0 = argv[0]
	o.login = strings.HasPrefix(argv[0], "-")
	args := argv[1:]
	for len(args) > 0 {
		a := args[0]
		if a == "--" || a == "-" {
			args = args[1:]
			break
		}
		if len(a) < 2 || (a[0] != '-' && a[0] != '+') {
			break
		}
		args = args[1:]
		on := a[0] == '-'
		for _, c := range a[1:] {
			switch {
			case c == 'c' && on:
				o.hasCommand = true
			case c == 's' && on:
				o.stdin = true
			case c == 'i':
				o.interactive = on
			case c == 'l':
				o.login = on
			case c == 'o':
				if len(args) == 0 {
					return o, fmt.Errorf("%co: option name required", a[0])
				}
				o.set = append(o.set, string(a[0])+"o", args[0])
				args = args[1:]
			case strings.ContainsRune(setFlags, c):
				o.set = append(o.set, string(a[0])+string(c))
			default:
				return o, fmt.Errorf("%c%c: invalid option", a[0], c)
			}
		}
	}
	switch {
	case o.hasCommand:
		if len(args) == 0 {
			return o, errors.New("-c: option requires an argument")
		}
		o.command, args = args[0], args[1:]
		if len(args) > 0 {
			o.argv0, args = args[0], args[1:]
		}
	case !o.stdin && len(args) > 0:
		o.script, args = args[0], args[1:]
		o.argv0 = o.script
	default:
		o.stdin = true
	}
	if len(args) > 0 {
		o.params = args
	}
	return o, nil
}
