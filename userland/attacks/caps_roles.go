package main

// The processes the capability attacks (caps_*.go)
// start, and the servers and clients they talk to them with.

import (
	"fmt"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"time"

	"valence.dev/ipc"
	"valence.dev/libos"
)

func init() {
	addRole("caps-sleep", roleCapsSleep)
	addRole("caps-sender", roleCapsSender)
	addRole("caps-peer", roleCapsPeer)
	addRole("caps-hammer", roleCapsHammer)
	addRole("caps-blocked", roleCapsBlocked)
	addRole("caps-escalate", roleCapsEscalate)
	addRole("caps-mem-creator", roleCapsMemCreator)
}

// Labels of the calls the tests and their children make.
const (
	caLabelEcho  = 0xca00 + iota // reply: [badge, the request's words...]
	caLabelStop                  // a caServer thread replies and stops
	caLabelHang                  // no reply until released
	caLabelHello                 // a child's first call, carrying its endpoint
	// The peer's commands (rolePeer). Replies carry -errno in Status.
	caPeerKeep    // keep the handles: [n, then idx, type, rights, badge, object for each]
	caPeerCount   // [how many kept handles still name something]
	caPeerSignal  // [idx, bits]: notify signal through kept[idx]
	caPeerInfo    // [idx] -> [type, rights, badge, object, handle value]
	caPeerGive    // [k, idx...]: the reply carries those kept handles (moved; kept[idx] keeps the dead value)
	caPeerDup     // [idx, rights] -> [new idx]
	caPeerFill    // dup its endpoint until the table is full -> [count], Status the errno that stopped it
	caPeerUnfill  // close what Fill made
	caPeerHang    // keep the handles and the call: no reply until Release
	caPeerRelease // reply to the hung calls
	caPeerExit    // exit without replying
	caPeerSleep   // [ms]: reply, then do not receive for ms
	caPeerMap     // [idx, prot]: map kept[idx] -> [addr, size]
	caPeerSum     // [checksum of the mapping]
	caPeerUnmap   // unmap the mapping
	caPeerClose   // [idx]: close kept[idx]
	caPeerClient  // the reply carries a new Write|Grant copy of its endpoint
)

// roleCapsSleep waits to be killed.
func roleCapsSleep([]string) int {
	for {
		time.Sleep(time.Hour)
	}
}

// roleCapsSender holds [endpoint client, notification x]: it signals x
// (showing it holds it), then calls the endpoint sending x, and waits in
// that call to be killed.
func roleCapsSender([]string) int {
	hs := libos.InitialHandles()
	if len(hs) != 2 {
		fmt.Printf("attacks: caps-sender: handles %v\n", hs)
		return 10
	}
	if e := caSignal(hs[1], 1); e != 0 {
		fmt.Printf("attacks: caps-sender: signal: %s\n", caName(e))
		return 11
	}
	req, rep := new(ipc.Message), new(ipc.Message)
	req.Label, req.NHandles, req.Handles[0] = caLabelEcho, 1, hs[1]
	e := caCall(hs[0], req, rep)
	fmt.Printf("attacks: caps-sender: the call returned: %s\n", caName(e))
	return 12
}

// ---- the revoked clients

// roleCapsHammer calls its one endpoint handle from several threads, each
// locked to a kernel thread of its own. "count N": every thread makes N
// calls that must all succeed. "until-revoked": every thread calls until
// its call fails, which must be EBADF or ESTALE, after at least one call
// succeeded overall; then every use of the handle must fail.
func roleCapsHammer(args []string) int {
	hs := libos.InitialHandles()
	if len(hs) != 1 || len(args) != 3 {
		return 10
	}
	h := hs[0]
	mode := args[0]
	threads, _ := strconv.Atoi(args[1])
	calls, _ := strconv.Atoi(args[2])
	type result struct {
		ok  int
		err syscall.Errno
		bad string
	}
	res := make([]result, threads)
	var wg sync.WaitGroup
	for t := 0; t < threads; t++ {
		wg.Add(1)
		go func(t int) {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			req, rep := new(ipc.Message), new(ipc.Message)
			for i := 0; i < calls; i++ {
				req.Header = ipc.Header{Label: caLabelEcho}
				seq := uint64(t)<<32 | uint64(i)
				caPut(req, seq, ^seq)
				if e := caCall(h, req, rep); e != 0 {
					res[t].err = e
					return
				}
				if rep.Label != caLabelEcho+1 || caWord(rep, 1) != seq || caWord(rep, 2) != ^seq {
					res[t].bad = fmt.Sprintf("call %d: reply label %#x words %#x %#x, want %#x", i, rep.Label, caWord(rep, 1), caWord(rep, 2), seq)
					return
				}
				res[t].ok++
			}
		}(t)
	}
	wg.Wait()
	total := 0
	for t, r := range res {
		total += r.ok
		if r.bad != "" {
			fmt.Printf("attacks: caps-hammer %s: thread %d: %s\n", mode, t, r.bad)
			return 11
		}
		switch {
		case mode == "count" && r.err != 0:
			fmt.Printf("attacks: caps-hammer: thread %d: call %d failed: %s\n", t, r.ok, caName(r.err))
			return 12
		case mode == "until-revoked" && r.err != syscall.EBADF && r.err != syscall.ESTALE:
			fmt.Printf("attacks: caps-hammer until-revoked: thread %d: after %d calls: %s, want EBADF or ESTALE\n", t, r.ok, caName(r.err))
			return 13
		}
	}
	if mode == "until-revoked" {
		if total == 0 {
			fmt.Println("attacks: caps-hammer: revoked before any call went through")
			return 14
		}
		if err := caAllRefused(h); err != nil {
			fmt.Printf("attacks: caps-hammer: %v\n", err)
			return 15
		}
	}
	return 0
}

