package proc

import (
	"encoding/binary"
	"math"
	"sort"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/ipc"
)

// Waiting for children (wait4(2), waitid(2)): for one that ended
// (WEXITED), stopped (WSTOPPED, wait4's WUNTRACED) or was continued
// (WCONTINUED). A stop or a continue is reported once (unless WNOWAIT),
// an exit reaps the child (unless WNOWAIT). Children are looked at in PID
// order, each for an exit, then a stop, then a continue, as Linux does.

// waitSel is the children a wait is for: pid > 0 that one, else pgid > 0
// the members of that process group, else any.
type waitSel struct{ pid, pgid int }

func (s waitSel) matches(ch *Process) bool {
	switch {
	case s.pid > 0:
		return ch.PID == s.pid
	case s.pgid > 0:
		pgid, _ := ch.jobIDs()
		return pgid == s.pgid
	}
	return true
}

// waitKind is what a wait reports.
type waitKind int

const (
	exited waitKind = iota
	stopped
	continued
)

// waited is a child's reported change.
type waited struct {
	child *Process
	kind  waitKind
	sig   linux.Signal // stopped: the stop signal
}

// waitStatus is the wait4 status word: the exit status, 0x7f|sig<<8 for
// a stop (WIFSTOPPED), 0xffff for a continue (WIFCONTINUED).
func (w *waited) waitStatus() uint32 {
	switch w.kind {
	case stopped:
		return 0x7f | uint32(w.sig)<<8
	case continued:
		return 0xffff
	}
	return w.child.Status().WaitStatus()
}

// waitFor finds a child sel matches that has a change opts asks for
// (WEXITED, WSTOPPED, WCONTINUED), consuming it unless WNOWAIT (an exit
// reaps the child). It blocks until there is one, unless WNOHANG (nil,
// 0); ECHILD if sel matches no child, EINTR if a signal comes first.
func waitFor(c *call, sel waitSel, opts uint64) (*waited, errno.Errno) {
	p := c.p
	for {
		wait := p.childEvent.Wait()
		p.mu.Lock()
		children := make([]*Process, 0, len(p.children))
		for _, ch := range p.children {
			children = append(children, ch)
		}
		p.mu.Unlock()
		sort.Slice(children, func(i, j int) bool { return children[i].PID < children[j].PID })
		matched := false
		for _, ch := range children {
			if !sel.matches(ch) {
				continue
			}
			matched = true
			if w := takeChange(p, ch, opts); w != nil {
				return w, 0
			}
		}
		if !matched {
			return nil, errno.ECHILD
		}
		if opts&linux.WNOHANG != 0 {
			return nil, 0
		}
		if !c.t.CanBlock() {
			return nil, errno.EINTR
		}
		select {
		case <-wait:
		case <-c.t.intr:
			return nil, errno.EINTR
		}
	}
}

// takeChange returns ch's change that opts asks for, if it has one.
func takeChange(p, ch *Process, opts uint64) *waited {
	keep := opts&linux.WNOWAIT != 0
	select {
	case <-ch.dead:
		if opts&linux.WEXITED == 0 {
			return nil
		}
		// Two waiters may find the same zombie: the one that takes it
		// out of the children reaps it.
		p.mu.Lock()
		_, mine := p.children[ch.PID]
		if mine && !keep {
			delete(p.children, ch.PID)
		}
		p.mu.Unlock()
		if !mine {
			return nil
		}
		if !keep {
			reap(ch)
		}
		return &waited{child: ch, kind: exited}
	default:
	}
	ch.mu.Lock()
	defer ch.mu.Unlock()
	switch {
	case opts&linux.WSTOPPED != 0 && ch.stopped && ch.waitStop:
		ch.waitStop = keep
		return &waited{child: ch, kind: stopped, sig: ch.stopSig}
	case opts&linux.WCONTINUED != 0 && ch.waitCont:
		ch.waitCont = keep
		return &waited{child: ch, kind: continued}
	}
	return nil
}

// groupSel is the waitSel of wait4's pid 0 and -pgid forms.
func groupSel(c *call, pid int32) (waitSel, errno.Errno) {
	switch {
	case pid == math.MinInt32:
		return waitSel{}, errno.ESRCH // -INT_MIN names nothing
	case pid == 0:
		pgid, _ := c.p.jobIDs()
		return waitSel{pgid: pgid}, 0
	}
	return waitSel{pgid: int(-pid)}, 0
}

