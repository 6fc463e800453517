package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"syscall"

	"valence.dev/drivers/lib/dev"
	"valence.dev/drivers/lib/devreg"
	"valence.dev/drivers/pci/pci"
	"valence.dev/ipc"
	"valence.dev/libos"
)

// labelRegistration is the label of the message pcid sends its parent
// through the registration handle, carrying one handle: a client
// capability on pcid's endpoint.
const labelRegistration = 1

func main() {
	manifests := flag.String("manifests", "/etc/drivers", "`directory` of driver manifests (*.toml)")
	loops := flag.Int("serve", 4, "`number` of goroutines serving the registry")
	flag.Parse()
	log := func(format string, args ...any) {
		// One write a line, so lines from goroutines do not interleave.
		os.Stdout.WriteString("pcid: " + fmt.Sprintf(format, args...) + "\n")
	}
	// The drivers pcid starts and restarts come from the filesystem it
	// was started on (the initfs, as a rule): a private copy of the mount
	// namespace keeps it so whatever is mounted later, so that a driver
	// can still be restarted when the root disk's server is down (it may
	// be down because the driver died). This happens before pcid
	// registers, which is before its starter can mount anything.
	if err := syscall.Unshare(syscall.CLONE_NEWNS); err != nil {
		log("cannot keep a private mount namespace (%v); drivers come from the shared one", err)
	}
	if err := run(*manifests, max(*loops, 1), log); err != nil {
		log("fatal: %v", err)
		os.Exit(1)
	}
}

// startHandles finds the root device capability and the registration
// handle (0 if none) as doc.go describes.
func startHandles() (root, registration ipc.Handle, err error) {
	if hs := libos.InitialHandles(); len(hs) > 0 {
		root = hs[0]
		if len(hs) > 1 {
			registration = hs[1]
		}
	} else if h, ok := libos.DeviceRoot(); ok {
		root = h
	} else {
		return 0, 0, errors.New("no root device capability: start pcid as the first process (VALENCE_DEVICE_ROOT) or with it as initial handle 0")
	}
	info, err := libos.Info(root)
	if err != nil {
		return 0, 0, fmt.Errorf("root device capability %#x: %w", uint64(root), err)
	}
	if info.Type != ipc.TypeDevice || info.Rights&(ipc.RightManage|ipc.RightGrant) != ipc.RightManage|ipc.RightGrant {
		return 0, 0, fmt.Errorf("handle %#x is not the root device capability with manage and grant rights (type %d, rights %#x)",
			uint64(root), info.Type, uint32(info.Rights))
	}
	return root, registration, nil
}

func run(manifestDir string, loops int, log func(string, ...any)) error {
	root, registration, err := startHandles()
	if err != nil {
		return err
	}
	info, err := libos.DevInfo(root)
	if err != nil {
		return err
	}
	if info.ECAMBase == 0 {
		return errors.New("the platform has no PCI Express configuration window (no MCFG)")
	}
	iso := "DMA not isolated"
	if info.Flags&ipc.DevDMAIsolated != 0 {
		iso = "DMA isolated"
	}
	log("ECAM at %#x, buses %02x-%02x; %s", info.ECAMBase, info.ECAMStartBus, info.ECAMEndBus, iso)

	space, err := pci.NewBusWindows(info.ECAMStartBus, info.ECAMEndBus, func(bus uint8) (dev.Regs, error) {
		h, err := libos.DevMMIO(root, info.ECAMBase+uint64(bus-info.ECAMStartBus)<<20, pci.ECAMBusSize)
		if err != nil {
			return nil, err
		}
		return dev.MapMMIO(h)
	})
	if err != nil {
		return err
	}
	fns, err := pci.ScanBridges(space)
	if err != nil {
		return err
	}
	for bus := int(info.ECAMStartBus); bus <= int(info.ECAMEndBus); bus++ {
		if err := space.Err(uint8(bus)); err != nil {
			log("bus %02x not scanned: %v", bus, err)
		}
	}

	ms := loadManifests(manifestDir, log)
	m := &manager{root: root, info: info, space: space, fns: fns, man: make([]*pci.Manifest, len(fns)),
		log: log, running: map[int]*driver{}}
	list := make([]devreg.Function, len(fns))
	for i := range fns {
		f := &fns[i]
		line := f.String()
		list[i] = devreg.Function{Addr: f.Addr.String(), Vendor: f.Vendor, Device: f.Device,
			Class: f.Class, Sub: f.Subclass, ProgIF: f.ProgIF, Line: line}
		if man, ok := pci.Match(ms, f); ok {
			m.man[i] = man
			list[i].Driver, list[i].State = man.Driver.Name, "starting"
			line += " -> " + man.Driver.Name
		}
		log("%s", line)
		for _, p := range f.Problems {
			log("%s problem: %s", f.Addr, p)
		}
	}

	if m.ep, err = libos.NewEndpoint(); err != nil {
		return err
	}
	if m.deaths, err = libos.NewNotification(); err != nil {
		return err
	}
	if err := libos.NotifyBind(m.deaths, m.ep); err != nil {
		return err
	}
	m.reg = NewRegistry(kernelHandles{}, list, log)
	srv := NewServer(m.reg, log)
	srv.OnNotify = m.onDeaths
	served := make(chan error, 1)
	go func() {
		served <- serveAll(context.Background(), srv, newHandleKeeper(libos.ServerEndpoint{H: m.ep}, libos.Close), loops)
	}()

	if registration != 0 {
		go register(m.ep, registration, log)
	}
	started, failed := 0, 0
	for i := range fns {
		if m.man[i] == nil {
			continue
		}
		if m.start(i) {
			started++
		} else {
			failed++
		}
	}
	log("ready: %d functions, %d drivers started, %d failed", len(fns), started, failed)
	return <-served
}

// register sends the parent a client capability on pcid's endpoint
// (badged publicBadge: Lookup and List only) through the registration
// handle, in a call of label 1 carrying that one handle.
func register(ep, registration ipc.Handle, log func(string, ...any)) {
	pub, err := libos.Dup(ep, ipc.RightWrite|ipc.RightGrant|ipc.RightDuplicate, publicBadge)
	if err != nil {
		log("registration: %v", err)
		return
	}
	var req, rep ipc.Message
	req.Label, req.NHandles, req.Handles[0] = labelRegistration, 1, pub
	if err := libos.Call(registration, &req, &rep); err != nil {
		_ = libos.Close(pub) // not moved if the call failed
		log("registration: %v", err)
		return
	}
	log("registered with the parent")
	_ = libos.Close(registration)
}

// kernelHandles is Handles through the kernel.
type kernelHandles struct{}

func (kernelHandles) Dup(h ipc.Handle, r ipc.Rights, badge uint64) (ipc.Handle, error) {
	return libos.Dup(h, r, badge)
}
func (kernelHandles) Close(h ipc.Handle) error                  { return libos.Close(h) }
func (kernelHandles) Info(h ipc.Handle) (ipc.HandleInfo, error) { return libos.Info(h) }
