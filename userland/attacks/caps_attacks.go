package main

// The capability attack suite (docs/capabilities.md): forged, stale,
// escalated, revoked, transferred and memory-mapped capabilities. Each
// test plays the attacker with raw system calls, checks the exact errno
// the documentation promises, and then checks that nothing changed: the
// handles it holds still name what they named, no notification got bits,
// no process died, no call was queued, no slot of the handle table was
// taken or freed.
//
// This file has the helpers and caps-forged, caps-stale and
// caps-escalate; caps_moves.go has caps-revoked, caps-transfer and
// caps-mapped; caps_roles.go the child processes they start.

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"valence.dev/ipc"
	"valence.dev/libos"
)

func init() {
	addTest("caps-forged", testCapsForged)
	addTest("caps-stale", testCapsStale)
	addTest("caps-escalate", testCapsEscalate)
	addTest("caps-revoked", testCapsRevoked)
	addTest("caps-transfer", testCapsTransfer)
	addTest("caps-mapped", testCapsMapped)
}

// Rights of a process handle as ProcSpawn returns it (sys_proc.go).
const caProcRights = ipc.RightRead | ipc.RightSignal | ipc.RightGrant | ipc.RightDuplicate | ipc.RightManage

// caBogusToken is a reply token no call has.
const caBogusToken = 0x7fff_fff0_1234_5678

// caNotErrno stands for an error that is not an errno.
const caNotErrno = ^syscall.Errno(0)

// ---- raw calls: each passes its pointers inline to syscall.Syscall6, so
// the compiler keeps the buffers alive and in place.

func caDup(h ipc.Handle, rights ipc.Rights, badge uint64) (ipc.Handle, syscall.Errno) {
	r, _, e := syscall.Syscall(ipc.SysHandleDup, uintptr(h), uintptr(rights), uintptr(badge))
	return ipc.Handle(r), e
}

func caClose(h ipc.Handle) syscall.Errno {
	_, _, e := syscall.Syscall(ipc.SysHandleClose, uintptr(h), 0, 0)
	return e
}

func caRevoke(h ipc.Handle) (int, syscall.Errno) {
	r, _, e := syscall.Syscall(ipc.SysHandleRevoke, uintptr(h), 0, 0)
	return int(r), e
}

func caInfo(h ipc.Handle) (ipc.HandleInfo, syscall.Errno) {
	info := new(ipc.HandleInfo)
	_, _, e := syscall.Syscall(ipc.SysHandleInfo, uintptr(h), uintptr(unsafe.Pointer(info)), 0)
	return *info, e
}

func caCall(h ipc.Handle, req, rep *ipc.Message) syscall.Errno {
	_, _, e := syscall.Syscall(ipc.SysCall, uintptr(h), uintptr(unsafe.Pointer(req)), uintptr(unsafe.Pointer(rep)))
	return e
}

func caRecv(h ipc.Handle, m *ipc.Message) (uint64, syscall.Errno) {
	r, _, e := syscall.Syscall(ipc.SysRecv, uintptr(h), uintptr(unsafe.Pointer(m)), 0)
	return uint64(r), e
}

func caReply(h ipc.Handle, token uint64, m *ipc.Message) syscall.Errno {
	_, _, e := syscall.Syscall(ipc.SysReply, uintptr(h), uintptr(token), uintptr(unsafe.Pointer(m)))
	return e
}

func caReplyRecv(h ipc.Handle, token uint64, rep, m *ipc.Message) (uint64, syscall.Errno) {
	r, _, e := syscall.Syscall6(ipc.SysReplyRecv, uintptr(h), uintptr(token), uintptr(unsafe.Pointer(rep)), uintptr(unsafe.Pointer(m)), 0, 0)
	return uint64(r), e
}

func caNotification() (ipc.Handle, syscall.Errno) {
	r, _, e := syscall.Syscall(ipc.SysNotifyCreate, 0, 0, 0)
	return ipc.Handle(r), e
}

func caEndpoint() (ipc.Handle, syscall.Errno) {
	r, _, e := syscall.Syscall(ipc.SysEndpointCreate, 0, 0, 0)
	return ipc.Handle(r), e
}

