package main

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

type procState uint8

const (
	procRunning procState = iota
	procStopped
	procExited
)

// proc is one external process the shell started.
type proc struct {
	pid     int
	argv    string
	state   procState
	status  syscall.WaitStatus // when exited
	stopSig syscall.Signal     // when stopped
	lost    bool               // reaped by someone else: status unknown
	fgDeath bool               // killed by SIGINT while its job was in the foreground
}

// exitCode is the $? of an exited process: its status, or 128 plus the
// signal that killed it.
func (p *proc) exitCode() int {
	switch {
	case p.lost:
		return 127
	case p.status.Signaled():
		return 128 + int(p.status.Signal())
	}
	return p.status.ExitStatus()
}

// stmtRun is one top-level statement in execution. Its external processes
// join the job cur; when that job stops, the statement goes on (as in other
// shells) and its next process starts a new job.
type stmtRun struct {
	text   string
	fg     bool // the shell waits for the statement
	cur    *job
	done   bool // the statement finished
	status int  // its exit status, once done
}

// job is a set of processes in one process group (POSIX XCU 2.11): the
// external processes of a statement, until the job stops.
type job struct {
	id           int // 0 until the job enters the table
	pgid         int // 0 until its first process starts, or without job control
	text         string
	procs        []*proc
	owner        *stmtRun // the statement still adding processes, or nil
	fg           bool     // owns the terminal when it has running processes
	modes        *unix.Termios
	reportedStop bool // "Stopped" was printed for the current stop
	collected    bool // fg or wait took its status: no "Done" notice
	detached     bool // its statement went on past a stop: status is the processes'
}

func (j *job) running() int {
	n := 0
	for _, p := range j.procs {
		if p.state == procRunning {
			n++
		}
	}
	return n
}

// stopped: something is stopped and nothing runs.
func (j *job) stopped() bool {
	if j.running() > 0 {
		return false
	}
	for _, p := range j.procs {
		if p.state == procStopped {
			return true
		}
	}
	return false
}

// complete: every process exited and no statement will add more.
func (j *job) complete() bool {
	if j.owner != nil && !j.owner.done {
		return false
	}
	for _, p := range j.procs {
		if p.state != procExited {
			return false
		}
	}
	return true
}

// exitCode is the job's status: its statement's, or its last process's
// when the statement did not wait for its processes to end.
func (j *job) exitCode() int {
	if j.owner != nil && j.owner.done && !j.detached {
		return j.owner.status
	}
	if n := len(j.procs); n > 0 {
		return j.procs[n-1].exitCode()
	}
	return 0
}

func (j *job) describe() string {
	if j.text != "" {
		return j.text
	}
	var parts []string
	for _, p := range j.procs {
		parts = append(parts, p.argv)
	}
	return strings.Join(parts, " | ")
}

// jobTable holds the shell's jobs and every process it started. One mutex
// guards all of it; every change closes the channel changed (and makes a new
// one), which is how waiters (the exec handler, fg, wait) learn of it.
type jobTable struct {
	mu      sync.Mutex
	changed chan struct{}
	jobs    []*job // in the table, by id
	recent  []*job // in the table, least recently current first
	tty     *terminal
	out     io.Writer // notifications
	lastBg  int       // $!
}

func newJobTable(tty *terminal, out io.Writer) *jobTable {
	return &jobTable{changed: make(chan struct{}), tty: tty, out: out}
}

// broadcast wakes every waiter; t.mu is held.
func (t *jobTable) broadcast() {
	close(t.changed)
	t.changed = make(chan struct{})
}

// insert gives j the next job number (one more than the highest in use,
// as in other shells) and makes it the current job.
func (t *jobTable) insert(j *job) {
	if j.id != 0 {
		return
	}
	j.id = 1
	if n := len(t.jobs); n > 0 {
		j.id = t.jobs[n-1].id + 1
	}
	t.jobs = append(t.jobs, j)
	t.makeCurrent(j)
}

func (t *jobTable) makeCurrent(j *job) {
	if i := slices.Index(t.recent, j); i >= 0 {
		t.recent = slices.Delete(t.recent, i, i+1)
	}
	t.recent = append(t.recent, j)
}

func (t *jobTable) remove(j *job) {
	if i := slices.Index(t.jobs, j); i >= 0 {
		t.jobs = slices.Delete(t.jobs, i, i+1)
	}
	if i := slices.Index(t.recent, j); i >= 0 {
		t.recent = slices.Delete(t.recent, i, i+1)
	}
}

// mark is "+" for the current job, "-" for the previous one.
func (t *jobTable) mark(j *job) byte {
	n := len(t.recent)
	switch {
	case n > 0 && t.recent[n-1] == j:
		return '+'
	case n > 1 && t.recent[n-2] == j:
		return '-'
	}
	return ' '
}

// jobFor is the job a new process of run joins: run's current job, or a
// new one when there is none yet or it stopped. t.mu is held.
func (t *jobTable) jobFor(run *stmtRun) *job {
	j := run.cur
	if j != nil && !j.stopped() {
		return j
	}
	nj := &job{owner: run, fg: run.fg && !run.done, text: run.text}
	if j != nil {
		j.owner = nil
		nj.text = "" // a continuation: name it by its processes
	}
	run.cur = nj
	if !run.fg {
		t.insert(nj)
	}
	return nj
}

