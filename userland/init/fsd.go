package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"

	"valence.dev/ipc"
	"valence.dev/libos"
	fp "valence.dev/servers/fs/fileproto"
)

// fsdWait bounds the start of a mounted disk's fsd (mount(2)), from
// spawn to registration: mounting reads a superblock and a few tree
// roots; this is for a disk that does not answer. The root's fsd has the
// manifest's start-timeout.
const fsdWait = 20 * time.Second

// fsdStopWait is how long a mounted disk's fsd gets to commit and exit
// after SIGTERM.
const fsdStopWait = 10 * time.Second

// fsdBinary is fsd's path in the initfs.
const fsdBinary = "/bin/fsd"

// Mount points the root disk must have as directories: the initfs is
// bound at bootDir, and the kernel mounts /dev and /proc. /tmp is
// everyone's scratch space (sticky, world-writable), as on Linux.
var mountPoints = []struct {
	name string
	mode uint32
}{
	{"boot", 0o755},
	{"dev", 0o755},
	{"proc", 0o755},
	{"tmp", 0o1777},
}

// pointFix is what a mount point on the disk needs.
type pointFix int

const (
	pointOK     pointFix = iota
	pointCreate          // missing: mkdir
	pointChmod           // a directory of the wrong mode (only /tmp's matters)
	pointNotDir          // something else is there: leave it, say so
	pointError           // it cannot be looked at
)

// fixFor decides what the mount point needs from Stat's answer. Only
// /tmp's mode is enforced (others may keep what the disk's owner chose:
// a mount covers the directory anyway).
func fixFor(st fp.Stat, err error, mode uint32) pointFix {
	switch {
	case errors.Is(err, syscall.ENOENT):
		return pointCreate
	case err != nil:
		return pointError
	case st.Mode&fp.S_IFMT != fp.S_IFDIR:
		return pointNotDir
	case mode&0o1000 != 0 && st.Mode&0o7777 != mode:
		return pointChmod
	}
	return pointOK
}

// prepareRoot makes the mount points on the disk fsd serves, through
// fsd itself, before anything is mounted on them. Problems are logged:
// a disk without /dev still makes a usable root.
func prepareRoot(ctx context.Context, c fp.Client, disk string) {
	root := fp.Cred{}
	for _, mp := range mountPoints {
		at := fp.At{Path: mp.name}
		st, err := c.Stat(ctx, fp.StatRequest{Cred: root, At: at})
		switch fixFor(st, err, mp.mode) {
		case pointCreate:
			err = c.Mkdir(ctx, fp.MkdirRequest{Cred: root, At: at, Mode: mp.mode})
			if err == nil && mp.mode&0o7000 != 0 {
				// Set it again: mkdir's mode need not keep the sticky bit.
				err = c.Chmod(ctx, fp.ChmodRequest{Cred: root, At: at, Mode: mp.mode})
			}
			if err != nil {
				logf("cannot create /%s on %s: %v", mp.name, disk, err)
			}
		case pointChmod:
			logf("/%s on %s had mode %#o; setting %#o", mp.name, disk, st.Mode&0o7777, mp.mode)
			if err := c.Chmod(ctx, fp.ChmodRequest{Cred: root, At: at, Mode: mp.mode}); err != nil {
				logf("cannot chmod /%s on %s: %v", mp.name, disk, err)
			}
		case pointNotDir:
			logf("/%s on %s is not a directory (mode %#o); nothing can be mounted there", mp.name, disk, st.Mode)
		case pointError:
			logf("cannot look at /%s on %s: %v", mp.name, disk, err)
		}
	}
}

// mountRoot makes the disk fsd (behind client) serves the root: the
// initfs is bound at /boot first (afterwards "/" is the disk), then fsd
// is mounted at "/". The caller holds ns.mu. An error means the root is
// still the initfs.
func mountRoot(ns *namespace, client ipc.Handle) error {
	bindErr := libos.Bind("/", bootDir)
	if err := libos.Mount("/", client, 0); err != nil {
		if bindErr == nil {
			libos.Unmount(bootDir)
		}
		return err
	}
	if bindErr != nil {
		logf("the initfs is not reachable: %v", bindErr)
	}
	// The working directory may still be the initfs's root (as after a
	// mount over / on Linux); the console program inherits it, so enter
	// the new root.
	if err := os.Chdir("/"); err != nil {
		logf("chdir / on the new root: %v", err)
	}
	ns.mounted, ns.bootBound = true, bindErr == nil
	return nil
}

// stopFsd ends a mounted disk's fsd with SIGTERM, at which it commits,
// and reports it.
func stopFsd(fsd *child) {
	st, killed := fsd.stop(fsdStopWait)
	fsd.tap.reason(time.Second) // let the relay pass on fsd's last lines
	if killed {
		logf("fsd (pid %d) did not exit within %v of SIGTERM; killed it", fsd.pid, fsdStopWait)
		return
	}
	if !st.Exited() || st.ExitStatus() != 0 {
		logf("fsd (pid %d) stopped: %s", fsd.pid, describeStatus(st))
	}
}

// fsdClient is the file protocol on a registered fsd.
func fsdClient(client ipc.Handle) fp.Client { return fp.Client{T: libos.Endpoint{H: client}} }

// describeFs names what is mounted, for the console.
func describeFs(disk string) string { return fmt.Sprintf("%s (valfs)", disk) }