func caMemory(size uint64) (ipc.Handle, syscall.Errno) {
	r, _, e := syscall.Syscall(ipc.SysMemCreate, uintptr(size), 0, 0)
	return ipc.Handle(r), e
}

func caSignal(h ipc.Handle, bits uint64) syscall.Errno {
	_, _, e := syscall.Syscall(ipc.SysNotifySignal, uintptr(h), uintptr(bits), 0)
	return e
}

// caPoll takes a notification's bits without blocking (EAGAIN: none).
func caPoll(h ipc.Handle) (uint64, syscall.Errno) {
	r, _, e := syscall.Syscall(ipc.SysNotifyWait, uintptr(h), 1, 0)
	return uint64(r), e
}

func caBind(n, ep ipc.Handle) syscall.Errno {
	_, _, e := syscall.Syscall(ipc.SysNotifyBind, uintptr(n), uintptr(ep), 0)
	return e
}

func caMap(h ipc.Handle, addr uintptr, prot, flags int) (uintptr, syscall.Errno) {
	r, _, e := syscall.Syscall6(ipc.SysMemMap, uintptr(h), addr, uintptr(prot), uintptr(flags), 0, 0)
	return r, e
}

func caMunmap(addr, length uintptr) syscall.Errno {
	_, _, e := syscall.Syscall(syscall.SYS_MUNMAP, addr, length, 0)
	return e
}

func caKill(h ipc.Handle, sig syscall.Signal) syscall.Errno {
	_, _, e := syscall.Syscall(ipc.SysProcKill, uintptr(h), uintptr(sig), 0)
	return e
}

func caProcWait(h ipc.Handle) (uint32, syscall.Errno) {
	st := new(uint32)
	_, _, e := syscall.Syscall(ipc.SysProcWait, uintptr(h), uintptr(unsafe.Pointer(st)), 0)
	return *st, e
}

func caProcNotify(h, n ipc.Handle, bits uint64) syscall.Errno {
	_, _, e := syscall.Syscall(ipc.SysProcNotify, uintptr(h), uintptr(n), uintptr(bits))
	return e
}

func caEssential(h ipc.Handle, on bool) syscall.Errno {
	v := uintptr(0)
	if on {
		v = 1
	}
	_, _, e := syscall.Syscall(ipc.SysProcEssential, uintptr(h), v, 0)
	return e
}

// caWaitNoHang is SysWait(any child, WaitNoHang): a reaped child's pid, 0
// if children are still running, ECHILD if there are none.
func caWaitNoHang() (int, syscall.Errno) {
	r, _, e := syscall.Syscall(ipc.SysWait, 0, 0, ipc.WaitNoHang)
	return int(r), e
}

// caErrno is the errno an error from libos carries.
func caErrno(err error) syscall.Errno {
	if err == nil {
		return 0
	}
	var e syscall.Errno
	if errors.As(err, &e) {
		return e
	}
	return caNotErrno
}

// caSpawn starts this program in a capability role holding exactly hs.
func caSpawn(role string, args []string, hs []ipc.Handle) (ipc.Handle, int, syscall.Errno) {
	argv := append([]string{"attacks", "role", role}, args...)
	ph, pid, err := libos.ProcSpawn(self(), argv, nil, hs)
	return ph, pid, caErrno(err)
}

// caEnd waits (at most d) for a child started with caSpawn to end,
// killing it first if kill, reaps it and closes its handle. It returns
// its wait status.
func caEnd(ph ipc.Handle, pid int, kill bool, d time.Duration) (syscall.WaitStatus, error) {
	if kill {
		caKill(ph, syscall.SIGKILL)
	}
	var st uint32
	e, done := caWithin(d, func() syscall.Errno {
		var e syscall.Errno
		st, e = caProcWait(ph)
		return e
	})
	if !done {
		caKill(ph, syscall.SIGKILL)
		if _, done = caWithin(10*time.Second, func() syscall.Errno { _, e := caProcWait(ph); return e }); !done {
			return 0, fmt.Errorf("child %d did not end, even killed", pid)
		}
		e = syscall.ETIMEDOUT
	}
	var reaped uint32
	syscall.Syscall(ipc.SysWait, uintptr(pid), uintptr(unsafe.Pointer(&reaped)), 0)
	caClose(ph)
	if e == syscall.ETIMEDOUT {
		return syscall.WaitStatus(st), fmt.Errorf("child %d did not end within %v: killed", pid, d)
	}
	if e != 0 {
		return 0, fmt.Errorf("proc wait for child %d: %s", pid, caName(e))
	}
	return syscall.WaitStatus(st), nil
}

