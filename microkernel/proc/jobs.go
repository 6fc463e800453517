package proc

import (
	"fmt"
	"sort"
	"sync"

	"gvisor.dev/gvisor/pkg/abi/linux"

	"valence.dev/microkernel/tty"
)

// Process groups and sessions (credentials(7), setpgid(2), setsid(2)).
//
// Every process belongs to a process group and a session, named by the
// PID of their first member (the leader). A process starts in its
// parent's (fork, vfork, spawn; the first process starts a session of
// its own), keeps them across execve, and changes them only by setpgid
// and setsid. A process counts as a member from its creation until it is
// reaped, zombie included, as on Linux; and while any process is in a
// group or session its ID is not given to a new process (allocPID), so
// an ID never names two groups.
//
// A session may have a controlling terminal (the console; tty.Console
// keeps the session and foreground group it serves): each process
// records its own (ctty), inherited, cleared by setsid and when its
// session gives the terminal up.

// jobMu guards every process's pgid, sid, ctty and execed, and the
// tables below. Lock order: jobMu, then Process.mu, then the terminal's
// lock, then tableMu.
var jobMu sync.Mutex

var (
	// groups are the members of each process group.
	groups = map[int]map[*Process]struct{}{}
	// sessions counts the members of each session.
	sessions = map[int]int{}
)

// joinJobs puts a new process in its parent's group and session, or, for
// the first process (no parent), in a new group and session of its own.
func (p *Process) joinJobs(parent *Process) {
	jobMu.Lock()
	defer jobMu.Unlock()
	if parent != nil {
		p.pgid, p.sid, p.ctty = parent.pgid, parent.sid, parent.ctty
	} else {
		p.pgid, p.sid = p.PID, p.PID
	}
	p.enterLocked()
}

// enterLocked adds p to the tables under its pgid and sid.
func (p *Process) enterLocked() {
	g := groups[p.pgid]
	if g == nil {
		g = map[*Process]struct{}{}
		groups[p.pgid] = g
	}
	g[p] = struct{}{}
	sessions[p.sid]++
}

// leaveLocked removes p from the tables.
func (p *Process) leaveLocked() {
	if g := groups[p.pgid]; g != nil {
		delete(g, p)
		if len(g) == 0 {
			delete(groups, p.pgid)
		}
	}
	if sessions[p.sid]--; sessions[p.sid] <= 0 {
		delete(sessions, p.sid)
	}
}

// leaveJobs removes a process that is being reaped from its group and
// session.
func (p *Process) leaveJobs() {
	jobMu.Lock()
	p.leaveLocked()
	jobMu.Unlock()
}

// idInUse reports whether id names a process group or session, or the
// console's session or foreground group (which may outlive its members,
// as Linux's terminal holds its struct pids: a new process given that
// number would find itself in charge of the terminal). jobMu is held.
func idInUse(id int) bool {
	_, g := groups[id]
	_, s := sessions[id]
	sid, fg := theConsole.Session()
	return g || s || id == sid || id == fg
}

// groupMembers returns the processes in group pgid, by PID.
func groupMembers(pgid int) []*Process {
	jobMu.Lock()
	defer jobMu.Unlock()
	return membersLocked(pgid)
}

func membersLocked(pgid int) []*Process {
	out := make([]*Process, 0, len(groups[pgid]))
	for m := range groups[pgid] {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].PID < out[j].PID })
	return out
}

// jobIDs returns p's process group and session.
func (p *Process) jobIDs() (pgid, sid int) {
	jobMu.Lock()
	defer jobMu.Unlock()
	return p.pgid, p.sid
}

// orphanedLocked reports whether process group pgid is orphaned
// (POSIX.1: no member's parent is in a different group of the same
// session), leaving ignore out (a process that is exiting). As Linux's
// will_become_orphaned_pgrp, zombies do not count. Unlike Linux, a
// parent that is the first process counts: Linux leaves init out because
// it adopts every orphan, while here orphans have no parent at all, and
// the first process may be a job-control shell. jobMu is held.
func orphanedLocked(pgid int, ignore *Process) bool {
	for m := range groups[pgid] {
		if m == ignore {
			continue
		}
		m.mu.Lock()
		parent, zombie := m.parent, m.zombie
		m.mu.Unlock()
		if zombie || parent == nil {
			continue
		}
		if parent.pgid != pgid && parent.sid == m.sid {
			return false
		}
	}
	return true
}

// stoppedLocked reports whether a member of group pgid is stopped.
// jobMu is held.
func stoppedLocked(pgid int) bool {
	for m := range groups[pgid] {
		m.mu.Lock()
		stopped := m.stopped
		m.mu.Unlock()
		if stopped {
			return true
		}
	}
	return false
}

