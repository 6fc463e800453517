// Command ipctests exercises capabilities and IPC from user space, with
// several processes: call and reply, badges, passing handles, attenuated
// rights, revocation reaching a grandchild, forged and stale handles, a
// process without handles, a server killed under its clients, death
// notifications, and shared memory.
//
// It prints "ipctests: <name>: ok" per test and "ipctests: PASS" (exit 0)
// or "ipctests: FAIL <name>: <why>" (exit 1). With arguments it plays a
// child role (roles.go).
package main

import (
	"fmt"
	"os"
	"time"
)

var tests = []struct {
	name string
	run  func() error
}{
	{"call-reply", testCallReply},
	{"badge", testBadge},
	{"pass-handle", testPassHandle},
	{"attenuation", testAttenuation},
	{"forged-stale", testForgedStale},
	{"no-handle", testNoHandle},
	{"revoke-grandchild", testRevokeGrandchild},
	{"server-death", testServerDeath},
	{"shared-memory", testSharedMemory},
	{"notify-bind", testNotifyBind},
	{"typed-rpc", testTyped},
}

func main() {
	if len(os.Args) > 1 {
		os.Exit(role(os.Args[1], os.Args[2:]))
	}
	start := time.Now()
	for _, t := range tests {
		if err := t.run(); err != nil {
			fmt.Printf("ipctests: FAIL %s: %v\n", t.name, err)
			os.Exit(1)
		}
		fmt.Printf("ipctests: %s: ok\n", t.name)
	}
	fmt.Printf("ipctests: PASS (%v)\n", time.Since(start).Round(time.Millisecond))
}
