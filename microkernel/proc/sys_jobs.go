package proc

import (
	"gvisor.dev/gvisor/pkg/abi/linux/errno"
)

// The process-group and session calls (jobs.go).

// sysSetpgid implements setpgid(2) as Linux does: pid 0 is the caller,
// pgid 0 is pid; the target must be the caller or a child of it in the
// same session that has not called execve since it was created (ESRCH,
// EPERM, EACCES), must not be a session leader (EPERM), and pgid must be
// its own PID or an existing group of the caller's session (EPERM); a
// negative pgid is EINVAL, a thread's ID EINVAL.
func sysSetpgid(c *call) result {
	pid, pgid := int(c.i32(0)), int(c.i32(1))
	if pid == 0 {
		pid = c.p.PID
	}
	if pgid == 0 {
		pgid = pid
	}
	if pgid < 0 {
		return fail(errno.EINVAL)
	}
	target, found := Lookup(pid)
	switch {
	case pid < 0 || !found:
		return fail(errno.ESRCH)
	case target == nil:
		return fail(errno.EINVAL) // a thread, not a process
	}
	target.mu.Lock()
	parent := target.parent
	target.mu.Unlock()
	jobMu.Lock()
	defer jobMu.Unlock()
	switch {
	case parent == c.p:
		if target.sid != c.p.sid {
			return fail(errno.EPERM)
		}
		if target.execed {
			return fail(errno.EACCES)
		}
	case target != c.p:
		return fail(errno.ESRCH)
	}
	if target.sid == target.PID {
		return fail(errno.EPERM) // a session leader stays in its group
	}
	if pgid != target.PID {
		ms := membersLocked(pgid)
		if len(ms) == 0 || ms[0].sid != c.p.sid {
			return fail(errno.EPERM)
		}
	}
	if target.pgid != pgid {
		target.leaveLocked()
		target.pgid = pgid
		target.enterLocked()
	}
	return ok0()
}

// sysGetpgid implements getpgid(2): pid 0 is the caller.
func sysGetpgid(c *call) result {
	p, e := lookupJob(c, int(c.i32(0)))
	if e != 0 {
		return fail(e)
	}
	pgid, _ := p.jobIDs()
	return ok(uint64(pgid))
}

// sysGetpgrp implements getpgrp(2).
func sysGetpgrp(c *call) result {
	pgid, _ := c.p.jobIDs()
	return ok(uint64(pgid))
}

// sysGetsid implements getsid(2): pid 0 is the caller.
func sysGetsid(c *call) result {
	p, e := lookupJob(c, int(c.i32(0)))
	if e != 0 {
		return fail(e)
	}
	_, sid := p.jobIDs()
	return ok(uint64(sid))
}

// lookupJob finds the process getpgid and getsid ask about.
func lookupJob(c *call, pid int) (*Process, errno.Errno) {
	if pid == 0 {
		return c.p, 0
	}
	p, found := Lookup(pid)
	if pid < 0 || !found || p == nil {
		return nil, errno.ESRCH
	}
	return p, 0
}

// sysSetsid implements setsid(2): the caller leads a new session and a
// new process group, with no controlling terminal; EPERM if its PID
// already names a process group (it leads one, or another process is in
// one by that number), as on Linux.
func sysSetsid(c *call) result {
	p := c.p
	jobMu.Lock()
	defer jobMu.Unlock()
	if _, used := groups[p.PID]; used {
		return fail(errno.EPERM)
	}
	p.leaveLocked()
	p.pgid, p.sid, p.ctty = p.PID, p.PID, nil
	p.enterLocked()
	return ok(uint64(p.PID))
}
