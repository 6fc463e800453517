package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"valence.dev/drivers/lib/devreg"
	"valence.dev/libos"
	"valence.dev/userland/init/manifest"
)

// The console program is the last service: the program init= named on
// the kernel's command line, or else the manifest's console service
// (/bin/sh), run on the console with init's environment and descriptors
// once every other service has settled. It is never restarted; when it
// ends, init stops the services and exits with its status, which powers
// the machine off (the contract every end-to-end test relies on: a test
// program run as init= ends QEMU with its status).

// consoleName is the console's name in svc when the manifest has no
// console service.
const consoleName = "console"

// consoleState is the console program.
type consoleState struct {
	name     string
	path     string   // the program as named
	argv     []string // its arguments, argv[0] the path
	file     string   // the file actually run (chooseInit)
	pid      int
	started  time.Time
	state    state
	lastExit string

	over bool // it ended, or could not start: time to shut down
	code int  // the status to exit with then
}

func newConsoleState(spec *manifest.Service, cmd consoleCommand) consoleState {
	c := consoleState{name: consoleName, state: stateWaiting, path: cmd.Path, argv: cmd.Argv}
	if spec != nil {
		c.name = spec.Name
		if c.path == "" {
			c.path = spec.Program
			c.argv = append([]string{spec.Program}, spec.Args...)
		}
	}
	return c
}

// bootConsole makes the disks files in /dev, starts the mounter and then
// the console program; every other service has settled.
func (s *supervisor) bootConsole() {
	dev := s.registryCopy()
	if dev != nil {
		registry.Store(dev)
	}
	attachDisks(context.Background(), dev)
	s.mnt = startMounter(dev, &s.ns, s.logs)

	c := &s.console
	if c.path == "" {
		logf("no console program: the kernel named none (init=) and the manifest has no console service")
		c.state, c.over, c.code = stateFailed, true, 1
		return
	}
	mounted, bootBound := s.ns.snapshot()
	file, note := chooseInit(c.path, mounted, bootBound, exists)
	if note != "" {
		logf("%s", note)
	}
	unlock := s.ns.lock() // no spawn may hold descriptors 1 and 2 now
	pid, err := libos.Spawn(file, c.argv, initEnv(os.Environ()))
	unlock()
	if err != nil {
		logf("cannot start %s: %v", c.path, err)
		c.state, c.lastExit, c.over, c.code = stateFailed, err.Error(), true, 1
		return
	}
	c.file, c.pid, c.started, c.state = file, pid, time.Now(), stateRunning
	s.logs.add(c.name, fmt.Sprintf("init: started %s (pid %d)", file, pid))
}

// registryCopy is a capability on pcid's registry for init's own use
// (disk files, the mounter), held for good, or nil without pcid.
func (s *supervisor) registryCopy() *devices {
	reg := s.m.Serving(manifest.Devreg)
	if reg == nil {
		return nil
	}
	h := s.copyClient(reg.Name)
	if h == 0 {
		return nil
	}
	return &devices{registry: devreg.Client{T: libos.Endpoint{H: h}}}
}

// reap collects the end of every child of init, for good: the console's
// ends the system; mounted disks' fsds are noted; services are watched
// through their process handles (supervisor.go: watch), so their ends
// only free the zombie here.
func (s *supervisor) reap() {
	for {
		pid, st, err := libos.Wait(-1)
		switch {
		case err == nil:
			s.events <- reaped{pid: pid, st: st}
		case errors.Is(err, syscall.EINTR):
		default:
			time.Sleep(100 * time.Millisecond) // no child now (ECHILD)
		}
	}
}

// onReaped handles a reaped child; over says the console program ended
// and code is the status to exit with.
func (s *supervisor) onReaped(e reaped) (code int, over bool) {
	c := &s.console
	if c.pid != 0 && e.pid == c.pid {
		c.code = exitCode(e.st)
		c.state, c.lastExit, c.over = stateExited, describeStatus(e.st), true
		logf("%s (pid %d) ended: %s; exiting with status %d", c.file, c.pid, describeStatus(e.st), c.code)
		return c.code, true
	}
	s.mnt.died(e.pid, e.st)
	return 0, false
}

// shutdown makes the system safe to power off once the console program
// is gone: the services stop in reverse dependency order, each with
// SIGTERM and then, after its stop-timeout, SIGKILL; before the root's
// fsd, everything is synced and the disks mount(2) mounted are
// unmounted (their fsds commit and exit).
func (s *supervisor) shutdown() {
	s.shutting = true
	synced := false
	syncAll := func() {
		if !synced {
			syscall.Sync()
			s.mnt.stopAll()
			synced = true
		}
	}
	for i := len(s.services) - 1; i >= 0; i-- {
		svc := s.services[i]
		if svc.spec.Serves == manifest.RootFS {
			syncAll()
		}
		inst := svc.inst
		if inst == nil {
			continue
		}
		if terminate(inst, svc.spec.StopTimeout) {
			logf("%s (pid %d) did not exit within %v of SIGTERM; killed it", svc.spec.Name, inst.pid, svc.spec.StopTimeout)
		}
		if svc.spec.Serves == manifest.RootFS {
			// Let the relay pass on fsd's last lines (what it
			// committed). Others' pipes may stay open in children that
			// outlive them (pcid's drivers), so their ends are not
			// awaited.
			inst.tap.reason(time.Second)
		}
	}
	syncAll()
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
