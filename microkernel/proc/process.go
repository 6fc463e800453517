package proc

import (
	"fmt"
	"sort"
	"sync"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/caps"
	"valence.dev/microkernel/clock"
	"valence.dev/microkernel/kfile"
	"valence.dev/microkernel/klog"
	"valence.dev/microkernel/mm"
	"valence.dev/microkernel/obj"
	"valence.dev/microkernel/tty"
)

// Process is a running (or zombie) user program.
type Process struct {
	PID  int
	Name string // the base name of the executable, for logs and ps

	mu       sync.Mutex
	as       *mm.AddressSpace
	files    *kfile.FDTable
	threads  map[int]*Thread
	parent   *Process
	children map[int]*Process
	// sigactions are the signal dispositions, shared by all threads.
	sigactions [numSigs + 1]linux.SigAction
	// pending are process-directed signals not yet taken by a thread
	// (Linux's shared_pending): any thread that does not block one takes
	// it on its way back to ring 3.
	pending uint64
	siginfo [numSigs + 1]sigDetail
	exiting bool
	// zombie is set when the process has ended and waits to be reaped by
	// its parent; with parent, decided under mu (see finish).
	zombie bool
	status ExitStatus
	// dead is closed when the process has fully ended (a zombie);
	// childEvent is signalled when a child changes state.
	dead       chan struct{}
	childEvent *kfile.Event
	// vforkDone is closed when a vfork child execs or exits, releasing
	// its parent.
	vforkDone     chan struct{}
	futexes       futexTable
	cwd           string
	exe           string   // the executable's absolute path (/proc/<pid>/exe)
	ns            *mountNS // the mount namespace, shared with other processes (namespace.go)
	umask         uint32
	caps          capSets // Linux capabilities (sys_capability.go)
	started       int64   // clock.Monotonic() when it was created
	args          []string
	reported      map[uint64]bool // unsupported system calls already logged
	refusedLog    *logLimit       // refused executables logged (refused.go); shared with vfork children
	lastFault     string
	lastFaultTime int64 // monotonic ns
	brk           brkState
	first         bool // the first process: its exit powers the machine off

	// Job control. pgid, sid, ctty and execed are guarded by jobMu
	// (jobs.go): the process group and session, the controlling
	// terminal (nil: none), and whether it has run a program since it
	// was created (setpgid's EACCES).
	pgid, sid int
	ctty      *tty.Console
	execed    bool
	// The job-control stop (stop.go), guarded by mu: stopped makes its
	// threads park; stopSig is the signal that stopped it; waitStop and
	// waitCont are a stop and a continue not yet reported to wait;
	// contSeq counts SIGCONTs, so that a stop signal taken before one is
	// not acted on after it.
	stopped            bool
	stopSig            linux.Signal
	waitStop, waitCont bool
	contSeq            uint64

	handles     *caps.Table     // capabilities
	endpoints   []*obj.Endpoint // endpoints this process serves: they die with it
	deathNotify []deathWatch    // notifications to signal when it ends

	// Resources (limits.go, charge.go).
	lim        limits     // resource limits, inherited; guarded by mu
	acct       *account   // memory objects charged to it, outliving it
	essential  bool       // the out-of-memory killer takes it last; mu
	vmMu       sync.Mutex // makes a limit check and its mapping one step
	treeParent *Process   // the parent it was created by, even once dead
	// descendants counts its live descendants and their zombies, for
	// RLIMIT_NPROC; counted says it is itself counted. Both tableMu.
	descendants int
	counted     bool
}

// ExitStatus is how a process ended, in the terms of wait(2).
type ExitStatus struct {
	Code   int          // exit code, when Signal is 0
	Signal linux.Signal // the signal that killed it, or 0
}

// WaitStatus encodes the status as wait4 reports it.
func (s ExitStatus) WaitStatus() uint32 {
	if s.Signal != 0 {
		return uint32(s.Signal) & 0x7f
	}
	return uint32(s.Code&0xff) << 8
}

