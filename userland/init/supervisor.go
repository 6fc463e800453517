package main

import (
	"fmt"
	"syscall"
	"time"

	"valence.dev/ipc"
	"valence.dev/libos"
	"valence.dev/userland/init/manifest"
)

// supervisor is pid 1's state. One goroutine, the loop (run), owns the
// services and changes them in answer to events; everything slow (a
// start waits seconds for a registration, a stop for an exit, a
// heartbeat for an answer) runs in a goroutine of its own that reports
// back by an event, so the loop never blocks for long and every
// decision is made in one place.
type supervisor struct {
	m        *manifest.Manifest
	services []*service // manifest order
	byName   map[string]*service
	events   chan any
	logs     *logs
	ns       namespace
	root     rootChoice
	devRoot  ipc.Handle // the root device capability, or 0
	drivers  *driverTable
	console  consoleState
	mnt      *mounter

	booted   bool // the console program has been started
	shutting bool // the console program ended: nothing is restarted
}

func newSupervisor(m *manifest.Manifest, cmd consoleCommand, root rootChoice) *supervisor {
	s := &supervisor{
		m: m, byName: map[string]*service{}, events: make(chan any, 256), logs: newLogs(),
		root: root, drivers: newDriverTable(),
	}
	if h, ok := libos.DeviceRoot(); ok {
		s.devRoot = h
	}
	for _, spec := range m.Services {
		if spec.Console {
			continue
		}
		svc := &service{spec: spec, state: stateWaiting}
		s.services = append(s.services, svc)
		s.byName[spec.Name] = svc
	}
	s.console = newConsoleState(m.Console(), cmd)
	return s
}

// run boots the system and supervises it until the console program
// ends; then it stops the services and returns the status to exit with.
func (s *supervisor) run() int {
	s.startReady()
	for {
		switch e := (<-s.events).(type) {
		case startDone:
			s.onStarted(e)
		case exited:
			s.onExited(e)
		case hung:
			s.onHung(e)
		case restartDue:
			if e.gen == e.svc.gen && e.svc.state == stateRestarting {
				s.launch(e.svc)
			}
		case reaped:
			if code, over := s.onReaped(e); over {
				s.shutdown()
				return code
			}
		case ctlCall:
			e.reply <- s.onControl(e)
		case driversSeen:
			s.drivers.update(e.fns, time.Now(), s.logs)
		}
		s.startReady()
	}
}

// startReady starts, during boot, every service whose dependencies have
// settled, all at once; once every service has settled, the console.
func (s *supervisor) startReady() {
	if s.booted {
		return
	}
	started, settled := map[string]bool{}, map[string]bool{}
	all := true
	for _, svc := range s.services {
		started[svc.spec.Name] = svc.state != stateWaiting
		settled[svc.spec.Name] = svc.settled
		all = all && svc.settled
	}
	for _, spec := range s.m.Ready(started, settled) {
		if svc := s.byName[spec.Name]; svc != nil {
			s.launch(svc)
		}
	}
	if all {
		s.booted = true
		s.bootConsole()
	}
}

// launch starts a start of svc in a worker; its startDone comes back as
// an event.
func (s *supervisor) launch(svc *service) {
	svc.state = stateStarting
	svc.gen++
	env := s.startEnv(svc)
	go func() {
		e := s.start(svc.spec, env)
		e.svc = svc
		env.close()
		s.events <- e
	}()
}

// onStarted records the outcome of a start.
func (s *supervisor) onStarted(e startDone) {
	svc := e.svc
	first := !svc.startedOnce
	svc.settled = true
	defer func() { svc.manual = false }()
	if e.inst == nil && svc.stopReq {
		// svc stop came while it was starting, and it did not start.
		svc.stopReq, svc.startAfterStop = false, false
		svc.state, svc.lastExit = stateStopped, errText(e.err, e.skip)
		return
	}
	switch {
	case e.inst != nil:
		svc.inst, svc.state, svc.startedOnce = e.inst, stateRunning, true
		if e.disk != "" {
			svc.disk = e.disk
		}
		s.note(svc, "started (pid %d)", e.inst.pid)
		go s.watch(svc, e.inst)
		if svc.spec.Heartbeat > 0 && e.inst.client != 0 {
			go s.heartbeat(svc, e.inst)
		}
		switch {
		case e.says != "":
			s.event(svc, "%s", e.says)
		case svc.manual:
			s.event(svc, "%s started by svc (pid %d)", svc.spec.Name, e.inst.pid)
		case !first:
			s.event(svc, "%s restarted (pid %d)", svc.spec.Name, e.inst.pid)
		}
		if svc.stopReq {
			s.stop(svc) // svc stop came while it was starting
		}
	case e.skip != "":
		svc.state, svc.lastExit = stateSkipped, e.skip
		s.note(svc, "not started: %s", e.skip)
		if svc.spec.Serves == manifest.RootFS {
			logf("%s", e.skip)
		}
	case first:
		svc.state, svc.lastExit = stateFailed, e.err.Error()
		s.startFailed(svc, e)
	default:
		// A restart that failed counts as one more end.
		svc.lastExit = e.err.Error()
		s.afterEnd(svc, fmt.Sprintf("%s not restarted: %v", svc.spec.Name, e.err), false)
	}
}

