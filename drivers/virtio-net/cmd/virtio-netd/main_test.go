package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"sync"
	"testing"
	"time"

	"valence.dev/drivers/lib/virtio/virtiopci"

	"github.com/google/go-cmp/cmp"

	"valence.dev/drivers/lib/dev"
	"valence.dev/drivers/lib/devtest"
	"valence.dev/drivers/lib/nic"
	"valence.dev/drivers/lib/nic/nictest"
	"valence.dev/drivers/lib/virtio"
	"valence.dev/drivers/lib/virtio/virtiotest"
	"valence.dev/drivers/virtio-net/netdev"
	"valence.dev/ipc"
	"valence.dev/ipc/rpc/memtransport"
)

var testMAC = [6]byte{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}

// configSpace lays caps out as a PCI capability list (PCI Local Bus 3.0
// §6.7) in a fake configuration space.
func configSpace(caps ...[]byte) *devtest.Regs {
	cfg := devtest.NewRegs(4096)
	cfg.Store(0x06, 2, 1<<4) // Status: capability list
	off := uint64(0x40)
	cfg.Store(0x34, 1, off)
	for i, c := range caps {
		for j, b := range c {
			cfg.Store(off+uint64(j), 1, uint64(b))
		}
		next := (off + uint64(len(c)) + 3) &^ 3
		if i == len(caps)-1 {
			next = 0
		}
		cfg.Store(off+1, 1, next)
		off = next
	}
	return cfg
}

func msixCap(n int, bir uint8) []byte {
	return []byte{0x11, 0, byte(n - 1), 0, bir, 0, 0, 0, 0, 0, 0, 0}
}

func TestIdentify(t *testing.T) {
	for _, c := range []struct {
		up   bool
		want string
	}{
		{true, "virtio-netd: 00:03.0: net0: MAC 52:54:00:12:34:56, link up"},
		{false, "virtio-netd: 00:03.0: net0: MAC 52:54:00:12:34:56, link down"},
	} {
		if diff := cmp.Diff(c.want, identify("00:03.0", "net0", testMAC, c.up)); diff != "" {
			t.Errorf("(-want +got):\n%s", diff)
		}
	}
}

type rig struct {
	vd  *virtiotest.Device
	net *virtiotest.Net
	n   *netdev.NIC
	k   *nictest.Kernel
	srv *nic.Server
	ep  *memtransport.Server
}