// watch waits for the changes of p's state until it exits: wait4 with
// WUNTRACED reports stops (os/exec's Wait does not), WCONTINUED reports a
// SIGCONT sent by someone else.
func (t *jobTable) watch(j *job, p *proc) {
	flags := 0
	if t.tty != nil {
		flags = syscall.WUNTRACED | syscall.WCONTINUED
	}
	for {
		var ws syscall.WaitStatus
		_, err := syscall.Wait4(p.pid, &ws, flags, nil)
		if err == syscall.EINTR {
			continue
		}
		if err == syscall.EINVAL && flags != 0 {
			// A kernel that refuses WCONTINUED, then WUNTRACED: wait for
			// what it supports rather than lose the process.
			if flags&syscall.WCONTINUED != 0 {
				flags &^= syscall.WCONTINUED
			} else {
				flags = 0
			}
			continue
		}
		t.mu.Lock()
		switch {
		case err != nil:
			p.state, p.lost = procExited, true
		case ws.Stopped():
			p.state, p.stopSig = procStopped, ws.StopSignal()
		case ws.Continued():
			p.state = procRunning
		default:
			p.state, p.status = procExited, ws
			p.fgDeath = j.fg && ws.Signaled() && ws.Signal() == syscall.SIGINT
		}
		t.settle(j)
		t.broadcast()
		exited := p.state == procExited
		t.mu.Unlock()
		if exited {
			return
		}
	}
}

// settle hands the terminal back to the shell when the foreground job has
// nothing left running, and reports a foreground job that stopped. t.mu is
// held.
func (t *jobTable) settle(j *job) {
	if !j.fg || j.running() > 0 {
		return
	}
	if t.tty == nil {
		return
	}
	stopped := j.stopped()
	if stopped {
		j.modes = t.tty.getModes()
	}
	t.tty.reclaim()
	signaled := false
	for _, p := range j.procs {
		signaled = signaled || p.state == procExited && p.status.Signaled()
	}
	switch {
	case stopped || signaled:
		t.tty.setModes(t.tty.modes)
	case j.complete():
		if m := t.tty.getModes(); m != nil {
			t.tty.modes = m // keep what the job set (stty)
		}
	}
	if stopped {
		j.fg = false
		t.insert(j)
		t.makeCurrent(j)
		j.reportedStop = true
		fmt.Fprintf(t.out, "\n%s\n", t.format(j, false))
	}
}

// state describes j for jobs and notifications (POSIX jobs(1) STDOUT).
func (t *jobTable) state(j *job) string {
	switch {
	case j.complete():
		code := j.exitCode()
		if n := len(j.procs); n > 0 && (j.owner == nil || j.detached || j.procs[n-1].exitCode() == code) {
			if p := j.procs[n-1]; !p.lost && p.status.Signaled() {
				return signalDescription(p.status)
			}
		}
		if code == 0 {
			return "Done"
		}
		return "Done(" + strconv.Itoa(code) + ")"
	case j.stopped():
		for _, p := range j.procs {
			if p.state == procStopped {
				if p.stopSig == syscall.SIGTSTP {
					return "Stopped"
				}
				return "Stopped (" + signalName(p.stopSig) + ")"
			}
		}
	}
	return "Running"
}

// format is a job's line: "[1]+  Running                 sleep 100 &".
func (t *jobTable) format(j *job, long bool) string {
	text := j.describe()
	if !j.complete() && !j.stopped() {
		text += " &"
	}
	pid := ""
	if long && len(j.procs) > 0 {
		pid = strconv.Itoa(j.procs[0].pid) + " "
	}
	return fmt.Sprintf("[%d]%c  %s%-22s  %s", j.id, t.mark(j), pid, t.state(j), text)
}

// notify reports the jobs that finished or stopped since the last prompt
// and forgets the finished ones (POSIX XCU 2.11: before the next prompt).
func (t *jobTable) notify() {
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, j := range slices.Clone(t.jobs) {
		switch {
		case j.complete():
			if !j.collected {
				fmt.Fprintln(t.out, t.format(j, false))
			}
			t.remove(j)
		case j.stopped() && !j.reportedStop:
			j.reportedStop = true
			fmt.Fprintln(t.out, t.format(j, false))
		}
	}
}

// finish records the end of a statement; a job it leaves behind (stopped,
// or with processes it started in the background) stays in the table.
func (t *jobTable) finish(run *stmtRun, status int) {
	t.mu.Lock()
	defer t.mu.Unlock()
	run.done, run.status = true, status
	if j := run.cur; j != nil {
		j.fg = false
		if !j.complete() {
			t.insert(j)
		}
	}
	t.broadcast()
}

// signalDescription names a death by signal as shells print it.
func signalDescription(ws syscall.WaitStatus) string {
	s := ws.Signal().String()
	if s != "" {
		s = strings.ToUpper(s[:1]) + s[1:]
	}
	if ws.CoreDump() {
		s += " (core dumped)"
	}
	return s
}
