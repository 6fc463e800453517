package proc

import (
	"encoding/binary"
	"fmt"
	"strings"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/ipc"
	"valence.dev/microkernel/mm/vma"
	"valence.dev/microkernel/obj"
)

// sysMemCreate implements valence_mem_create(size): a zeroed memory object.
func sysMemCreate(c *call) result {
	m, e := c.p.newMemoryObject(c.arg(0))
	if e != 0 {
		return fail(e) // ENOMEM: the creator's memory-object limit, or no memory
	}
	r := insert(c, m, ipc.RightsAll)
	if r.err != 0 {
		m.CapsGone()
	}
	return r
}

// sysMemMap implements valence_mem_map(h, addr, prot, flags) -> addr: map
// the whole object, with at most the rights the handle carries (reading
// needs RightRead, writing RightWrite, executing RightRead; all need
// RightMap). flags&MAP_FIXED places it exactly at addr. The mapping keeps
// the most the handle allowed as its maximum protection, which mprotect
// never exceeds (EACCES).
func sysMemMap(c *call) result {
	prot := c.arg(2)
	need := ipc.RightMap
	if prot&linux.PROT_WRITE != 0 {
		need |= ipc.RightWrite
	}
	if prot&(linux.PROT_READ|linux.PROT_EXEC) != 0 {
		need |= ipc.RightRead
	}
	if prot&^protMask != 0 {
		return fail(errno.EINVAL)
	}
	m, cp, e := lookup[*obj.Memory](c, 0, need)
	if e != 0 {
		return fail(e)
	}
	max := memMaxProt(cp.Rights)
	if m.Device {
		max &^= vma.Exec // registers are never code
		if protOf(prot)&vma.Exec != 0 {
			return fail(errno.EACCES)
		}
	}
	frames, release, live := m.Frames()
	if !live {
		return fail(errno.EBADF)
	}
	va, err := c.as().MapShared(c.arg(1), frames, protOf(prot), max, c.arg(3)&linux.MAP_FIXED != 0, m.Device, release)
	if err != nil {
		release()
		return fail(toErrno(err))
	}
	return ok(va)
}

// memMaxProt is the most a mapping made through a memory capability with
// rights may ever allow: RightRead lets it be read and executed,
// RightWrite written (and so read: x86 has no write-only pages).
func memMaxProt(rights ipc.Rights) vma.Prot {
	var p vma.Prot
	if rights&ipc.RightRead != 0 {
		p |= vma.Read | vma.Exec
	}
	if rights&ipc.RightWrite != 0 {
		p |= vma.Write | vma.Read
	}
	return p
}

// Process handles. A process handle lets its holder wait for the process
// (RightRead), kill it (RightSignal) and ask for a death notification
// (RightRead).

