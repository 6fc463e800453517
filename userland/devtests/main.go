// Command devtests checks the kernel's device capabilities from user space
// (docs/drivers.md): run as the first process, it holds the root device
// capability and drives QEMU's "edu" teaching device (PCI 1234:11e8) the way
// a driver would — its registers through a device memory window, its
// interrupt as MSI, its DMA engine into DMA memory — and tries every
// request the kernel must refuse: windows over RAM and the kernel's own
// devices, ports the kernel drives, bad sizes, exhaustion of interrupt
// vectors, calls without the root capability, and a driver killed while
// it holds its device.
//
// It prints "devtests: <name>: ok" per test and "devtests: PASS" (exit 0),
// or "devtests: FAIL <name>: <why>" (exit 1). DEVTESTS=a,b runs only those.
package main

import (
	"fmt"
	"os"
	"strings"
	"time"

	"valence.dev/ipc"
	"valence.dev/libos"
)

type test struct {
	name string
	run  func() error
}

var (
	tests []test
	roles = map[string]func(args []string) int{}
)

func addTest(name string, run func() error)            { tests = append(tests, test{name, run}) }
func addRole(name string, run func(args []string) int) { roles[name] = run }

// root is the root device capability (VALENCE_DEVICE_ROOT).
var root ipc.Handle

func main() {
	if len(os.Args) > 2 && os.Args[1] == "role" {
		r, found := roles[os.Args[2]]
		if !found {
			fmt.Fprintf(os.Stderr, "devtests: no role %q\n", os.Args[2])
			os.Exit(2)
		}
		os.Exit(r(os.Args[3:]))
	}
	var ok bool
	if root, ok = libos.DeviceRoot(); !ok {
		fmt.Println("devtests: FAIL setup: no root device capability (run devtests as the first process)")
		os.Exit(1)
	}
	start := time.Now()
	only := os.Getenv("DEVTESTS")
	for _, t := range tests {
		if only != "" && !strings.Contains(","+only+",", ","+t.name+",") {
			continue
		}
		t0 := time.Now()
		if err := t.run(); err != nil {
			fmt.Printf("devtests: FAIL %s: %v\n", t.name, err)
			os.Exit(1)
		}
		fmt.Printf("devtests: %s: ok (%v)\n", t.name, time.Since(t0).Round(time.Millisecond))
	}
	fmt.Printf("devtests: PASS (%v)\n", time.Since(start).Round(time.Millisecond))
}

func self() string {
	if p, err := os.Executable(); err == nil && p != "" {
		return p
	}
	return "/bin/devtests"
}
