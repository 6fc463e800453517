package main

import (
	"bytes"
	"fmt"
	"strconv"
	"syscall"
	"time"

	"valence.dev/ipc"
	"valence.dev/libos"
)

func testCallReply() error {
	cli, proc, err := startServer()
	if err != nil {
		return err
	}
	defer stopServer(proc)
	for i := 0; i < 100; i++ {
		in := fmt.Sprintf("message %d", i)
		got, _, err := echo(cli, in)
		if err != nil {
			return err
		}
		if want := "MESSAGE " + strconv.Itoa(i); got != want {
			return fmt.Errorf("echo(%q) = %q", in, got)
		}
	}
	// The largest message: all 4096 bytes arrive.
	big := string(bytes.Repeat([]byte("x"), ipc.MaxData))
	if got, _, err := echo(cli, big); err != nil || len(got) != ipc.MaxData {
		return fmt.Errorf("4 KiB echo: %d bytes, %v", len(got), err)
	}
	// Over the limit is refused before anything is sent.
	var m, rep ipc.Message
	m.Label, m.DataLen = labelEcho, ipc.MaxData+1
	if err := libos.Call(cli, &m, &rep); !isErrno(err, syscall.EMSGSIZE) {
		return fmt.Errorf("oversized message: %v, want EMSGSIZE", err)
	}
	return nil
}

// testBadge mints badged copies of the client handle: the server sees
// which one a call came through.
func testBadge() error {
	cli, proc, err := startServer()
	if err != nil {
		return err
	}
	defer stopServer(proc)
	for _, badge := range []uint64{7, 0xfeed} {
		b, err := libos.Dup(cli, ipc.RightWrite, badge)
		if err != nil {
			return err
		}
		if _, got, err := echo(b, "hi"); err != nil || got != badge {
			return fmt.Errorf("badge %d: server saw %d, %v", badge, got, err)
		}
		// A badge is set once: re-badging is refused.
		if _, err := libos.Dup(b, ipc.RightWrite, badge+1); !isErrno(err, syscall.EINVAL, syscall.EACCES) {
			return fmt.Errorf("re-badging: %v", err)
		}
		libos.Close(b)
	}
	return nil
}

// testPassHandle sends a notification handle to the server, which signals
// it: the capability moved from us to the server.
func testPassHandle() error {
	cli, proc, err := startServer()
	if err != nil {
		return err
	}
	defer stopServer(proc)
	n, err := libos.NewNotification()
	if err != nil {
		return err
	}
	give, err := libos.Dup(n, ipc.RightSignal|ipc.RightGrant, 0)
	if err != nil {
		return err
	}
	var m, rep ipc.Message
	m.Label, m.NHandles, m.Handles[0] = labelSignal, 1, give
	setData(&m, "40")
	if err := libos.Call(cli, &m, &rep); err != nil || rep.Status != 0 {
		return fmt.Errorf("call: %v status %d", err, rep.Status)
	}
	if bits, err := libos.NotifyWait(n); err != nil || bits != 40 {
		return fmt.Errorf("notification: %d, %v", bits, err)
	}
	// The handle moved: our copy is gone.
	if _, err := libos.Info(give); !isErrno(err, syscall.EBADF, syscall.ESTALE) {
		return fmt.Errorf("the moved handle still works here: %v", err)
	}
	// A handle without RightGrant cannot be sent.
	noGrant, _ := libos.Dup(n, ipc.RightSignal, 0)
	m.Handles[0] = noGrant
	if err := libos.Call(cli, &m, &rep); !isErrno(err, syscall.EACCES) {
		return fmt.Errorf("sending a handle without RightGrant: %v, want EACCES", err)
	}
	if _, err := libos.Info(noGrant); err != nil {
		return fmt.Errorf("a refused send lost the handle: %v", err)
	}
	return nil
}

