package proc

import (
	"encoding/binary"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile"
	"valence.dev/microkernel/tty"
)

// The terminal ioctls (tty_ioctl(4), termios(3), tcsetpgrp(3)) on the
// console. Structures are Linux's: struct termios (36 bytes: the
// TCGETS/TCSETS form, without the speeds of termios2) and struct winsize,
// marshalled by gvisor's abi/linux; integers are 32-bit.

// tcxonc is TCXONC (tcflow(3)), asm-generic/ioctls.h; gvisor's abi/linux
// does not define it.
const tcxonc = 0x540A

// ttyIoctl serves ioctl cmd on the console open as of.
func ttyIoctl(c *call, of *kfile.OpenFile, con *tty.Console) result {
	arg := c.arg(2)
	switch c.arg(1) {
	case linux.TCGETS:
		kt := con.Termios()
		t := kt.ToTermios()
		b := make([]byte, t.SizeBytes())
		t.MarshalBytes(b)
		return copyOutStruct(c, arg, b)
	case linux.TCSETS, linux.TCSETSW, linux.TCSETSF:
		if e := con.CheckChange(c.t); e != 0 {
			return fail(e)
		}
		var t linux.Termios
		b := make([]byte, t.SizeBytes())
		if err := c.as().CopyIn(arg, b); err != nil {
			return fail(errno.EFAULT)
		}
		t.UnmarshalBytes(b)
		var kt linux.KernelTermios
		kt.FromTermios(t)
		con.SetTermios(kt, c.arg(1) == linux.TCSETSF)
		return ok0()
	case linux.TIOCGWINSZ:
		ws := con.Winsize()
		b := make([]byte, ws.SizeBytes())
		ws.MarshalBytes(b)
		return copyOutStruct(c, arg, b)
	case linux.TIOCSWINSZ:
		var ws linux.Winsize
		b := make([]byte, ws.SizeBytes())
		if err := c.as().CopyIn(arg, b); err != nil {
			return fail(errno.EFAULT)
		}
		ws.UnmarshalBytes(b)
		con.SetWinsize(ws)
		return ok0()
	case linux.FIONREAD:
		return putInt32(c, arg, int32(con.Readable()))
	case linux.TIOCOUTQ:
		return putInt32(c, arg, 0) // writes are synchronous: nothing queued
	case linux.TIOCGETD:
		return putInt32(c, arg, 0) // N_TTY, the only line discipline
	case linux.TCFLSH, tcxonc, linux.TCSBRK, linux.TCSBRKP:
		if e := con.CheckChange(c.t); e != 0 {
			return fail(e)
		}
		switch c.arg(1) {
		case linux.TCFLSH:
			return fail(con.Flush(arg))
		case tcxonc:
			return fail(con.Flow(arg))
		}
		return ok0() // tcdrain, tcsendbreak: output is always drained; no break on this line
	case linux.TIOCGPGRP:
		if !isCtty(c.p, con) {
			return fail(errno.ENOTTY)
		}
		_, fg := con.Session()
		return putInt32(c, arg, int32(fg))
	case linux.TIOCSPGRP:
		return tiocspgrp(c, con)
	case linux.TIOCGSID:
		sid, _ := con.Session()
		if !isCtty(c.p, con) || sid == 0 {
			return fail(errno.ENOTTY)
		}
		return putInt32(c, arg, int32(sid))
	case linux.TIOCSCTTY:
		return tiocsctty(c, of, con, arg)
	case linux.TIOCNOTTY:
		return tiocnotty(c, con)
	}
	return fail(errno.ENOTTY)
}

// isCtty reports whether con is p's controlling terminal.
func isCtty(p *Process, con *tty.Console) bool {
	jobMu.Lock()
	defer jobMu.Unlock()
	return p.ctty == con
}

func putInt32(c *call, addr uint64, v int32) result {
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], uint32(v))
	return copyOutStruct(c, addr, b[:])
}

