package proc

import (
	"encoding/binary"
	"errors"
	"path"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile"
	"valence.dev/microkernel/mm"
	"valence.dev/microkernel/rt"
)

// vfork creates a child that shares the caller's address space and runs
// until it calls execve or exits, while the caller waits (CLONE_VFORK),
// exactly what os/exec needs. The child starts from the caller's registers
// with RAX 0, on the stack it was given or the caller's.
func vfork(c *call, flags uint64) result {
	if flags&linux.CLONE_PIDFD != 0 {
		return fail(errno.EINVAL)
	}
	parent := c.p
	child, e := newProcess(parent, parent.Name)
	if e != 0 {
		return fail(e) // a process limit (EAGAIN) or no kernel memory (ENOMEM)
	}
	parent.mu.Lock()
	as := parent.as
	child.files = parent.files.Fork()
	child.sigactions = parent.sigactions
	child.args = parent.args
	child.exe = parent.exe
	child.brk = parent.brk
	parent.mu.Unlock()
	as.Retain()
	child.as = as
	child.refusedLog, _ = parent.refusals() // its failed execs count as the parent's
	if flags&linux.CLONE_NEWNS != 0 {
		child.unshareNS()
	}
	done := make(chan struct{})
	child.vforkDone = done

	ctx := rt.NewUserContext(0, 0)
	ctx.Regs = c.t.ctx.Regs
	ctx.FX = c.t.ctx.FX
	ctx.FSBase = c.t.ctx.FSBase
	ctx.Regs.RAX = 0
	if sp := c.arg(1); sp != 0 {
		ctx.Regs.RSP = sp
	}
	t := child.newThread(ctx, true)
	t.mask = c.t.mask
	t.start()
	// The parent sleeps until the child has let go of the memory. As in
	// Linux (TASK_KILLABLE), only a fatal signal ends the wait: the child
	// owns the stack both are using, so the parent must not run on, but
	// it can die (the child keeps the address space alive).
	for {
		c.t.CanBlock()
		select {
		case <-done:
			return ok(uint64(child.PID))
		case <-c.t.intr:
			if c.t.fatalSignalDue() {
				return noReturn() // the thread ends at its next look at the process
			}
		}
	}
}

// readStrings reads a NULL-terminated array of string pointers: at most
// 8192 strings of maxArgs bytes in all, terminators included (E2BIG).
func readStrings(c *call, addr uint64) ([]string, errno.Errno) {
	var out []string
	total := 0
	if addr == 0 {
		return nil, 0
	}
	for i := 0; ; i++ {
		if i > 8192 {
			return nil, errno.E2BIG
		}
		var b [8]byte
		if err := c.as().CopyIn(addr+uint64(i)*8, b[:]); err != nil {
			return nil, errno.EFAULT
		}
		p := binary.LittleEndian.Uint64(b[:])
		if p == 0 {
			return out, 0
		}
		// A string that does not end within what is left of the limit
		// makes the whole too long (E2BIG, as on Linux); only a pointer
		// into memory the caller cannot read is EFAULT.
		s, err := c.as().ReadString(p, maxArgs-total)
		if errors.Is(err, mm.ErrInvalid) {
			return nil, errno.E2BIG
		}
		if err != nil {
			return nil, errno.EFAULT
		}
		total += len(s) + 1
		if total > maxArgs {
			return nil, errno.E2BIG
		}
		out = append(out, s)
	}
}

// sysExecve implements execve(2): the process's image is replaced by the
// program at path. On failure the old image is untouched and the call
// returns the error.
func sysExecve(c *call) result {
	file, e := userPath(c, c.arg(0))
	if e != 0 {
		return fail(e)
	}
	argv, e := readStrings(c, c.arg(1))
	if e != 0 {
		return fail(e)
	}
	envp, e := readStrings(c, c.arg(2))
	if e != 0 {
		return fail(e)
	}
	p := c.p
	p.mu.Lock()
	cwd := p.cwd
	p.mu.Unlock()
	img, e, err := load(p.mounts(), c.t, cwd, file, argv, envp)
	if err != nil {
		logRefused(p, "execve", file, e, err)
		return fail(e)
	}
	p.mu.Lock()
	old := p.as
	p.as = img.as
	p.Name = img.name
	p.args = argv
	p.exe = img.path
	p.brk = brkState{start: img.brk, cur: img.brk}
	p.caps = rootCaps // root's, as on Linux (sys_capability.go)
	for s := range p.sigactions {
		if p.sigactions[s].Handler != linux.SIG_IGN {
			p.sigactions[s] = linux.SigAction{}
		}
	}
	for _, t := range p.threads {
		if t != c.t {
			t.execed = true
			t.interrupt()
		}
	}
	files := p.files
	vfork := p.vforkDone
	p.vforkDone = nil
	c.t.altStack = linux.SignalStack{Flags: linux.SS_DISABLE}
	c.t.clearChildTID = 0
	p.mu.Unlock()
	files.CloseOnExec()
	jobMu.Lock()
	p.execed = true // its parent may no longer move it to another group
	jobMu.Unlock()
	old.Release() // destroyed once its threads (this one too) are out of it
	if vfork != nil {
		close(vfork)
	}
	ctx := rt.NewUserContext(img.entry, img.sp)
	ctx.Regs.RFLAGS = 0x202
	c.t.ctx = ctx
	return noReturn()
}

