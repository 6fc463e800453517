package proc

import (
	"golang.org/x/sys/unix"
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/klog"
	"valence.dev/microkernel/mm"
)

type mmAS = mm.AddressSpace

// call is a system call being served.
type call struct {
	t    *Thread
	p    *Process
	nr   uint64
	args [6]uint64
}

// result of a handler: a value, or an errno.
type result struct {
	val uint64
	err errno.Errno
	// noReturn means the handler has set the registers itself (rt_sigreturn,
	// execve) or the thread is exiting: do not write RAX.
	noReturn bool
}

func ok(v uint64) result            { return result{val: v} }
func fail(e errno.Errno) result     { return result{err: e} }
func noReturn() result              { return result{noReturn: true} }
func (c *call) as() *mmAS           { return c.p.addressSpace() }
func (c *call) arg(i int) uint64    { return c.args[i] }
func (c *call) iarg(i int) int64    { return int64(c.args[i]) }
func (c *call) i32(i int) int32     { return int32(c.args[i]) }
func errFor(err error) errno.Errno  { return mmErrno(err) }
func mmErrno(err error) errno.Errno { return toErrno(err) }

// syscall serves the system call the thread just made (RAX = number,
// arguments in RDI, RSI, RDX, R10, R8, R9).
func (t *Thread) syscall() {
	r := t.regs()
	c := &t.cur // reused: a system call per trap must not allocate
	*c = call{t: t, p: t.proc, nr: r.RAX, args: [6]uint64{r.RDI, r.RSI, r.RDX, r.R10, r.R8, r.R9}}
	var res result
	if e, found := lookupSyscall(c.nr); found {
		res = e.handler(c)
		debugAfterCall(c, e.name) // debug mode's invariant checks (debug.go)
	} else {
		t.proc.reportUnsupported(c.nr)
		res = fail(errno.ENOSYS)
	}
	if res.noReturn {
		return
	}
	if res.err == errno.EINTR && t.restart(c.nr) {
		// SA_RESTART: after the handler, the call runs again (Linux's
		// ERESTARTSYS); the arguments are still in their registers.
		r.RIP -= 2 // the SYSCALL instruction is two bytes
		r.RAX = c.nr
		return
	}
	if res.err != 0 {
		r.RAX = uint64(-int64(res.err))
	} else {
		r.RAX = res.val
	}
}

func (p *Process) reportUnsupported(nr uint64) {
	p.mu.Lock()
	seen := p.reported[nr]
	full := len(p.reported) >= maxReported
	if !seen && !full {
		p.reported[nr] = true
	}
	last := len(p.reported) == maxReported
	p.mu.Unlock()
	switch {
	case seen:
	case full:
		// A process trying numbers at random must not grow the kernel's
		// heap, or its log, without bound.
	case last:
		klog.Printf("proc: pid %d (%s): unsupported system call %s (%d): ENOSYS; no more will be logged", p.PID, p.Name, syscallName(nr), nr)
	default:
		klog.Printf("proc: pid %d (%s): unsupported system call %s (%d): ENOSYS", p.PID, p.Name, syscallName(nr), nr)
	}
}

// maxReported bounds the unsupported calls remembered (and logged) per
// process.
const maxReported = 64

// noRestart lists the calls Linux never restarts after a signal handler,
// whatever SA_RESTART says (signal(7), "Interruption of system calls").
var noRestart = map[uint64]bool{
	unix.SYS_EPOLL_WAIT: true, unix.SYS_EPOLL_PWAIT: true,
	unix.SYS_NANOSLEEP: true, unix.SYS_CLOCK_NANOSLEEP: true,
}

// restart reports whether an interrupted call nr should be restarted:
// the process is not exiting, and no signal now due will run a handler
// that was installed without SA_RESTART (Linux's ERESTARTSYS). A call
// interrupted by a stop, or by a signal that is ignored or stops the
// process, goes on once the process is continued, as on Linux; the calls
// in noRestart return EINTR whenever a signal interrupted them.
func (t *Thread) restart(nr uint64) bool {
	if noRestart[nr] {
		return false
	}
	p := t.proc
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.exiting || t.execed {
		return false
	}
	pend := t.due()
	for s := linux.Signal(1); s <= numSigs; s++ {
		if pend&sigbit(s) == 0 {
			continue
		}
		act := p.sigactions[s]
		switch {
		case act.Handler == linux.SIG_IGN:
		case act.Handler == linux.SIG_DFL && !defaultKills(s):
		case act.Handler == linux.SIG_DFL || act.Flags&linux.SA_RESTART == 0:
			return false
		}
	}
	return true
}
