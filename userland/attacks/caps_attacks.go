package main

// The capability attack suite (docs/capabilities.md): forged, stale,
// escalated, revoked, transferred and memory-mapped capabilities. Each
// test plays the attacker with raw system calls, checks the exact errno
// the documentation promises, and then checks that nothing changed: the
// handles it holds still name what they named, no notification got bits,
// no process died, no call was queued, no slot of the handle table was
// taken or freed.
//
// This file has the raw calls and small helpers; caps_probe.go the table
// of handle-taking calls and the nothing-changed checks; caps_forged.go,
// caps_stale.go, caps_escalate.go, caps_revoked.go, caps_transfer.go and
// caps_mapped.go one test each; caps_roles.go the child processes they
// start.

import (
	"encoding/binary"
	"errors"
	"fmt"
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