func (s ExitStatus) String() string {
	if s.Signal != 0 {
		return fmt.Sprintf("killed by signal %d (%s)", s.Signal, signalName(s.Signal))
	}
	return fmt.Sprintf("exited with status %d", s.Code)
}

var (
	tableMu sync.Mutex
	procs   = map[int]*Process{}
	nextPID = 1
)

func allocPID() int {
	jobMu.Lock() // a number still naming a group or session is not reused
	defer jobMu.Unlock()
	tableMu.Lock()
	defer tableMu.Unlock()
	for {
		pid := nextPID
		nextPID++
		if nextPID > 1<<22 {
			nextPID = 2
		}
		if _, used := procs[pid]; !used && !idInUse(pid) {
			return pid
		}
	}
}

// Lookup returns the process with the given PID.
func Lookup(pid int) (*Process, bool) {
	tableMu.Lock()
	defer tableMu.Unlock()
	p, ok := procs[pid]
	return p, ok
}

// List returns every process, by PID.
func List() []*Process {
	tableMu.Lock()
	defer tableMu.Unlock()
	out := make([]*Process, 0, len(procs))
	for _, p := range procs {
		if p != nil { // nil: a number reserved for a thread
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out
}

// newProcess creates a process, a child of parent, or refuses with
// EAGAIN or ENOMEM at the process limits (admitProcess). It inherits
// parent's resource limits.
func newProcess(parent *Process, name string) (*Process, errno.Errno) {
	if e := admitProcess(parent); e != 0 {
		return nil, e
	}
	var lim limits
	if parent != nil {
		parent.mu.Lock()
		lim = parent.lim
		parent.mu.Unlock()
	} else {
		lim = defaultLimits()
	}
	startMemoryWatch()
	cwd, ns, umask, cs := "/", (*mountNS)(nil), uint32(0o022), rootCaps
	if parent != nil {
		parent.mu.Lock()
		cwd, ns, umask, cs = parent.cwd, parent.ns, parent.umask, parent.caps
		parent.mu.Unlock()
	} else {
		ns = newMountNS(initialNS())
	}
	p := &Process{
		PID:        allocPID(),
		Name:       name,
		threads:    map[int]*Thread{},
		children:   map[int]*Process{},
		parent:     parent,
		dead:       make(chan struct{}),
		childEvent: kfile.NewEvent(),
		cwd:        cwd,
		ns:         ns,
		umask:      umask,
		caps:       cs,
		started:    clock.Monotonic(),
		reported:   map[uint64]bool{},
		handles:    capsys.NewTable(maxHandles),
		lim:        lim,
		acct:       &account{},
		treeParent: parent,
		counted:    true,
	}
	p.joinJobs(parent)
	tableMu.Lock()
	procs[p.PID] = p
	tableMu.Unlock()
	if parent != nil {
		parent.mu.Lock()
		parent.children[p.PID] = p
		parent.mu.Unlock()
	}
	return p, 0
}

// Done is closed when the process has ended.
func (p *Process) Done() <-chan struct{} { return p.dead }

// Status returns how the process ended; valid once Done is closed.
func (p *Process) Status() ExitStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.status
}

// Exiting reports whether the process is being torn down.
func (p *Process) Exiting() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exiting
}

// Kill ends the process as if by signal sig's default action.
func (p *Process) Kill(sig linux.Signal) {
	p.exit(ExitStatus{Signal: sig})
}

// exit starts tearing the process down with status s (the first caller
// wins): every thread is interrupted and stops at its next trap or
// blocking point; the last thread to stop finishes the job (finish).
func (p *Process) exit(s ExitStatus) {
	p.mu.Lock()
	if p.exiting {
		p.mu.Unlock()
		return
	}
	p.exiting = true
	p.status = s
	p.stopped, p.waitStop, p.waitCont = false, false, false
	threads := make([]*Thread, 0, len(p.threads))
	for _, t := range p.threads {
		threads = append(threads, t)
	}
	p.mu.Unlock()
	for _, t := range threads {
		t.interrupt()
	}
	// With no threads the process has not started yet (spawn is still
	// loading it): its first thread will see exiting at once and finish
	// it on the way out, or spawn fails and abandons it. Finishing here
	// too would finish it twice.
}

