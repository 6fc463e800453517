package main

// caps-escalate: every way to gain a right one was not given
// (caps_attacks.go).

import (
	"errors"
	"fmt"
	"syscall"
	"time"

	"valence.dev/ipc"
)

// testCapsEscalate tries to get more than a capability allows: more rights
// by duplication, a second badge, a copy without RightDuplicate, a grant
// without RightGrant (in a message and at proc spawn), a spawn with a
// handle the parent does not hold, mappings beyond the rights, revoke and
// bind without RightManage, kill without RightSignal, a client acting as
// the server; and a child doing the same with what it was given.
func testCapsEscalate() error {
	ep, _ := caEndpoint()
	defer caClose(ep)
	n, _ := caNotification()
	defer caClose(n)
	mem, e := caMemory(2 * mrPage)
	if e != 0 {
		return fmt.Errorf("mem create: %s", caName(e))
	}
	defer caClose(mem)

	// Refused spawns, while there are no children to confuse the count.
	for i := 0; i < 500; i++ { // reap what earlier tests left ended
		if pid, e := caWaitNoHang(); pid <= 0 || e != 0 {
			break
		}
	}
	_, childless := caWaitNoHang()
	good, _ := caDup(n, ipc.RightSignal|ipc.RightGrant, 0)
	defer caClose(good)
	noGrant, _ := caDup(n, ipc.RightSignal|ipc.RightDuplicate, 0)
	defer caClose(noGrant)
	closed, _ := caDup(n, ipc.RightSignal|ipc.RightGrant, 0)
	reused, err := caReuse(closed, caNotification)
	if err != nil {
		return err
	}
	defer caClose(reused)
	many := make([]ipc.Handle, 65)
	for i := range many {
		many[i] = good
	}
	goodInfo, _ := caInfo(good)
	for _, tc := range []struct {
		what string
		hs   []ipc.Handle
		want syscall.Errno
	}{
		{"a handle without RightGrant", []ipc.Handle{noGrant}, syscall.EACCES},
		{"a good handle and one without RightGrant", []ipc.Handle{good, noGrant}, syscall.EACCES},
		{"a handle the parent does not hold", []ipc.Handle{good, 0x0000_0003_0001_0f00}, syscall.EBADF},
		{"a handle the parent closed", []ipc.Handle{closed}, syscall.ESTALE},
		{"65 handles", many, syscall.EINVAL},
	} {
		h, pid, e := caSpawn("caps-sleep", nil, tc.hs)
		if e == 0 {
			caEnd(h, pid, true, 10*time.Second)
		}
		if err := caWant("proc spawn with "+tc.what, e, tc.want); err != nil {
			return err
		}
		if childless == syscall.ECHILD {
			if pid, e := caWaitNoHang(); e != syscall.ECHILD {
				return fmt.Errorf("proc spawn with %s was refused, but a child was started (wait: pid %d %s)", tc.what, pid, caName(e))
			}
		}
		if err := caSame("the granted handle after a refused spawn", good, goodInfo); err != nil {
			return err
		}
	}

	// A server on ep records the badges it sees and any notification bits.
	srv := caStartServer(ep, 1)
	defer srv.stop()

	ph, pid, e := caSpawn("caps-sleep", nil, nil)
	if e != 0 {
		return fmt.Errorf("spawning a sleeper: %s", caName(e))
	}
	defer caEnd(ph, pid, true, 10*time.Second)
	death, _ := caNotification()
	defer caClose(death)
	caProcNotify(ph, death, 1)

	// More rights than held, by duplication.
	rd, _ := caDup(n, ipc.RightRead|ipc.RightDuplicate, 0)
	defer caClose(rd)
	top, err := caFreeTop()
	if err != nil {
		return err
	}
	for _, tc := range []struct {
		what   string
		h      ipc.Handle
		rights ipc.Rights
	}{
		{"a Read|Duplicate copy with Signal added", rd, ipc.RightRead | ipc.RightSignal},
		{"a Read|Duplicate copy with all rights", rd, ipc.RightsAll},
		{"a Read|Duplicate copy with Manage", rd, ipc.RightRead | ipc.RightDuplicate | ipc.RightManage},
		{"a notification with an undefined right", n, ipc.RightsAll | 1<<7},
		{"a notification with the top right bit", n, 1 << 31},
		{"a process handle with Write", ph, ipc.RightRead | ipc.RightWrite},
		{"a process handle with Map", ph, ipc.RightMap},
	} {
		h, e := caDup(tc.h, tc.rights, 0)
		if e == 0 {
			caClose(h)
		}
		if err := caWant("dup of "+tc.what, e, syscall.EINVAL); err != nil {
			return err
		}
	}
	if info, _ := caInfo(rd); info.Rights != ipc.RightRead|ipc.RightDuplicate {
		return fmt.Errorf("the Read|Duplicate copy now has rights %#x", info.Rights)
	}
	if err := caCheckFreeTop("after the refused dups", top); err != nil {
		return err
	}
	// Without RightDuplicate nothing can be copied, not even with fewer
	// rights.
	sg, _ := caDup(n, ipc.RightSignal|ipc.RightGrant, 0)
	defer caClose(sg)
	for _, r := range []ipc.Rights{ipc.RightSignal | ipc.RightGrant, ipc.RightSignal, 0} {
		h, e := caDup(sg, r, 0)
		if e == 0 {
			caClose(h)
		}
		if err := caWant(fmt.Sprintf("dup of a copy without RightDuplicate, rights %#x", r), e, syscall.EACCES); err != nil {
			return err
		}
	}
	// A badge is minted once.
	b7, e := caDup(ep, ipc.RightWrite|ipc.RightDuplicate|ipc.RightGrant, 7)
	if e != 0 {
		return fmt.Errorf("minting badge 7: %s", caName(e))
	}
	defer caClose(b7)
	b7b, e := caDup(b7, ipc.RightWrite|ipc.RightDuplicate, 0)
	if e != 0 {
		return fmt.Errorf("a copy of the badged capability: %s", caName(e))
	}
	defer caClose(b7b)
	for _, h := range []ipc.Handle{b7, b7b} {
		for _, badge := range []uint64{8, 6, 1 << 63} {
			x, e := caDup(h, ipc.RightWrite, badge)
			if e == 0 {
				caClose(x)
			}
			if err := caWant(fmt.Sprintf("re-minting badge 7 as %#x", badge), e, syscall.EINVAL); err != nil {
				return err
			}
		}
	}
	if info, _ := caInfo(b7b); info.Badge != 7 {
		return fmt.Errorf("a copy of a badge-7 capability has badge %d", info.Badge)
	}
	if err := srv.echo(b7b, 7); err != nil {
		return err
	}
	// Grant without RightGrant, in a call and in a reply: refused, the
	// good handle beside it stays, the call replied to still waits.
	held, err := caHoldCall()
	if err != nil {
		return err
	}
	for _, hs := range [][]ipc.Handle{{noGrant}, {good, noGrant}, {noGrant, good}} {
		req := new(ipc.Message)
		req.Label, req.NHandles = caLabelEcho, uint32(len(hs))
		copy(req.Handles[:], hs)
		e, done := caWithin(5*time.Second, func() syscall.Errno { return caCall(b7, req, new(ipc.Message)) })
		if !done {
			return errors.New("a call carrying a handle without RightGrant never returned")
		}
		if err := caWant(fmt.Sprintf("a call carrying %d handles, one without RightGrant", len(hs)), e, syscall.EACCES); err != nil {
			return err
		}
		m := new(ipc.Message)
		m.NHandles = uint32(len(hs))
		copy(m.Handles[:], hs)
		if err := caWant("a reply carrying a handle without RightGrant", held.reply(m), syscall.EACCES); err != nil {
			return err
		}
		if err := caSame("the good handle", good, goodInfo); err != nil {
			return err
		}
		if _, e := caInfo(noGrant); e != 0 {
			return fmt.Errorf("the handle without RightGrant was lost: %s", caName(e))
		}
	}
	if err := held.finish(); err != nil {
		return err
	}
	// Mappings beyond the rights.
	for _, tc := range []struct {
		what   string
		rights ipc.Rights
		prot   int
		want   syscall.Errno
	}{
		{"Read|Map", ipc.RightRead | ipc.RightMap, syscall.PROT_WRITE, syscall.EACCES},
		{"Read|Map", ipc.RightRead | ipc.RightMap, syscall.PROT_READ | syscall.PROT_WRITE, syscall.EACCES},
		{"Read|Map", ipc.RightRead | ipc.RightMap, syscall.PROT_WRITE | syscall.PROT_EXEC, syscall.EACCES},
		{"Map", ipc.RightMap, syscall.PROT_READ, syscall.EACCES},
		{"Map", ipc.RightMap, syscall.PROT_EXEC, syscall.EACCES},
		{"Map", ipc.RightMap, syscall.PROT_WRITE, syscall.EACCES},
		{"Write|Map", ipc.RightWrite | ipc.RightMap, syscall.PROT_READ, syscall.EACCES},
		{"Write|Map", ipc.RightWrite | ipc.RightMap, syscall.PROT_EXEC, syscall.EACCES},
		{"Read|Write (no Map)", ipc.RightRead | ipc.RightWrite, syscall.PROT_READ, syscall.EACCES},
		{"Read|Write (no Map)", ipc.RightRead | ipc.RightWrite, syscall.PROT_NONE, syscall.EACCES},
		{"every right", ipc.RightsAll, 0x10, syscall.EINVAL},
		{"every right", ipc.RightsAll, syscall.PROT_READ | 1<<24, syscall.EINVAL},
	} {
		h, _ := caDup(mem, tc.rights, 0)
		va, e := caMap(h, 0, tc.prot, 0)
		if e == 0 {
			caMunmap(va, 2*mrPage)
		}
		caClose(h)
		if err := caWant(fmt.Sprintf("mem map of a %s handle with prot %#x", tc.what, tc.prot), e, tc.want); err != nil {
			return err
		}
	}
	// Revoke, bind, kill, wait, notify, essential without their right;
	// a client's endpoint copy used as the server's.
	keep, _ := caDup(n, ipc.RightRead|ipc.RightSignal|ipc.RightDuplicate, 0)
	defer caClose(keep)
	kid, _ := caDup(keep, ipc.RightRead, 0)
	defer caClose(kid)
	noManage, _ := caDup(ep, ipc.RightsAll&^ipc.RightManage, 0)
	defer caClose(noManage)
	noRead, _ := caDup(n, ipc.RightsAll&^ipc.RightRead, 0)
	defer caClose(noRead)
	noSignal, _ := caDup(n, ipc.RightsAll&^ipc.RightSignal, 0)
	defer caClose(noSignal)
	pRead, _ := caDup(ph, ipc.RightRead, 0)
	defer caClose(pRead)
	pSignal, _ := caDup(ph, ipc.RightSignal, 0)
	defer caClose(pSignal)
	client, _ := caDup(ep, ipc.RightWrite|ipc.RightGrant, 0)
	defer caClose(client)
	readOnly, _ := caDup(ep, ipc.RightRead|ipc.RightGrant, 0)
	defer caClose(readOnly)
	top, err = caFreeTop()
	if err != nil {
		return err
	}
	for _, tc := range []struct {
		what  string
		block bool
		run   func() syscall.Errno
	}{
		{"revoke without Manage", false, func() syscall.Errno { _, e := caRevoke(keep); return e }},
		{"revoke of a client's endpoint copy", false, func() syscall.Errno { _, e := caRevoke(client); return e }},
		{"notify bind through an endpoint copy without Manage", false, func() syscall.Errno { return caBind(n, noManage) }},
		{"notify bind of a notification copy without Read", false, func() syscall.Errno { return caBind(noRead, ep) }},
		{"notify bind through a client's copy", false, func() syscall.Errno { return caBind(n, client) }},
		{"notify signal without Signal", false, func() syscall.Errno { return caSignal(noSignal, 1) }},
		{"notify wait without Read", true, func() syscall.Errno { _, e := caPoll(noRead); return e }},
		{"proc kill without Signal", false, func() syscall.Errno { return caKill(pRead, syscall.SIGKILL) }},
		{"proc wait without Read", true, func() syscall.Errno { _, e := caProcWait(pSignal); return e }},
		{"proc notify without Read on the process", false, func() syscall.Errno { return caProcNotify(pSignal, n, 1<<9) }},
		{"proc notify without Signal on the notification", false, func() syscall.Errno { return caProcNotify(ph, noSignal, 1<<9) }},
		{"proc essential without Manage", false, func() syscall.Errno { return caEssential(pRead, false) }},
		{"recv through a client's copy", true, func() syscall.Errno { _, e := caRecv(client, new(ipc.Message)); return e }},
		{"reply through a client's copy", false, func() syscall.Errno { return caReply(client, caBogusToken, new(ipc.Message)) }},
		{"reply-recv through a client's copy", true, func() syscall.Errno {
			_, e := caReplyRecv(client, 0, new(ipc.Message), new(ipc.Message))
			return e
		}},
		{"call through a copy without Write", true, func() syscall.Errno { return caCall(readOnly, new(ipc.Message), new(ipc.Message)) }},
	} {
		var e syscall.Errno
		if tc.block {
			var done bool
			if e, done = caWithin(3*time.Second, tc.run); !done {
				return fmt.Errorf("%s blocked: the kernel let it through", tc.what)
			}
		} else {
			e = tc.run()
		}
		if err := caWant(tc.what, e, syscall.EACCES); err != nil {
			return err
		}
	}
	if _, e := caInfo(kid); e != 0 {
		return fmt.Errorf("a refused revoke removed a child: %s", caName(e))
	}
	if err := caCheckFreeTop("after the refused calls", top); err != nil {
		return err
	}
	if err := caNoBits("the sleeper's death notification (a refused kill)", death); err != nil {
		return err
	}
	// No notification was bound to ep: its server sees none.
	caSignal(n, 1<<3)
	if err := srv.echo(client, 0); err != nil {
		return err
	}
	if k := srv.notes(); k != 0 {
		return fmt.Errorf("the endpoint's server received notification bits %d times: a refused bind took effect", k)
	}
	if err := caBits("the notification", n, 1<<3); err != nil {
		return err
	}

	// A child tries the same with what it was given at spawn.
	cn, _ := caDup(n, ipc.RightSignal|ipc.RightGrant, 0)
	cm, _ := caDup(mem, ipc.RightRead|ipc.RightMap|ipc.RightGrant, 0)
	ce, _ := caDup(ep, ipc.RightWrite|ipc.RightGrant|ipc.RightDuplicate, 5)
	cph, cpid, e := caSpawn("caps-escalate", nil, []ipc.Handle{cn, cm, ce})
	caClose(cn)
	caClose(cm)
	caClose(ce)
	if e != 0 {
		return fmt.Errorf("spawning the escalating child: %s", caName(e))
	}
	if err := caEndOK("the escalating child", cph, cpid, 20*time.Second); err != nil {
		return err
	}
	if err := caBits("the notification the child was given", n, 1<<4); err != nil {
		return err
	}
	if bad := srv.badgesOtherThan(0, 7, 5); len(bad) > 0 {
		return fmt.Errorf("the server saw calls with badges %v: a badge was re-minted", bad)
	}
	if srv.count(5) == 0 {
		return errors.New("the server saw no call from the child's badge-5 capability")
	}
	return nil
}
