// Command edud drives QEMU's "edu" teaching device (PCI 1234:11e8, QEMU's
// docs/specs/edu.rst): the example driver of docs/writing-a-driver.md.
// pcid starts it with the device's capabilities (drivers/lib/devreg); it
// maps BAR0, checks the device's identification register, and serves the
// edu protocol (eduproto: the device computes factorials) on an endpoint
// it registers with pcid as "edu0".
//
// With -misbehave=bar it then reads past the end of its BAR window, to show
// what happens to a driver with a wild pointer: the kernel kills it with
// SIGSEGV and reports the fault, pcid reports it dead, nothing else is hurt.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"sync"
	"time"

	"valence.dev/drivers/edu/eduproto"
	"valence.dev/drivers/lib/dev"
	"valence.dev/drivers/lib/devreg"
	"valence.dev/ipc"
	"valence.dev/ipc/rpc"
	"valence.dev/libos"
)

// The registers edud uses (edu.rst, "MMIO area spec").
const (
	regID        = 0x00 // 0xRRrr00ed: version RR.rr
	regFactorial = 0x08 // write n, read n! when the computation is done
	regStatus    = 0x20 // bit 0: computing; bit 7: raise an interrupt when done
	regIRQStatus = 0x24 // why the device interrupted (bit 0: a factorial is done)
	regIRQAck    = 0x64 // write the bits to acknowledge
)

func main() {
	misbehave := flag.String("misbehave", "", `"bar": read past the BAR window after registering`)
	flag.Parse()
	if err := run(*misbehave); err != nil {
		fmt.Fprintf(os.Stderr, "edud: %v\n", err)
		os.Exit(1)
	}
}

func run(misbehave string) error {
	// What pcid gave: the registry, this function's device capability,
	// its configuration space, and a window per BAR.
	d, err := devreg.DriverFromEnv(libos.InitialHandles())
	if err != nil {
		return err
	}
	h, ok := d.BARs[0]
	if !ok {
		return fmt.Errorf("%s: pcid gave no BAR 0", d.Addr)
	}
	regs, err := dev.MapMMIO(h)
	if err != nil {
		return err
	}
	// Never trust the device: check it is what the manifest said.
	id := regs.Read32(regID)
	if id&0xFF != 0xED {
		return fmt.Errorf("%s: identification register reads %#x, not an edu device", d.Addr, id)
	}
	// pcid programmed the device's MSI for us (it has no MSI-X): wait
	// for the "factorial done" interrupt instead of polling.
	var irq *dev.KernelIRQ
	how := "polling"
	if d.MSI != 0 {
		if irq, err = dev.NewKernelIRQ(d.MSI); err != nil {
			return err
		}
		how = "its MSI interrupt"
	}
	fmt.Printf("edud: %s: edu device version %d.%d, BAR0 %d KiB, completion by %s\n", d.Addr, id>>24, id>>16&0xFF, regs.Len()>>10, how)

	// Serve the protocol on an endpoint of our own, and offer a client
	// capability on it to pcid under the name edu0.
	ep, err := libos.NewEndpoint()
	if err != nil {
		return err
	}
	client, err := libos.Dup(ep, ipc.RightWrite|ipc.RightGrant|ipc.RightDuplicate, 0)
	if err != nil {
		return err
	}
	var mu sync.Mutex // one computation at a time: the device has one register
	srv := rpc.NewServer(eduproto.Protocol)
	rpc.Handle(srv, eduproto.Factorial, func(ctx context.Context, badge uint64, n uint32) (uint32, error) {
		mu.Lock()
		defer mu.Unlock()
		return factorial(ctx, regs, irq, n)
	})
	ctx := context.Background()
	reg := devreg.Client{T: libos.Endpoint{H: d.Registry}}
	if err := reg.Register(ctx, "edu0", "edu", client); err != nil {
		return fmt.Errorf("registering: %w", err)
	}
	if misbehave == "bar" {
		fmt.Printf("edud: %s: reading past the end of BAR0, as a buggy driver would\n", d.Addr)
		wild(regs)
	}
	return srv.Serve(ctx, libos.ServerEndpoint{H: ep})
}

// factorial has the device compute n! (edu.rst: write the factorial
// register; with bit 7 of the status register set the device interrupts
// when done, else poll bit 0 until clear; read the result).
func factorial(ctx context.Context, regs dev.Regs, irq *dev.KernelIRQ, n uint32) (uint32, error) {
	if irq != nil {
		regs.Write32(regStatus, 0x80)
		regs.Write32(regFactorial, n)
		wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := irq.Wait(wctx); err != nil {
			return 0, fmt.Errorf("edu: no completion interrupt within 5 s (status %#x): %w", regs.Read32(regStatus), dev.ErrTimeout)
		}
		regs.Write32(regIRQAck, regs.Read32(regIRQStatus))
		if err := irq.Ack(); err != nil {
			return 0, err
		}
		return regs.Read32(regFactorial), nil
	}
	regs.Write32(regFactorial, n)
	deadline := time.Now().Add(5 * time.Second)
	for regs.Read32(regStatus)&1 != 0 {
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("edu: status register still busy after 5 s: %w", dev.ErrTimeout)
		}
		time.Sleep(time.Microsecond)
	}
	return regs.Read32(regFactorial), nil
}
