package main

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"time"

	"valence.dev/ipc"
	"valence.dev/ipc/rpc"
	"valence.dev/libos"
	"valence.dev/servers/fs/mountproto"
)

// The mounter: init serves the mount protocol
// (servers/fs/mountproto), so that mount(2) of a disk works from any
// program — `mount -t valfs /dev/vda /mnt` from a shell. The kernel asks
// Mount; init starts an fsd on that disk's driver, as for the root, and
// answers with a client capability on it, which the kernel mounts. When
// the last mount of it goes (umount2), the kernel says Unmount and init
// syncs and stops that fsd. At power-off every fsd it started
// is stopped the same way, after the sync of everything.
//
// A mounted fsd that dies is not restarted (the root's is): files below
// its mount point fail with EIO until it is unmounted and mounted again.

// mountServers is how many goroutines serve the kernel's requests: a
// mount waits for fsd to start (seconds under TCG), and an unmount for
// it to commit, so one slow disk must not hold up the others.
const mountServers = 2

// mounted is a disk mounted through mount(2).
type mounted struct {
	id   uint64
	name string // pcid's name
	path string // the device file, /dev/...
	disk ipc.Handle
	fsd  *child
}

// mounter serves Mount and Unmount.
type mounter struct {
	dev      *devices   // pcid; nil: no disk can be mounted
	rootDisk string     // the root's pcid name ("" if none): never mounted twice
	ns       *namespace // where to spawn fsd from
	logs     *logs

	mu     sync.Mutex
	nextID uint64
	byID   map[uint64]*mounted
	busy   map[string]bool // pcid names mounted or being mounted
}

// startMounter serves the mount protocol and makes init the kernel's
// mounter. A failure is reported and leaves mount(2) of disks refused
// (ENODEV); nothing else depends on it.
func startMounter(dev *devices, ns *namespace, l *logs) *mounter {
	m := &mounter{dev: dev, ns: ns, logs: l, byID: map[uint64]*mounted{}, busy: map[string]bool{}}
	unlock := ns.lock()
	m.rootDisk = ns.disk
	unlock()
	ep, err := libos.NewEndpoint()
	if err == nil {
		var client ipc.Handle
		client, err = libos.Dup(ep, ipc.RightWrite, 0)
		if err == nil {
			err = libos.SetMounter(client)
			libos.Close(client) // the kernel holds it now
		}
		if err == nil {
			srv := mountproto.NewServer(m)
			for range mountServers {
				go srv.Serve(context.Background(), libos.ServerEndpoint{H: ep})
			}
			return m
		}
	}
	logf("mount(2) of disks is unavailable: %v", err)
	return m
}

// refuse is a refusal with errno e and a reason for the console.
func refuse(e syscall.Errno, format string, args ...any) error {
	return &rpc.Error{Code: int32(e), Msg: fmt.Sprintf(format, args...)}
}