// newRig brings a fake virtio-net device up as run does, from its
// configuration space, and serves it with the NIC protocol over an
// in-memory endpoint and the fake kernel.
func newRig(t *testing.T, loopback bool, status uint16) *rig {
	t.Helper()
	r := &rig{net: &virtiotest.Net{Loopback: loopback}, k: nictest.New()}
	r.vd = virtiotest.New(virtiotest.Options{
		Features:   virtio.FeatureVersion1 | netdev.FeatureMAC | netdev.FeatureStatus,
		QueueSizes: []uint16{64, 64}, MSIXVectors: 3, NotifyMultiplier: 4,
		Config: virtiotest.NetConfig(testMAC, status), Backend: r.net,
	})
	t.Cleanup(r.vd.Close)
	b := virtiopci.NewBars(map[int]ipc.Handle{4: 40}, func(ipc.Handle) (dev.Regs, error) { return r.vd.BAR(), nil })
	tr, err := virtiopci.FindTransport(configSpace(append(r.vd.Caps(), msixCap(3, 4))...), b)
	if err != nil {
		t.Fatal(err)
	}
	if r.n, err = netdev.Open(context.Background(), tr, r.vd.DMA, r.vd.Interrupts()); err != nil {
		t.Fatal(err)
	}
	if r.srv, err = nic.NewServer(link{r.n}, r.k, nic.Options{Slots: 32, Logf: t.Logf}); err != nil {
		t.Fatal(err)
	}
	_, r.ep = memtransport.New()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range servers {
		wg.Go(func() { r.srv.RPC().Serve(ctx, r.ep) })
	}
	wg.Go(func() {
		if err := r.srv.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	t.Cleanup(func() {
		r.srv.Close()
		cancel()
		r.ep.Close()
		wg.Wait()
		if err := r.n.Close(); err != nil {
			t.Errorf("closing the NIC: %v", err)
		}
		if h, m := r.k.Live(); h != 0 || m != 0 {
			t.Errorf("%d handles and %d mappings left", h, m)
		}
		if v := r.vd.Violations(); len(v) > 0 {
			t.Errorf("spec violations: %q", v)
		}
	})
	return r
}

func frame(i int) []byte {
	f := make([]byte, nic.MinFrame+(i*131)%(nic.MaxFrame-nic.MinFrame+1))
	copy(f, testMAC[:])
	binary.LittleEndian.PutUint32(f[6:], uint32(i))
	return f
}

// TestLoopback sends frames through the client's transmit ring, the
// driver, the device (which loops them back) and the client's receive
// ring.
func TestLoopback(t *testing.T) {
	const n = 500
	r := newRig(t, true, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := nic.DialKernel(ctx, r.ep.Client(1), r.k)
	if err != nil {
		t.Fatal(err)
	}
	info, err := c.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(nic.LinkInfo{MAC: testMAC, MTU: 1500, LinkUp: true}, info); diff != "" {
		t.Errorf("Info (-want +got):\n%s", diff)
	}
	// Send in batches no larger than the receive ring, so nothing is
	// dropped for want of room.
	var want, got [][]byte
	for i := 0; i < n; i += 16 {
		for j := i; j < min(i+16, n); j++ {
			want = append(want, frame(j))
			if err := c.SendWait(ctx, frame(j)); err != nil {
				t.Fatalf("Send %d: %v", j, err)
			}
		}
		for j := i; j < min(i+16, n); j++ {
			f, err := c.Receive(ctx)
			if err != nil {
				t.Fatalf("Receive %d: %v", j, err)
			}
			got = append(got, f)
		}
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(bytes.Equal)); diff != "" {
		t.Errorf("frames looped back (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, r.net.Sent(), cmp.Comparer(bytes.Equal)); diff != "" {
		t.Errorf("frames on the wire (-want +got):\n%s", diff)
	}
	st, err := c.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(nic.Counters{TxFrames: n, RxFrames: n, Attaches: 1}, st); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}
	if err := c.Close(ctx); err != nil {
		t.Error(err)
	}
}

// TestNoClientAndFullRing: frames from the wire with no client are
// counted and dropped; with a client that does not read, its ring fills
// and the rest are counted and dropped; the NIC keeps its buffers.
func TestNoClientAndFullRing(t *testing.T) {
	r := newRig(t, false, 0)
	for i := range 3 {
		r.net.Deliver(frame(i))
	}
	waitFor(t, "frames with no client", func() bool { return r.srv.Counters().RxNoClient == 3 })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := nic.DialKernel(ctx, r.ep.Client(1), r.k)
	if err != nil {
		t.Fatal(err)
	}
	if info, err := c.Info(ctx); err != nil || info.LinkUp {
		t.Errorf("Info: %+v, %v; want the link down", info, err)
	}
	for i := range 40 {
		r.net.Deliver(frame(i))
	}
	waitFor(t, "the ring to fill", func() bool { return r.srv.Counters().RxDropped == 8 })
	for i := range 32 {
		f, err := c.Receive(ctx)
		if err != nil || !bytes.Equal(f, frame(i)) {
			t.Fatalf("Receive %d: %v", i, err)
		}
	}
	if err := c.Close(ctx); err != nil {
		t.Error(err)
	}
	waitFor(t, "the device to hold all 64 receive buffers", func() bool { return r.net.RxBuffers() == 64 })
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// TestReplacedClient: a second Attach replaces the first client, which
// learns it was detached; the new one has the NIC.
func TestReplacedClient(t *testing.T) {
	r := newRig(t, true, 1)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bad, err := nic.DialKernel(ctx, r.ep.Client(1), r.k)
	if err != nil {
		t.Fatal(err)
	}
	// A second client replaces the first, which sees ErrDetached.
	// (Clients that break the ring are tested in package nic.)
	good, err := nic.DialKernel(ctx, r.ep.Client(2), r.k)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.Receive(ctx); !errors.Is(err, nic.ErrDetached) {
		t.Errorf("replaced client: %v, want ErrDetached", err)
	}
	bad.Close(ctx)
	if err := good.Send(frame(7)); err != nil {
		t.Fatal(err)
	}
	if f, err := good.Receive(ctx); err != nil || !bytes.Equal(f, frame(7)) {
		t.Errorf("Receive: %v", err)
	}
	if err := good.Close(ctx); err != nil {
		t.Error(err)
	}
}
