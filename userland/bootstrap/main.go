package main

import (
	"context"
	"fmt"
	"os"
	"syscall"
	"time"

	"valence.dev/libos"
)

func main() {
	keepConsole()
	cmd := parseArgs(os.Args)
	ctx := context.Background()
	r, dev := mountDisk(ctx, parseRoot(os.Getenv))
	attachDisks(ctx, dev)
	mnt := startMounter(dev, r)
	net := startNetwork(ctx, dev, r)

	onDisk, bootBound := r != nil, r != nil && r.bootBound
	file, note := chooseInit(cmd.Path, onDisk, bootBound, exists)
	if note != "" {
		logf("%s", note)
	}
	pid, err := libos.Spawn(file, cmd.Argv, initEnv(os.Environ()))
	if err != nil {
		logf("cannot start init: %v", err)
		shutdown(r, mnt, net)
		os.Exit(1)
	}
	st := supervise(pid, r, dev, mnt, net)
	code := exitCode(st)
	logf("%s (pid %d) ended: %s; exiting with status %d", file, pid, describeStatus(st), code)
	shutdown(r, mnt, net)
	os.Exit(code)
}

// mountDisk makes the root disk the root, as root= asks. It returns nil
// for r when the initfs stays the root, having said why on the console;
// dev is pcid, if it was started (it stays up either way: the drivers it
// started are the system's).
func mountDisk(ctx context.Context, choice rootChoice) (r *root, dev *devices) {
	if choice.Initfs {
		logf("root=%s: the initfs stays the root", rootInitfs)
		return nil, nil
	}
	notMounted := func(what string, err error) {
		logf("root disk %s not mounted: %v; the initfs stays the root", what, err)
	}
	devRoot, ok := libos.DeviceRoot()
	if !ok {
		notMounted(choice.String(), fmt.Errorf("no root device capability (VALENCE_DEVICE_ROOT) to start pcid with"))
		return nil, nil
	}
	deadline := time.Now().Add(diskWait)
	dev, err := startDevices(devRoot, deadline)
	if err != nil {
		notMounted(choice.String(), err)
		return nil, nil
	}
	name, disk, err := dev.findDisk(ctx, choice.Disks, deadline)
	if err != nil {
		notMounted(choice.String(), err)
		return nil, dev
	}
	fsd, err := startFsd(fsdProgram(false, false), disk)
	if err != nil {
		notMounted(name, err)
		libos.Close(disk)
		return nil, dev
	}
	prepareRoot(ctx, fsdClient(fsd), name)
	bootBound, err := mountRoot(fsd)
	if err != nil {
		notMounted(name, err)
		stopFsd(fsd)
		libos.Close(disk)
		return nil, dev
	}
	if bootBound {
		logf("root is %s, the initfs is at %s", describeFs(name), bootDir)
	} else {
		logf("root is %s; the initfs is not reachable", describeFs(name))
	}
	return &root{name: name, disk: disk, dev: dev, fsd: fsd, bootBound: bootBound}, dev
}

// shutdown makes the disks durable once init is gone: sync, then
// SIGTERM to every fsd (the disks mount(2) mounted first, then the
// root's), which commits and exits.
func shutdown(r *root, mnt *mounter, net *network) {
	net.stop()
	syscall.Sync()
	mnt.stopAll()
	if r != nil && r.fsd != nil {
		stopFsd(r.fsd)
		r.fsd = nil
	}
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// logf writes one console line, "bootstrap: " first, in one write so
// that lines from other processes do not cut into it.
func logf(format string, args ...any) {
	os.Stdout.WriteString("bootstrap: " + fmt.Sprintf(format, args...) + "\n")
}
