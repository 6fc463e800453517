package main

// caps-revoked: capabilities revoked under their users (caps_attacks.go).

import (
	"errors"
	"fmt"
	"syscall"
	"time"

	"valence.dev/ipc"
)

// testCapsRevoked revokes a client's capabilities while it is blocked in a
// call through one (the call in flight may finish; every later use
// fails), and while another client calls through its copy from four
// kernel threads in a loop (each thread's next call fails with EBADF); a
// third client, whose copy was not derived from the revoked one, is served
// throughout. Then revocation follows capabilities that moved: one sent to
// another process after it was derived (and copied there), one that went
// there and back, and one still in flight in a queued message.
func testCapsRevoked() error {
	ep, e := caEndpoint()
	if e != 0 {
		return fmt.Errorf("endpoint create: %s", caName(e))
	}
	defer caClose(ep)
	srv := caStartServer(ep, 3)
	stopped := false
	defer func() {
		if !stopped {
			srv.stop()
		}
	}()
	// One branch of the derivation tree per client: revoking a branch
	// reaches only its client.
	branch := func(badge uint64) (ipc.Handle, ipc.Handle) {
		r, _ := caDup(ep, ipc.RightWrite|ipc.RightGrant|ipc.RightDuplicate|ipc.RightManage, 0)
		h, _ := caDup(r, ipc.RightWrite|ipc.RightGrant, badge)
		return r, h
	}
	type child struct {
		ph  ipc.Handle
		pid int
	}
	start := func(role string, h ipc.Handle, args ...string) (child, error) {
		ph, pid, e := caSpawn(role, args, []ipc.Handle{h})
		caClose(h)
		if e != 0 {
			return child{}, fmt.Errorf("spawning %s: %s", role, caName(e))
		}
		return child{ph, pid}, nil
	}
	var kids []child
	defer func() {
		for _, k := range kids {
			caEnd(k.ph, k.pid, true, 10*time.Second)
		}
	}()
	r1, h1 := branch(1)
	defer caClose(r1)
	r2, h2 := branch(2)
	defer caClose(r2)
	r3, h3 := branch(3)
	defer caClose(r3)
	blocked, err := start("caps-blocked", h1)
	if err != nil {
		return err
	}
	kids = append(kids, blocked)
	steady, err := start("caps-hammer", h2, "count", "3", "150")
	if err != nil {
		return err
	}
	kids = append(kids, steady)
	hammer, err := start("caps-hammer", h3, "until-revoked", "4", "1000000")
	if err != nil {
		return err
	}
	kids = append(kids, hammer)

	var hungTok uint64
	select {
	case hungTok = <-srv.hung:
	case <-time.After(20 * time.Second):
		return errors.New("the blocked client's call never reached the server")
	}
	deadline := time.Now().Add(20 * time.Second)
	for srv.count(3) < 100 || srv.count(2) < 10 {
		if time.Now().After(deadline) {
			return fmt.Errorf("the clients made %d and %d calls in 20 s", srv.count(2), srv.count(3))
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Revoke under the blocked client and the hammering one.
	if k, e := caRevoke(r1); e != 0 || k != 1 {
		return fmt.Errorf("revoking the blocked client's branch removed %d capabilities (%s), want 1", k, caName(e))
	}
	if k, e := caRevoke(r3); e != 0 || k != 1 {
		return fmt.Errorf("revoking the hammering client's branch removed %d capabilities (%s), want 1", k, caName(e))
	}
	atRevoke := srv.count(3)
	// The held call is still the server's to answer.
	if e := caReply(ep, hungTok, &ipc.Message{Header: ipc.Header{Label: caLabelHang + 1}}); e != 0 {
		return fmt.Errorf("answering the call held across the revocation: %s", caName(e))
	}
	if err := caEndOK("the blocked client", blocked.ph, blocked.pid, 20*time.Second); err != nil {
		return err
	}
	if err := caEndOK("the hammering client", hammer.ph, hammer.pid, 20*time.Second); err != nil {
		return err
	}
	if err := caEndOK("the client whose copy was not revoked", steady.ph, steady.pid, 60*time.Second); err != nil {
		return err
	}
	kids = nil
	// At most the calls in flight at the revocation (one per thread) got
	// through after it.
	if late := srv.count(3) - atRevoke; late > 4 {
		return fmt.Errorf("%d calls through the revoked copy were served after the revocation returned, want at most 4 (those in flight)", late)
	}
	if got := srv.count(2); got != 3*150 {
		return fmt.Errorf("the server answered %d calls of the unrevoked client, want %d", got, 3*150)
	}
	fmt.Printf("attacks: caps-revoked: the hammering client made %d calls before the revocation cut it off\n", srv.count(3))
	if k, _ := caRevoke(r1); k != 0 {
		return fmt.Errorf("a second revoke of the branch removed %d more", k)
	}
	// The server still serves.
	fresh, _ := caDup(r2, ipc.RightWrite, 0)
	err = srv.echo(fresh, 0)
	caClose(fresh)
	if err != nil {
		return fmt.Errorf("after the revocations: %v", err)
	}
	stopped = true
	if err := srv.stop(); err != nil {
		return err
	}

	// Revocation follows a capability that moved after it was derived.
	peer, err := caStartPeer()
	if err != nil {
		return err
	}
	defer peer.end()
	root, _ := caNotification()
	defer caClose(root)
	x, _ := caDup(root, ipc.RightSignal|ipc.RightGrant|ipc.RightDuplicate, 0)
	y, _ := caDup(root, ipc.RightSignal|ipc.RightGrant, 0)
	ix, _, err := peer.keep("moving a derived capability", x)
	if err != nil {
		return err
	}
	// The peer derives from it in its own table.
	rep, err := peer.must("dup in the peer", caPeerDup, nil, uint64(ix), uint64(ipc.RightSignal))
	if err != nil {
		return err
	}
	ixd := caWord(rep, 0)
	// y goes to the peer and comes back in a reply.
	iy, _, err := peer.keep("moving another", y)
	if err != nil {
		return err
	}
	rep, err = peer.must("the peer giving it back", caPeerGive, nil, 1, uint64(iy))
	if err != nil {
		return err
	}
	if rep.NHandles != 1 {
		return fmt.Errorf("the peer's reply carried %d handles, want 1", rep.NHandles)
	}
	yBack := rep.Handles[0]
	for i, bits := range map[uint64]uint64{uint64(ix): 1, ixd: 2} {
		if _, err := peer.must("signal in the peer", caPeerSignal, nil, i, bits); err != nil {
			return err
		}
	}
	if e := caSignal(yBack, 4); e != 0 {
		return fmt.Errorf("signal through the capability that came back: %s", caName(e))
	}
	if err := caBits("the notification", root, 7); err != nil {
		return err
	}
	if k, e := caRevoke(root); e != 0 || k != 3 {
		return fmt.Errorf("revoking the notification removed %d capabilities (%s), want 3: the moved one, its copy in the peer, the one that came back", k, caName(e))
	}
	for _, i := range []uint64{uint64(ix), ixd} {
		rep, e := peer.do(caPeerSignal, nil, i, 8)
		if e != 0 || (caStatus(rep) != syscall.EBADF && caStatus(rep) != syscall.ESTALE) {
			return fmt.Errorf("a revoked capability in the peer: signal: %s, peer says %s, want EBADF or ESTALE", caName(e), caName(caStatus(rep)))
		}
	}
	if err := caWant("signal through the revoked capability that came back", caSignal(yBack, 8), syscall.EBADF); err != nil {
		return err
	}
	if err := caNoBits("the notification after revoking", root); err != nil {
		return err
	}

	// Revocation reaches a capability in flight: a call carrying one
	// derived from root and one that is not waits in an endpoint's queue;
	// revoking root removes the first. The message arrives without
	// handles (a message's handles arrive all together or not at all),
	// and the other handle is destroyed, not left anywhere.
	other, _ := caNotification()
	defer caClose(other)
	q, _ := caEndpoint()
	defer caClose(q)
	a, _ := caDup(root, ipc.RightSignal|ipc.RightGrant, 0)
	b, _ := caDup(other, ipc.RightSignal|ipc.RightGrant, 0)
	cli, _ := caDup(q, ipc.RightWrite, 0)
	defer caClose(cli)
	result := make(chan syscall.Errno, 1)
	go func() {
		_, e := caCallWith(cli, caLabelEcho, []ipc.Handle{a, b})
		result <- e
	}()
	// Once a has left our table the message holds it (the call is queued
	// right after).
	for deadline := time.Now().Add(10 * time.Second); ; {
		if _, e := caInfo(a); e != 0 {
			break
		}
		if time.Now().After(deadline) {
			return errors.New("the call never took its handles")
		}
		time.Sleep(time.Millisecond)
	}
	if k, e := caRevoke(root); e != 0 || k != 1 {
		return fmt.Errorf("revoking with a derived capability in flight removed %d (%s), want 1", k, caName(e))
	}
	m := new(ipc.Message)
	e, done := caWithin(10*time.Second, func() syscall.Errno {
		tok, e := caRecv(q, m)
		if e == 0 {
			e = caReply(q, tok, new(ipc.Message))
		}
		return e
	})
	if !done || e != 0 {
		return fmt.Errorf("receiving the queued call: %s", caName(e))
	}
	if e := <-result; e != 0 {
		return fmt.Errorf("the queued call: %s", caName(e))
	}
	if m.NHandles != 0 {
		return fmt.Errorf("a message whose handle was revoked in flight arrived with %d handles (first %#x), want none", m.NHandles, uint64(m.Handles[0]))
	}
	if left, err := caDerived(other); err != nil || left != 0 {
		return fmt.Errorf("the unrevoked handle of that message: %d capabilities left (%v), want it destroyed", left, err)
	}
	return nil
}