// sysProcSpawn implements valence_proc_spawn(path, argv, envp, handles,
// nhandles, pid *int32) -> process handle. The child starts with exactly
// the listed handles (each needs RightGrant; the child gets a derived copy,
// so the parent can revoke it) and the caller's descriptors 0-2; the list
// of its handle values is in its environment as VALENCE_HANDLES.
//
// Everything is decoded before anything is made: the strings, the handles
// (granted all at once, or none), the pid pointer (written with 0 first,
// and with the pid before the child's first thread exists) and the room
// for the process handle. A refused spawn starts no child.
func sysProcSpawn(c *call) result {
	file, argv, envp, e := spawnRequest(c)
	if e != 0 {
		return fail(e)
	}
	n := c.arg(4)
	if n > 64 {
		return fail(errno.EINVAL)
	}
	hs := make([]ipc.Handle, n)
	if n > 0 {
		b := make([]byte, 8*n)
		if err := c.as().CopyIn(c.arg(3), b); err != nil {
			return fail(errno.EFAULT)
		}
		for i := range hs {
			hs[i] = ipc.Handle(binary.LittleEndian.Uint64(b[8*i:]))
		}
	}
	t := c.p.table()
	for _, h := range hs {
		if _, err := t.Lookup(h, ipc.RightGrant); err != nil {
			return fail(capErrno(err))
		}
	}
	pidAddr := c.arg(5)
	putPID := func(pid int) error {
		if pidAddr == 0 {
			return nil
		}
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(pid))
		if err := c.as().CopyOut(pidAddr, b[:]); err != nil {
			return &SpawnError{Errno: errno.EFAULT, Err: err}
		}
		return nil
	}
	if putPID(0) != nil {
		return fail(errno.EFAULT)
	}
	if t.Len() >= t.Limit() {
		return fail(errno.ENOSPC) // no room for the process handle
	}
	files := stdFiles(c.p)
	child, err := spawnWith(c.p, file, argv, envp, files, func(child *Process) ([]string, error) {
		nhs, err := t.GrantAll(hs, child.handles)
		if err != nil {
			return nil, err
		}
		vals := make([]string, len(nhs))
		for i, nh := range nhs {
			vals[i] = fmt.Sprintf("%#x", uint64(nh))
		}
		return []string{"VALENCE_HANDLES=" + strings.Join(vals, ",")}, nil
	}, func(child *Process) error {
		// Written again in case another thread unmapped it meanwhile: a
		// caller that cannot learn the pid gets no child.
		return putPID(child.PID)
	})
	if err != nil {
		files.CloseAll()
		if se, isSpawn := err.(*SpawnError); isSpawn {
			logRefused(c.p, "proc-spawn", file, se.Errno, se.Err)
		}
		return fail(spawnErrno(err))
	}
	ph, err := t.Insert(child, ipc.RightRead|ipc.RightSignal|ipc.RightGrant|ipc.RightDuplicate|ipc.RightManage, 0)
	if err != nil {
		// Only another thread of the caller can have filled the table
		// since the check above; the child, just started, is killed.
		child.Kill(linux.SIGKILL)
		return fail(capErrno(err))
	}
	return ok(uint64(ph))
}

// sysProcKill implements valence_proc_kill(h, signal).
func sysProcKill(c *call) result {
	p, _, e := lookup[*Process](c, 0, ipc.RightSignal)
	if e != 0 {
		return fail(e)
	}
	sig := c.iarg(1)
	if !validSignal(sig) {
		return fail(errno.EINVAL)
	}
	p.postProcessSignalFrom(linux.Signal(sig), sigDetail{code: linux.SI_USER, pid: int32(c.p.PID)})
	return ok0()
}

// sysProcWait implements valence_proc_wait(h, status *uint32): block until
// the process ends and report its wait(2) status. Unlike wait4 it works
// for any process the caller holds a handle to, and does not reap it.
func sysProcWait(c *call) result {
	p, _, e := lookup[*Process](c, 0, ipc.RightRead)
	if e != 0 {
		return fail(e)
	}
	if !c.t.CanBlock() {
		return fail(errno.EINTR)
	}
	select {
	case <-p.dead:
	case <-c.t.intr:
		return fail(errno.EINTR)
	}
	if a := c.arg(1); a != 0 {
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], p.Status().WaitStatus())
		if err := c.as().CopyOut(a, b[:]); err != nil {
			return fail(errno.EFAULT)
		}
	}
	return ok(uint64(p.PID))
}

// sysProcNotify implements valence_proc_notify(process, notification,
// bits): when the process ends, bits are signalled on the notification
// (at once if it already has).
func sysProcNotify(c *call) result {
	p, _, e := lookup[*Process](c, 0, ipc.RightRead)
	if e != 0 {
		return fail(e)
	}
	n, _, e := lookup[*obj.Notification](c, 1, ipc.RightSignal)
	if e != 0 {
		return fail(e)
	}
	bits := c.arg(2)
	p.mu.Lock()
	select {
	case <-p.dead:
		p.mu.Unlock()
		n.Signal(bits)
		return ok0()
	default:
	}
	// One watch per notification: asking again adds bits rather than an
	// entry. And at most maxHandles watches (ENOSPC): a loop creating
	// notifications to watch with must not grow the kernel's heap.
	for i := range p.deathNotify {
		if p.deathNotify[i].n == n {
			p.deathNotify[i].bits |= bits
			p.mu.Unlock()
			return ok0()
		}
	}
	if len(p.deathNotify) >= maxHandles {
		p.mu.Unlock()
		return fail(errno.ENOSPC)
	}
	p.deathNotify = append(p.deathNotify, deathWatch{n, bits})
	p.mu.Unlock()
	return ok0()
}

type deathWatch struct {
	n    *obj.Notification
	bits uint64
}
