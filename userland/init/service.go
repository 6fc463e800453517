package main

import (
	"syscall"
	"time"

	"valence.dev/ipc"
	"valence.dev/userland/init/manifest"
)

// state is where a service is in its life, as svc shows it.
type state string

const (
	stateWaiting    state = "waiting"    // for its dependencies to settle
	stateStarting   state = "starting"   // spawned (or about to be), not yet serving
	stateRunning    state = "running"    // serving
	stateStopping   state = "stopping"   // SIGTERM sent (svc stop or restart)
	stateStopped    state = "stopped"    // by svc stop
	stateRestarting state = "restarting" // ended; a restart is due after the backoff
	stateExited     state = "exited"     // ended, and its policy does not restart it
	stateFailed     state = "failed"     // did not start, or its restart budget is spent
	stateSkipped    state = "skipped"    // not started: what it needs is absent (no such NIC)
)

// service is one manifest service at run time. Only the supervisor's
// loop (supervisor.go) reads or writes it; workers get copies of what
// they need and report back by events.
type service struct {
	spec  *manifest.Service
	state state
	inst  *instance // the running (or stopping) process; nil if none

	settled     bool // its first start has finished, whatever the outcome
	startedOnce bool // some start succeeded: later starts are restarts
	restarts    int  // since boot
	budget      budget
	lastExit    string // how its last process ended, or why it did not start
	gen         int    // bumped to void a scheduled restart (svc stop, start)

	manual         bool // the start under way was asked for with svc
	stopReq        bool // being stopped on purpose: do not restart it
	startAfterStop bool // svc restart: start once stopped
	disk           string
}

// instance is one process of a service.
type instance struct {
	pid     int
	proc    ipc.Handle // its process handle
	client  ipc.Handle // what it registered, or 0
	started time.Time
	tap     *stderrTap
	done    chan struct{} // closed when the process has ended

	hung string // why init killed it for a missed heartbeat, if it did
}

// The events the loop receives. Workers, waiters, timers, the reaper and
// the control server send them; only the loop changes state.
type (
	// startDone: a start attempt of svc finished.
	startDone struct {
		svc  *service
		inst *instance // nil unless it started
		disk string    // rootfs: the disk it serves
		says string    // a console line for a success, if not the usual
		skip string    // why it was not started (not an error), if so
		err  error
	}
	// exited: inst, svc's process, ended with st.
	exited struct {
		svc  *service
		inst *instance
		st   syscall.WaitStatus
	}
	// hung: inst missed its heartbeat deadline.
	hung struct {
		svc  *service
		inst *instance
		why  string
	}
	// restartDue: the backoff before svc's restart is over (unless gen
	// has moved on).
	restartDue struct {
		svc *service
		gen int
	}
	// reaped: the reaper collected a child's end (the console's is what
	// matters; services are watched through their process handles).
	reaped struct {
		pid int
		st  syscall.WaitStatus
	}
)

// uptime is how long the service's current process has run.
func (svc *service) uptime(now time.Time) time.Duration {
	if svc.inst == nil {
		return 0
	}
	return now.Sub(svc.inst.started)
}
