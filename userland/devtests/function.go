package main

import (
	"errors"
	"fmt"
	"syscall"

	"valence.dev/ipc"
	"valence.dev/libos"
)

// A PCI function's device capability, what the PCI manager gives a driver:
// DMA memory and a bounded number of MSI vectors, nothing that needs the
// root.

func init() { addTest("function-cap", testFunctionCap) }

func testFunctionCap() error {
	e, err := findEdu()
	if err != nil {
		return err
	}
	fn, err := libos.DevDerive(root, e.fn)
	if err != nil {
		return err
	}
	defer libos.Close(fn)
	if _, err := libos.DevDerive(root, 0<<8|0x1e<<3|7); !errors.Is(err, syscall.ENODEV) {
		return fmt.Errorf("deriving the absent function 00:1e.7: %v, want ENODEV", err)
	}
	if _, _, e := syscall.RawSyscall(ipc.SysDevDerive, uintptr(root), 0x10000, 0); e != syscall.EINVAL {
		return fmt.Errorf("deriving function 0x10000: %v, want EINVAL", e)
	}
	d, err := libos.DMACreate(fn, 8192)
	if err != nil {
		return fmt.Errorf("DMA memory through a function's capability: %v", err)
	}
	libos.Close(d)
	type attempt struct {
		what string
		err  error
	}
	var refused []attempt
	_, err = libos.DevMMIO(fn, 0xB0000000, 4096)
	refused = append(refused, attempt{"a register window", err})
	_, err = libos.DevIRQ(fn, 10, 0)
	refused = append(refused, attempt{"a GSI", err})
	_, err = libos.DevPorts(fn, 0x2F8, 8)
	refused = append(refused, attempt{"I/O ports", err})
	_, err = libos.DevInfo(fn)
	refused = append(refused, attempt{"the platform's configuration window", err})
	_, err = libos.DevDerive(fn, 1)
	refused = append(refused, attempt{"another function's capability", err})
	for _, r := range refused {
		if !errors.Is(r.err, syscall.EPERM) {
			return fmt.Errorf("%s through a function's capability: %v, want EPERM", r.what, r.err)
		}
	}
	// At most 32 vectors at once; closing one lets another be made.
	var hs []ipc.Handle
	defer func() {
		for _, h := range hs {
			libos.Close(h)
		}
	}()
	for {
		h, _, err := libos.DevMSI(fn)
		if errors.Is(err, syscall.ENOSPC) {
			break
		}
		if err != nil {
			return err
		}
		hs = append(hs, h)
		if len(hs) > 64 {
			return errors.New("more than 64 MSI vectors through one function's capability")
		}
	}
	if len(hs) != 32 {
		return fmt.Errorf("%d MSI vectors through one function's capability, want 32", len(hs))
	}
	libos.Close(hs[0])
	h, _, err := libos.DevMSI(fn)
	if err != nil {
		return fmt.Errorf("a vector after one was closed: %v", err)
	}
	hs[0] = h
	return nil
}