// caEndOK waits for a child to exit by itself with status 0.
func caEndOK(what string, ph ipc.Handle, pid int, d time.Duration) error {
	st, err := caEnd(ph, pid, false, d)
	if err != nil {
		return fmt.Errorf("%s: %v", what, err)
	}
	if !st.Exited() || st.ExitStatus() != 0 {
		return fmt.Errorf("%s ended with status %#x (see its output above)", what, uint32(st))
	}
	return nil
}

// caWithin runs f and waits for it at most d: a call that should be
// refused at once but blocks (a forged handle taken for a real one) fails
// the test instead of hanging it.
func caWithin(d time.Duration, f func() syscall.Errno) (syscall.Errno, bool) {
	ch := make(chan syscall.Errno, 1)
	go func() { ch <- f() }()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case e := <-ch:
		return e, true
	case <-t.C:
		return 0, false
	}
}

// caName names an errno the way the documentation does.
func caName(e syscall.Errno) string {
	switch e {
	case 0:
		return "success"
	case caNotErrno:
		return "a non-errno error"
	case syscall.EBADF:
		return "EBADF"
	case syscall.ESTALE:
		return "ESTALE"
	case syscall.EACCES:
		return "EACCES"
	case syscall.EINVAL:
		return "EINVAL"
	case syscall.ENOSPC:
		return "ENOSPC"
	case syscall.EOWNERDEAD:
		return "EOWNERDEAD"
	case syscall.EMSGSIZE:
		return "EMSGSIZE"
	case syscall.EAGAIN:
		return "EAGAIN"
	case syscall.EPERM:
		return "EPERM"
	case syscall.EFAULT:
		return "EFAULT"
	case syscall.EINTR:
		return "EINTR"
	case syscall.ENOMEM:
		return "ENOMEM"
	case syscall.ETIMEDOUT:
		return "no answer"
	}
	return fmt.Sprintf("errno %d (%v)", uintptr(e), e)
}

// caWant checks that got is one of want.
func caWant(what string, got syscall.Errno, want ...syscall.Errno) error {
	for _, w := range want {
		if got == w {
			return nil
		}
	}
	names := make([]string, len(want))
	for i, w := range want {
		names[i] = caName(w)
	}
	return fmt.Errorf("%s: %s, want %s", what, caName(got), strings.Join(names, " or "))
}

func caSlot(h ipc.Handle) uint32 { return uint32(h) }
func caGen(h ipc.Handle) uint32  { return uint32(h >> 32) }
func caHandle(slot, gen uint32) ipc.Handle {
	return ipc.Handle(uint64(gen)<<32 | uint64(slot))
}

// caSame checks that h still names what before described.
func caSame(what string, h ipc.Handle, before ipc.HandleInfo) error {
	now, e := caInfo(h)
	if e != 0 {
		return fmt.Errorf("%s (%#x) is gone: handle info: %s", what, uint64(h), caName(e))
	}
	if now != before {
		return fmt.Errorf("%s (%#x) changed: %+v, was %+v", what, uint64(h), now, before)
	}
	return nil
}

// caGone checks that h names nothing any more.
func caGone(what string, h ipc.Handle) error {
	_, e := caInfo(h)
	return caWant(fmt.Sprintf("%s (%#x): handle info", what, uint64(h)), e, syscall.EBADF, syscall.ESTALE)
}

