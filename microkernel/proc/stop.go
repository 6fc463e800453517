package proc

import (
	"gvisor.dev/gvisor/pkg/abi/linux"
)

// Stopping and continuing (signal(7), "Signal dispositions"; Linux's
// group stop).
//
// A stop signal (SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU) whose action is the
// default stops the whole process: the thread that takes it marks the
// process stopped, interrupts the others, tells the parent (SIGCHLD with
// CLD_STOPPED unless it set SA_NOCLDSTOP, and a wait4 WUNTRACED report)
// and parks; every other thread parks at its next trap or blocking point
// (a blocking call is interrupted and restarted after the continue), so
// no user code runs until SIGCONT. SIGCONT continues the process as soon
// as it is sent, whatever its disposition (a handler runs afterwards):
// the threads wake, the parent is told (CLD_CONTINUED, WCONTINUED).
// Sending a stop signal discards a pending SIGCONT, and SIGCONT discards
// pending stop signals; SIGKILL ends a stopped process, while other
// signals, even fatal ones, wait for the continue (as Linux's
// wants_signal passes over stopped threads). A stop signal
// taken before a SIGCONT that arrives before the process stopped does
// not stop it (contSeq). SIGTSTP, SIGTTIN and SIGTTOU are discarded in an
// orphaned process group (nobody would continue it), and the first
// process is never stopped (nothing could continue it; Linux's init
// ignores such signals too). Stopping is not tracing: there is no
// ptrace stop.

// stopSignals are the signals whose default action is to stop.
var stopSignals = sigbit(linux.SIGSTOP) | sigbit(linux.SIGTSTP) | sigbit(linux.SIGTTIN) | sigbit(linux.SIGTTOU)

// contNotice is a continue to act on once p.mu is released.
type contNotice struct {
	threads []*Thread
	parent  *Process
}

// prepareLocked applies what sending sig does before it is queued
// (Linux's prepare_signal): a stop signal discards pending SIGCONTs;
// SIGCONT discards pending stop signals and continues a stopped process.
// It returns the continue to finish with notify, if any. p.mu is held.
func (p *Process) prepareLocked(sig linux.Signal) *contNotice {
	switch {
	case sigbit(sig)&stopSignals != 0:
		p.pending &^= sigbit(linux.SIGCONT)
		for _, t := range p.threads {
			t.pending &^= sigbit(linux.SIGCONT)
		}
	case sig == linux.SIGCONT:
		p.pending &^= stopSignals
		for _, t := range p.threads {
			t.pending &^= stopSignals
		}
		p.contSeq++
		if p.stopped {
			p.stopped = false
			p.waitStop, p.waitCont = false, true
			n := &contNotice{parent: p.parent}
			for _, t := range p.threads {
				n.threads = append(n.threads, t)
			}
			return n
		}
	}
	return nil
}

// notify finishes a continue: the parked threads wake, the parent hears.
func (n *contNotice) notify(p *Process) {
	if n == nil {
		return
	}
	for _, t := range n.threads {
		t.interrupt()
	}
	notifyParent(p, n.parent, linux.CLD_CONTINUED, linux.SIGCONT)
}

// notifyParent tells parent that child stopped or continued: waiters
// wake, and SIGCHLD is sent unless the parent asked not to hear of stops
// and continues (SA_NOCLDSTOP).
func notifyParent(child, parent *Process, code int32, sig linux.Signal) {
	if parent == nil {
		return
	}
	parent.childEvent.Signal()
	parent.mu.Lock()
	nocldstop := parent.sigactions[linux.SIGCHLD].Flags&linux.SA_NOCLDSTOP != 0
	parent.mu.Unlock()
	if !nocldstop {
		parent.signalIfAlive(linux.SIGCHLD, sigDetail{code: code, pid: int32(child.PID), status: int32(sig)})
	}
}

// groupStop stops the process for sig, taken by a thread when contSeq
// was seq; it reports false if a SIGCONT came in between or the process
// is exiting, in which case nothing stops. If the process is already
// stopped, the caller just parks.
func (p *Process) groupStop(sig linux.Signal, seq uint64) bool {
	p.mu.Lock()
	if p.exiting || p.contSeq != seq || p.first {
		p.mu.Unlock()
		return false
	}
	if p.stopped {
		p.mu.Unlock()
		return true
	}
	p.stopped, p.stopSig = true, sig
	p.waitStop, p.waitCont = true, false
	threads := make([]*Thread, 0, len(p.threads))
	for _, t := range p.threads {
		threads = append(threads, t)
	}
	parent := p.parent
	p.mu.Unlock()
	for _, t := range threads {
		t.interrupt()
	}
	notifyParent(p, parent, linux.CLD_STOPPED, sig)
	return true
}

// park holds the thread while its process is stopped. It reports false
// if the thread must end instead (the process is exiting, or another
// thread called execve).
func (t *Thread) park() bool {
	p := t.proc
	for {
		select { // a continue after the look below sends again
		case <-t.intr:
		default:
		}
		p.mu.Lock()
		switch {
		case p.exiting || t.execed:
			p.mu.Unlock()
			return false
		case !p.stopped:
			p.mu.Unlock()
			return true
		}
		p.mu.Unlock()
		<-t.intr
	}
}

// stopPoint parks the thread if its process is stopped; it reports
// false if the thread must end.
func (t *Thread) stopPoint() bool {
	p := t.proc
	p.mu.Lock()
	stopped := p.stopped
	p.mu.Unlock()
	if !stopped {
		return true
	}
	return t.park()
}
