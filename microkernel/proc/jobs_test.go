package proc

import (
	"slices"
	"testing"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile"
)

// fakeProc makes a process that never runs, a child of parent (nil: the
// first of a session), in the tables as newProcess puts it; the test's
// cleanup takes it out again.
func fakeProc(t *testing.T, pid int, parent *Process) *Process {
	t.Helper()
	p := &Process{PID: pid, Name: "fake", threads: map[int]*Thread{}, children: map[int]*Process{},
		parent: parent, treeParent: parent, dead: make(chan struct{}), childEvent: kfile.NewEvent()}
	p.joinJobs(parent)
	tableMu.Lock()
	procs[pid] = p
	tableMu.Unlock()
	if parent != nil {
		parent.children[pid] = p
	}
	t.Cleanup(func() {
		p.leaveJobs()
		tableMu.Lock()
		delete(procs, pid)
		tableMu.Unlock()
	})
	return p
}

// jobCall is a call made by process p with the given arguments.
func jobCall(p *Process, args ...uint64) *call {
	c := &call{p: p}
	copy(c.args[:], args)
	return c
}

func neg(n int) uint64 { return uint64(int64(-n)) }

// family is a session led by 900 with children 901 (in its own group),
// 902 (which has run a program), 903 (in a session of its own) and 904's
// grandchild 905; 910 leads an unrelated session.
func family(t *testing.T) map[int]*Process {
	t.Helper()
	ps := map[int]*Process{}
	ps[900] = fakeProc(t, 900, nil)
	ps[901] = fakeProc(t, 901, ps[900])
	ps[902] = fakeProc(t, 902, ps[900])
	ps[902].execed = true
	ps[903] = fakeProc(t, 903, ps[900])
	ps[904] = fakeProc(t, 904, ps[900])
	ps[905] = fakeProc(t, 905, ps[904])
	ps[910] = fakeProc(t, 910, nil)
	// 901 leads group 901; 903 leads session 903.
	for _, c := range []*call{jobCall(ps[901], 0, 0), jobCall(ps[903])} {
		var r result
		if c.p.PID == 903 {
			r = sysSetsid(c)
		} else {
			r = sysSetpgid(c)
		}
		if r.err != 0 {
			t.Fatalf("setting up pid %d: %v", c.p.PID, r.err)
		}
	}
	return ps
}

// TestSetpgid checks setpgid(2)'s rules, errno by errno.
func TestSetpgid(t *testing.T) {
	tests := []struct {
		name      string
		caller    int
		pid, pgid uint64
		want      errno.Errno
		wantPgid  int // of the target afterwards
	}{
		{"own group", 904, 0, 0, 0, 904},
		{"a child to a new group", 900, 904, 904, 0, 904},
		{"a child into a group of the session", 900, 904, 901, 0, 901},
		{"pgid 0 means the target's PID", 900, 904, 0, 0, 904},
		{"back into the leader's group", 901, 0, 900, 0, 900},
		{"a child that ran a program", 900, 902, 902, errno.EACCES, 900},
		{"a child in another session", 900, 903, 903, errno.EPERM, 903},
		{"a grandchild", 900, 905, 905, errno.ESRCH, 900},
		{"the parent", 904, 900, 900, errno.ESRCH, 900},
		{"a stranger", 904, 910, 910, errno.ESRCH, 910},
		{"no such process", 904, 99999, 0, errno.ESRCH, 0},
		{"a session leader", 900, 0, 0, errno.EPERM, 900},
		{"a group of another session", 904, 0, 910, errno.EPERM, 900},
		{"a group that does not exist", 904, 0, 987, errno.EPERM, 900},
		{"negative pgid", 904, 0, neg(5), errno.EINVAL, 900},
		{"negative pid, pgid 0: pgid is the pid", 904, neg(5), 0, errno.EINVAL, 0},
		{"negative pid", 904, neg(5), 900, errno.ESRCH, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ps := family(t)
			r := sysSetpgid(jobCall(ps[tc.caller], tc.pid, tc.pgid))
			if r.err != tc.want {
				t.Errorf("setpgid = %v, want %v", r.err, tc.want)
			}
			target := ps[int(tc.pid)]
			if tc.pid == 0 {
				target = ps[tc.caller]
			}
			if target != nil {
				if pgid, _ := target.jobIDs(); pgid != tc.wantPgid {
					t.Errorf("pid %d's group is %d, want %d", target.PID, pgid, tc.wantPgid)
				}
			}
			if err := checkJobs(); err != nil {
				t.Error(err)
			}
		})
	}
}

