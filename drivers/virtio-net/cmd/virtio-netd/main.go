package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"
	"time"

	"valence.dev/drivers/lib/virtio/virtiopci"

	"valence.dev/drivers/lib/dev"
	"valence.dev/drivers/lib/devreg"
	"valence.dev/drivers/lib/nic"
	"valence.dev/drivers/virtio-net/netdev"
	"valence.dev/ipc"
	"valence.dev/libos"
)

// servers is how many protocol calls are served at once. Calls are short
// (an Attach waits at most for the previous client's transmit goroutine
// to stop); frames never travel through them.
const servers = 4

// openTimeout bounds device initialisation (the reset wait).
const openTimeout = 10 * time.Second

func main() {
	name := flag.String("name", "", "the name to register with pcid (default net0, net1... by pcid's index: VALENCE_PCI_INDEX)")
	slots := flag.Uint("slots", nic.DefaultSlots, "slots per ring of the client's shared memory (a power of two)")
	flag.Parse()
	if *name == "" {
		*name = fmt.Sprintf("net%d", devreg.Index())
	}
	if err := run(*name, uint32(*slots)); err != nil {
		fmt.Fprintf(os.Stderr, "virtio-netd: %s: %v\n", os.Getenv("VALENCE_PCI_ADDR"), err)
		os.Exit(1)
	}
}

func run(name string, slots uint32) error {
	d, err := devreg.DriverFromEnv(libos.InitialHandles())
	if err != nil {
		return err
	}
	cfg, err := dev.MapMMIOReadOnly(d.Config)
	if err != nil {
		return err
	}
	b := virtiopci.NewBars(d.BARs, func(h ipc.Handle) (dev.Regs, error) { return dev.MapMMIO(h) })
	t, err := virtiopci.FindTransport(cfg, b)
	if err != nil {
		return err
	}
	irqs, err := virtiopci.SetupInterrupts(d.Function, cfg, b, 2) // receiveq1, transmitq1
	if err != nil {
		return err
	}
	octx, cancel := context.WithTimeout(context.Background(), openTimeout)
	n, err := netdev.Open(octx, t, dev.NewKernelDMA(d.Function), irqs)
	cancel()
	if err != nil {
		return err
	}
	fmt.Println(identify(d.Addr, name, n.MAC(), n.LinkUp()))

	logf := func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "virtio-netd: %s: %s: %s\n", d.Addr, name, fmt.Sprintf(format, args...))
	}
	srv, err := nic.NewServer(link{n}, nic.LibOS{}, nic.Options{Slots: slots, Logf: logf})
	if err != nil {
		return err
	}
	ep, err := libos.NewEndpoint()
	if err != nil {
		return err
	}
	client, err := libos.Dup(ep, ipc.RightWrite|ipc.RightGrant|ipc.RightDuplicate, 0)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	rpcSrv := srv.RPC()
	errs := make(chan error, servers+1)
	for range servers {
		go func() { errs <- rpcSrv.Serve(ctx, libos.ServerEndpoint{H: ep}) }()
	}
	go func() { errs <- srv.Run(ctx) }()
	reg := devreg.Client{T: libos.Endpoint{H: d.Registry}}
	if err := reg.Register(ctx, name, "nic", client); err != nil {
		return fmt.Errorf("registering with pcid: %w", err)
	}
	select {
	case err = <-errs:
	case <-ctx.Done():
	}
	srv.Close()
	if cerr := n.Close(); err == nil {
		err = cerr
	}
	return err
}

// link is the virtio-net core as the NIC protocol's server uses it.
type link struct{ *netdev.NIC }

// Info implements nic.Device. The MTU is Ethernet's: the driver does not
// negotiate VIRTIO_NET_F_MTU, and receive buffers hold 1514-byte frames.
func (l link) Info() nic.LinkInfo {
	return nic.LinkInfo{MAC: l.MAC(), MTU: nic.MTU, LinkUp: l.LinkUp()}
}

var _ nic.Device = link{}

// identify is the line the driver prints once the NIC is up.
func identify(addr, name string, mac [6]byte, up bool) string {
	state := "link down"
	if up {
		state = "link up"
	}
	return fmt.Sprintf("virtio-netd: %s: %s: MAC %02x:%02x:%02x:%02x:%02x:%02x, %s", addr, name,
		mac[0], mac[1], mac[2], mac[3], mac[4], mac[5], state)
}
