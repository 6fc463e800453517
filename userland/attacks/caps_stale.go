package main

// caps-stale: handles whose slot was closed and reused (caps_attacks.go).

import (
	"errors"
	"fmt"
	"syscall"
	"time"

	"valence.dev/ipc"
)

// testCapsStale closes handles and reuses their slots (with the same
// object type and with others): every call with the old value is ESTALE
// (the generation is checked before the type, so the call never learns
// what the slot holds now) and never reaches the new object; a slot cycled
// a hundred times refuses all its old values; a double close is EBADF; and
// a handle a dying process had sent, still in flight, is destroyed with
// it rather than delivered or left anywhere.
func testCapsStale() error {
	ep, _ := caEndpoint()
	defer caClose(ep)
	n, _ := caNotification()
	defer caClose(n)
	ph, pid, e := caSpawn("caps-sleep", nil, nil)
	if e != 0 {
		return fmt.Errorf("spawning a sleeper: %s", caName(e))
	}
	defer caEnd(ph, pid, true, 10*time.Second)
	death, _ := caNotification()
	defer caClose(death)
	caProcNotify(ph, death, 1)
	held, err := caHoldCall()
	if err != nil {
		return err
	}
	ops := caOps(ep, n, ph, held)

	// Each kind of object closed, its slot reused by each other kind.
	kinds := []struct {
		name   string
		create func() (ipc.Handle, syscall.Errno)
	}{
		{"a notification", caNotification},
		{"an endpoint", caEndpoint},
		{"a memory object", func() (ipc.Handle, syscall.Errno) { return caMemory(mrPage) }},
		{"a process handle", func() (ipc.Handle, syscall.Errno) { return caDup(ph, caProcRights, 0) }},
	}
	for _, old := range kinds {
		for _, now := range kinds {
			h, e := old.create()
			if e != 0 {
				return fmt.Errorf("creating %s: %s", old.name, caName(e))
			}
			h2, err := caReuse(h, now.create)
			if err != nil {
				return err
			}
			// Whatever h2 is, a child and its state must survive.
			child, e := caDup(h2, ipc.RightRead, 0)
			if e != 0 {
				return fmt.Errorf("dup: %s", caName(e))
			}
			info2, _ := caInfo(h2)
			top, err := caFreeTop()
			if err != nil {
				return err
			}
			what := fmt.Sprintf("the value of %s closed, its slot now %s", old.name, now.name)
			for _, op := range ops {
				if err := caProbe(op, h, what, syscall.ESTALE); err != nil {
					return err
				}
			}
			if err := caSame(now.name+" in the reused slot", h2, info2); err != nil {
				return err
			}
			if _, e := caInfo(child); e != 0 {
				return fmt.Errorf("a child of %s in the reused slot was removed by calls with the stale value: %s", now.name, caName(e))
			}
			if err := caCheckFreeTop("after the stale calls", top); err != nil {
				return err
			}
			if info2.Type == ipc.TypeNotification {
				if err := caNoBits(now.name+" in the reused slot", h2); err != nil {
					return err
				}
			}
			if info2.Type == ipc.TypeEndpoint {
				if err := caQuiet(now.name+" in the reused slot", h2, n); err != nil {
					return err
				}
			}
			caClose(child)
			caClose(h2)
		}
	}
	if err := caNoBits("the sleeper's death notification", death); err != nil {
		return err
	}
	if err := caNoBits("the notification the calls used", n); err != nil {
		return err
	}
	if err := held.finish(); err != nil {
		return err
	}

	// One slot cycled through a hundred generations.
	h, _ := caNotification()
	var olds []ipc.Handle
	for i := 0; i < 100; i++ {
		h2, err := caReuse(h, caNotification)
		if err != nil {
			return err
		}
		olds = append(olds, h)
		h = h2
	}
	for _, old := range olds {
		if err := caWant(fmt.Sprintf("signal with the old value %#x (now %#x)", uint64(old), uint64(h)), caSignal(old, 1), syscall.ESTALE); err != nil {
			return err
		}
		if _, e := caInfo(old); e != syscall.ESTALE {
			return caWant(fmt.Sprintf("handle info with the old value %#x", uint64(old)), e, syscall.ESTALE)
		}
	}
	if err := caNoBits("the slot's current notification", h); err != nil {
		return err
	}
	if err := caWant("signal with a generation not yet issued", caSignal(h+1<<32, 1), syscall.EBADF); err != nil {
		return err
	}
	if e := caClose(h); e != 0 {
		return fmt.Errorf("close: %s", caName(e))
	}
	if err := caWant("closing a handle twice", caClose(h), syscall.EBADF); err != nil {
		return err
	}

	// A process that dies with a handle in flight: it used the handle
	// (so it held it), then called an endpoint no one serves yet,
	// sending it; it is killed while the call is queued. The handle must
	// be destroyed, not delivered to the endpoint's next receiver nor left
	// anywhere.
	src, _ := caNotification()
	defer caClose(src)
	x, _ := caDup(src, ipc.RightSignal|ipc.RightGrant, 0)
	cli, _ := caDup(ep, ipc.RightWrite|ipc.RightGrant, 0)
	sph, spid, e := caSpawn("caps-sender", nil, []ipc.Handle{cli, x})
	caClose(cli)
	caClose(x)
	if e != 0 {
		return fmt.Errorf("spawning the sender: %s", caName(e))
	}
	if _, done := caWithin(10*time.Second, func() syscall.Errno {
		for {
			bits, e := caPoll(src)
			if e == 0 && bits == 1 {
				return 0
			}
			time.Sleep(5 * time.Millisecond)
		}
	}); !done {
		caEnd(sph, spid, true, 10*time.Second)
		return errors.New("the sender never signalled through the handle it was given")
	}
	time.Sleep(300 * time.Millisecond) // let its call reach the endpoint's queue
	if _, err := caEnd(sph, spid, true, 10*time.Second); err != nil {
		return err
	}
	if k, err := caDerived(src); err != nil || k != 0 {
		return fmt.Errorf("after its sender died in the call, the handle it sent survives: %d capabilities derived from its source (%v), want 0", k, err)
	}
	if k, err := caDerived(ep); err != nil || k != 0 {
		return fmt.Errorf("after the sender died, %d capabilities to the endpoint survive (%v), want 0", k, err)
	}
	return caQuiet("the endpoint the dead sender called", ep, n)
}

// ---- caps-escalate