// TestSetsid: a group leader may not; anyone else leads a new session
// and group without a controlling terminal.
func TestSetsid(t *testing.T) {
	ps := family(t)
	ps[904].ctty = theConsole
	if r := sysSetsid(jobCall(ps[901])); r.err != errno.EPERM {
		t.Errorf("setsid by a group leader = %v, want EPERM", r.err)
	}
	if r := sysSetsid(jobCall(ps[900])); r.err != errno.EPERM {
		t.Errorf("setsid by a session leader = %v, want EPERM", r.err)
	}
	r := sysSetsid(jobCall(ps[904]))
	if r.err != 0 || r.val != 904 {
		t.Fatalf("setsid = %d, %v; want 904", r.val, r.err)
	}
	if pgid, sid := ps[904].jobIDs(); pgid != 904 || sid != 904 || ps[904].ctty != nil {
		t.Errorf("after setsid: group %d, session %d, terminal %v", pgid, sid, ps[904].ctty)
	}
	// Its child stays in the old session: getsid says so.
	if r := sysGetsid(jobCall(ps[904], 905)); r.val != 900 {
		t.Errorf("getsid(905) = %d, want 900", r.val)
	}
	if r := sysGetpgid(jobCall(ps[904], 99999)); r.err != errno.ESRCH {
		t.Errorf("getpgid of nobody = %v, want ESRCH", r.err)
	}
	if err := checkJobs(); err != nil {
		t.Error(err)
	}
}

// TestOrphaned checks the orphaned-group rule: a group is held by a
// member whose parent is in another group of the same session, not by a
// zombie.
func TestOrphaned(t *testing.T) {
	ps := family(t)
	jobMu.Lock()
	got := map[string]bool{
		"901 (parent 900 in group 900)":   orphanedLocked(901, nil),
		"900 (the session leader's)":      orphanedLocked(900, nil),
		"903 (a session of its own)":      orphanedLocked(903, nil),
		"901 ignoring its only member":    orphanedLocked(901, ps[901]),
		"no such group":                   orphanedLocked(12345, nil),
		"900, with 904's link ignored":    orphanedLocked(900, ps[904]),
		"910 (a lone session leader)":     orphanedLocked(910, nil),
		"901 while it stopped: has stops": stoppedLocked(901),
	}
	jobMu.Unlock()
	want := map[string]bool{
		"901 (parent 900 in group 900)":   false,
		"900 (the session leader's)":      true,
		"903 (a session of its own)":      true,
		"901 ignoring its only member":    true,
		"no such group":                   true,
		"900, with 904's link ignored":    true,
		"910 (a lone session leader)":     true,
		"901 while it stopped: has stops": false,
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %v, want %v", k, got[k], v)
		}
	}
	// The first process holds its children's groups like any parent
	// (Linux's init does not; here orphans have no parent instead).
	ps[900].first = true
	if ps[901].groupOrphaned() {
		t.Errorf("901, a child of the first process, is orphaned")
	}
}

// TestKillGroup: kill(0) and kill(-pgid) reach the members the caller
// may signal: EPERM if none, ESRCH for an empty group.
func TestKillGroup(t *testing.T) {
	ps := family(t)
	for _, p := range ps {
		p.sigactions[linux.SIGUSR1].Handler = 0x1000 // caught: it stays pending
	}
	for _, tc := range []struct {
		name   string
		caller int
		pid    uint64
		sig    linux.Signal
		want   errno.Errno
		hit    []int
	}{
		{"own group from the leader: itself and its descendants", 900, 0, linux.SIGUSR1, 0, []int{900, 902, 904, 905}},
		{"another group of its children", 900, neg(901), linux.SIGUSR1, 0, []int{901}},
		{"the leader's group from a child: itself and its child", 904, neg(900), linux.SIGUSR1, 0, []int{904, 905}},
		{"a group of only others", 901, neg(900), linux.SIGUSR1, errno.EPERM, nil},
		{"no such group", 900, neg(4242), linux.SIGUSR1, errno.ESRCH, nil},
		{"signal 0 probes", 901, neg(900), 0, errno.EPERM, nil},
		{"SIGCONT within the session", 901, neg(900), linux.SIGCONT, 0, nil},
		{"SIGCONT to another session", 910, neg(900), linux.SIGCONT, errno.EPERM, nil},
	} {
		for _, p := range ps {
			p.pending = 0
		}
		r := sysKill(jobCall(ps[tc.caller], tc.pid, uint64(tc.sig)))
		if r.err != tc.want {
			t.Errorf("%s: kill = %v, want %v", tc.name, r.err, tc.want)
		}
		var hit []int
		for _, pid := range []int{900, 901, 902, 903, 904, 905, 910} {
			if ps[pid].pending&sigbit(linux.SIGUSR1) != 0 {
				hit = append(hit, pid)
			}
		}
		if tc.sig == linux.SIGUSR1 && !slices.Equal(hit, tc.hit) {
			t.Errorf("%s: signalled %v, want %v", tc.name, hit, tc.hit)
		}
	}
}

