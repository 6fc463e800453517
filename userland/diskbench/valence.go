package main

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"time"

	"valence.dev/drivers/lib/block"
	"valence.dev/drivers/lib/devreg"
	"valence.dev/ipc"
	"valence.dev/libos"
)

// The Valence side: pcid started with the root device capability, nvme0
// found in its registry, and the disk read through the block protocol
// into buffers the driver shares.

const (
	slotsPerBuffer = block.MaxBuffer / seqSize
	waitLimit      = 120 * time.Second
)

type valenceDisk struct {
	c       block.Client
	info    block.Info
	ids     []uint32 // buffer per slotsPerBuffer slots
	bufs    [][]byte
	maxIO   int // bytes one request may move
	devName string
}

func openDisk() (disk, error) {
	root, ok := libos.DeviceRoot()
	if !ok {
		return openLinuxDisk()
	}
	ctx := context.Background()
	reg, err := startPcid(root)
	if err != nil {
		return nil, fmt.Errorf("starting pcid: %w", err)
	}
	server, err := lookup(ctx, reg, "nvme0")
	if err != nil {
		return nil, err
	}
	d := &valenceDisk{c: block.Client{T: libos.Endpoint{H: server}}, devName: "nvme0"}
	if d.info, err = d.c.Identify(ctx); err != nil {
		return nil, fmt.Errorf("identify: %w", err)
	}
	d.maxIO = int(d.info.MaxSectors) * int(d.info.SectorSize)
	if d.maxIO <= 0 || d.maxIO > seqSize {
		d.maxIO = seqSize
	}
	if seqSize%int(d.info.SectorSize) != 0 || randSize%int(d.info.SectorSize) != 0 {
		return nil, fmt.Errorf("block size %d does not divide the read sizes", d.info.SectorSize)
	}
	for s := 0; s < maxQD; s += slotsPerBuffer {
		a, err := d.c.Attach(ctx, block.MaxBuffer)
		if err != nil {
			return nil, fmt.Errorf("attach: %w", err)
		}
		b, err := libos.Map(a.Mem, syscall.PROT_READ|syscall.PROT_WRITE)
		if err != nil {
			return nil, fmt.Errorf("mapping a shared buffer: %w", err)
		}
		d.ids, d.bufs = append(d.ids, a.ID), append(d.bufs, b)
	}
	return d, nil
}

func (d *valenceDisk) size() int64 { return int64(d.info.Sectors) * int64(d.info.SectorSize) }

func (d *valenceDisk) describe() string {
	return fmt.Sprintf("valence %s: %q, %d MiB in %d-byte blocks, at most %d KiB per request, through the block protocol",
		d.devName, d.info.Model, d.size()>>20, d.info.SectorSize, d.maxIO>>10)
}

func (d *valenceDisk) read(slot int, off int64, n int) ([]byte, error) {
	ctx := context.Background()
	id := d.ids[slot/slotsPerBuffer]
	base := slot % slotsPerBuffer * seqSize
	buf := d.bufs[slot/slotsPerBuffer][base : base+n]
	ss := int64(d.info.SectorSize)
	one := func(p piece) error {
		err := d.c.Read(ctx, id, uint64(base+p.at), uint64(p.off/ss), uint32(int64(p.n)/ss))
		if err != nil {
			return fmt.Errorf("read of %d bytes at %d: %w", p.n, p.off, err)
		}
		return nil
	}
	ps := split(off, n, d.maxIO)
	if len(ps) == 1 {
		return buf, one(ps[0])
	}
	errs := make([]error, len(ps))
	var wg sync.WaitGroup
	for i, p := range ps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = one(p)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return buf, nil
}

// startPcid spawns /bin/pcid with a copy of the root device capability
// and an endpoint on which it registers, sending a client capability on
// its registry back.
func startPcid(root ipc.Handle) (devreg.Client, error) {
	var none devreg.Client
	rootCopy, err := libos.Dup(root, ipc.RightManage|ipc.RightGrant|ipc.RightDuplicate, 0)
	if err != nil {
		return none, err
	}
	ep, err := libos.NewEndpoint()
	if err != nil {
		return none, err
	}
	epCopy, err := libos.Dup(ep, ipc.RightWrite|ipc.RightGrant, 0)
	if err != nil {
		return none, err
	}
	// pcid's death arrives on the same endpoint as a notification.
	died, err := libos.NewNotification()
	if err != nil {
		return none, err
	}
	if err := libos.NotifyBind(died, ep); err != nil {
		return none, err
	}
	p, _, err := libos.ProcSpawn("/bin/pcid", []string{"pcid"}, []string{"PATH=/bin", "HOME=/"}, []ipc.Handle{rootCopy, epCopy})
	if err != nil {
		return none, err
	}
	if err := libos.ProcNotify(p, died, 1); err != nil {
		return none, err
	}
	var m, rep ipc.Message
	tok, err := libos.Recv(ep, &m)
	if err != nil {
		return none, err
	}
	if m.Flags == ipc.MsgNotification {
		st, _ := libos.ProcWait(p)
		return none, fmt.Errorf("pcid ended before registering (status %#x)", uint32(st))
	}
	if m.NHandles != 1 {
		return none, fmt.Errorf("pcid registered with %d handles", m.NHandles)
	}
	libos.Reply(ep, tok, &rep)
	return devreg.Client{T: libos.Endpoint{H: m.Handles[0]}}, nil
}

// lookup waits for a driver to register name with pcid.
func lookup(ctx context.Context, reg devreg.Client, name string) (ipc.Handle, error) {
	deadline := time.Now().Add(waitLimit)
	for {
		r, err := reg.Lookup(ctx, name)
		if err == nil {
			return r.Server, nil
		}
		if time.Now().After(deadline) {
			return 0, fmt.Errorf("no %s registered within %v: %w", name, waitLimit, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
