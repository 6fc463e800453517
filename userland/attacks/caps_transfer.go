package main

// caps-transfer: handles moved in messages, all or none (caps_attacks.go).

import (
	"errors"
	"fmt"
	"syscall"
	"time"

	"valence.dev/ipc"
	"valence.dev/libos"
)

// testCapsTransfer moves handles between processes: a moved handle leaves
// the sender and works in the receiver with the same object, rights and
// badge; a handle named twice, or beside a bad one (forged, stale, without
// Grant), or in an oversized message, moves nothing; a reply carries
// handles the same way; a refused reply (no such call) keeps its handles;
// a receiver whose table is full gets the message without handles, which
// are destroyed (and a full table refuses new objects with ENOSPC, leaking
// nothing); a call to a dead server, or one held or queued by a server
// that dies, destroys the handles it carried.
func testCapsTransfer() error {
	ep, _ := caEndpoint()
	defer caClose(ep)
	n, _ := caNotification()
	defer caClose(n)
	nInfo, _ := caInfo(n)
	epInfo, _ := caInfo(ep)
	peer, err := caStartPeer()
	if err != nil {
		return err
	}
	defer peer.end()

	// A moved handle: gone here, the same capability there.
	x, _ := caDup(n, ipc.RightSignal|ipc.RightGrant, 0)
	bx, _ := caDup(ep, ipc.RightWrite|ipc.RightGrant, 0x42)
	ix, rep, err := peer.keep("moving two handles", x, bx)
	if err != nil {
		return err
	}
	for i, want := range []ipc.HandleInfo{
		{Type: ipc.TypeNotification, Rights: ipc.RightSignal | ipc.RightGrant, Object: nInfo.Object},
		{Type: ipc.TypeEndpoint, Rights: ipc.RightWrite | ipc.RightGrant, Badge: 0x42, Object: epInfo.Object},
	} {
		got := ipc.HandleInfo{Type: uint32(caWord(rep, 2+5*i)), Rights: ipc.Rights(caWord(rep, 3+5*i)), Badge: caWord(rep, 4+5*i), Object: caWord(rep, 5+5*i)}
		if got != want {
			return fmt.Errorf("moved handle %d arrived as %+v, want %+v", i, got, want)
		}
	}
	for _, h := range []ipc.Handle{x, bx} {
		if err := caGone("a moved handle, in the sender", h); err != nil {
			return err
		}
	}
	if _, err := peer.must("signal through the moved handle", caPeerSignal, nil, uint64(ix), 1<<6); err != nil {
		return err
	}
	if err := caBits("the notification", n, 1<<6); err != nil {
		return err
	}

	// All or none: nothing moves when any handle is bad.
	count, err := peer.kept()
	if err != nil {
		return err
	}
	good, _ := caDup(n, ipc.RightSignal|ipc.RightGrant, 0)
	defer caClose(good)
	good2, _ := caDup(n, ipc.RightSignal|ipc.RightGrant, 0)
	defer caClose(good2)
	noGrant, _ := caDup(n, ipc.RightSignal, 0)
	defer caClose(noGrant)
	stale, _ := caDup(n, ipc.RightSignal|ipc.RightGrant, 0)
	reused, err := caReuse(stale, caNotification)
	if err != nil {
		return err
	}
	defer caClose(reused)
	goodInfo, _ := caInfo(good)
	good2Info, _ := caInfo(good2)
	held, err := caHoldCall()
	if err != nil {
		return err
	}
	for _, tc := range []struct {
		what string
		hs   []ipc.Handle
		nh   uint32
		want syscall.Errno
	}{
		{"the same handle twice", []ipc.Handle{good, good}, 0, syscall.EINVAL},
		{"a handle twice around another", []ipc.Handle{good, good2, good}, 0, syscall.EINVAL},
		{"a good handle and a forged one", []ipc.Handle{good, 0x0000_0001_0001_2345}, 0, syscall.EBADF},
		{"a forged handle and a good one", []ipc.Handle{0x0000_0001_0001_2345, good}, 0, syscall.EBADF},
		{"a good handle and zero", []ipc.Handle{good, good2, 0}, 0, syscall.EBADF},
		{"a good handle and a stale one", []ipc.Handle{good, stale}, 0, syscall.ESTALE},
		{"a good handle and one without Grant", []ipc.Handle{good, good2, noGrant}, 0, syscall.EACCES},
		{"five handles", []ipc.Handle{good, good2}, ipc.MaxHandles + 1, syscall.EMSGSIZE},
	} {
		req, rep := new(ipc.Message), new(ipc.Message)
		req.Label = caPeerKeep
		copy(req.Handles[:], tc.hs)
		req.NHandles = uint32(len(tc.hs))
		if tc.nh != 0 {
			req.NHandles = tc.nh
		}
		e, done := caWithin(20*time.Second, func() syscall.Errno { return caCall(peer.cli, req, rep) })
		if !done {
			return fmt.Errorf("a call carrying %s never returned", tc.what)
		}
		if err := caWant("a call carrying "+tc.what, e, tc.want); err != nil {
			return err
		}
		// The same in a reply: refused, the call still waits.
		m := new(ipc.Message)
		copy(m.Handles[:], tc.hs)
		m.NHandles = req.NHandles
		if err := caWant("a reply carrying "+tc.what, held.reply(m), tc.want); err != nil {
			return err
		}
		if err := caSame("the good handle", good, goodInfo); err != nil {
			return fmt.Errorf("after a call carrying %s: %v", tc.what, err)
		}
		if err := caSame("the second good handle", good2, good2Info); err != nil {
			return fmt.Errorf("after a call carrying %s: %v", tc.what, err)
		}
		if _, e := caInfo(noGrant); e != 0 {
			return fmt.Errorf("after a call carrying %s: the handle without Grant is gone: %s", tc.what, caName(e))
		}
		if k, err := peer.kept(); err != nil || k != count {
			return fmt.Errorf("after a refused call carrying %s the peer holds %d handles (%v), want %d", tc.what, k, err, count)
		}
	}

	if err := held.finish(); err != nil {
		return err
	}

	// A reply to no call (a bogus token, or one already answered),
	// carrying a good handle: refused, and the handle stays with the
	// replier. The same through reply-recv, which then receives.
	for _, tok := range []uint64{caBogusToken, held.tok} {
		m := new(ipc.Message)
		m.NHandles, m.Handles[0] = 1, good
		if err := caWant(fmt.Sprintf("a reply carrying a handle to no call (token %#x)", tok), caReply(ep, tok, m), syscall.EINVAL); err != nil {
			return err
		}
		if err := caSame("a handle of a refused reply", good, goodInfo); err != nil {
			return err
		}
	}
	got := make(chan caReceived, 1)
	go func() {
		rep, m := new(ipc.Message), new(ipc.Message)
		rep.NHandles, rep.Handles[0] = 1, good
		tok, e := caReplyRecv(ep, caBogusToken, rep, m)
		if e == 0 && tok != 0 {
			caReply(ep, tok, new(ipc.Message))
		}
		got <- caReceived{tok, m, e}
	}()
	marker, _ := caDup(ep, ipc.RightWrite, 0)
	_, e := caCallWith(marker, 0xca0c, nil)
	caClose(marker)
	if e != 0 {
		return fmt.Errorf("a call to the reply-recv: %s", caName(e))
	}
	if r := <-got; r.err != 0 || r.msg.Label != 0xca0c {
		return fmt.Errorf("reply-recv after a reply to no call: %s, label %#x", caName(r.err), r.msg.Label)
	}
	if err := caSame("a handle of a reply to no call, through reply-recv", good, goodInfo); err != nil {
		return err
	}

	// The handle the call goes through can travel in that call; it
	// comes back in a reply with a new value.
	rep, err = peer.must("a second client handle", caPeerClient, nil)
	if err != nil {
		return err
	}
	self := rep.Handles[0]
	if rep.NHandles != 1 {
		return fmt.Errorf("the peer's reply carried %d handles, want 1", rep.NHandles)
	}
	selfRep, e := caCallWith(self, caPeerKeep, []ipc.Handle{self})
	if e != 0 || caStatus(selfRep) != 0 || caWord(selfRep, 0) != 1 {
		return fmt.Errorf("a call carrying its own endpoint handle: %s, peer %s, received %d", caName(e), caName(caStatus(selfRep)), caWord(selfRep, 0))
	}
	if err := caGone("the handle that carried itself", self); err != nil {
		return err
	}
	rep, err = peer.must("the peer giving it back", caPeerGive, nil, 1, caWord(selfRep, 1))
	if err != nil {
		return err
	}
	if rep.NHandles != 1 {
		return fmt.Errorf("the give-back reply carried %d handles", rep.NHandles)
	}
	back := rep.Handles[0]
	if _, e := caCallWith(back, caLabelEcho, nil); e != 0 {
		return fmt.Errorf("calling through the handle that came back: %s", caName(e))
	}
	caClose(back)

	// A receiver with a full table.
	rep, e = peer.do(caPeerFill, nil)
	filled := caWord(rep, 0)
	if e != 0 || caStatus(rep) != syscall.ENOSPC || filled < 4000 {
		return fmt.Errorf("filling the peer's handle table: %s, stopped by %s after %d handles, want ENOSPC near 4096", caName(e), caName(caStatus(rep)), filled)
	}
	na, _ := caNotification()
	defer caClose(na)
	a1, _ := caDup(na, ipc.RightSignal|ipc.RightGrant, 0)
	a2, _ := caDup(na, ipc.RightRead|ipc.RightGrant, 0)
	rep, e = peer.do(caPeerKeep, []ipc.Handle{a1, a2})
	if e != 0 || caStatus(rep) != 0 {
		return fmt.Errorf("a call carrying handles to a full table: %s, peer %s; want the message delivered", caName(e), caName(caStatus(rep)))
	}
	if got := caWord(rep, 0); got != 0 {
		return fmt.Errorf("a message with 2 handles to a full table arrived with %d, want 0 (all or none)", got)
	}
	for _, h := range []ipc.Handle{a1, a2} {
		if err := caGone("a handle sent to a full table, in the sender", h); err != nil {
			return err
		}
	}
	if k, err := caDerived(na); err != nil || k != 0 {
		return fmt.Errorf("the handles a full table could not take: %d left somewhere (%v), want destroyed", k, err)
	}
	if _, err := peer.must("emptying the peer's table", caPeerUnfill, nil); err != nil {
		return err
	}
	a3, _ := caDup(na, ipc.RightSignal|ipc.RightGrant, 0)
	i3, _, err := peer.keep("a handle after the table emptied", a3)
	if err != nil {
		return err
	}

	// The sender's own table full: no new object (ENOSPC, nothing
	// leaked), a reply's handles are dropped, sending still works.
	if err := caFullSender(peer, i3, na); err != nil {
		return err
	}

	// Dead servers. peer2 holds w; its held call carries v; its queued
	// call carries u; it is killed: all three are destroyed. Then a call
	// carrying z to its dead endpoint fails and destroys z.
	peer2, err := caStartPeer()
	if err != nil {
		return err
	}
	defer peer2.end()
	nw, _ := caNotification()
	defer caClose(nw)
	nv, _ := caNotification()
	defer caClose(nv)
	nu, _ := caNotification()
	defer caClose(nu)
	nz, _ := caNotification()
	defer caClose(nz)
	w, _ := caDup(nw, ipc.RightSignal|ipc.RightGrant, 0)
	if _, _, err := peer2.keep("moving a handle to the server that will die", w); err != nil {
		return err
	}
	v, _ := caDup(nv, ipc.RightSignal|ipc.RightGrant, 0)
	hang := make(chan syscall.Errno, 1)
	go func() { _, e := peer2.do(caPeerHang, []ipc.Handle{v}); hang <- e }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		if k, _ := peer2.kept(); k == 2 {
			break
		}
		if time.Now().After(deadline) {
			return errors.New("the held call never reached the peer")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, err := peer2.must("putting the peer to sleep", caPeerSleep, nil, 60000); err != nil {
		return err
	}
	u, _ := caDup(nu, ipc.RightSignal|ipc.RightGrant, 0)
	queued := make(chan syscall.Errno, 1)
	go func() { _, e := peer2.do(caLabelEcho, []ipc.Handle{u}); queued <- e }()
	time.Sleep(200 * time.Millisecond)
	if _, err := caEnd(peer2.ph, peer2.pid, true, 10*time.Second); err != nil {
		return err
	}
	peer2.done = true
	for what, ch := range map[string]chan syscall.Errno{"the call the dead server held": hang, "the call queued at the dead server": queued} {
		select {
		case e := <-ch:
			if err := caWant(what, e, syscall.EOWNERDEAD); err != nil {
				return err
			}
		case <-time.After(10 * time.Second):
			return fmt.Errorf("%s did not fail", what)
		}
	}
	z, _ := caDup(nz, ipc.RightSignal|ipc.RightGrant, 0)
	_, e = caCallWith(peer2.cli, caLabelEcho, []ipc.Handle{z})
	if err := caWant("a call carrying a handle to a dead server", e, syscall.EOWNERDEAD); err != nil {
		return err
	}
	if err := caGone("the handle sent to a dead server, in the sender", z); err != nil {
		return err
	}
	for what, root := range map[string]ipc.Handle{"kept by the dead server": nw, "carried by its held call": nv,
		"carried by a call queued there": nu, "carried by a call to its dead endpoint": nz} {
		if k, err := caDerived(root); err != nil || k != 0 {
			return fmt.Errorf("the handle %s survives: %d left (%v), want destroyed", what, k, err)
		}
	}
	caClose(peer2.cli)
	return nil
}

// caFullSender fills the test process's own table, then: every object
// creation is ENOSPC (a memory object refused so leaks no frames), a dup
// is ENOSPC, proc spawn is ENOSPC and starts no child, the peer's reply
// carrying a handle arrives without it (destroyed, gone from the peer
// too), and sending a handle out still works. The peer keeps kept[idx], a
// capability to notification root.
func caFullSender(peer *caPeer, idx int, root ipc.Handle) error {
	fillFrom, _ := caNotification()
	defer caClose(fillFrom)
	var fill []ipc.Handle
	defer func() {
		for _, h := range fill {
			caClose(h)
		}
	}()
	// Two handles kept back, to send while full.
	out1, _ := caDup(root, ipc.RightSignal|ipc.RightGrant, 0)
	out2, _ := caDup(root, ipc.RightSignal|ipc.RightGrant, 0)
	var last syscall.Errno
	for {
		h, e := caDup(fillFrom, ipc.RightRead, 0)
		if e != 0 {
			last = e
			break
		}
		fill = append(fill, h)
	}
	if last != syscall.ENOSPC || len(fill) < 4000 {
		return fmt.Errorf("filling our own table: stopped by %s after %d handles, want ENOSPC near 4096", caName(last), len(fill))
	}
	before, _ := libos.MemInfo()
	const big = 16 << 20
	for _, c := range []struct {
		what string
		run  func() (ipc.Handle, syscall.Errno)
	}{
		{"notify create", caNotification},
		{"endpoint create", caEndpoint},
		{"mem create (16 MiB)", func() (ipc.Handle, syscall.Errno) { return caMemory(big) }},
		{"handle dup", func() (ipc.Handle, syscall.Errno) { return caDup(fillFrom, ipc.RightRead, 0) }},
		{"proc spawn", func() (ipc.Handle, syscall.Errno) {
			h, pid, e := caSpawn("caps-sleep", nil, nil)
			if e == 0 {
				caEnd(h, pid, true, 10*time.Second)
			}
			return h, e
		}},
	} {
		h, e := c.run()
		if e == 0 {
			caClose(h)
		}
		if err := caWant(c.what+" with a full handle table", e, syscall.ENOSPC); err != nil {
			return err
		}
	}
	after, _ := libos.MemInfo()
	if after.Free+big/2 < before.Free {
		return fmt.Errorf("free memory went from %d to %d KiB over refused creations: a memory object refused for a full table kept its frames", before.Free>>10, after.Free>>10)
	}
	// The peer's reply carrying a handle into our full table.
	rep, e := peer.do(caPeerGive, nil, 1, uint64(idx))
	if e != 0 || caStatus(rep) != 0 {
		return fmt.Errorf("a reply with a handle to a full table: %s, peer %s; want it delivered", caName(e), caName(caStatus(rep)))
	}
	if rep.NHandles != 0 {
		return fmt.Errorf("a reply with 1 handle to a full table arrived with %d", rep.NHandles)
	}
	if rep, e := peer.do(caPeerInfo, nil, uint64(idx)); e != 0 || (caStatus(rep) != syscall.EBADF && caStatus(rep) != syscall.ESTALE) {
		return fmt.Errorf("the handle the peer gave: still in the peer? info: %s, peer %s, want EBADF or ESTALE", caName(e), caName(caStatus(rep)))
	}
	// Sending out while full frees slots.
	if _, _, err := peer.keep("sending from a full table", out1, out2); err != nil {
		return err
	}
	// Two slots free again now: the table works.
	h, e := caNotification()
	if e != 0 {
		return fmt.Errorf("notify create after sending two handles out of a full table: %s", caName(e))
	}
	caClose(h)
	for _, h := range fill {
		caClose(h)
	}
	fill = nil
	// The peer holds out1 and out2 now; the one it gave is gone.
	if k, err := caDerived(root); err != nil || k != 2 {
		return fmt.Errorf("capabilities derived from the notification: %d (%v), want 2 (the two sent out); the dropped reply handle must be destroyed", k, err)
	}
	return nil
}