// testAttenuation: rights only ever shrink.
func testAttenuation() error {
	cli, proc, err := startServer()
	if err != nil {
		return err
	}
	defer stopServer(proc)
	readOnly, err := libos.Dup(cli, ipc.RightGrant, 0)
	if err != nil {
		return err
	}
	if _, _, err := echo(readOnly, "x"); !isErrno(err, syscall.EACCES) {
		return fmt.Errorf("calling without RightWrite: %v, want EACCES", err)
	}
	if _, err := libos.Dup(readOnly, ipc.RightGrant|ipc.RightWrite, 0); !isErrno(err, syscall.EACCES, syscall.EINVAL) {
		return fmt.Errorf("growing rights by duplication: %v", err)
	}
	// The client copy the server gave us has no RightManage: it cannot
	// revoke the server's own capabilities.
	if _, err := libos.Revoke(cli); !isErrno(err, syscall.EACCES) {
		return fmt.Errorf("revoking without RightManage: %v, want EACCES", err)
	}
	info, err := libos.Info(readOnly)
	if err != nil || info.Rights != ipc.RightGrant || info.Type != ipc.TypeEndpoint {
		return fmt.Errorf("info: %+v %v", info, err)
	}
	return nil
}

// testForgedStale: values that were never handles, and handles that were
// closed (even when their slot is reused), are refused.
func testForgedStale() error {
	for _, h := range []ipc.Handle{0, 0x12345, 1 << 40, ^ipc.Handle(0)} {
		if _, err := libos.Info(h); !isErrno(err, syscall.EBADF, syscall.ESTALE) {
			return fmt.Errorf("forged handle %#x: %v", h, err)
		}
	}
	n, err := libos.NewNotification()
	if err != nil {
		return err
	}
	libos.Close(n)
	if err := libos.NotifySignal(n, 1); !isErrno(err, syscall.EBADF, syscall.ESTALE) {
		return fmt.Errorf("closed handle: %v", err)
	}
	// Reuse the slot: the old value must not name the new object.
	for i := 0; i < 8; i++ {
		m, err := libos.NewNotification()
		if err != nil {
			return err
		}
		if m&0xffffffff == n&0xffffffff {
			if err := libos.NotifySignal(n, 1); !isErrno(err, syscall.ESTALE) {
				return fmt.Errorf("stale handle %#x on reused slot: %v, want ESTALE", n, err)
			}
			return nil
		}
	}
	return nil // the slot was not reused soon; staleness is covered by the caps tests
}

// testNoHandle: a process started without handles cannot name the server.
func testNoHandle() error {
	cli, proc, err := startServer()
	if err != nil {
		return err
	}
	defer stopServer(proc)
	_ = cli
	ph, _, err := libos.ProcSpawn(self, []string{"ipctests", "no-handles"}, nil, nil)
	if err != nil {
		return err
	}
	st, err := libos.ProcWait(ph)
	libos.Close(ph)
	if err != nil || !st.Exited() || st.ExitStatus() != 0 {
		return fmt.Errorf("the handle-less child: %v %v", st, err)
	}
	return nil
}

// testRevokeGrandchild: we hand a client copy of our own endpoint to a
// child, which hands it on to a grandchild; revoking what we derived from
// the endpoint cuts the grandchild off.
func testRevokeGrandchild() error { return revokeChain() }

// revokeChain serves an endpoint ourselves and hands a client copy down to
// a child and on to a grandchild, which calls it until it fails; then we
// revoke everything derived from our endpoint.
func revokeChain() error {
	ep, err := libos.NewEndpoint()
	if err != nil {
		return err
	}
	defer libos.Close(ep)
	give, err := libos.Dup(ep, ipc.RightWrite|ipc.RightGrant, 0)
	if err != nil {
		return err
	}
	child, _, err := libos.ProcSpawn(self, []string{"ipctests", "relay"}, nil, []ipc.Handle{give})
	if err != nil {
		return err
	}
	// Serve the grandchild's calls: after three, revoke everything derived
	// from the endpoint. A call may be in flight when we revoke, so keep
	// serving until the chain reports back, then stop the server with a
	// call of our own.
	served := make(chan int, 1)
	revoked := make(chan int, 1)
	go func() {
		var m, rep ipc.Message
		var tok uint64
		n := 0
		for {
			var err error
			tok, err = libos.ReplyRecv(ep, tok, &rep, &m)
			if err != nil || m.Label == 99 {
				libos.Reply(ep, tok, &rep)
				served <- n
				return
			}
			n++
			if n == 3 {
				r, _ := libos.Revoke(ep)
				revoked <- r
			}
		}
	}()
	st, err := libos.ProcWait(child)
	libos.Close(child)
	stop, _ := libos.Dup(ep, ipc.RightWrite, 0)
	var m, rep ipc.Message
	m.Label = 99
	libos.Call(stop, &m, &rep)
	libos.Close(stop)
	<-served
	if err != nil || !st.Exited() || st.ExitStatus() != 0 {
		return fmt.Errorf("the relay child reported %v %v", st, err)
	}
	select {
	case n := <-revoked:
		if n < 3 { // give, the child's copy, the grandchild's copy
			return fmt.Errorf("revoke removed %d capabilities, want at least 3", n)
		}
	default:
		return fmt.Errorf("the grandchild stopped before the revocation")
	}
	return nil
}