// caAllRefused checks that a revoked handle is dead for every use.
func caAllRefused(h ipc.Handle) error {
	n, _ := caNotification()
	defer caClose(n)
	for _, op := range caOps(h, n, 0, nil) {
		if op.name == "a handle at proc spawn" || op.name == "a handle in a call" ||
			op.name == "notify bind (the notification)" || op.name == "proc notify (the notification)" {
			continue // they use the other arguments' handles, which are h itself here
		}
		if err := caProbe(op, h, "the revoked handle", syscall.EBADF, syscall.ESTALE); err != nil {
			return err
		}
	}
	return nil
}

// roleCapsBlocked makes one call that the server holds (it revokes the
// handle meanwhile, then answers), then checks every later use fails.
func roleCapsBlocked([]string) int {
	hs := libos.InitialHandles()
	if len(hs) != 1 {
		return 10
	}
	req, rep := new(ipc.Message), new(ipc.Message)
	req.Label = caLabelHang
	e := caCall(hs[0], req, rep)
	switch {
	case e == 0 && rep.Label != caLabelHang+1:
		fmt.Printf("attacks: caps-blocked: the held call's reply has label %#x\n", rep.Label)
		return 11
	case e != 0 && e != syscall.EBADF && e != syscall.ESTALE:
		fmt.Printf("attacks: caps-blocked: the held call: %s\n", caName(e))
		return 12
	}
	if err := caAllRefused(hs[0]); err != nil {
		fmt.Printf("attacks: caps-blocked: %v\n", err)
		return 13
	}
	fmt.Printf("attacks: caps-revoked: the call in flight at the revocation returned %s; every later use failed\n", caName(e))
	return 0
}

