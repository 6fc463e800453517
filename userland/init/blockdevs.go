package main

import (
	"context"
	"fmt"
	"syscall"

	"valence.dev/drivers/lib/block"
	"valence.dev/ipc"
	"valence.dev/libos"
	"valence.dev/servers/fs/blkfile"
	"valence.dev/servers/fs/blockclient"
	"valence.dev/servers/fs/fileproto"
	"valence.dev/servers/fs/fsd/osmem"
)

// Block device files. Every disk a driver registered with pcid by the
// time init starts becomes a file in /dev (/dev/nvme0n1, /dev/vda, as
// Linux names them: names.go), served by init with blkfile over a
// capability on its driver and attached with ipc.MountDevice, so that
// dd, cmp and sha256sum read and write disks as on Linux, and mount(2)
// names them. A disk whose driver dies fails with EIO from then on (its
// file is not re-attached to the restarted driver).

// diskServers is how many goroutines serve each disk's file.
const diskServers = 2

// attachDisks attaches a file in /dev for every registered disk and
// reports which, in one line.
func attachDisks(ctx context.Context, dev *devices) {
	if dev == nil {
		return
	}
	fns, err := dev.registry.List(ctx)
	if err != nil {
		logf("no disk files in /dev: listing pcid's devices: %v", err)
		return
	}
	var attached []string
	for _, f := range fns {
		file, isDisk := devFileName(f.Name)
		if f.State != "running" || !isDisk {
			continue
		}
		if err := attachDisk(ctx, dev, f.Name, file); err != nil {
			logf("no /dev/%s: %v", file, err)
			continue
		}
		attached = append(attached, "/dev/"+file)
	}
	if len(attached) > 0 {
		logf("disk files: %v", attached)
	}
}

// attachDisk serves the disk pcid knows as name as /dev/file.
func attachDisk(ctx context.Context, dev *devices, name, file string) error {
	r, err := dev.registry.Lookup(ctx, name)
	if err != nil {
		return err
	}
	if r.Kind != "block" {
		libos.Close(r.Server)
		return fmt.Errorf("%s is a %q device, not a disk", name, r.Kind)
	}
	d, err := blockclient.Open(ctx, block.Client{T: libos.Endpoint{H: r.Server}}, blockclient.Options{
		Map: func(h ipc.Handle, size uint64) ([]byte, error) {
			return libos.Map(h, syscall.PROT_READ|syscall.PROT_WRITE)
		},
		Unmap: syscall.Munmap,
	})
	if err != nil {
		libos.Close(r.Server)
		return err
	}
	srv := fileproto.NewServer(blkfile.New(d, blkfile.Options{Name: file, Rdev: devRdev(name), Memory: osmem.New()}))
	ep, err := libos.NewEndpoint()
	if err != nil {
		d.Close()
		return err
	}
	client, err := libos.Dup(ep, ipc.RightWrite, 0)
	if err != nil {
		d.Close()
		libos.Close(ep)
		return err
	}
	for range diskServers {
		go srv.Serve(context.Background(), libos.ServerEndpoint{H: ep})
	}
	if err := libos.AttachDevice("/dev/"+file, client, false); err != nil {
		return err
	}
	libos.Close(client) // the kernel holds the attachment's capability
	return nil
}