// sysWait4 implements wait4(2): pid > 0 that child, -1 any, 0 any in the
// caller's process group, < -1 any in group -pid; WUNTRACED and
// WCONTINUED report stops and continues. The resource usage is zeroed
// (not accounted).
func sysWait4(c *call) result {
	pid := c.i32(0)
	opts := c.arg(2)
	if opts&^(linux.WNOHANG|linux.WUNTRACED|linux.WCONTINUED|linux.WALL|linux.WCLONE|linux.WNOTHREAD) != 0 {
		return fail(errno.EINVAL)
	}
	sel := waitSel{}
	switch {
	case pid > 0:
		sel.pid = int(pid)
	case pid != -1:
		var e errno.Errno
		if sel, e = groupSel(c, pid); e != 0 {
			return fail(e)
		}
	}
	w, e := waitFor(c, sel, opts|linux.WEXITED)
	if e != 0 {
		return fail(e)
	}
	if w == nil {
		return ok0()
	}
	if a := c.arg(1); a != 0 {
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], w.waitStatus())
		if err := c.as().CopyOut(a, b[:]); err != nil {
			return fail(errno.EFAULT)
		}
	}
	if a := c.arg(3); a != 0 {
		if err := c.as().CopyOut(a, make([]byte, 144)); err != nil { // struct rusage, zeroed
			return fail(errno.EFAULT)
		}
	}
	return ok(uint64(w.child.PID))
}

// sysWaitid implements waitid(2): P_PID, P_PGID (0: the caller's group)
// and P_ALL; WEXITED, WSTOPPED and WCONTINUED (at least one), WNOHANG,
// WNOWAIT. The siginfo says CLD_EXITED, CLD_KILLED, CLD_STOPPED or
// CLD_CONTINUED, and is zeroed when WNOHANG finds nothing. P_PIDFD is
// EINVAL: there are no pidfds (pidfd_open is refused).
func sysWaitid(c *call) result {
	idtype, id, opts := c.arg(0), int(c.i32(1)), c.arg(3)
	if opts&^(linux.WNOHANG|linux.WNOWAIT|linux.WEXITED|linux.WSTOPPED|linux.WCONTINUED|
		linux.WALL|linux.WCLONE|linux.WNOTHREAD) != 0 ||
		opts&(linux.WEXITED|linux.WSTOPPED|linux.WCONTINUED) == 0 {
		return fail(errno.EINVAL)
	}
	var sel waitSel
	switch idtype {
	case linux.P_PID:
		if id <= 0 {
			return fail(errno.EINVAL)
		}
		sel.pid = id
	case linux.P_PGID:
		if id < 0 {
			return fail(errno.EINVAL)
		}
		if sel.pgid = id; id == 0 {
			sel.pgid, _ = c.p.jobIDs()
		}
	case linux.P_ALL:
	default:
		return fail(errno.EINVAL)
	}
	w, e := waitFor(c, sel, opts)
	if e != 0 {
		return fail(e)
	}
	if a := c.arg(2); a != 0 {
		var info linux.SignalInfo
		if w != nil {
			info.Signo = int32(linux.SIGCHLD)
			info.SetPID(int32(w.child.PID))
			switch w.kind {
			case stopped:
				info.Code = linux.CLD_STOPPED
				info.SetStatus(int32(w.sig))
			case continued:
				info.Code = linux.CLD_CONTINUED
				info.SetStatus(int32(linux.SIGCONT))
			default:
				if st := w.child.Status(); st.Signal != 0 {
					info.Code = linux.CLD_KILLED
					info.SetStatus(int32(st.Signal))
				} else {
					info.Code = linux.CLD_EXITED
					info.SetStatus(int32(st.Code))
				}
			}
		}
		if err := c.as().CopyOut(a, siginfoBytes(&info)); err != nil {
			return fail(errno.EFAULT)
		}
	}
	if a := c.arg(4); a != 0 {
		if err := c.as().CopyOut(a, make([]byte, 144)); err != nil { // struct rusage, zeroed
			return fail(errno.EFAULT)
		}
	}
	return ok0()
}

// sysWaitNative implements the native wait call: for an exited child
// (pid <= 0: any).
func sysWaitNative(c *call) result {
	sel := waitSel{pid: int(c.i32(0))}
	opts := uint64(linux.WEXITED)
	if c.arg(2)&ipc.WaitNoHang != 0 {
		opts |= linux.WNOHANG
	}
	w, e := waitFor(c, sel, opts)
	if e != 0 {
		return fail(e)
	}
	if w == nil {
		return ok0()
	}
	if a := c.arg(1); a != 0 {
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], w.waitStatus())
		if err := c.as().CopyOut(a, b[:]); err != nil {
			return fail(errno.EFAULT)
		}
	}
	return ok(uint64(w.child.PID))
}
