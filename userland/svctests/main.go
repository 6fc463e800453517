// Command svctests checks init's supervision end to end. It has two
// roles:
//
//   - run as the console program (init=/bin/svctests, with the manifest
//     tests/init_test.go puts in the initfs), it drives /bin/svc as a
//     person would: every service and driver listed running; netd killed
//     with SIGKILL and seen restarted with a new pid; hangd (below) told
//     to stop answering and seen killed for its missed heartbeat and
//     restarted; svc stop and start; virtio-netd killed and restarted by
//     pcid, netd with it; hostile bytes on init's control socket refused
//     while svc goes on working. It prints "svctests: <name>: ok" for
//     each and "svctests: PASS" (exit 0) or "svctests: FAIL <name>: <why>"
//     (exit 1). SVCTESTS=a,b runs only those.
//   - run with -echo-service (the manifest's hangd), it serves the echo
//     protocol, registers with init like any server, and on SIGUSR1
//     stops answering: every call from then on blocks for good, as a
//     deadlocked server's would.
package main

import (
	"flag"
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
	{"list", testList},
	{"kill-netd", testKillNetd},
	{"hang", testHang},
	{"stop-start", testStopStart},
	{"refusals", testRefusals},
	{"kill-driver", testKillDriver},
	{"hostile-control", testHostileControl},
}

// generous bounds waits for what must happen: TCG on a loaded host is slow.
const generous = 120 * time.Second

func main() {
	echo := flag.Bool("echo-service", false, "serve the echo protocol for init (the hangd service)")
	flag.Parse()
	if *echo {
		serveEcho()
		return
	}
	start := time.Now()
	only := os.Getenv("SVCTESTS")
	for _, t := range tests {
		if only != "" && !strings.Contains(","+only+",", ","+t.name+",") {
			continue
		}
		t0 := time.Now()
		if err := t.run(); err != nil {
			fmt.Printf("svctests: FAIL %s: %v\n", t.name, err)
			svc("list") // what the services look like, for the log
			os.Exit(1)
		}
		fmt.Printf("svctests: %s: ok (%v)\n", t.name, time.Since(t0).Round(time.Millisecond))
	}
	fmt.Printf("svctests: PASS (%v)\n", time.Since(start).Round(time.Millisecond))
}
