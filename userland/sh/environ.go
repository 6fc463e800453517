package main

import (
	"strings"

	"mvdan.cc/sh/v3/expand"
	"mvdan.cc/sh/v3/syntax"
)

// argv0Var is the variable that stands for $0 in the statements the shell
// runs. interp answers $0 itself only while running a whole syntax.File;
// the shell runs statement by statement (so that it reads and executes one
// command at a time, as POSIX asks), so it renames every $0 in the parsed
// statements to this variable, which shellEnviron answers. The name cannot
// be written in shell source ("$0argv" is "$0" then "argv").
const argv0Var = "0argv"

// shellEnviron is the base of the interpreter's environment: the process
// environment plus the special parameters the shell keeps itself: $0 and $!
// (the process id of the last background job, which interp would otherwise
// give as a "g1"-style name of its own).
type shellEnviron struct {
	base   expand.Environ
	argv0  string
	lastBg func() string
}

func (e *shellEnviron) Get(name string) expand.Variable {
	switch name {
	case argv0Var:
		return expand.Variable{Set: true, Kind: expand.String, Str: e.argv0}
	case "!":
		if pid := e.lastBg(); pid != "" {
			return expand.Variable{Set: true, Kind: expand.String, Str: pid}
		}
		return expand.Variable{}
	}
	return e.base.Get(name)
}

func (e *shellEnviron) Each(f func(name string, vr expand.Variable) bool) {
	e.base.Each(f)
}

// renameArgv0 points every $0 in node at argv0Var.
func renameArgv0(node syntax.Node) {
	syntax.Walk(node, func(n syntax.Node) bool {
		if pe, ok := n.(*syntax.ParamExp); ok && pe.Param != nil && pe.Param.Value == "0" {
			lit := *pe.Param
			lit.Value = argv0Var
			pe.Param = &lit
		}
		return true
	})
}

// execEnv lists the exported variables of env as NAME=value for a child.
func execEnv(env expand.Environ) []string {
	vars := map[string]string{}
	listed := map[string]bool{}
	var order []string
	for name, vr := range env.Each {
		if !vr.IsSet() || !vr.Exported || vr.Kind != expand.String {
			delete(vars, name)
			continue
		}
		if !listed[name] {
			listed[name] = true
			order = append(order, name)
		}
		vars[name] = vr.Str
	}
	list := make([]string, 0, len(vars))
	for _, name := range order {
		if v, ok := vars[name]; ok && !strings.ContainsRune(name, '=') {
			list = append(list, name+"="+v)
		}
	}
	return list
}