// threadExited removes t; the last thread out finishes the process.
func (p *Process) threadExited(t *Thread) {
	t.threadEnded()
	p.mu.Lock()
	delete(p.threads, t.TID)
	last := len(p.threads) == 0
	if last && !p.exiting {
		// The last thread left through exit(2): its code is the process's.
		p.exiting = true
		p.status = ExitStatus{Code: t.exitCode & 0xff}
	}
	p.mu.Unlock()
	if last {
		p.finish()
	}
}

// finish releases everything the process holds and makes it a zombie.
func (p *Process) finish() {
	p.mu.Lock()
	files, as := p.files, p.as
	p.files, p.as = nil, nil
	status := p.status
	parent := p.parent
	vfork := p.vforkDone
	p.vforkDone = nil
	endpoints, watchers := p.endpoints, p.deathNotify
	p.endpoints, p.deathNotify = nil, nil
	lastFault := p.lastFault
	if clock.Monotonic()-p.lastFaultTime > faultReportWindow {
		lastFault = "" // recovered long ago: not why it died
	}
	p.mu.Unlock()
	// Its endpoints die first, so that clients blocked on them fail at
	// once with "peer died"; then its capabilities go.
	for _, ep := range endpoints {
		ep.Kill()
	}
	orphaned(p.handles.Destroy())
	if files != nil {
		files.CloseAll()
	}
	p.dropNamespace()
	if as != nil {
		as.Release()
	}
	if vfork != nil {
		close(vfork)
	}
	if status.Code != 0 || status.Signal != 0 {
		if lastFault != "" {
			klog.Printf("proc: pid %d (%s) %s; last fault: %s", p.PID, p.Name, status, lastFault)
		} else {
			klog.Printf("proc: pid %d (%s) %s", p.PID, p.Name, status)
		}
	}
	// Orphans are reparented to nobody: the kernel reaps them when they
	// end, and those that already ended (zombies nobody will wait for now)
	// are reaped here. Whether a child is a zombie and who its parent is
	// are decided together under the child's lock (below), so a child
	// ending at this moment is reaped exactly once, by it or by us.
	p.leaderExited()
	p.mu.Lock()
	children := p.children
	p.children = map[int]*Process{}
	p.mu.Unlock()
	for _, c := range children {
		c.mu.Lock()
		c.parent = nil
		zombie := c.zombie
		c.mu.Unlock()
		if zombie {
			reap(c)
		}
	}
	p.mu.Lock()
	p.zombie = true
	parent = p.parent
	p.mu.Unlock()
	close(p.dead)
	for _, w := range watchers {
		w.n.Signal(w.bits)
	}
	p.orphanedStopped(parent, children)
	if parent == nil {
		reap(p)
	} else {
		code, st := int32(linux.CLD_EXITED), int32(status.Code)
		if status.Signal != 0 {
			code, st = linux.CLD_KILLED, int32(status.Signal)
		}
		parent.childEvent.Signal()
		parent.signalIfAlive(linux.SIGCHLD, sigDetail{code: code, pid: int32(p.PID), status: st})
	}
	debugAfterExit(p) // debug mode's invariant checks (debug.go)
	if p.first {
		firstExited(p, status)
	}
}

// faultReportWindow is how recent a fault must be to be reported as the
// likely cause of a failed exit: a Go program dies of a fault within
// milliseconds (after printing its traceback), while faults it recovered
// from earlier are not news.
const faultReportWindow = 5e9

// reap removes a dead process from the table, and from its process
// group and session.
func reap(p *Process) {
	p.leaveJobs()
	tableMu.Lock()
	delete(procs, p.PID)
	p.uncount()
	tableMu.Unlock()
}

// abandon undoes newProcess for a process that never ran.
func (p *Process) abandon() {
	orphaned(p.handles.Destroy())
	p.mu.Lock()
	parent := p.parent
	p.mu.Unlock()
	if parent != nil {
		parent.mu.Lock()
		delete(parent.children, p.PID)
		parent.mu.Unlock()
	}
	reap(p)
}
