package main

import (
	"context"
	"fmt"
	"path"
	"time"

	"valence.dev/drivers/lib/devreg"
	"valence.dev/ipc"
	"valence.dev/libos"
	"valence.dev/userland/init/manifest"
)

// clientRights are the rights of a copy of what a service registered.
const clientRights = ipc.RightWrite | ipc.RightGrant | ipc.RightDuplicate

// startEnv is what a start needs from the loop, made by the loop: its
// own copies of the capabilities other services registered, so that a
// service ending meanwhile (the loop then closes its handles) cannot
// pull them from under the worker.
type startEnv struct {
	restart  bool       // the service has run before
	disk     string     // rootfs: the disk it served, to serve again
	registry ipc.Handle // a copy of pcid's registry, or 0
	regName  string     // the service that serves devreg, for messages
	services map[string]ipc.Handle
}

func (s *supervisor) startEnv(svc *service) startEnv {
	env := startEnv{restart: svc.startedOnce, disk: svc.disk, services: map[string]ipc.Handle{}}
	if reg := s.m.Serving(manifest.Devreg); reg != nil {
		env.regName = reg.Name
		env.registry = s.copyClient(reg.Name)
	}
	for _, c := range svc.spec.Caps {
		if c.Kind == manifest.CapService {
			env.services[c.Arg] = s.copyClient(c.Arg)
		}
	}
	return env
}

// copyClient copies what service name registered, or returns 0 when it
// is not running.
func (s *supervisor) copyClient(name string) ipc.Handle {
	svc := s.byName[name]
	if svc == nil || svc.inst == nil || svc.inst.client == 0 || svc.state != stateRunning {
		return 0
	}
	h, err := libos.Dup(svc.inst.client, clientRights, 0)
	if err != nil {
		logf("copying %s's capability: %v", name, err)
		return 0
	}
	return h
}

func (e startEnv) close() {
	if e.registry != 0 {
		libos.Close(e.registry)
	}
	for _, h := range e.services {
		if h != 0 {
			libos.Close(h)
		}
	}
}

// start is one start of a service, in a worker: its capabilities are
// made, it is spawned and registers, and what it registered is put to
// use (protocols.go).
func (s *supervisor) start(spec *manifest.Service, env startEnv) startDone {
	ctx := context.Background()
	hs, regAt, disk, skip, err := s.makeCaps(ctx, spec, env)
	defer closeAll(hs)
	if skip != "" || err != nil {
		return startDone{skip: skip, err: err, disk: disk}
	}
	c, err := startServer(s.ns.lock, serverSpec{
		name:    path.Base(spec.Program),
		program: func() string { return s.ns.systemPath(spec.Program) },
		argv:    append([]string{path.Base(spec.Program)}, spec.Args...),
		env:     []string{"PATH=/bin", "HOME=/"},
		handles: hs,
		regAt:   regAt,
		timeout: spec.StartTimeout,
		output:  func(line string) { s.output(spec.Name, line) },
	})
	if err != nil {
		return startDone{err: err, disk: disk}
	}
	says, err := s.attach(spec, c, disk, env.restart)
	if err != nil {
		c.kill()
		if c.client != 0 {
			libos.Close(c.client)
		}
		return startDone{err: err, disk: disk}
	}
	if spec.Essential {
		markEssential(c)
	}
	inst := &instance{pid: c.pid, proc: c.proc, client: c.client, started: time.Now(), tap: c.tap, done: make(chan struct{})}
	return startDone{inst: inst, disk: disk, says: says}
}

func closeAll(hs []ipc.Handle) {
	for _, h := range hs {
		if h != 0 {
			libos.Close(h)
		}
	}
}

// makeCaps makes spec's initial handles, in the order of its caps (0 at
// regAt, the registration endpoint's place). skip, when set, says why the
// service is not started at all: what it serves has nothing to serve
// (no such NIC, root=initfs). On error or skip the handles made are
// returned for closing all the same.
func (s *supervisor) makeCaps(ctx context.Context, spec *manifest.Service, env startEnv) (hs []ipc.Handle, regAt int, disk, skip string, err error) {
	regAt = -1
	dev := devices{registry: devreg.Client{T: libos.Endpoint{H: env.registry}}}
	for i, c := range spec.Caps {
		var h ipc.Handle
		switch c.Kind {
		case manifest.CapRegister:
			regAt = i
		case manifest.CapDeviceRoot:
			switch {
			case s.root.Initfs:
				return hs, regAt, "", fmt.Sprintf("root=%s: no devices are started", rootInitfs), nil
			case s.devRoot == 0:
				return hs, regAt, "", "", fmt.Errorf("no root device capability (VALENCE_DEVICE_ROOT) to give %s", spec.Name)
			}
			if h, err = libos.Dup(s.devRoot, ipc.RightManage|ipc.RightGrant|ipc.RightDuplicate, 0); err != nil {
				return hs, regAt, "", "", fmt.Errorf("copying the root device capability: %w", err)
			}
		case manifest.CapRootDisk:
			switch {
			case s.root.Initfs:
				return hs, regAt, "", fmt.Sprintf("root=%s: the initfs stays the root", rootInitfs), nil
			case env.registry == 0:
				return hs, regAt, "", "", fmt.Errorf("%s is not running", env.regName)
			}
			deadline := time.Now().Add(diskWait)
			if env.disk != "" {
				// A restart: the same disk, looked up again (its driver
				// may have died and been restarted by pcid).
				disk = env.disk
				h, err = dev.lookup(ctx, disk, deadline)
			} else {
				disk, h, err = dev.findDisk(ctx, s.root.Disks, deadline)
			}
			if err != nil {
				return hs, regAt, "", "", err
			}
		case manifest.CapDriver:
			if env.registry == 0 {
				return hs, regAt, "", fmt.Sprintf("no driver %s: %s is not running", c.Arg, env.regName), nil
			}
			if !env.restart && !registered(ctx, dev, c.Arg) {
				// Nothing to say on the console: a machine without a
				// NIC has no network, as expected.
				return hs, regAt, "", fmt.Sprintf("no driver registered %s", c.Arg), nil
			}
			// Once started, the driver may be between a death and pcid's
			// restart of it: wait for it as long as a start may take.
			if h, err = dev.lookup(ctx, c.Arg, time.Now().Add(spec.StartTimeout)); err != nil {
				return hs, regAt, "", "", err
			}
		case manifest.CapService:
			src := env.services[c.Arg]
			if src == 0 {
				return hs, regAt, "", "", fmt.Errorf("%s is not running", c.Arg)
			}
			if h, err = libos.Dup(src, ipc.RightWrite|ipc.RightGrant, 0); err != nil {
				return hs, regAt, "", "", fmt.Errorf("copying %s's capability: %w", c.Arg, err)
			}
		}
		hs = append(hs, h)
	}
	return hs, regAt, disk, "", nil
}

// registered reports whether a running driver registered name with pcid.
func registered(ctx context.Context, dev devices, name string) bool {
	fns, err := dev.registry.List(ctx)
	if err != nil {
		return false
	}
	for _, f := range fns {
		if f.Name == name && f.State == "running" {
			return true
		}
	}
	return false
}