// roleCapsEscalate holds [Signal|Grant notification, Read|Map|Grant
// memory, Write|Grant|Duplicate endpoint with badge 5] and tries to do
// more with them than that.
func roleCapsEscalate([]string) int {
	hs := libos.InitialHandles()
	if len(hs) != 3 {
		fmt.Printf("attacks: caps-escalate child: handles %v\n", hs)
		return 10
	}
	n, mem, ep := hs[0], hs[1], hs[2]
	fail := func(err error) int {
		fmt.Printf("attacks: caps-escalate child: %v\n", err)
		return 11
	}
	for _, c := range []struct {
		what   string
		h      ipc.Handle
		typ    uint32
		rights ipc.Rights
		badge  uint64
	}{
		{"the notification", n, ipc.TypeNotification, ipc.RightSignal | ipc.RightGrant, 0},
		{"the memory object", mem, ipc.TypeMemory, ipc.RightRead | ipc.RightMap | ipc.RightGrant, 0},
		{"the endpoint", ep, ipc.TypeEndpoint, ipc.RightWrite | ipc.RightGrant | ipc.RightDuplicate, 5},
	} {
		info, e := caInfo(c.h)
		if e != 0 || info.Type != c.typ || info.Rights != c.rights || info.Badge != c.badge {
			return fail(fmt.Errorf("%s: %+v %s, want type %d rights %#x badge %d", c.what, info, caName(e), c.typ, c.rights, c.badge))
		}
	}
	for _, c := range []struct {
		what string
		run  func() syscall.Errno
		want syscall.Errno
	}{
		{"dup of the notification (no Duplicate)", func() syscall.Errno { _, e := caDup(n, ipc.RightSignal, 0); return e }, syscall.EACCES},
		{"dup of the memory object (no Duplicate)", func() syscall.Errno { _, e := caDup(mem, ipc.RightRead, 0); return e }, syscall.EACCES},
		{"revoke of the notification", func() syscall.Errno { _, e := caRevoke(n); return e }, syscall.EACCES},
		{"revoke of the endpoint", func() syscall.Errno { _, e := caRevoke(ep); return e }, syscall.EACCES},
		{"wait on the notification (no Read)", func() syscall.Errno { _, e := caPoll(n); return e }, syscall.EACCES},
		{"bind of the notification", func() syscall.Errno { return caBind(n, ep) }, syscall.EACCES},
		{"mem map writable", func() syscall.Errno { _, e := caMap(mem, 0, syscall.PROT_READ|syscall.PROT_WRITE, 0); return e }, syscall.EACCES},
		{"mem map write-only", func() syscall.Errno { _, e := caMap(mem, 0, syscall.PROT_WRITE, 0); return e }, syscall.EACCES},
		{"reply through the endpoint (no Read)", func() syscall.Errno { return caReply(ep, caBogusToken, new(ipc.Message)) }, syscall.EACCES},
		{"dup of the endpoint with another badge", func() syscall.Errno { _, e := caDup(ep, ipc.RightWrite, 6); return e }, syscall.EINVAL},
		{"dup of the endpoint with Read", func() syscall.Errno { _, e := caDup(ep, ipc.RightWrite|ipc.RightRead, 0); return e }, syscall.EINVAL},
		{"dup of the endpoint with Manage", func() syscall.Errno { _, e := caDup(ep, ipc.RightManage, 0); return e }, syscall.EINVAL},
	} {
		if err := caWant(c.what, c.run(), c.want); err != nil {
			return fail(err)
		}
	}
	if e, done := caWithin(3*time.Second, func() syscall.Errno { _, e := caRecv(ep, new(ipc.Message)); return e }); !done || e != syscall.EACCES {
		return fail(fmt.Errorf("recv through the endpoint (no Read): %s (returned: %v), want EACCES", caName(e), done))
	}
	// What it may do, it can.
	if e := caSignal(n, 1<<4); e != 0 {
		return fail(fmt.Errorf("signal: %s", caName(e)))
	}
	va, e := caMap(mem, 0, syscall.PROT_READ, 0)
	if e != 0 {
		return fail(fmt.Errorf("mem map readable: %s", caName(e)))
	}
	caMunmap(va, 2*mrPage)
	d, e := caDup(ep, ipc.RightWrite, 0)
	if e != 0 {
		return fail(fmt.Errorf("dup of the endpoint: %s", caName(e)))
	}
	for _, h := range []ipc.Handle{ep, d} {
		rep, e := caCallWith(h, caLabelEcho, nil, 42)
		if e != 0 || caWord(rep, 0) != 5 || caWord(rep, 1) != 42 {
			return fail(fmt.Errorf("a call through %#x: %s, the server saw badge %d", uint64(h), caName(e), caWord(rep, 0)))
		}
	}
	return 0
}

// roleCapsMemCreator (args: size, seed) creates a memory object, maps it,
// fills it, sends a Read|Map copy to the test in its hello call, closes
// every handle it has, writes a marker through its mapping (which stays),
// and exits.
func roleCapsMemCreator(args []string) int {
	hs := libos.InitialHandles()
	if len(hs) != 1 || len(args) != 2 {
		return 10
	}
	size, _ := strconv.ParseUint(args[0], 0, 64)
	seed, _ := strconv.ParseUint(args[1], 0, 64)
	mem, e := caMemory(size)
	if e != 0 {
		fmt.Printf("attacks: caps-mem-creator: mem create: %s\n", caName(e))
		return 11
	}
	va, e := caMap(mem, 0, syscall.PROT_READ|syscall.PROT_WRITE, 0)
	if e != 0 {
		fmt.Printf("attacks: caps-mem-creator: mem map: %s\n", caName(e))
		return 12
	}
	ws := caWords(va, uintptr(size))
	caFill(ws, seed)
	ro, _ := caDup(mem, ipc.RightRead|ipc.RightMap|ipc.RightGrant, 0)
	if _, e := caCallWith(hs[0], caLabelHello, []ipc.Handle{ro}); e != 0 {
		fmt.Printf("attacks: caps-mem-creator: hello: %s\n", caName(e))
		return 13
	}
	caClose(mem)
	caClose(hs[0])
	if err := caCheck("caps-mem-creator: its mapping after closing its handles", ws, seed, nil); err != nil {
		fmt.Printf("attacks: %v\n", err)
		return 14
	}
	ws[1] = 0xfeed
	return 0
}
