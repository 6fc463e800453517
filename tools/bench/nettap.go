package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"valence.dev/servers/net/dhcp"
	"valence.dev/servers/net/interop"
)

// The TAP backend: QEMU's user network (slirp) copies every byte through
// its own TCP implementation on the host, so the user rows are partly
// slirp's figure. The tap rows take it out of the way: a private network
// namespace (servers/net/interop's, the same helpers the stack's interop
// tests use) with a TAP device, QEMU started inside it with
// `-netdev tap`, and the bench's own sockets made inside it from a
// thread switched there with setns(2). The TAP end has QEMU's host
// address (10.0.2.2/24) and the guest QEMU's guest address (10.0.2.15),
// so both guests are configured as on the user network: Linux's netbench
// sets the address itself, and Valence's netd asks by DHCP, which the
// bench answers here (QEMU's DHCP server is part of slirp). Nothing
// leaves the namespace: it has no other interface.

const (
	tapName  = "nbtap0"
	tapHost  = "10.0.2.2"
	tapGuest = "10.0.2.15"
)

// tapUnavailable says why the tap rows cannot run on this host, or "".
func tapUnavailable() string {
	if os.Geteuid() != 0 {
		return "not root (a network namespace and a TAP device need it)"
	}
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		return "no /dev/net/tun"
	}
	if _, err := exec.LookPath("ip"); err != nil {
		return "no ip command (iproute2)"
	}
	return ""
}

// tapWorld is the namespace with the TAP device and the DHCP server.
type tapWorld struct {
	ns   *interop.Namespace
	dhcp net.PacketConn
}

// newTapWorld makes the namespace and its TAP device, and starts the DHCP
// server on it.
func newTapWorld() (*tapWorld, error) {
	ns, err := interop.NewNamespace(interop.UniqueName("nbn"))
	if err != nil {
		return nil, err
	}
	w := &tapWorld{ns: ns}
	for _, args := range [][]string{
		{"tuntap", "add", "dev", tapName, "mode", "tap"},
		{"addr", "add", tapHost + "/24", "dev", tapName},
		{"link", "set", tapName, "up"},
	} {
		if err := ns.IP(args...); err != nil {
			w.close()
			return nil, err
		}
	}
	err = ns.Do(func() error {
		lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
			var serr error
			err := rc.Control(func(fd uintptr) {
				// Bound to the TAP, a reply to 255.255.255.255 goes out
				// there without a route for it.
				serr = errors.Join(unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_BROADCAST, 1),
					unix.SetsockoptString(int(fd), unix.SOL_SOCKET, unix.SO_BINDTODEVICE, tapName))
			})
			return errors.Join(err, serr)
		}}
		var err error
		w.dhcp, err = lc.ListenPacket(context.Background(), "udp4", fmt.Sprintf("0.0.0.0:%d", dhcp.ServerPort))
		return err
	})
	if err != nil {
		w.close()
		return nil, fmt.Errorf("DHCP server in %s: %w", ns.Name, err)
	}
	go serveDHCP(w.dhcp, netip.MustParseAddr(tapHost), netip.MustParseAddr(tapGuest), os.Stderr)
	return w, nil
}

// dial connects to the guest from inside the namespace.
func (w *tapWorld) dial(ctx context.Context, port int) (net.Conn, error) {
	var c net.Conn
	err := w.ns.Do(func() error {
		var err error
		c, err = (&net.Dialer{}).DialContext(ctx, "tcp", net.JoinHostPort(tapGuest, fmt.Sprint(port)))
		return err
	})
	return c, err
}

// qemuPrefix runs QEMU inside the namespace, where it finds the TAP.
func (w *tapWorld) qemuPrefix() []string {
	return []string{"ip", "netns", "exec", w.ns.Name}
}

// close removes the namespace, and with it the TAP device.
func (w *tapWorld) close() {
	if w.dhcp != nil {
		w.dhcp.Close()
	}
	if err := w.ns.Delete(); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
	}
}

// tapDevices are QEMU's arguments for a NIC on the TAP.
func tapDevices() []string {
	return []string{"-netdev", "tap,id=net0,ifname=" + tapName + ",script=no,downscript=no",
		"-device", "virtio-net-pci,netdev=net0,disable-legacy=on,mac=52:54:00:12:34:56"}
}

// dhcpReply is the server's answer to a client's message (RFC 2131
// section 4.3): an OFFER to a DISCOVER and an ACK to a REQUEST, always of
// guest, the only client there is; nil for anything else.
func dhcpReply(m *dhcp.Message, server, guest netip.Addr) *dhcp.Message {
	var typ uint8
	switch {
	case m.Op != 1:
		return nil
	case m.Type == dhcp.Discover:
		typ = dhcp.Offer
	case m.Type == dhcp.Request:
		typ = dhcp.Ack
	default:
		return nil
	}
	r := &dhcp.Message{Op: 2, XID: m.XID, Broadcast: m.Broadcast, YIAddr: guest, SIAddr: server, CHAddr: m.CHAddr, Type: typ}
	r.SetAddr(dhcp.OptServerID, server)
	r.SetAddr(dhcp.OptSubnetMask, netip.AddrFrom4([4]byte{255, 255, 255, 0}))
	r.SetAddr(dhcp.OptRouter, server)
	r.SetDuration(dhcp.OptLeaseTime, 24*time.Hour)
	return r
}

// serveDHCP answers DHCP on c until c is closed, broadcasting every reply
// (the client has no address yet, and nothing else is on the link).
func serveDHCP(c net.PacketConn, server, guest netip.Addr, log io.Writer) {
	buf := make([]byte, 1500)
	to := &net.UDPAddr{IP: net.IPv4bcast, Port: dhcp.ClientPort}
	for {
		n, _, err := c.ReadFrom(buf)
		if err != nil {
			return
		}
		m, err := dhcp.Parse(buf[:n])
		if err != nil {
			continue
		}
		if r := dhcpReply(m, server, guest); r != nil {
			if _, err := c.WriteTo(r.Marshal(), to); err != nil {
				fmt.Fprintf(log, "bench: DHCP reply: %v\n", err)
			}
		}
	}
}
