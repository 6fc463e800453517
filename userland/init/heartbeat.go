package main

import (
	"context"
	"fmt"
	"time"

	"valence.dev/libos"
)

// Heartbeats. A service that has hung (a deadlock, a lost wake-up, a
// loop) is alive to wait(2) but useless; init finds it by calling it.
// Every heartbeat interval, the heartbeat goroutine of a running service
// makes its protocol's liveness call (protocols.go: probeFor) on its own
// copy of the service's capability, and waits up to the timeout for the
// answer. Any answer will do, even an error reply: the service's loop
// ran. No answer in time is reported to the loop (hung), which kills the
// service with SIGKILL; its end then follows the restart policy like any
// other, and the console says why:
//
//	init: hangd (pid 31) missed its heartbeat: no answer to Echo within 3s; killing it
//	init: hangd (pid 31) killed by SIGKILL (missed its heartbeat); restart 1 in 250ms
//
// A kernel IPC call cannot be withdrawn, so the call that never came
// back stays blocked in its goroutine until the service dies, when the
// kernel fails it; there is at most one such goroutine per service
// process, since the heartbeat stops at the first miss.

// heartbeat checks inst until it ends or misses a deadline.
func (s *supervisor) heartbeat(svc *service, inst *instance) {
	h, err := libos.Dup(inst.client, clientRights, 0)
	if err != nil {
		s.note(svc, "no heartbeat: copying its capability: %v", err)
		return
	}
	call, name := s.probeFor(svc.spec.Serves, h)
	if call == nil {
		libos.Close(h)
		return
	}
	every, timeout := svc.spec.Heartbeat, svc.spec.Timeout
	tick := time.NewTicker(every)
	defer tick.Stop()
	answered := make(chan error, 1)
	for {
		select {
		case <-inst.done:
			libos.Close(h)
			return
		case <-tick.C:
		}
		go func() { answered <- call(context.Background()) }()
		select {
		case <-inst.done:
			// The call returns (the service is dead) before the copy
			// is closed: closing a handle in use could let a new
			// object take its number under the call.
			<-answered
			libos.Close(h)
			return
		case <-answered:
		case <-time.After(timeout):
			s.events <- hung{svc: svc, inst: inst, why: fmt.Sprintf("no answer to %s within %v", name, timeout)}
			<-inst.done
			<-answered
			libos.Close(h)
			return
		}
	}
}