// sysSpawn implements the native spawn call: a new process running path,
// a child of the caller, with the caller's descriptors 0-2.
func sysSpawn(c *call) result {
	file, argv, envp, e := spawnRequest(c)
	if e != 0 {
		return fail(e)
	}
	files := stdFiles(c.p)
	child, err := Spawn(c.p, file, argv, envp, files)
	if err != nil {
		files.CloseAll()
		if se, isSpawn := err.(*SpawnError); isSpawn {
			logRefused(c.p, "spawn", file, se.Errno, se.Err)
		}
		return fail(spawnErrno(err))
	}
	return ok(uint64(child.PID))
}

// spawnRequest reads the path, argv and envp arguments (0-2) of a spawn
// call; an empty argv becomes the program's base name.
func spawnRequest(c *call) (string, []string, []string, errno.Errno) {
	file, e := userPath(c, c.arg(0))
	if e != 0 {
		return "", nil, nil, e
	}
	argv, e := readStrings(c, c.arg(1))
	if e != 0 {
		return "", nil, nil, e
	}
	envp, e := readStrings(c, c.arg(2))
	if e != 0 {
		return "", nil, nil, e
	}
	if len(argv) == 0 {
		argv = []string{path.Base(file)}
	}
	return file, argv, envp, 0
}

// stdFiles gives a new child p's descriptors 0-2 and nothing else.
func stdFiles(p *Process) *kfile.FDTable {
	files := kfile.NewFDTable()
	t := p.fdTable()
	for fd := int32(0); fd < 3; fd++ {
		if of, found := t.Get(fd); found {
			files.InstallAt(of, fd, false)
		}
	}
	return files
}

// spawnErrno is the errno for a failed spawn.
func spawnErrno(err error) errno.Errno {
	if se, isSpawn := err.(*SpawnError); isSpawn {
		return se.Errno
	}
	return capErrno(err)
}

// sysKillNative implements the native kill call: the caller may end its
// descendants (SIGKILL semantics for any signal that is not caught).
func sysKillNative(c *call) result {
	pid, sig := int(c.i32(0)), c.iarg(1)
	if !validSignal(sig) {
		return fail(errno.EINVAL)
	}
	target, found := Lookup(pid)
	if !found || target == nil {
		return fail(errno.ESRCH)
	}
	if !target.descendantOf(c.p) {
		return fail(errno.EPERM)
	}
	target.postProcessSignalFrom(linux.Signal(sig), sigDetail{code: linux.SI_USER, pid: int32(c.p.PID)})
	return ok0()
}

func (p *Process) descendantOf(a *Process) bool {
	for q := p; q != nil; {
		q.mu.Lock()
		parent := q.parent
		q.mu.Unlock()
		if parent == a {
			return true
		}
		q = parent
	}
	return false
}

// sysMemInfo implements the native meminfo call.
func sysMemInfo(c *call) result {
	fl := mm.Lock()
	s := mm.FrameStats()
	mm.Unlock(fl)
	var b [64]byte
	binary.LittleEndian.PutUint64(b[0:], s.Managed*mm.PageSize)
	binary.LittleEndian.PutUint64(b[8:], s.Free*mm.PageSize)
	binary.LittleEndian.PutUint64(b[16:], uint64(mm.UserFrames())*mm.PageSize)
	binary.LittleEndian.PutUint64(b[24:], uint64(c.as().Pages())*mm.PageSize)
	binary.LittleEndian.PutUint64(b[32:], mm.HeapCommitted())
	binary.LittleEndian.PutUint64(b[40:], kernelLive())
	binary.LittleEndian.PutUint64(b[48:], mm.ReserveBytes())
	binary.LittleEndian.PutUint64(b[56:], c.p.charge())
	// arg 1 is the caller's sizeof(ipc.MemInfo); 0 is the first four
	// fields, all that programs built before the others knew.
	n := c.arg(1)
	if n == 0 {
		n = 32
	}
	return copyOutStruct(c, c.arg(0), b[:min(n, uint64(len(b)))])
}
