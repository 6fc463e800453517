package tty

import (
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile"
)

// Jobs sends the signals a terminal generates; package proc implements
// it. Neither method checks permissions: these are the kernel's signals.
type Jobs interface {
	// SignalGroup sends sig to every process in process group pgid.
	SignalGroup(pgid int, sig linux.Signal)
	// SignalProcess sends sig to process pid.
	SignalProcess(pid int, sig linux.Signal)
}

// Member is a calling thread as job control sees it; package proc's
// Thread implements it. A kfile.Caller that does not (the kernel's own
// calls, hosted tests' plain callers) is never held back.
type Member interface {
	// Job returns the caller's process group, its session, and its
	// controlling terminal (nil: none).
	Job() (pgid, sid int, ctty *Console)
	// Ignores reports whether sig is blocked by the calling thread or
	// ignored by its process.
	Ignores(sig linux.Signal) bool
	// GroupOrphaned reports whether the caller's process group is
	// orphaned (POSIX: no member has a parent in another group of the
	// same session).
	GroupOrphaned() bool
}

// check decides whether t may read (sig SIGTTIN) or write, or change the
// settings (SIGTTOU), as Linux's __tty_check_change: a process whose
// controlling terminal this is, in a process group other than the
// foreground one, has its group sent sig and the call fails with EINTR,
// which the kernel restarts once the group is continued (ERESTARTSYS) if
// no handler runs; if sig is blocked or ignored, a read fails with EIO
// and a write or change goes ahead; a process of an orphaned group gets
// EIO (nobody would continue it). Others pass.
func (c *Console) check(t kfile.Caller, sig linux.Signal) errno.Errno {
	m, ok := t.(Member)
	if !ok || m == nil {
		return 0
	}
	pgid, _, ctty := m.Job()
	if ctty != c {
		return 0
	}
	c.mu.Lock()
	fg := c.fg
	c.mu.Unlock()
	if fg == 0 || fg == pgid {
		return 0
	}
	if m.Ignores(sig) {
		if sig == linux.SIGTTIN {
			return errno.EIO
		}
		return 0
	}
	if m.GroupOrphaned() {
		return errno.EIO
	}
	c.jobs.SignalGroup(pgid, sig)
	return errno.EINTR
}

// CheckChange is check for a call that changes the terminal (TCSETS,
// TCFLSH, TIOCSPGRP, ...): SIGTTOU for a background caller.
func (c *Console) CheckChange(t kfile.Caller) errno.Errno {
	return c.check(t, linux.SIGTTOU)
}

// signalForeground sends sig to the foreground process group; while job
// control has not set one (the boot-time session, before any TIOCSPGRP),
// to the process that last read the terminal instead, as the console
// did before there were process groups: ^C then interrupts the program
// at the prompt, not every process of the first session.
func (c *Console) signalForeground(sig linux.Signal) {
	c.mu.Lock()
	fg, explicit, reader := c.fg, c.explicit, c.lastReader
	c.mu.Unlock()
	switch {
	case explicit && fg != 0:
		c.jobs.SignalGroup(fg, sig)
	case !explicit && reader != 0:
		c.jobs.SignalProcess(reader, sig)
	}
}

// The session state. Package proc keeps the processes' side (each one's
// controlling terminal) consistent with it under its own lock, and calls
// these with that lock held; the terminal never calls back into proc
// with c.mu held.

// Session returns the session the terminal controls (0: none) and its
// foreground process group (0: none).
func (c *Console) Session() (sid, fg int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.session, c.fg
}

// Attach makes the terminal the controlling terminal of session sid with
// foreground group pgid (TIOCSCTTY, or an open by a session leader).
// explicit is false only for the boot-time attachment of the first
// process, whose foreground group is reported but whose signals go to
// the last reader until job control sets one (signalForeground).
func (c *Console) Attach(sid, pgid int, explicit bool) {
	c.mu.Lock()
	c.session, c.fg, c.explicit = sid, pgid, explicit
	c.mu.Unlock()
}

// SetForeground makes pgid the foreground process group (TIOCSPGRP).
func (c *Console) SetForeground(pgid int) {
	c.mu.Lock()
	c.fg, c.explicit = pgid, true
	c.mu.Unlock()
}

// Detach ends the terminal's role as a controlling terminal (its session
// leader gave it up or ended) and returns the foreground group it had.
func (c *Console) Detach() (fg int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	fg = c.fg
	c.session, c.fg, c.explicit = 0, 0, false
	return fg
}
