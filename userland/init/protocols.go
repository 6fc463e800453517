package main

import (
	"context"
	"fmt"

	"valence.dev/drivers/lib/devreg"
	"valence.dev/ipc"
	"valence.dev/ipc/rpc/echoproto"
	"valence.dev/libos"
	"valence.dev/servers/net/sockproto"
	"valence.dev/userland/init/manifest"
)

// What init does with what a service registers, by the protocol it
// serves (manifest: serves), and how it asks that service whether it is
// alive.

// attach puts c's registration to use. It returns the console line that
// announces it, if any. On error the caller kills c.
func (s *supervisor) attach(spec *manifest.Service, c *child, disk string, restart bool) (string, error) {
	switch spec.Serves {
	case manifest.RootFS:
		return s.attachRoot(spec, c, disk)
	case manifest.Net:
		// AF_INET socket calls go to it from now on; a restarted netd
		// replaces the dead one, whose sockets fail.
		if err := libos.SetNetServer(c.client); err != nil {
			return "", fmt.Errorf("making %s the network server: %w", spec.Name, err)
		}
	}
	return "", nil
}

// attachRoot mounts the root disk's fsd at "/". The first time, the
// mount points are made on the disk (through fsd itself) and the initfs
// is bound at /boot; later (a restart, or svc start after svc stop) the
// new fsd is given to the existing mount (ipc.MountReplace), in every
// process's namespace at once.
func (s *supervisor) attachRoot(spec *manifest.Service, c *child, disk string) (string, error) {
	unlock := s.ns.lock()
	mounted := s.ns.mounted
	unlock()
	if mounted {
		if err := libos.Mount("/", c.client, ipc.MountReplace); err != nil {
			return "", fmt.Errorf("the new %s (pid %d) cannot replace the root's: %w", spec.Name, c.pid, err)
		}
		return fmt.Sprintf("%s restarted on %s (pid %d); / is served again", spec.Name, disk, c.pid), nil
	}
	prepareRoot(context.Background(), fsdClient(c.client), disk)
	unlock = s.ns.lock()
	err := mountRoot(&s.ns, c.client)
	if err == nil {
		s.ns.disk = disk
	}
	bootBound := s.ns.bootBound
	unlock()
	switch {
	case err != nil:
		return "", err
	case bootBound:
		return fmt.Sprintf("root is %s, the initfs is at %s", describeFs(disk), bootDir), nil
	}
	return fmt.Sprintf("root is %s; the initfs is not reachable", describeFs(disk)), nil
}

// probe is a liveness call: it returns once the service answered
// (whatever the answer), or with an error if the call could not be made.
type probe func(ctx context.Context) error

// probeFor returns the liveness call of protocol p on h, a capability on
// the service. For pcid, the answer (its list of functions) also tells
// init how the drivers are doing.
func (s *supervisor) probeFor(p manifest.Protocol, h ipc.Handle) (probe, string) {
	t := libos.Endpoint{H: h}
	switch p {
	case manifest.Devreg:
		return func(ctx context.Context) error {
			fns, err := devreg.Client{T: t}.List(ctx)
			if err == nil {
				s.events <- driversSeen{fns: fns}
			}
			return err
		}, "List"
	case manifest.RootFS:
		return func(ctx context.Context) error {
			_, err := fsdClient(h).Statfs(ctx)
			return err
		}, "Statfs"
	case manifest.Net:
		return func(ctx context.Context) error {
			_, err := sockproto.Client{T: t}.Status(ctx, 0)
			return err
		}, "Status"
	case manifest.Echo:
		return func(ctx context.Context) error {
			got, err := echoproto.Client{T: t}.Echo(ctx, "ping")
			if err == nil && got != "ping" {
				err = fmt.Errorf("echo answered %q", got)
			}
			return err
		}, "Echo"
	}
	return nil, ""
}
