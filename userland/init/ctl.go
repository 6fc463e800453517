package main

import (
	"fmt"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"valence.dev/libos"
	"valence.dev/userland/init/control"
	"valence.dev/userland/init/manifest"
)

// The loop's side of svc's requests (ctlserver.go reads them from the
// control socket and checks the caller's credentials first).

// ctlCall is a checked request for the loop, and where to answer.
type ctlCall struct {
	req   control.Request
	peer  int32 // the caller's pid, for the log
	reply chan []control.Reply
}

// deny is an answer with errno e.
func deny(e syscall.Errno, format string, args ...any) []control.Reply {
	return control.Pack(control.Reply{Errno: int32(e), Message: fmt.Sprintf(format, args...)}, nil, nil)
}

// answer is a successful answer with a message.
func answer(format string, args ...any) []control.Reply {
	return control.Pack(control.Reply{Message: fmt.Sprintf(format, args...)}, nil, nil)
}

// onControl answers one request; it never blocks.
func (s *supervisor) onControl(c ctlCall) []control.Reply {
	req := c.req
	switch req.Op {
	case control.OpList:
		return control.Pack(control.Reply{}, s.statuses(time.Now()), nil)
	case control.OpLog:
		return s.logOf(req.Name)
	}
	if s.shutting {
		return deny(syscall.ESHUTDOWN, "init is shutting down")
	}
	if r := s.drivers.find(req.Name); r != nil {
		return s.driverOp(r, req, c.peer)
	}
	if req.Name == s.console.name {
		return s.consoleOp(req, c.peer)
	}
	svc := s.byName[req.Name]
	if svc == nil {
		return deny(syscall.ENOENT, "no service %q", req.Name)
	}
	switch req.Op {
	case control.OpStart:
		return s.startOp(svc, false)
	case control.OpRestart:
		if svc.state == stateRunning {
			svc.startAfterStop = true
			s.stop(svc)
			s.note(svc, "svc restart from pid %d", c.peer)
			return answer("restarting %s (pid %d)", svc.spec.Name, svc.inst.pid)
		}
		return s.startOp(svc, true)
	case control.OpStop:
		return s.stopOp(svc, c.peer)
	case control.OpKill:
		if svc.inst == nil {
			return deny(syscall.ESRCH, "%s has no process (%s)", svc.spec.Name, svc.state)
		}
		sig := syscall.Signal(req.Signal)
		s.note(svc, "svc kill %s from pid %d", signalName(sig), c.peer)
		if err := libos.ProcKill(svc.inst.proc, sig); err != nil {
			return deny(syscall.ESRCH, "%s (pid %d): %v", svc.spec.Name, svc.inst.pid, err)
		}
		return answer("sent %s to %s (pid %d)", signalName(sig), svc.spec.Name, svc.inst.pid)
	}
	return deny(syscall.EINVAL, "unknown operation %d", req.Op)
}

// startOp starts a service that has no process: the budget starts
// afresh, since a person asked.
func (s *supervisor) startOp(svc *service, restart bool) []control.Reply {
	switch svc.state {
	case stateRunning, stateStarting, stateStopping:
		return deny(syscall.EBUSY, "%s is %s", svc.spec.Name, svc.state)
	case stateWaiting:
		return deny(syscall.EBUSY, "%s is waiting for its dependencies", svc.spec.Name)
	}
	was := svc.lastState()
	svc.budget.reset()
	s.launch(svc) // a pending restart's timer is voided: launch bumps gen
	svc.manual = true
	if restart {
		return answer("starting %s (it was %s)", svc.spec.Name, was)
	}
	return answer("starting %s", svc.spec.Name)
}

// stopOp stops a service and keeps it stopped.
func (s *supervisor) stopOp(svc *service, peer int32) []control.Reply {
	switch svc.state {
	case stateRunning:
		s.note(svc, "svc stop from pid %d", peer)
		s.stop(svc)
		return answer("stopping %s (pid %d)", svc.spec.Name, svc.inst.pid)
	case stateStarting:
		svc.stopReq = true
		return answer("%s will stop once started", svc.spec.Name)
	case stateRestarting:
		svc.gen++ // void the pending restart
		svc.state = stateStopped
		s.note(svc, "svc stop from pid %d: restart cancelled", peer)
		return answer("%s stopped (its restart is cancelled)", svc.spec.Name)
	}
	return deny(syscall.EINVAL, "%s is not running (%s)", svc.spec.Name, svc.state)
}

