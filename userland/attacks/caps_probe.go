package main

// Probing helpers of the capability attack suite (caps_attacks.go): the
// table of calls that take a handle, a held call to reply to, and the
// checks that a refused operation changed nothing.

import (
	"errors"
	"fmt"
	"syscall"
	"time"

	"valence.dev/ipc"
)

// caOp is one native call with the handle under test in one argument
// position (the others valid).
type caOp struct {
	name  string
	typ   uint32     // the object type the handle must name; 0: any
	need  ipc.Rights // the rights the call needs of it
	block bool       // would block if the kernel took the handle
	run   func(v ipc.Handle) syscall.Errno
}

// caOps lists every native call that takes a handle; ep, n and ph are
// valid handles for the other arguments (an endpoint nobody serves, a
// notification, a process), and held a call waiting for its reply (nil:
// no reply is tried).
func caOps(ep, n, ph ipc.Handle, held *caHeld) []caOp {
	ops := []caOp{
		{"handle dup", 0, ipc.RightDuplicate, false, func(v ipc.Handle) syscall.Errno {
			h, e := caDup(v, ipc.RightRead, 0)
			if e == 0 {
				caClose(h)
			}
			return e
		}},
		{"handle close", 0, 0, false, caClose},
		{"handle revoke", 0, ipc.RightManage, false, func(v ipc.Handle) syscall.Errno { _, e := caRevoke(v); return e }},
		{"handle info", 0, 0, false, func(v ipc.Handle) syscall.Errno { _, e := caInfo(v); return e }},
		{"call", ipc.TypeEndpoint, ipc.RightWrite, true, func(v ipc.Handle) syscall.Errno {
			req := new(ipc.Message)
			req.Label = 0xca11
			return caCall(v, req, new(ipc.Message))
		}},
		{"recv", ipc.TypeEndpoint, ipc.RightRead, true, func(v ipc.Handle) syscall.Errno {
			_, e := caRecv(v, new(ipc.Message))
			return e
		}},
		{"reply", ipc.TypeEndpoint, ipc.RightRead, false, func(v ipc.Handle) syscall.Errno {
			return caReply(v, caBogusToken, new(ipc.Message))
		}},
		{"reply-recv", ipc.TypeEndpoint, ipc.RightRead, true, func(v ipc.Handle) syscall.Errno {
			_, e := caReplyRecv(v, 0, new(ipc.Message), new(ipc.Message))
			return e
		}},
		{"notify signal", ipc.TypeNotification, ipc.RightSignal, false, func(v ipc.Handle) syscall.Errno { return caSignal(v, 1) }},
		{"notify wait", ipc.TypeNotification, ipc.RightRead, false, func(v ipc.Handle) syscall.Errno { _, e := caPoll(v); return e }},
		{"notify bind (the notification)", ipc.TypeNotification, ipc.RightRead, false, func(v ipc.Handle) syscall.Errno { return caBind(v, ep) }},
		{"notify bind (the endpoint)", ipc.TypeEndpoint, ipc.RightManage, false, func(v ipc.Handle) syscall.Errno { return caBind(n, v) }},
		{"mem map", ipc.TypeMemory, ipc.RightMap | ipc.RightRead, false, func(v ipc.Handle) syscall.Errno {
			va, e := caMap(v, 0, syscall.PROT_READ, 0)
			if e == 0 {
				info, _ := caInfo(v)
				caMunmap(va, uintptr(info.Size))
			}
			return e
		}},
		{"proc kill", ipc.TypeProcess, ipc.RightSignal, false, func(v ipc.Handle) syscall.Errno { return caKill(v, syscall.SIGKILL) }},
		{"proc wait", ipc.TypeProcess, ipc.RightRead, true, func(v ipc.Handle) syscall.Errno { _, e := caProcWait(v); return e }},
		{"proc notify (the process)", ipc.TypeProcess, ipc.RightRead, false, func(v ipc.Handle) syscall.Errno { return caProcNotify(v, n, 1<<40) }},
		{"proc notify (the notification)", ipc.TypeNotification, ipc.RightSignal, false, func(v ipc.Handle) syscall.Errno { return caProcNotify(ph, v, 1<<41) }},
		{"proc essential", ipc.TypeProcess, ipc.RightManage, false, func(v ipc.Handle) syscall.Errno { return caEssential(v, false) }},
		{"a handle in a call", 0, ipc.RightGrant, true, func(v ipc.Handle) syscall.Errno {
			req := new(ipc.Message)
			req.Label, req.NHandles, req.Handles[0] = 0xca12, 1, v
			return caCall(ep, req, new(ipc.Message))
		}},
		{"a handle at proc spawn", 0, ipc.RightGrant, false, func(v ipc.Handle) syscall.Errno {
			h, pid, e := caSpawn("caps-sleep", nil, []ipc.Handle{v})
			if e == 0 {
				caEnd(h, pid, true, 10*time.Second)
			}
			return e
		}},
	}
	if held != nil {
		ops = append(ops, caOp{"a handle in a reply", 0, ipc.RightGrant, false, func(v ipc.Handle) syscall.Errno {
			m := new(ipc.Message)
			m.NHandles, m.Handles[0] = 1, v
			return held.reply(m)
		}})
	}
	return ops
}

