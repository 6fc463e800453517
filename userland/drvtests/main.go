// Command drvtests checks Valence's user-space drivers end to end, as the
// first process: it starts the PCI manager (pcid) with the root device
// capability, and through pcid's registry lists the PCI functions and
// reaches the drivers pcid started. It then drives the NVMe disk through
// the block protocol — the whole disk written with patterns by 32 requests
// in flight and read back — and kills the NVMe driver in the middle of a
// sweep: the client must see a clean error, never a hang, and the kernel
// and every other process must go on.
//
// It prints "drvtests: <name>: ok" per test and "drvtests: PASS" (exit 0)
// or "drvtests: FAIL <name>: <why>" (exit 1). DRVTESTS=a,b runs only those.
package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"valence.dev/drivers/lib/devreg"
	"valence.dev/ipc"
	"valence.dev/libos"
)

type test struct {
	name     string
	run      func(ctx context.Context) error
	explicit bool // runs only when DRVTESTS names it
}

var tests []test

func addTest(name string, run func(ctx context.Context) error) {
	tests = append(tests, test{name: name, run: run})
}

// addExplicitTest registers a test that needs a machine of its own (a
// particular disk, say): it runs only when DRVTESTS names it.
func addExplicitTest(name string, run func(ctx context.Context) error) {
	tests = append(tests, test{name: name, run: run, explicit: true})
}

// registry is pcid's, once started.
var registry devreg.Client

// generous bounds waits for what must happen: TCG on a loaded host is slow.
const generous = 120 * time.Second

func main() {
	start := time.Now()
	ctx := context.Background()
	if err := startPcid(); err != nil {
		fmt.Printf("drvtests: FAIL pcid: %v\n", err)
		os.Exit(1)
	}
	only := os.Getenv("DRVTESTS")
	for _, t := range tests {
		named := strings.Contains(","+only+",", ","+t.name+",")
		if only != "" && !named || t.explicit && !named {
			continue
		}
		t0 := time.Now()
		if err := t.run(ctx); err != nil {
			fmt.Printf("drvtests: FAIL %s: %v\n", t.name, err)
			os.Exit(1)
		}
		fmt.Printf("drvtests: %s: ok (%v)\n", t.name, time.Since(t0).Round(time.Millisecond))
	}
	fmt.Printf("drvtests: PASS (%v)\n", time.Since(start).Round(time.Millisecond))
}

// startPcid spawns /bin/pcid with a copy of the root device capability
// and a registration endpoint, on which pcid sends a client capability on
// its registry (drivers/pci/cmd/pcid/doc.go). pcid dying first fails.
func startPcid() error {
	root, ok := libos.DeviceRoot()
	if !ok {
		return fmt.Errorf("no root device capability (run drvtests as the first process)")
	}
	rootCopy, err := libos.Dup(root, ipc.RightManage|ipc.RightGrant|ipc.RightDuplicate, 0)
	if err != nil {
		return err
	}
	reg, err := libos.NewEndpoint()
	if err != nil {
		return err
	}
	regCopy, err := libos.Dup(reg, ipc.RightWrite|ipc.RightGrant, 0)
	if err != nil {
		return err
	}
	died, err := libos.NewNotification()
	if err != nil {
		return err
	}
	if err := libos.NotifyBind(died, reg); err != nil {
		return err
	}
	p, _, err := libos.ProcSpawn("/bin/pcid", []string{"pcid"}, []string{"PATH=/bin", "HOME=/"}, []ipc.Handle{rootCopy, regCopy})
	if err != nil {
		return err
	}
	if err := libos.ProcNotify(p, died, 1); err != nil {
		return err
	}
	var m, rep ipc.Message
	tok, err := libos.Recv(reg, &m)
	if err != nil {
		return err
	}
	if m.Flags == ipc.MsgNotification {
		st, _ := libos.ProcWait(p)
		return fmt.Errorf("pcid ended before registering (wait status %#x)", uint32(st))
	}
	if m.NHandles != 1 {
		return fmt.Errorf("pcid registered with %d handles, want 1", m.NHandles)
	}
	libos.Reply(reg, tok, &rep)
	registry = devreg.Client{T: libos.Endpoint{H: m.Handles[0]}}
	return nil
}

// waitFunction polls pcid's list until the function with vendor:device
// reaches a state starting with one of states, and returns it.
func waitFunction(ctx context.Context, vendor, device uint16, states ...string) (devreg.Function, error) {
	deadline := time.Now().Add(generous)
	var last devreg.Function
	for time.Now().Before(deadline) {
		fs, err := registry.List(ctx)
		if err != nil {
			return last, err
		}
		for _, f := range fs {
			if f.Vendor != vendor || f.Device != device {
				continue
			}
			last = f
			for _, s := range states {
				if strings.HasPrefix(f.State, s) {
					return f, nil
				}
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return last, fmt.Errorf("%04x:%04x did not reach %q within %v (last: %+v)", vendor, device, states, generous, last)
}

// lookup waits for a driver to register name.
func lookup(ctx context.Context, name string) (ipc.Handle, error) {
	deadline := time.Now().Add(generous)
	for {
		r, err := registry.Lookup(ctx, name)
		if err == nil {
			return r.Server, nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("lookup %s: %w", name, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
