// Command usertests exercises, from user space, everything a user program
// relies on the kernel for (in the spirit of xv6's usertests): the Go
// runtime's needs (threads, futexes, signals for preemption and for
// recovering nil dereferences, timers, the GC), memory mapping, files, pipes,
// os/exec, Valence's native process calls, and crashes that must kill only
// the crashing child.
//
// It prints "usertests: <name>: ok" per test and finally "usertests: PASS"
// (exit 0) or "usertests: FAIL <name>: <why>" (exit 1). With arguments it
// plays one of the child roles the tests start (see children.go).
package main

import (
	"fmt"
	"os"
	"strings"
	"time"
)

type test struct {
	name string
	run  func() error
}

var tests = []test{
	{"args-env", testArgsEnv},
	{"goroutines", testGoroutines},
	{"maps", testMaps},
	{"gc", testGC},
	{"timers", testTimers},
	{"preempt", testPreempt},
	{"recover-nil", testRecoverNil},
	{"mmap", testMmap},
	{"mprotect-fault", testMprotectFault},
	{"bad-pointers", testBadPointers},
	{"files", testFiles},
	{"pipes", testPipes},
	{"poll-select", testPollSelect},
	{"exec", testExec},
	{"spawn-wait-kill", testSpawnWaitKill},
	{"crashes", testCrashes},
	{"spawn-cycles", testSpawnCycles},
	{"unsupported", testUnsupported},
}

func main() {
	if len(os.Args) > 1 {
		os.Exit(child(os.Args[1], os.Args[2:]))
	}
	start := time.Now()
	only := os.Getenv("USERTESTS")
	for _, t := range tests {
		if only != "" && !strings.Contains(","+only+",", ","+t.name+",") {
			continue
		}
		t0 := time.Now()
		if err := t.run(); err != nil {
			fmt.Printf("usertests: FAIL %s: %v\n", t.name, err)
			os.Exit(1)
		}
		fmt.Printf("usertests: %s: ok (%v)\n", t.name, time.Since(t0).Round(time.Millisecond))
	}
	fmt.Printf("usertests: PASS (%v)\n", time.Since(start).Round(time.Millisecond))
}