// testServerDeath kills a server while a client is blocked in a call: the
// call fails with EOWNERDEAD, so do later calls, and the endpoint's
// generation changed.
func testServerDeath() error {
	cli, proc, err := startServer()
	if err != nil {
		return err
	}
	before, err := libos.Info(cli)
	if err != nil {
		return err
	}
	n, _ := libos.NewNotification()
	if err := libos.ProcNotify(proc, n, 1<<5); err != nil {
		return err
	}
	result := make(chan error, 1)
	go func() {
		var m, rep ipc.Message
		m.Label = labelHang
		result <- libos.Call(cli, &m, &rep)
	}()
	time.Sleep(30 * time.Millisecond) // let the call reach the server
	if err := libos.ProcKill(proc, syscall.SIGKILL); err != nil {
		return err
	}
	select {
	case err := <-result:
		if !isErrno(err, syscall.EOWNERDEAD) {
			return fmt.Errorf("blocked call: %v, want EOWNERDEAD", err)
		}
	case <-time.After(10 * time.Second):
		return fmt.Errorf("the blocked call did not fail")
	}
	if _, _, err := echo(cli, "anyone?"); !isErrno(err, syscall.EOWNERDEAD) {
		return fmt.Errorf("later call: %v, want EOWNERDEAD", err)
	}
	after, err := libos.Info(cli)
	if err != nil || after.Gen == before.Gen {
		return fmt.Errorf("generation %d -> %d (%v)", before.Gen, after.Gen, err)
	}
	if bits, err := libos.NotifyWait(n); err != nil || bits != 1<<5 {
		return fmt.Errorf("death notification: %#x %v", bits, err)
	}
	if st, err := libos.ProcWait(proc); err != nil || !st.Signaled() || st.Signal() != syscall.SIGKILL {
		return fmt.Errorf("server status %v %v", st, err)
	}
	return nil
}

// testSharedMemory: both sides see each other's writes to a memory object;
// a read-only handle cannot map it writable.
func testSharedMemory() error {
	mem, err := libos.NewMemory(64 << 10)
	if err != nil {
		return err
	}
	b, err := libos.Map(mem, syscall.PROT_READ|syscall.PROT_WRITE)
	if err != nil {
		return err
	}
	defer syscall.Munmap(b)
	for i := range b {
		b[i] = byte(i * 7)
	}
	give, err := libos.Dup(mem, ipc.RightRead|ipc.RightWrite|ipc.RightMap|ipc.RightGrant, 0)
	if err != nil {
		return err
	}
	ro, err := libos.Dup(mem, ipc.RightRead|ipc.RightMap|ipc.RightGrant, 0)
	if err != nil {
		return err
	}
	child, _, err := libos.ProcSpawn(self, []string{"ipctests", "memory"}, nil, []ipc.Handle{give, ro})
	if err != nil {
		return err
	}
	st, err := libos.ProcWait(child)
	libos.Close(child)
	if err != nil || !st.Exited() || st.ExitStatus() != 0 {
		return fmt.Errorf("memory child: %v %v", st, err)
	}
	for i := 0; i < len(b); i += 4096 {
		if b[i] != ^byte(i*7) {
			return fmt.Errorf("byte %d is %#x: the child's write is not visible", i, b[i])
		}
	}
	return nil
}

// testNotifyBind: a notification bound to an endpoint arrives through
// receive, between calls.
func testNotifyBind() error {
	ep, err := libos.NewEndpoint()
	if err != nil {
		return err
	}
	defer libos.Close(ep)
	n, err := libos.NewNotification()
	if err != nil {
		return err
	}
	if err := libos.NotifyBind(n, ep); err != nil {
		return err
	}
	if err := libos.NotifySignal(n, 0b101); err != nil {
		return err
	}
	var m ipc.Message
	tok, err := libos.Recv(ep, &m)
	if err != nil || tok != 0 || m.Flags != ipc.MsgNotification || m.Label != 0b101 {
		return fmt.Errorf("receive: token %d flags %d label %#b %v", tok, m.Flags, m.Label, err)
	}
	return nil
}
