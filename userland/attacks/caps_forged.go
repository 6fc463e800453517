package main

// caps-forged: handles that name nothing (caps_attacks.go).

import (
	"fmt"
	"math/rand"
	"syscall"
	"time"

	"valence.dev/ipc"
)

// testCapsForged tries every native call that takes a handle with values
// that name nothing: zero, random numbers, the slot of a live handle with a
// later or earlier generation, slots beyond the table, a closed handle's
// value, and live handles of the wrong object type. Each must fail with
// EBADF (not a handle), ESTALE (a reused slot's old generation), EINVAL
// (the wrong type; EACCES if that handle also lacks a right the call
// needs), never block, never act.
func testCapsForged() error {
	ep, e := caEndpoint()
	if e != 0 {
		return fmt.Errorf("endpoint create: %s", caName(e))
	}
	defer caClose(ep)
	n, _ := caNotification()
	defer caClose(n)
	mem, e := caMemory(mrPage)
	if e != 0 {
		return fmt.Errorf("mem create: %s", caName(e))
	}
	defer caClose(mem)
	ph, pid, e := caSpawn("caps-sleep", nil, nil)
	if e != 0 {
		return fmt.Errorf("spawning a sleeper: %s", caName(e))
	}
	sleeperGone := false
	defer func() {
		if !sleeperGone {
			caEnd(ph, pid, true, 10*time.Second)
		}
	}()
	death, _ := caNotification()
	defer caClose(death)
	if e := caProcNotify(ph, death, 1); e != 0 {
		return fmt.Errorf("proc notify: %s", caName(e))
	}
	held, err := caHoldCall()
	if err != nil {
		return err
	}
	// A slot reused: stale is the old value, reused the live one.
	stale, _ := caNotification()
	reused, err := caReuse(stale, caNotification)
	if err != nil {
		return err
	}
	defer caClose(reused)
	// The top of the free stack: a closed value whose slot is free.
	top, err := caFreeTop()
	if err != nil {
		return err
	}
	free := top
	if free == 0 {
		free, _ = caNotification()
		caClose(free)
	}

	type live struct {
		name string
		h    ipc.Handle
		info ipc.HandleInfo
	}
	lives := []live{{"the endpoint", ep, ipc.HandleInfo{}}, {"the notification", n, ipc.HandleInfo{}},
		{"the memory object", mem, ipc.HandleInfo{}}, {"the process", ph, ipc.HandleInfo{}},
		{"the reused slot's notification", reused, ipc.HandleInfo{}}, {"the death notification", death, ipc.HandleInfo{}}}
	for i := range lives {
		info, e := caInfo(lives[i].h)
		if e != 0 {
			return fmt.Errorf("handle info of %s: %s", lives[i].name, caName(e))
		}
		lives[i].info = info
	}
	if lives[3].info.Type != ipc.TypeProcess || lives[3].info.Rights != caProcRights {
		return fmt.Errorf("a process handle from proc spawn: %+v, want type %d rights %#x", lives[3].info, ipc.TypeProcess, caProcRights)
	}

	type forged struct {
		v    ipc.Handle
		what string
		want syscall.Errno
	}
	vals := []forged{
		{0, "zero", syscall.EBADF},
		{stale, "a closed handle whose slot was reused", syscall.ESTALE},
		{free, "a closed handle whose slot is free", syscall.EBADF},
		{caHandle(0, 7), "slot 0", syscall.EBADF},
	}
	for _, l := range lives {
		s, g := caSlot(l.h), caGen(l.h)
		vals = append(vals,
			forged{caHandle(s, g+1), "a live slot with the next generation", syscall.EBADF},
			forged{caHandle(s, g+0x10000), "a live slot with a far generation", syscall.EBADF},
			forged{caHandle(s, 0xffffffff), "a live slot with the last generation", syscall.EBADF})
		if g > 0 {
			vals = append(vals, forged{caHandle(s, g-1), "a live slot with the previous generation", syscall.ESTALE},
				forged{caHandle(s, 0), "a live slot with generation 0", syscall.ESTALE})
		}
	}
	for _, s := range []uint32{4096 + 1, 1 << 16, 1 << 31, 0xffffffff} {
		vals = append(vals, forged{caHandle(s, 0), "a slot beyond the table", syscall.EBADF},
			forged{caHandle(s, 1), "a slot beyond the table", syscall.EBADF})
	}
	seed := time.Now().UnixNano()
	rng := rand.New(rand.NewSource(seed))
	for i := 0; i < 16; i++ {
		v := rng.Uint64()
		if uint32(v) <= 1<<16 {
			v |= 1 << 31 // out of range: a random slot inside the table might be live
		}
		vals = append(vals, forged{ipc.Handle(v), fmt.Sprintf("random value (seed %d)", seed), syscall.EBADF})
	}

	ops := caOps(ep, n, ph, held)
	for _, op := range ops {
		for _, f := range vals {
			if err := caProbe(op, f.v, f.what, f.want); err != nil {
				return err
			}
		}
		if op.typ == 0 {
			continue
		}
		for _, l := range lives {
			if l.info.Type == op.typ {
				continue
			}
			want := []syscall.Errno{syscall.EINVAL}
			if op.need&^l.info.Rights != 0 {
				want = append(want, syscall.EACCES) // lacks a right too: either is right
			}
			if err := caProbe(op, l.h, l.name+" (the wrong type)", want...); err != nil {
				return err
			}
		}
	}

	// Nothing changed.
	for _, l := range lives {
		if err := caSame(l.name, l.h, l.info); err != nil {
			return err
		}
	}
	if err := caCheckFreeTop("after the forged calls", top); err != nil {
		return err
	}
	for _, l := range []live{lives[1], lives[4], lives[5]} {
		if err := caNoBits(l.name, l.h); err != nil {
			return fmt.Errorf("after the forged calls %v", err)
		}
	}
	if err := caQuiet("after the forged calls", ep, n); err != nil {
		return err
	}
	if err := held.finish(); err != nil {
		return err
	}
	// The message header's kernel-set fields cannot be forged either: the
	// server sees the badge of the capability called through (not the
	// caller's Badge field), no notification flag and no handles; the
	// caller sees no badge in the reply.
	if err := caForgedHeader(ep); err != nil {
		return err
	}
	// The sleeper was neither killed nor watched by a forged notify: its
	// death now signals only the death notification.
	if _, err := caEnd(ph, pid, true, 10*time.Second); err != nil {
		return err
	}
	sleeperGone = true
	if err := caBits("the death notification", death, 1); err != nil {
		return err
	}
	for _, l := range []live{lives[1], lives[4]} {
		if err := caNoBits(l.name+" after the process died", l.h); err != nil {
			return err
		}
	}
	return nil
}

