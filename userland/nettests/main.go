// Command nettests exercises the network as an unmodified Go program
// sees it, through the net and net/http packages: the kernel forwards its
// socket calls to netd (docs/net.md). Run it as init through
// /bin/init, which starts netd on the NIC and waits for DHCP.
//
// It prints "nettests: <name>: ok" per test that passes and
// "nettests: FAIL <name>: <why>" per test that fails, then
// "nettests: PASS" (exit 0) or "nettests: FAIL (...)" (exit 1).
//
// NETTESTS=a,b runs only those. The tests that talk to the host need
// NETTESTS_HOST=<port> (an HTTP server on the host, reached through QEMU's
// user network at 10.0.2.2) and NETTESTS_UDP=<port> (a UDP echo server
// there); "serve" serves HTTP on port 8080 until the host asks /quit;
// "frames" (only when named) waits for the host to flood the NIC with
// hostile frames, then checks the stack still serves. A test that cannot
// run here says "nettests: <name>: skipped (<why>)": netlink-ip runs
// /bin/ip (u-root's) when the image has one.
// The socket-abuse, socket-flood and socket-races tests run on Linux too
// (NETTESTS=socket-abuse go run ./nettests), which is how their expected
// errnos were checked; so do raw-icmp, raw-icmp-calls, raw-icmp-flood and
// proc-net (as root, with NETTESTS_GATEWAY=<the Linux host's gateway>).
package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"
)

// skipped is a test's answer when what it needs is not there.
type skipped string

func (s skipped) Error() string { return string(s) }

type test struct {
	name string
	run  func() error
}

// explicit are the tests run only when named: they need the host's part
// (tests/netframes_test.go).
var explicit = map[string]bool{"frames": true}

var tests = []test{
	{"tcp-loopback", testTCPLoopback},
	{"udp-loopback", testUDPLoopback},
	{"http-loopback", testHTTPLoopback},
	{"errors", testErrors},
	{"many-conns", testManyConns},
	{"host-fetch", testHostFetch},
	{"host-udp", testHostUDP},
	{"socket-abuse", testSocketAbuse},
	{"socket-flood", testSocketFlood},
	{"socket-races", testSocketRaces},
	{"privileged-port", testPrivilegedPort},
	{"raw-icmp", testRawICMP},
	{"raw-icmp-calls", testRawICMPCalls},
	{"raw-icmp-flood", testRawICMPFlood},
	{"proc-net", testProcNet},
	{"unix-stream", testUnixStream},
	{"unix-gram", testUnixGram},
	{"unix-abstract", testUnixAbstract},
	{"unix-rights", testUnixRights},
	{"unix-http", testUnixHTTP},
	{"unix-calls", testUnixCalls},
	{"netlink-interfaces", testNetlinkInterfaces},
	{"netlink-dump", testNetlinkDump},
	{"netlink-abuse", testNetlinkAbuse},
	{"netlink-ip", testNetlinkIP},
	{"serve", testServe},
	{"frames", testFrames},
}

func main() {
	start := time.Now()
	named := map[string]bool{}
	for _, n := range strings.Split(os.Getenv("NETTESTS"), ",") {
		if n = strings.TrimSpace(n); n != "" {
			named[n] = true
		}
	}
	var failed []string
	ran := 0
	for _, t := range tests {
		if len(named) > 0 && !named[t.name] || explicit[t.name] && !named[t.name] {
			continue
		}
		ran++
		t0 := time.Now()
		err := t.run()
		var skip skipped
		if errors.As(err, &skip) {
			fmt.Printf("nettests: %s: skipped (%s)\n", t.name, string(skip))
			continue
		}
		if err != nil {
			fmt.Printf("nettests: FAIL %s: %v\n", t.name, err)
			failed = append(failed, t.name)
			continue
		}
		fmt.Printf("nettests: %s: ok (%v)\n", t.name, time.Since(t0).Round(time.Millisecond))
	}
	if len(failed) > 0 {
		fmt.Printf("nettests: FAIL (%d of %d failed: %s)\n", len(failed), ran, strings.Join(failed, ", "))
		os.Exit(1)
	}
	fmt.Printf("nettests: PASS (%v)\n", time.Since(start).Round(time.Millisecond))
}
