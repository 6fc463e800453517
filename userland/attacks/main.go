// Command attacks is the kernel's hostile-user regression suite: each test
// is a user program doing what a buggy or malicious process would (racing
// IPC, exhausting memory, widening a read-only mapping, signalling
// processes it has no right to, leaving zombies, ...) and checks that the
// kernel refuses with an error, kills only the offender, and stays up.
// Each defect the kernel once had has a test here that failed before the
// fix (docs/capabilities.md, "Hardening").
//
// It prints "attacks: <name>: ok" per test and finally "attacks: PASS"
// (exit 0) or "attacks: FAIL <name>: <why>" (exit 1). ATTACKS=a,b runs
// only the named tests. With the arguments "role <name> ..." it plays one
// of the child roles the tests start (registered with addRole).
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"
)

type test struct {
	name string
	run  func() error
}

var (
	tests []test
	roles = map[string]func(args []string) int{}
)

// addTest registers a test; tests run in the order their files' init
// functions run (file name order).
func addTest(name string, run func() error) { tests = append(tests, test{name, run}) }

// addRole registers a child role, started as "attacks role <name> args...".
func addRole(name string, run func(args []string) int) { roles[name] = run }

func main() {
	if len(os.Args) > 2 && os.Args[1] == "role" {
		r, found := roles[os.Args[2]]
		if !found {
			fmt.Fprintf(os.Stderr, "attacks: no role %q\n", os.Args[2])
			os.Exit(2)
		}
		os.Exit(r(os.Args[3:]))
	}
	start := time.Now()
	only := os.Getenv("ATTACKS")
	for _, t := range tests {
		if only != "" && !strings.Contains(","+only+",", ","+t.name+",") {
			continue
		}
		t0 := time.Now()
		if err := t.run(); err != nil {
			fmt.Printf("attacks: FAIL %s: %v\n", t.name, err)
			os.Exit(1)
		}
		fmt.Printf("attacks: %s: ok (%v)\n", t.name, time.Since(t0).Round(time.Millisecond))
	}
	fmt.Printf("attacks: PASS (%v)\n", time.Since(start).Round(time.Millisecond))
}

// envInt is the positive integer in environment variable name, or def.
func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// self is this program's path, for starting roles.
func self() string {
	if p, err := os.Executable(); err == nil && p != "" {
		return p
	}
	return "/bin/attacks"
}
