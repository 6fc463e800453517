package main

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"valence.dev/drivers/lib/nic"
	"valence.dev/libos"
	"valence.dev/servers/net/dhcp"
	"valence.dev/servers/net/ethernet"
	"valence.dev/servers/net/stack"
)

// The virtio NIC: virtio-netd comes up with the MAC QEMU was given, and
// Valence's own TCP/IP stack (servers/net), on frames moved by the driver
// through its shared rings, gets a lease from QEMU's user network with
// Valence's DHCP client.

func init() {
	addTest("virtio-net-dhcp", testVirtioNetDHCP)
}

const qemuMAC = "52:54:00:12:34:56"

func testVirtioNetDHCP(ctx context.Context) error {
	h, err := lookup(ctx, "net0")
	if err != nil {
		return err
	}
	defer libos.Close(h)
	conn, err := nic.Dial(ctx, libos.Endpoint{H: h})
	if err != nil {
		return fmt.Errorf("attaching to net0: %w", err)
	}
	info, err := conn.Info(ctx)
	if err != nil {
		return err
	}
	mac := ethernet.Address(info.MAC)
	if mac.String() != qemuMAC || !info.LinkUp {
		return fmt.Errorf("net0: MAC %v, link up %v; want %s, up", mac, info.LinkUp, qemuMAC)
	}
	devCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	dev := &nicDevice{c: conn, ctx: devCtx, cancel: cancel, mtu: int(info.MTU)}
	s := stack.New(stack.Config{MAC: mac}, dev)
	loop := stack.NewLoop(s, dev)
	go loop.Run(devCtx)
	leases := make(chan dhcp.Lease, 4)
	var startErr error
	loop.Do(func(s *stack.Stack) {
		_, startErr = dhcp.Start(s, dhcp.Config{Hostname: "valence", OnChange: func(l dhcp.Lease) {
			select {
			case leases <- l:
			default:
			}
		}})
	})
	if startErr != nil {
		return startErr
	}
	select {
	case l := <-leases:
		fmt.Printf("drvtests: net0: MAC %v, DHCP lease %v\n", mac, l)
		if !netip.MustParsePrefix("10.0.2.0/24").Contains(l.Addr.Addr()) || l.Router != netip.MustParseAddr("10.0.2.2") {
			return fmt.Errorf("lease %v, want an address in 10.0.2.0/24 with router 10.0.2.2 (QEMU's user network)", l)
		}
	case <-time.After(generous):
		st, _ := conn.Stats(ctx)
		return fmt.Errorf("no DHCP lease within %v (driver counters %+v)", generous, st)
	}
	return conn.Close(ctx)
}

// nicDevice is the stack's link.Device over a NIC connection.
type nicDevice struct {
	c      *nic.Conn
	ctx    context.Context
	cancel func()
	mtu    int
}

func (d *nicDevice) MTU() int                  { return d.mtu }
func (d *nicDevice) WriteFrame(f []byte) error { return d.c.SendWait(d.ctx, f) }
func (d *nicDevice) Close() error              { d.cancel(); return nil }
func (d *nicDevice) ReadFrame(b []byte) (int, error) {
	f, err := d.c.Receive(d.ctx)
	if err != nil {
		return 0, err
	}
	return copy(b, f), nil
}
