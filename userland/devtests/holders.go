package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"
	"time"

	"valence.dev/ipc"
	"valence.dev/libos"
)

// Capabilities held by other processes: one without the root device
// capability can create nothing, whatever handle value it guesses; a
// driver killed while it holds interrupts and DMA memory gives them all
// back.

func init() {
	addTest("no-root", testNoRoot)
	addTest("vectors-freed", testVectorsFreed)
	addRole("no-root", roleNoRoot)
	addRole("holder", roleHolder)
}

// msiCount allocates MSI vectors until the kernel refuses, and returns how
// many it gave; it closes them all again.
func msiCount() (int, error) {
	var hs []ipc.Handle
	defer func() {
		for _, h := range hs {
			libos.Close(h)
		}
	}()
	for len(hs) < 1024 {
		h, _, err := libos.DevMSI(root)
		if errors.Is(err, syscall.ENOSPC) {
			return len(hs), nil
		}
		if err != nil {
			return 0, err
		}
		hs = append(hs, h)
	}
	return 0, fmt.Errorf("the kernel gave %d MSI vectors without refusing", len(hs))
}

func testNoRoot() error {
	// A copy of the root without RightManage, and the root's own handle
	// value in the environment: neither may create anything.
	weak, err := libos.Dup(root, ipc.RightGrant|ipc.RightDuplicate, 0)
	if err != nil {
		return err
	}
	defer libos.Close(weak)
	env := append(os.Environ(), fmt.Sprintf("GUESS=%#x", uint64(root)))
	p, _, err := libos.ProcSpawn(self(), []string{"devtests", "role", "no-root"}, env, []ipc.Handle{weak})
	if err != nil {
		return err
	}
	defer libos.Close(p)
	st, err := libos.ProcWait(p)
	if err != nil {
		return err
	}
	if !st.Exited() || st.ExitStatus() != 0 {
		return fmt.Errorf("the child without the root: %v (it prints what got through)", st)
	}
	return nil
}

func roleNoRoot([]string) int {
	weak := libos.InitialHandles()[0]
	guess, _ := strconv.ParseUint(os.Getenv("GUESS"), 0, 64)
	bad := 0
	try := func(what string, h ipc.Handle, want syscall.Errno) {
		var errs []error
		_, err := libos.DevMMIO(h, 0xB0000000, 4096)
		errs = append(errs, err)
		_, _, err = libos.DevMSI(h)
		errs = append(errs, err)
		_, err = libos.DevIRQ(h, 10, 0)
		errs = append(errs, err)
		_, err = libos.DMACreate(h, 4096)
		errs = append(errs, err)
		_, err = libos.DevPorts(h, 0x2F8, 8)
		errs = append(errs, err)
		_, err = libos.DevInfo(h)
		errs = append(errs, err)
		for i, err := range errs {
			if !errors.Is(err, want) {
				fmt.Printf("devtests: no-root: call %d through %s: %v, want %v\n", i, what, err, want)
				bad++
			}
		}
	}
	// Handle values are per table: the parent's root value names, here,
	// whatever this process holds in that slot (the weak copy), or nothing.
	if ipc.Handle(guess) == weak {
		try("the root's handle value (here the weak copy)", ipc.Handle(guess), syscall.EACCES)
	} else {
		try("the root's handle value", ipc.Handle(guess), syscall.EBADF)
	}
	try("an empty slot", weak+1, syscall.EBADF)
	try("a root without RightManage", weak, syscall.EACCES)
	if bad > 0 {
		return 1
	}
	return 0
}

// testVectorsFreed: a driver holding interrupt vectors and 4 MiB of DMA
// memory is killed; every vector comes back and the memory is freed.
func testVectorsFreed() error {
	total, err := msiCount()
	if err != nil {
		return err
	}
	if total < 16 {
		return fmt.Errorf("only %d MSI vectors", total)
	}
	before, err := libos.MemInfo()
	if err != nil {
		return err
	}
	var give []ipc.Handle
	for i := 0; i < total; i++ {
		h, _, err := libos.DevMSI(root)
		if err != nil {
			return err
		}
		give = append(give, h)
		if len(give) == 60 {
			break // a spawn passes at most 64 handles
		}
	}
	d, err := libos.DMACreate(root, ipc.MaxDMA) // 4 MiB: well above the kernel heap's noise
	if err != nil {
		return err
	}
	give = append(give, d)
	p, _, err := libos.ProcSpawn(self(), []string{"devtests", "role", "holder"}, nil, give)
	if err != nil {
		return err
	}
	defer libos.Close(p)
	for _, h := range give {
		libos.Close(h) // only the child holds them now
	}
	time.Sleep(200 * time.Millisecond)
	if n, err := msiCount(); err != nil || n != total-60 {
		return fmt.Errorf("with the holder alive: %d vectors free, want %d (%v)", n, total-60, err)
	}
	libos.ProcKill(p, syscall.SIGKILL)
	if _, err := libos.ProcWait(p); err != nil {
		return err
	}
	if n, err := msiCount(); err != nil || n != total {
		return fmt.Errorf("after the holder was killed: %d vectors free, want %d (%v)", n, total, err)
	}
	after, err := libos.MemInfo()
	if err != nil {
		return err
	}
	if after.Free+2<<20 < before.Free { // the kernel's own heap moves by hundreds of KiB
		return fmt.Errorf("free memory %d KiB after, %d KiB before: the DMA memory leaked", after.Free>>10, before.Free>>10)
	}
	return nil
}

// roleHolder binds its interrupts and waits to be killed.
func roleHolder([]string) int {
	n, err := libos.NewNotification()
	if err != nil {
		return 2
	}
	for _, h := range libos.InitialHandles() {
		libos.IRQBind(h, n, 1) // the memory handle is refused: fine
	}
	time.Sleep(time.Hour)
	return 0
}