// errText is a failed start's reason.
func errText(err error, skip string) string {
	if err != nil {
		return err.Error()
	}
	return skip
}

// startFailed says why a service's first start failed.
func (s *supervisor) startFailed(svc *service, e startDone) {
	err := e.err
	switch svc.spec.Serves {
	case manifest.RootFS:
		what := s.root.String()
		if e.disk != "" {
			what = e.disk
		}
		s.event(svc, "root disk %s not mounted: %v; the initfs stays the root", what, err)
	case manifest.Net:
		s.event(svc, "no network: %s: %v", svc.spec.Name, err)
	default:
		s.event(svc, "%s not started: %v", svc.spec.Name, err)
	}
}

// watch waits for inst's end and reports it.
func (s *supervisor) watch(svc *service, inst *instance) {
	st := procWait(inst.proc)
	close(inst.done)
	s.events <- exited{svc: svc, inst: inst, st: st}
}

// onExited decides what follows a service process's end.
func (s *supervisor) onExited(e exited) {
	svc, inst := e.svc, e.inst
	if svc.inst != inst {
		return
	}
	svc.inst = nil
	libos.Close(inst.proc)
	if inst.client != 0 {
		// The kernel holds what it was given (the mount, the network
		// server) by itself; init's copy only served the heartbeat.
		libos.Close(inst.client)
	}
	cause := describeStatus(e.st)
	if inst.hung != "" {
		cause += " (missed its heartbeat)"
	}
	svc.lastExit = cause
	what := fmt.Sprintf("%s (pid %d) %s", svc.spec.Name, inst.pid, cause)
	switch {
	case s.shutting:
		return
	case svc.stopReq:
		svc.stopReq = false
		svc.state = stateStopped
		s.note(svc, "stopped: %s", cause)
		if svc.startAfterStop {
			svc.startAfterStop = false
			svc.budget.reset()
			s.launch(svc)
			svc.manual = true
		}
		return
	}
	clean := e.st.Exited() && e.st.ExitStatus() == 0 && inst.hung == ""
	s.afterEnd(svc, what, clean)
}

// afterEnd applies the restart policy after what (a process's end, or
// a failed restart) and says so in one line:
//
//	init: netd (pid 40) killed by SIGKILL; restart 2 in 500ms
func (s *supervisor) afterEnd(svc *service, what string, clean bool) {
	d := decide(svc.spec, &svc.budget, clean, time.Now())
	if !d.Restart {
		if clean && svc.spec.Restart != manifest.Always {
			svc.state = stateExited
		} else {
			svc.state = stateFailed
		}
		s.event(svc, "%s; %s%s", what, d.Why, consequence(svc.spec.Serves))
		return
	}
	svc.restarts++
	svc.state = stateRestarting
	svc.gen++
	gen := svc.gen
	s.event(svc, "%s; restart %d in %v", what, svc.restarts, d.Delay)
	time.AfterFunc(d.Delay, func() { s.events <- restartDue{svc: svc, gen: gen} })
}

// consequence is what a service left stopped means for the system.
func consequence(p manifest.Protocol) string {
	switch p {
	case manifest.Devreg:
		return ": drivers are no longer restarted"
	case manifest.RootFS:
		return ": files on / fail until reboot"
	case manifest.Net:
		return ": no network until reboot"
	}
	return ""
}

// onHung kills a service that missed its heartbeat; its end then follows
// the restart policy like any other.
func (s *supervisor) onHung(e hung) {
	svc, inst := e.svc, e.inst
	if svc.inst != inst || s.shutting || svc.stopReq {
		return // stopping anyway
	}
	inst.hung = e.why
	s.event(svc, "%s (pid %d) missed its heartbeat: %s; killing it", svc.spec.Name, inst.pid, e.why)
	libos.ProcKill(inst.proc, syscall.SIGKILL)
}

// stop asks svc's process to end (SIGTERM, then SIGKILL after its
// stop-timeout); the exit event finds stopReq set.
func (s *supervisor) stop(svc *service) {
	inst := svc.inst
	svc.stopReq = true
	svc.state = stateStopping
	s.note(svc, "stopping (pid %d)", inst.pid)
	go terminate(inst, svc.spec.StopTimeout)
}

// terminate sends SIGTERM to inst and SIGKILL after grace; it returns
// once the process has ended, and whether it needed SIGKILL.
func terminate(inst *instance, grace time.Duration) bool {
	libos.ProcKill(inst.proc, syscall.SIGTERM)
	select {
	case <-inst.done:
		return false
	case <-time.After(grace):
		libos.ProcKill(inst.proc, syscall.SIGKILL)
		<-inst.done
		return true
	}
}

// event writes a console line about svc and keeps it in svc's log.
func (s *supervisor) event(svc *service, format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	logf("%s", line)
	s.logs.add(svc.spec.Name, "init: "+line)
}

// note keeps a line in svc's log only: routine events that the console
// need not show.
func (s *supervisor) note(svc *service, format string, args ...any) {
	s.logs.add(svc.spec.Name, "init: "+fmt.Sprintf(format, args...))
}