// driverOp: drivers are pcid's to restart; init may only signal them.
func (s *supervisor) driverOp(r *driverRow, req control.Request, peer int32) []control.Reply {
	if req.Op != control.OpKill {
		return deny(syscall.EOPNOTSUPP, "%s is pcid's: pcid restarts its drivers (svc kill %s to have it restarted)", r.name, r.name)
	}
	if r.pid == 0 {
		return deny(syscall.ESRCH, "%s has no process (%s)", r.name, r.state)
	}
	sig := syscall.Signal(req.Signal)
	if err := syscall.Kill(int(r.pid), sig); err != nil {
		return deny(syscall.ESRCH, "%s (pid %d): %v", r.name, r.pid, err)
	}
	s.logs.add(r.program, fmt.Sprintf("init: svc kill %s from pid %d", signalName(sig), peer))
	return answer("sent %s to %s (pid %d)", signalName(sig), r.name, r.pid)
}

// consoleOp: the console program is signalled, never restarted.
func (s *supervisor) consoleOp(req control.Request, peer int32) []control.Reply {
	c := &s.console
	if req.Op != control.OpKill {
		return deny(syscall.EPERM, "the console program is not stopped or started by svc: its exit powers the machine off")
	}
	if c.pid == 0 {
		return deny(syscall.ESRCH, "the console program is not running")
	}
	sig := syscall.Signal(req.Signal)
	if err := syscall.Kill(c.pid, sig); err != nil {
		return deny(syscall.ESRCH, "%s (pid %d): %v", c.name, c.pid, err)
	}
	s.logs.add(c.name, fmt.Sprintf("init: svc kill %s from pid %d", signalName(sig), peer))
	return answer("sent %s to %s (pid %d)", signalName(sig), c.name, c.pid)
}

// logOf answers svc log: a service's, a driver's or the console's lines.
func (s *supervisor) logOf(name string) []control.Reply {
	key := name
	if r := s.drivers.find(name); r != nil {
		key = r.program
	}
	lines := s.logs.lines(key)
	if lines == nil && s.byName[name] == nil && name != s.console.name && s.drivers.find(name) == nil {
		return deny(syscall.ENOENT, "no service %q", name)
	}
	return control.Pack(control.Reply{}, nil, lines)
}

// statuses is every service for svc list: the manifest's in order, each
// driver after pcid, and the console last.
func (s *supervisor) statuses(now time.Time) []control.Status {
	var out []control.Status
	for _, svc := range s.services {
		st := control.Status{
			Name: svc.spec.Name, State: string(svc.state), Restarts: uint32(svc.restarts),
			LastExit: clip(svc.lastExit, control.MaxMessage), Supervisor: "init",
		}
		if svc.inst != nil {
			st.PID = int32(svc.inst.pid)
			st.UptimeMS = uint64(svc.uptime(now).Milliseconds())
		}
		out = append(out, st)
		if svc.spec.Serves == manifest.Devreg {
			for _, r := range s.drivers.sorted() {
				st := control.Status{Name: r.name, State: r.svcState(), PID: r.pid, Restarts: uint32(r.restarts),
					LastExit: clip(r.lastExit, control.MaxMessage), Supervisor: svc.spec.Name}
				if r.pid != 0 {
					st.UptimeMS = uint64(now.Sub(r.since).Milliseconds())
				}
				out = append(out, st)
			}
		}
	}
	c := &s.console
	st := control.Status{Name: c.name, State: string(c.state), PID: int32(c.pid), LastExit: clip(c.lastExit, control.MaxMessage), Supervisor: "init"}
	if c.state == stateRunning {
		st.UptimeMS = uint64(now.Sub(c.started).Milliseconds())
	}
	return append(out, st)
}

// lastState is how the service was before a start, for svc restart's
// answer.
func (svc *service) lastState() string {
	if svc.lastExit != "" {
		return fmt.Sprintf("%s: %s", svc.state, svc.lastExit)
	}
	return string(svc.state)
}

// signalName is "SIGKILL", or "signal 40".
func signalName(sig syscall.Signal) string {
	if n := unix.SignalName(sig); n != "" {
		return n
	}
	return fmt.Sprintf("signal %d", int(sig))
}

func clip(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
