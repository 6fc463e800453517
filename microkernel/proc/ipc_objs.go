package proc

import (
	"encoding/binary"
	"fmt"
	"strings"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/ipc"
	"valence.dev/microkernel/obj"
)

// sysMemCreate implements valence_mem_create(size): a zeroed memory object.
func sysMemCreate(c *call) result {
	m, err := obj.NewMemory(c.arg(0))
	if err != nil {
		if err == obj.ErrNoMemory {
			return fail(errno.ENOMEM)
		}
		return fail(errno.EINVAL)
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
// RightMap). flags&MAP_FIXED places it exactly at addr.
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
	m, _, e := lookup[*obj.Memory](c, 0, need)
	if e != 0 {
		return fail(e)
	}
	frames, release, live := m.Frames()
	if !live {
		return fail(errno.EBADF)
	}
	va, err := c.as().MapShared(c.arg(1), frames, protOf(prot), c.arg(3)&linux.MAP_FIXED != 0, release)
	if err != nil {
		release()
		return fail(toErrno(err))
	}
	return ok(va)
}

// Process handles. A process handle lets its holder wait for the process
// (RightRead), kill it (RightSignal) and ask for a death notification
// (RightRead).

// sysProcSpawn implements valence_proc_spawn(path, argv, envp, handles,
// nhandles, pid *int32) -> process handle. The child starts with exactly
// the listed handles (each needs RightGrant; the child gets a derived copy,
// so the parent can revoke it) and the caller's descriptors 0-2; the list
// of its handle values is in its environment as VALENCE_HANDLES.
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
	if c.arg(5) != 0 && !userRange(c.arg(5), 4) {
		return fail(errno.EFAULT)
	}
	files := stdFiles(c.p)
	child, err := spawnWith(c.p, file, argv, envp, files, func(child *Process) ([]string, error) {
		var vals []string
		for _, h := range hs {
			cp, err := t.Info(h)
			if err != nil {
				return nil, err
			}
			nh, err := t.Grant(h, child.handles, cp.Rights)
			if err != nil {
				return nil, err
			}
			vals = append(vals, fmt.Sprintf("%#x", uint64(nh)))
		}
		return []string{"VALENCE_HANDLES=" + strings.Join(vals, ",")}, nil
	})
	if err != nil {
		files.CloseAll()
		return fail(spawnErrno(err))
	}
	ph, err := t.Insert(child, ipc.RightRead|ipc.RightSignal|ipc.RightGrant|ipc.RightDuplicate|ipc.RightManage, 0)
	if err != nil {
		return fail(capErrno(err))
	}
	if c.arg(5) != 0 {
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], uint32(child.PID))
		c.as().CopyOut(c.arg(5), b[:])
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
	if !c.t.canBlock() {
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
	p.deathNotify = append(p.deathNotify, deathWatch{n, bits})
	p.mu.Unlock()
	return ok0()
}

type deathWatch struct {
	n    *obj.Notification
	bits uint64
}
