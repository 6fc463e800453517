package main

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"syscall"
	"time"

	"valence.dev/drivers/lib/devreg"
	"valence.dev/libos"
)

func init() {
	addTest("pci-list", testPCIList)
	addTest("nvme-identify", testNVMeIdentify)
	addTest("nvme-patterns", testNVMePatterns)
	addTest("nvme-kill", testNVMeKill)
}

// QEMU's devices as the tests attach them (tests/drivers_test.go).
const (
	nvmeVendor, nvmeDevice = 0x1b36, 0x0010
	nvmeModel              = "QEMU NVMe Ctrl"
	nvmeSerial             = "valence-test"
)

func testPCIList(ctx context.Context) error {
	f, err := waitFunction(ctx, nvmeVendor, nvmeDevice, "running")
	if err != nil {
		return err
	}
	if f.Driver != "nvmed" || f.Name != "nvme0" || f.PID == 0 {
		return fmt.Errorf("the NVMe function: %+v, want driver nvmed registered as nvme0", f)
	}
	fs, err := registry.List(ctx)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, f := range fs {
		seen[fmt.Sprintf("%04x:%04x", f.Vendor, f.Device)] = true
		fmt.Printf("drvtests: lspci: %s [%s] %s\n", f.Line, f.Driver, f.State)
	}
	for _, want := range []string{"8086:29c0", "1b36:0010", "1af4:1041", "1af4:1042"} {
		if !seen[want] {
			return fmt.Errorf("pcid lists no %s", want)
		}
	}
	return nil
}

func testNVMeIdentify(ctx context.Context) error {
	h, err := lookup(ctx, "nvme0")
	if err != nil {
		return err
	}
	defer libos.Close(h)
	d, err := openDisk(ctx, h)
	if err != nil {
		return err
	}
	i := d.info
	fmt.Printf("drvtests: nvme0: %q serial %q, %d blocks of %d bytes, at most %d per request\n", i.Model, i.Serial, i.Sectors, i.SectorSize, i.MaxSectors)
	if i.Model != nvmeModel || i.Serial != nvmeSerial {
		return fmt.Errorf("model %q serial %q, want %q %q", i.Model, i.Serial, nvmeModel, nvmeSerial)
	}
	if i.SectorSize != 512 || i.Sectors != diskBytes()/512 {
		return fmt.Errorf("%d blocks of %d bytes, want %d of 512", i.Sectors, i.SectorSize, diskBytes()/512)
	}
	return nil
}

// diskBytes is the NVMe disk's size the test attached (DISK_MIB).
func diskBytes() uint64 { return uint64(envInt("DISK_MIB", 32)) << 20 }

func testNVMePatterns(ctx context.Context) error {
	h, err := lookup(ctx, "nvme0")
	if err != nil {
		return err
	}
	defer libos.Close(h)
	d, err := openDisk(ctx, h)
	if err != nil {
		return err
	}
	if err := d.roundTrip(ctx, "nvme0"); err != nil {
		return err
	}
	return d.c.Detach(ctx, d.id)
}

// testNVMeKill kills nvmed while a sweep is writing: every request must
// end with an error (the driver died), none may hang; pcid must see the
// driver end and start it again, and the new one must serve the disk.
func testNVMeKill(ctx context.Context) error {
	h, err := lookup(ctx, "nvme0")
	if err != nil {
		return err
	}
	defer libos.Close(h)
	d, err := openDisk(ctx, h)
	if err != nil {
		return err
	}
	f, err := waitFunction(ctx, nvmeVendor, nvmeDevice, "running")
	if err != nil {
		return err
	}
	var started atomic.Bool
	done := make(chan error, 1)
	go func() {
		_, err := d.sweep(ctx, true, 7, func() bool { started.Store(true); return false })
		done <- err
	}()
	for !started.Load() {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(200 * time.Millisecond) // well into the sweep
	if err := syscall.Kill(int(f.PID), syscall.SIGKILL); err != nil {
		return fmt.Errorf("killing nvmed (pid %d): %v", f.PID, err)
	}
	select {
	case err := <-done:
		if err == nil {
			return errors.New("the sweep finished although its driver was killed")
		}
		if !errPeerDied(err) {
			return fmt.Errorf("the sweep failed with %v, want the driver's death (EOWNERDEAD)", err)
		}
		fmt.Printf("drvtests: nvme0: killed mid-sweep; the client got %v\n", err)
	case <-time.After(generous):
		return errors.New("the sweep hangs after its driver was killed")
	}
	// pcid notices, cleans up and starts nvmed again; the new driver
	// registers nvme0 afresh and serves the whole disk.
	g, err := waitRestarted(ctx, nvmeVendor, nvmeDevice, f.PID)
	if err != nil {
		return err
	}
	h2, err := lookup(ctx, "nvme0")
	if err != nil {
		return err
	}
	defer libos.Close(h2)
	d2, err := openDisk(ctx, h2)
	if err != nil {
		return fmt.Errorf("the restarted nvmed (pid %d): %w", g.PID, err)
	}
	if err := d2.roundTrip(ctx, "nvme0"); err != nil {
		return fmt.Errorf("through the restarted nvmed: %w", err)
	}
	fmt.Printf("drvtests: nvme0: restarted by pcid as pid %d; the whole disk written and read back through it\n", g.PID)
	return d2.c.Detach(ctx, d2.id)
}

// waitRestarted waits for the PCI function vendor:device to be running
// again under a driver other than pid.
func waitRestarted(ctx context.Context, vendor, device uint16, pid int32) (devreg.Function, error) {
	deadline := time.Now().Add(generous)
	var last devreg.Function
	for time.Now().Before(deadline) {
		f, err := waitFunction(ctx, vendor, device, "running")
		if err != nil {
			return f, err
		}
		if f.PID != pid {
			return f, nil
		}
		last = f
		time.Sleep(50 * time.Millisecond)
	}
	return last, fmt.Errorf("the driver of %04x:%04x was not restarted within %v (last: %+v)", vendor, device, generous, last)
}