// TestStopContinue drives a process's stop state without threads: the
// parent is told of a stop and a continue (SIGCHLD unless SA_NOCLDSTOP),
// pending stop signals and SIGCONT cancel each other, a stop raced by a
// continue does not happen, and the first process never stops.
func TestStopContinue(t *testing.T) {
	ps := family(t)
	parent, child := ps[900], ps[904]
	parent.sigactions[linux.SIGCHLD].Handler = 0x1000
	wake := parent.childEvent.Wait()
	if !child.groupStop(linux.SIGTSTP, child.contSeq) {
		t.Fatal("groupStop refused")
	}
	if !child.stopped || !child.waitStop || child.stopSig != linux.SIGTSTP {
		t.Errorf("after the stop: stopped %v, waitStop %v, sig %d", child.stopped, child.waitStop, child.stopSig)
	}
	select {
	case <-wake:
	default:
		t.Errorf("the parent's waiters were not woken")
	}
	if parent.pending&sigbit(linux.SIGCHLD) == 0 || parent.siginfo[linux.SIGCHLD].code != linux.CLD_STOPPED ||
		parent.siginfo[linux.SIGCHLD].pid != 904 || parent.siginfo[linux.SIGCHLD].status != int32(linux.SIGTSTP) {
		t.Errorf("SIGCHLD for the stop: pending %v, %+v", parent.pending&sigbit(linux.SIGCHLD) != 0, parent.siginfo[linux.SIGCHLD])
	}
	// A pending stop signal is discarded by SIGCONT, which continues.
	child.pending |= sigbit(linux.SIGTTIN)
	parent.pending = 0
	child.postProcessSignalFrom(linux.SIGCONT, sigDetail{code: linux.SI_USER})
	if child.stopped || !child.waitCont || child.waitStop || child.pending&sigbit(linux.SIGTTIN) != 0 {
		t.Errorf("after SIGCONT: stopped %v, waitCont %v, waitStop %v, pending %#x", child.stopped, child.waitCont, child.waitStop, child.pending)
	}
	if parent.siginfo[linux.SIGCHLD].code != linux.CLD_CONTINUED {
		t.Errorf("SIGCHLD for the continue: %+v", parent.siginfo[linux.SIGCHLD])
	}
	// SA_NOCLDSTOP: no SIGCHLD for stops.
	parent.sigactions[linux.SIGCHLD].Flags = linux.SA_NOCLDSTOP
	parent.pending = 0
	child.groupStop(linux.SIGSTOP, child.contSeq)
	if parent.pending != 0 {
		t.Errorf("SIGCHLD with SA_NOCLDSTOP: pending %#x", parent.pending)
	}
	// A stop signal discards a pending SIGCONT (caught, so it pends).
	child.sigactions[linux.SIGCONT].Handler = 0x1000
	child.postProcessSignalFrom(linux.SIGCONT, sigDetail{})
	if child.pending&sigbit(linux.SIGCONT) == 0 {
		t.Fatalf("a caught SIGCONT is not pending")
	}
	child.postProcessSignalFrom(linux.SIGTSTP, sigDetail{})
	if child.pending&sigbit(linux.SIGCONT) != 0 || child.pending&sigbit(linux.SIGTSTP) == 0 {
		t.Errorf("after SIGTSTP: pending %#x", child.pending)
	}
	// A stop taken before a continue is not acted on after it.
	seq := child.contSeq
	child.postProcessSignalFrom(linux.SIGCONT, sigDetail{})
	if child.groupStop(linux.SIGTSTP, seq) || child.stopped {
		t.Errorf("a stop taken before a SIGCONT stopped the process")
	}
	// The first process does not stop.
	parent.first = true
	if parent.groupStop(linux.SIGSTOP, parent.contSeq) || parent.stopped {
		t.Errorf("the first process stopped")
	}
	// SIGKILL ends a stopped process and clears the stop.
	child.groupStop(linux.SIGSTOP, child.contSeq)
	child.exit(ExitStatus{Signal: linux.SIGKILL})
	if child.stopped || child.waitStop || !child.exiting {
		t.Errorf("after SIGKILL: stopped %v, waitStop %v, exiting %v", child.stopped, child.waitStop, child.exiting)
	}
}

// TestAllocPIDSkipsGroups: a number that still names a process group or
// session is not given to a new process.
func TestAllocPIDSkipsGroups(t *testing.T) {
	tableMu.Lock()
	next := nextPID
	tableMu.Unlock()
	if next > 1<<22-10 {
		t.Skip("PIDs about to wrap")
	}
	jobMu.Lock()
	groups[next] = map[*Process]struct{}{}
	sessions[next+1] = 1
	jobMu.Unlock()
	defer func() {
		jobMu.Lock()
		delete(groups, next)
		delete(sessions, next+1)
		jobMu.Unlock()
	}()
	if pid := allocPID(); pid != next+2 {
		t.Errorf("allocPID = %d, want %d (skipping %d and %d)", pid, next+2, next, next+1)
	}
}