// tiocspgrp implements TIOCSPGRP (tcsetpgrp(3)) as Linux's tiocspgrp: a
// background caller gets SIGTTOU first (ENOTTY instead of EIO for an
// orphaned one); the terminal must be the caller's controlling terminal
// (ENOTTY); the group must exist (ESRCH) in the caller's session (EPERM);
// a negative ID is EINVAL.
func tiocspgrp(c *call, con *tty.Console) result {
	switch e := con.CheckChange(c.t); e {
	case 0:
	case errno.EIO:
		return fail(errno.ENOTTY)
	default:
		return fail(e)
	}
	var b [4]byte
	if err := c.as().CopyIn(c.arg(2), b[:]); err != nil {
		return fail(errno.EFAULT)
	}
	pgid := int(int32(binary.LittleEndian.Uint32(b[:])))
	if pgid < 0 {
		return fail(errno.EINVAL)
	}
	jobMu.Lock()
	defer jobMu.Unlock()
	if sid, _ := con.Session(); c.p.ctty != con || sid != c.p.sid {
		return fail(errno.ENOTTY)
	}
	ms := membersLocked(pgid)
	switch {
	case len(ms) == 0:
		return fail(errno.ESRCH)
	case ms[0].sid != c.p.sid:
		return fail(errno.EPERM)
	}
	con.SetForeground(pgid)
	return ok0()
}

// tiocsctty implements TIOCSCTTY as Linux's tiocsctty: a session leader
// without a controlling terminal makes con its own, with its group in
// the foreground (done already if con is its session's: 0); anyone else
// is EPERM; so is a terminal that is another session's, unless arg is 1
// and the caller has CAP_SYS_ADMIN, which takes it from that session. The
// descriptor must be open for reading, unless the caller has
// CAP_SYS_ADMIN.
func tiocsctty(c *call, of *kfile.OpenFile, con *tty.Console, arg uint64) result {
	admin := c.p.hasCap(linux.CAP_SYS_ADMIN)
	jobMu.Lock()
	defer jobMu.Unlock()
	p := c.p
	sid, _ := con.Session()
	leader := p.sid == p.PID
	switch {
	case leader && sid == p.sid:
		return ok0()
	case !leader || p.ctty != nil:
		return fail(errno.EPERM)
	case sid != 0 && (arg != 1 || !admin):
		return fail(errno.EPERM)
	case !readable(of) && !admin:
		return fail(errno.EPERM)
	}
	if sid != 0 {
		clearCttyLocked(sid, con) // stolen
	}
	con.Attach(p.sid, p.pgid, true)
	p.ctty = con
	return ok0()
}

// readable reports whether of was opened for reading.
func readable(of *kfile.OpenFile) bool {
	of.Mu.Lock()
	defer of.Mu.Unlock()
	return of.Flags&linux.O_ACCMODE != linux.O_WRONLY
}

// tiocnotty implements TIOCNOTTY: the caller gives up its controlling
// terminal (ENOTTY if con is not); a session leader gives it up for its
// whole session, and the foreground group gets SIGHUP and SIGCONT, as
// Linux's disassociate_ctty.
func tiocnotty(c *call, con *tty.Console) result {
	jobMu.Lock()
	p := c.p
	if p.ctty != con {
		jobMu.Unlock()
		return fail(errno.ENOTTY)
	}
	if p.sid != p.PID {
		p.ctty = nil
		jobMu.Unlock()
		return ok0()
	}
	fg := 0
	if sid, _ := con.Session(); sid == p.sid {
		fg = con.Detach()
	}
	clearCttyLocked(p.sid, con)
	jobMu.Unlock()
	if fg != 0 {
		signalGroup(fg, linux.SIGHUP)
		signalGroup(fg, linux.SIGCONT)
	}
	return ok0()
}

// acquireOnOpen makes the console the controlling terminal of a session
// leader that opens it without O_NOCTTY and has none, if the console
// serves no session (Linux's tty_open_proc_set_tty).
func acquireOnOpen(p *Process, con *tty.Console, flags uint32) {
	if p == nil || flags&linux.O_NOCTTY != 0 {
		return
	}
	jobMu.Lock()
	defer jobMu.Unlock()
	if sid, _ := con.Session(); sid != 0 || p.sid != p.PID || p.ctty != nil {
		return
	}
	con.Attach(p.sid, p.pgid, true)
	p.ctty = con
}