// caNoBits checks that notification n has no bits.
func caNoBits(what string, n ipc.Handle) error {
	bits, e := caPoll(n)
	if e == syscall.EAGAIN {
		return nil
	}
	if e != 0 {
		return fmt.Errorf("%s: notify wait: %s", what, caName(e))
	}
	return fmt.Errorf("%s got bits %#x", what, bits)
}

// caBits checks that notification n has exactly bits (and clears them).
func caBits(what string, n ipc.Handle, want uint64) error {
	bits, e := caPoll(n)
	if e != 0 || bits != want {
		return fmt.Errorf("%s: bits %#x (%s), want %#x", what, bits, caName(e), want)
	}
	return nil
}

// caDerived reports how many capabilities derived from root exist, in any
// process, by revoking them (root needs RightManage): 0 proves a
// capability derived from it is gone everywhere.
func caDerived(root ipc.Handle) (int, error) {
	n, e := caRevoke(root)
	if e != 0 {
		return 0, fmt.Errorf("revoke %#x: %s", uint64(root), caName(e))
	}
	return n, nil
}

// caFreeTop creates and closes a notification: the returned value names
// the slot the next new handle takes (the kernel keeps its free slots on a
// stack, caps/table.go) with the generation before its next use.
// caCheckFreeTop later checks that no handle was created or closed in
// between. If slots are not reused that way (a kernel that changed its
// policy) it returns 0 and the check is skipped.
func caFreeTop() (ipc.Handle, error) {
	var hs [2]ipc.Handle
	for i := range hs {
		h, e := caNotification()
		if e != 0 {
			return 0, fmt.Errorf("notify create: %s", caName(e))
		}
		caClose(h)
		hs[i] = h
	}
	if hs[1] != caHandle(caSlot(hs[0]), caGen(hs[0])+1) {
		return 0, nil
	}
	return hs[1], nil
}

func caCheckFreeTop(what string, top ipc.Handle) error {
	if top == 0 {
		return nil
	}
	h, e := caNotification()
	if e != 0 {
		return fmt.Errorf("notify create: %s", caName(e))
	}
	caClose(h)
	if want := caHandle(caSlot(top), caGen(top)+1); h != want {
		return fmt.Errorf("%s: a new handle is %#x, want %#x: the handle table changed (a handle was made or removed)", what, uint64(h), uint64(want))
	}
	return nil
}

// caReuse closes old and creates objects with create until one takes
// old's slot (with a later generation), and returns it; the others it made
// are closed.
func caReuse(old ipc.Handle, create func() (ipc.Handle, syscall.Errno)) (ipc.Handle, error) {
	if e := caClose(old); e != 0 {
		return 0, fmt.Errorf("close %#x: %s", uint64(old), caName(e))
	}
	var extra []ipc.Handle
	defer func() {
		for _, h := range extra {
			caClose(h)
		}
	}()
	for i := 0; i < 64; i++ {
		h, e := create()
		if e != 0 {
			return 0, fmt.Errorf("creating an object to reuse slot %d: %s", caSlot(old), caName(e))
		}
		if caSlot(h) == caSlot(old) {
			if caGen(h) <= caGen(old) {
				return 0, fmt.Errorf("slot %d reused with generation %d after %d: a closed handle names the new object", caSlot(old), caGen(h), caGen(old))
			}
			return h, nil
		}
		extra = append(extra, h)
	}
	return 0, fmt.Errorf("slot %d was not reused in 64 creations", caSlot(old))
}

// Message data are little-endian 64-bit words.
func caPut(m *ipc.Message, ws ...uint64) {
	m.DataLen = uint32(8 * len(ws))
	for i, w := range ws {
		binary.LittleEndian.PutUint64(m.Data[8*i:], w)
	}
}

func caWord(m *ipc.Message, i int) uint64 {
	if 8*i+8 > int(m.DataLen) || 8*i+8 > len(m.Data) {
		return 0
	}
	return binary.LittleEndian.Uint64(m.Data[8*i:])
}

// caStatus is the errno a peer reports in a reply's Status.
func caStatus(m *ipc.Message) syscall.Errno { return syscall.Errno(-m.Status) }

// ---- the operations that take a handle

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