// signalGroup sends sig to every live member of group pgid, from the
// kernel (no permission check).
func signalGroup(pgid int, sig linux.Signal) {
	for _, m := range groupMembers(pgid) {
		m.signalIfAlive(sig, sigDetail{code: linux.SI_KERNEL})
	}
}

// orphanedStopped handles what a process's exit does to job control, as
// Linux's exit_notify and forget_original_parent: a process group that
// the exit leaves orphaned (its own, when its parent was the group's
// link to the session; a child's, when the child was in another group of
// the session) and that has a stopped member is sent SIGHUP and then
// SIGCONT, since no job-control shell could continue it any more. p's
// children have already lost it as their parent; p is a zombie.
func (p *Process) orphanedStopped(parent *Process, children map[int]*Process) {
	jobMu.Lock()
	var hup []int
	add := func(pgid int) {
		for _, g := range hup {
			if g == pgid {
				return
			}
		}
		if orphanedLocked(pgid, p) && stoppedLocked(pgid) {
			hup = append(hup, pgid)
		}
	}
	if parent != nil && parent.pgid != p.pgid && parent.sid == p.sid {
		add(p.pgid)
	}
	for _, ch := range children {
		if ch.pgid != p.pgid && ch.sid == p.sid {
			add(ch.pgid)
		}
	}
	jobMu.Unlock()
	for _, g := range hup {
		signalGroup(g, linux.SIGHUP)
		signalGroup(g, linux.SIGCONT)
	}
}

// leaderExited gives up the controlling terminal of a session whose
// leader p ended, as Linux's disassociate_ctty on exit: the terminal
// serves no session, no member of it has it any more, and its foreground
// group gets SIGHUP.
func (p *Process) leaderExited() {
	jobMu.Lock()
	con := p.ctty
	if p.sid != p.PID || con == nil {
		jobMu.Unlock()
		return
	}
	fg := 0
	if sid, _ := con.Session(); sid == p.sid {
		fg = con.Detach()
	}
	clearCttyLocked(p.sid, con)
	jobMu.Unlock()
	if fg != 0 {
		signalGroup(fg, linux.SIGHUP)
	}
}

// clearCttyLocked takes terminal con away from every process of session
// sid (Linux's session_clear_tty). jobMu is held.
func clearCttyLocked(sid int, con *tty.Console) {
	for _, p := range List() {
		if p.sid == sid && p.ctty == con {
			p.ctty = nil
		}
	}
}

// checkJobs checks the tables against the processes (debug mode): each
// member is in the group its pgid names, each session's count is its
// members'.
func checkJobs() error {
	jobMu.Lock()
	defer jobMu.Unlock()
	count := map[int]int{}
	for pgid, g := range groups {
		if len(g) == 0 {
			return fmt.Errorf("process group %d is empty but listed", pgid)
		}
		for m := range g {
			if m.pgid != pgid {
				return fmt.Errorf("pid %d is listed in group %d but its pgid is %d", m.PID, pgid, m.pgid)
			}
			count[m.sid]++
		}
	}
	for sid, n := range sessions {
		if count[sid] != n {
			return fmt.Errorf("session %d counts %d members, its groups hold %d", sid, n, count[sid])
		}
	}
	if len(count) != len(sessions) {
		return fmt.Errorf("%d sessions listed, %d have members", len(sessions), len(count))
	}
	return nil
}

// consoleJobs is how the console sends the signals typing generates
// (tty.Jobs).
type consoleJobs struct{}

func (consoleJobs) SignalGroup(pgid int, sig linux.Signal) { signalGroup(pgid, sig) }

func (consoleJobs) SignalProcess(pid int, sig linux.Signal) {
	if p, ok := Lookup(pid); ok && p != nil {
		p.signalIfAlive(sig, sigDetail{code: linux.SI_KERNEL})
	}
}

// A Thread is a terminal's caller as job control sees it (tty.Member).
var _ tty.Member = (*Thread)(nil)

// Job implements tty.Member.
func (t *Thread) Job() (pgid, sid int, ctty *tty.Console) {
	jobMu.Lock()
	defer jobMu.Unlock()
	p := t.proc
	return p.pgid, p.sid, p.ctty
}

// Ignores implements tty.Member.
func (t *Thread) Ignores(sig linux.Signal) bool {
	p := t.proc
	p.mu.Lock()
	defer p.mu.Unlock()
	return t.mask&sigbit(sig) != 0 || p.sigactions[sig].Handler == linux.SIG_IGN
}

// GroupOrphaned implements tty.Member.
func (t *Thread) GroupOrphaned() bool { return t.proc.groupOrphaned() }

func (p *Process) groupOrphaned() bool {
	jobMu.Lock()
	defer jobMu.Unlock()
	return orphanedLocked(p.pgid, nil)
}