// Mount implements mountproto.Handler: an fsd on the disk req.Source.
func (m *mounter) Mount(ctx context.Context, _ uint64, req mountproto.MountRequest) (mountproto.MountReply, error) {
	if req.FSType != "valfs" {
		return mountproto.MountReply{}, refuse(syscall.ENODEV, "filesystem type %q is not known (valfs is)", req.FSType)
	}
	name, ok := pcidName(req.Source)
	if !ok {
		return mountproto.MountReply{}, refuse(syscall.ENXIO, "%s is not a disk", req.Source)
	}
	if m.dev == nil {
		return mountproto.MountReply{}, refuse(syscall.ENXIO, "no drivers were started (root=initfs or no pcid)")
	}
	m.mu.Lock()
	if name == m.rootDisk || m.busy[name] {
		m.mu.Unlock()
		return mountproto.MountReply{}, refuse(syscall.EBUSY, "%s is mounted already", req.Source)
	}
	m.busy[name] = true
	m.mu.Unlock()
	release := func() {
		m.mu.Lock()
		delete(m.busy, name)
		m.mu.Unlock()
	}
	disk, err := m.dev.lookup(ctx, name, time.Now().Add(2*time.Second))
	if err != nil {
		release()
		return mountproto.MountReply{}, refuse(syscall.ENXIO, "%v", err)
	}
	fsd, err := m.startFsd(req.Source, disk)
	if err != nil {
		release()
		libos.Close(disk)
		// fsd refuses a disk without a valid filesystem, as Linux's
		// mount does with EINVAL ("wrong fs type, bad superblock").
		return mountproto.MountReply{}, refuse(syscall.EINVAL, "%s: %v", req.Source, err)
	}
	server, err := libos.Dup(fsd.client, ipc.RightWrite|ipc.RightGrant, 0)
	if err != nil {
		stopFsd(fsd)
		release()
		libos.Close(disk)
		return mountproto.MountReply{}, refuse(syscall.ENOMEM, "copying fsd's capability: %v", err)
	}
	m.mu.Lock()
	m.nextID++
	mt := &mounted{id: m.nextID, name: name, path: req.Source, disk: disk, fsd: fsd}
	m.byID[mt.id] = mt
	m.mu.Unlock()
	logf("%s (valfs) served by fsd (pid %d) for mount(2)", req.Source, fsd.pid)
	return mountproto.MountReply{ID: mt.id, Server: server, Source: req.Source}, nil
}

// startFsd starts fsd on the disk behind disk (never with -mkfs: a
// user's disk is not formatted behind their back) and waits for it to
// serve. Its output is kept under "fsd:" and the device file's path for
// svc log.
func (m *mounter) startFsd(source string, disk ipc.Handle) (*child, error) {
	c, err := startServer(m.ns.lock, serverSpec{
		name:    "fsd",
		program: func() string { return m.ns.systemPath(fsdBinary) },
		argv:    []string{"fsd"},
		env:     []string{"PATH=/bin", "HOME=/"},
		handles: []ipc.Handle{disk, 0},
		regAt:   1,
		timeout: fsdWait,
		output:  func(line string) { m.logs.add("fsd:"+source, line) },
	})
	if err != nil {
		return nil, err
	}
	markEssential(c)
	return c, nil
}

// Unmount implements mountproto.Handler: the mount is gone, so its fsd
// commits and ends.
func (m *mounter) Unmount(ctx context.Context, _ uint64, req mountproto.UnmountRequest) (mountproto.Empty, error) {
	m.mu.Lock()
	mt := m.byID[req.ID]
	delete(m.byID, req.ID)
	m.mu.Unlock()
	if mt == nil {
		return mountproto.Empty{}, refuse(syscall.EINVAL, "no mount %d", req.ID)
	}
	m.stop(mt)
	return mountproto.Empty{}, nil
}

// stop syncs and stops a mounted disk's fsd.
func (m *mounter) stop(mt *mounted) {
	if mt.fsd != nil {
		if err := fsdClient(mt.fsd.client).Sync(context.Background()); err != nil {
			logf("sync of %s: %v", mt.path, err)
		}
		stopFsd(mt.fsd)
	}
	libos.Close(mt.disk)
	m.mu.Lock()
	delete(m.busy, mt.name)
	m.mu.Unlock()
}

// died notes that pid ended, if it is a mounted disk's fsd, and reports
// whether it was.
func (m *mounter) died(pid int, st syscall.WaitStatus) bool {
	if m == nil {
		return false
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, mt := range m.byID {
		if mt.fsd != nil && mt.fsd.pid == pid {
			logf("fsd (pid %d) for %s ended: %s; files there fail until it is unmounted and mounted again", pid, mt.path, describeStatus(st))
			libos.Close(mt.fsd.proc)
			mt.fsd = nil
			return true
		}
	}
	return false
}

// stopAll stops every mounted disk's fsd, at power-off.
func (m *mounter) stopAll() {
	if m == nil {
		return
	}
	m.mu.Lock()
	all := make([]*mounted, 0, len(m.byID))
	for id, mt := range m.byID {
		all = append(all, mt)
		delete(m.byID, id)
	}
	m.mu.Unlock()
	for _, mt := range all {
		m.stop(mt)
	}
}