// caHeld is a call from a goroutine of ours, received and held: replies
// to it that the kernel refuses must leave it waiting.
type caHeld struct {
	ep, cli ipc.Handle
	tok     uint64
	rep     *ipc.Message
	done    chan syscall.Errno
}

func caHoldCall() (*caHeld, error) {
	ep, e := caEndpoint()
	if e != 0 {
		return nil, fmt.Errorf("endpoint create: %s", caName(e))
	}
	cli, _ := caDup(ep, ipc.RightWrite, 0)
	h := &caHeld{ep: ep, cli: cli, rep: new(ipc.Message), done: make(chan syscall.Errno, 1)}
	go func() {
		req := new(ipc.Message)
		req.Label = caLabelHang
		h.done <- caCall(cli, req, h.rep)
	}()
	m := new(ipc.Message)
	e, done := caWithin(10*time.Second, func() syscall.Errno {
		var e syscall.Errno
		h.tok, e = caRecv(ep, m)
		return e
	})
	if !done || e != 0 || h.tok == 0 || m.Label != caLabelHang {
		return nil, fmt.Errorf("receiving our own call: %s, token %d, label %#x", caName(e), h.tok, m.Label)
	}
	return h, nil
}

// reply answers the held call with m.
func (h *caHeld) reply(m *ipc.Message) syscall.Errno { return caReply(h.ep, h.tok, m) }

// finish checks that the call is still waiting, answers it, and checks
// the caller got exactly that answer.
func (h *caHeld) finish() error {
	defer caClose(h.ep)
	defer caClose(h.cli)
	select {
	case e := <-h.done:
		return fmt.Errorf("the held call ended (%s, reply label %#x) before its answer: a refused reply answered it", caName(e), h.rep.Label)
	default:
	}
	if e := caReply(h.ep, h.tok, &ipc.Message{Header: ipc.Header{Label: 0xf1f1}}); e != 0 {
		return fmt.Errorf("answering the held call: %s: a refused reply answered it", caName(e))
	}
	select {
	case e := <-h.done:
		if e != 0 || h.rep.Label != 0xf1f1 || h.rep.NHandles != 0 {
			return fmt.Errorf("the held call ended with %s, reply label %#x with %d handles, want label 0xf1f1 and none", caName(e), h.rep.Label, h.rep.NHandles)
		}
	case <-time.After(10 * time.Second):
		return errors.New("the held call was answered but its caller never woke")
	}
	return nil
}

// caProbe runs op on v and checks the errno is one of want.
func caProbe(op caOp, v ipc.Handle, what string, want ...syscall.Errno) error {
	var e syscall.Errno
	if op.block {
		var done bool
		if e, done = caWithin(3*time.Second, func() syscall.Errno { return op.run(v) }); !done {
			return fmt.Errorf("%s with %s %#x blocked instead of failing: the kernel took it for a live handle", op.name, what, uint64(v))
		}
	} else {
		e = op.run(v)
	}
	return caWant(fmt.Sprintf("%s with %s %#x", op.name, what, uint64(v)), e, want...)
}

// caServeOnce receives one call (or notification bits) on ep in the
// background; the result arrives on the returned channel.
type caReceived struct {
	token uint64
	msg   *ipc.Message
	err   syscall.Errno
}

func caServeOnce(ep ipc.Handle, reply func(req, rep *ipc.Message)) <-chan caReceived {
	ch := make(chan caReceived, 1)
	go func() {
		m := new(ipc.Message)
		tok, e := caRecv(ep, m)
		if e == 0 && tok != 0 {
			rep := new(ipc.Message)
			reply(m, rep)
			if re := caReply(ep, tok, rep); re != 0 {
				e = re
			}
		}
		ch <- caReceived{tok, m, e}
	}()
	return ch
}

// caQuiet checks that nothing reached endpoint ep (which no one serves):
// no call is queued and no notification is bound to it. n is a
// notification that must not be bound; it is signalled and cleared.
func caQuiet(what string, ep, n ipc.Handle) error {
	if e := caSignal(n, 1<<20); e != 0 {
		return fmt.Errorf("%s: notify signal: %s", what, caName(e))
	}
	got := caServeOnce(ep, func(req, rep *ipc.Message) { rep.Label = req.Label + 1 })
	cli, e := caDup(ep, ipc.RightWrite, 0)
	if e != 0 {
		return fmt.Errorf("%s: dup: %s", what, caName(e))
	}
	defer caClose(cli)
	req, rep := new(ipc.Message), new(ipc.Message)
	req.Label = 0xca0c
	if e, done := caWithin(10*time.Second, func() syscall.Errno { return caCall(cli, req, rep) }); !done || e != 0 {
		return fmt.Errorf("%s: the marker call: %s (returned: %v)", what, caName(e), done)
	}
	r := <-got
	switch {
	case r.err != 0:
		return fmt.Errorf("%s: receive: %s", what, caName(r.err))
	case r.token == 0:
		return fmt.Errorf("%s: the endpoint received notification bits %#x: a notification was bound to it", what, r.msg.Label)
	case r.msg.Label != 0xca0c:
		return fmt.Errorf("%s: the endpoint received a call with label %#x before the marker: a refused call was queued", what, r.msg.Label)
	}
	return caBits(what+": the unbound notification", n, 1<<20)
}

// ---- caps-forged