// caForgedHeader calls ep through a badged copy with the header fields
// the kernel owns filled in by the caller, and the server answers with
// its own forged fields.
func caForgedHeader(ep ipc.Handle) error {
	cli, e := caDup(ep, ipc.RightWrite, 0x77)
	if e != 0 {
		return fmt.Errorf("dup with badge: %s", caName(e))
	}
	defer caClose(cli)
	got := caServeOnce(ep, func(req, rep *ipc.Message) {
		rep.Label, rep.Badge, rep.Flags = req.Label+1, 0xbeef, ipc.MsgNotification
		rep.NHandles, rep.Handles[0] = 0, cli // a value, not a handle: NHandles is 0
	})
	req, rep := new(ipc.Message), new(ipc.Message)
	req.Label, req.Badge, req.Flags, req.Status = 0xca0d, 0xdead, ipc.MsgNotification, -5
	req.NHandles, req.Handles[0] = 0, ep
	caPut(req, 1, 2, 3)
	if e, done := caWithin(10*time.Second, func() syscall.Errno { return caCall(cli, req, rep) }); !done || e != 0 {
		return fmt.Errorf("the forged-header call: %s", caName(e))
	}
	r := <-got
	m := r.msg
	switch {
	case r.err != 0 || r.token == 0:
		return fmt.Errorf("the forged-header call: server: token %d %s", r.token, caName(r.err))
	case m.Label != 0xca0d || m.Badge != 0x77 || m.Flags != 0 || m.NHandles != 0 || m.DataLen != 24 || caWord(m, 2) != 3:
		return fmt.Errorf("the server saw label %#x badge %#x flags %d handles %d len %d, want %#x badge 0x77 (the capability's, not the caller's 0xdead) flags 0 handles 0 len 24",
			m.Label, m.Badge, m.Flags, m.NHandles, m.DataLen, 0xca0d)
	case rep.Label != 0xca0e || rep.Badge != 0 || rep.Flags != 0 || rep.NHandles != 0:
		return fmt.Errorf("the caller saw a reply with label %#x badge %#x flags %d handles %d, want %#x, 0, 0, 0",
			rep.Label, rep.Badge, rep.Flags, rep.NHandles, 0xca0e)
	}
	// A message over the limits is refused before anything moves.
	n, _ := caNotification()
	defer caClose(n)
	give, _ := caDup(n, ipc.RightSignal|ipc.RightGrant, 0)
	defer caClose(give)
	for _, bad := range []struct {
		nh, dl uint32
	}{{ipc.MaxHandles + 1, 0}, {0xffffffff, 0}, {1, ipc.MaxData + 1}, {1, 0xffffffff}} {
		req := new(ipc.Message)
		req.NHandles, req.DataLen, req.Handles[0] = bad.nh, bad.dl, give
		e, done := caWithin(3*time.Second, func() syscall.Errno { return caCall(cli, req, new(ipc.Message)) })
		if !done {
			return fmt.Errorf("a call with %d handles and %d bytes was queued", bad.nh, bad.dl)
		}
		if err := caWant(fmt.Sprintf("a call with %d handles and %d bytes", bad.nh, bad.dl), e, syscall.EMSGSIZE); err != nil {
			return err
		}
		if _, e := caInfo(give); e != 0 {
			return fmt.Errorf("a refused oversized message took its handle: %s", caName(e))
		}
	}
	return nil
}

// ---- caps-stale
