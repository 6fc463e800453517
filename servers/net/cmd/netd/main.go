// Command netd is Valence's network server: the TCP/IP stack
// (servers/net/stack) on the NIC driver (drivers/lib/nic, virtio-netd),
// serving the socket protocol (servers/net/sockproto) that the kernel's
// Linux front end calls for programs' AF_INET sockets.
//
// It is started with two handles (libos.InitialHandles): a client
// capability on a NIC driver's endpoint, and a registration endpoint,
// which netd calls once it serves with a message of label 1 carrying one
// handle, a client capability on its own endpoint (as fsd does).
//
// The interface is configured from /etc/net.toml if it gives an address
// (see config.go), else by DHCP: netd waits up to -dhcp-timeout for a
// lease (the client retransmits with the backoff of RFC 2131 section 4.1
// meanwhile) and, without one, serves anyway (127.0.0.1 works) while the
// client keeps trying. The DNS servers go to /etc/resolv.conf when the
// root is writable (a note on the console otherwise). One line tells the
// result:
//
//	netd: eth0 52:54:00:12:34:56 10.0.2.15/24 gateway 10.0.2.2 dns 10.0.2.3 (dhcp)
//
// SIGTERM releases the lease, closes every socket and the NIC, and exits.
package main

import (
	"context"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"valence.dev/drivers/lib/nic"
	"valence.dev/ipc"
	"valence.dev/libos"
	"valence.dev/servers/net/dhcp"
	"valence.dev/servers/net/ethernet"
	"valence.dev/servers/net/netd"
	"valence.dev/servers/net/stack"
)

// servers is how many requests netd takes at once: the loop runs them one
// by one, but each client's Wait holds a goroutine while it waits.
const servers = 8

func main() {
	confPath := flag.String("config", "/etc/net.toml", "static configuration (DHCP if absent)")
	resolv := flag.String("resolv", "/etc/resolv.conf", "where to write the DNS servers")
	dhcpWait := flag.Duration("dhcp-timeout", 30*time.Second, "how long to wait for a DHCP lease before serving without one")
	flag.Parse()
	if err := run(*confPath, *resolv, *dhcpWait); err != nil {
		fmt.Fprintf(os.Stderr, "netd: %v\n", err)
		os.Exit(1)
	}
}

func run(confPath, resolvPath string, dhcpWait time.Duration) error {
	hs := libos.InitialHandles()
	if len(hs) != 2 {
		return fmt.Errorf("started with %d handles, want a NIC driver and a registration endpoint", len(hs))
	}
	cfg, err := loadConfig(confPath)
	if err != nil {
		return fmt.Errorf("%s: %w", confPath, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()

	conn, err := nic.Dial(ctx, libos.Endpoint{H: hs[0]})
	if err != nil {
		return fmt.Errorf("attaching to the NIC: %w", err)
	}
	info, err := conn.Info(ctx)
	if err != nil {
		return fmt.Errorf("the NIC: %w", err)
	}
	mac := ethernet.Address(info.MAC)
	devCtx, cancelDev := context.WithCancel(context.Background())
	defer cancelDev()
	dev := &nicDevice{c: conn, ctx: devCtx, cancel: cancelDev, mtu: int(info.MTU)}
	// The stack's secret comes from crypto/rand: getrandom(2) in Valence.
	loop := stack.NewLoop(stack.New(stack.Config{MAC: mac}, dev), dev)
	loopDone := make(chan error, 1)
	go func() { loopDone <- loop.Run(ctx) }()

	srv := netd.New(loop, netd.Options{Interface: "eth0", Memory: newMemory()})
	srv.SetLinkUp(info.LinkUp)
	client, how, err := configure(ctx, loop, srv, cfg, dhcpWait, resolvPath)
	if err != nil {
		return err
	}
	fmt.Println(describe(loop, mac, srv, how))

	ep, err := libos.NewEndpoint()
	if err != nil {
		return err
	}
	mine, err := libos.Dup(ep, ipc.RightWrite|ipc.RightGrant|ipc.RightDuplicate, 0)
	if err != nil {
		return err
	}
	r := srv.RPC()
	errs := make(chan error, servers)
	for i := 0; i < servers; i++ {
		go func() { errs <- r.Serve(ctx, libos.ServerEndpoint{H: ep}) }()
	}
	m := ipc.Message{}
	m.Label = 1
	m.NHandles = 1
	m.Handles[0] = mine
	var rep ipc.Message
	if err := libos.Call(hs[1], &m, &rep); err != nil {
		return fmt.Errorf("registering: %w", err)
	}

	select {
	case err = <-errs:
	case err = <-loopDone:
		err = fmt.Errorf("event loop: %w", err)
	case <-ctx.Done():
		err = nil
	}
	srv.Stop()
	if client != nil {
		loop.Do(func(*stack.Stack) { client.Stop() }) // releases the lease
	}
	loop.Stop()
	closeCtx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	conn.Close(closeCtx)
	return err
}

// configure sets the address statically or starts DHCP and waits for a
// lease, up to wait. It returns the DHCP client (nil if static) and how
// the address was set, for the console line.
func configure(ctx context.Context, loop *stack.Loop, srv *netd.Server, cfg config, wait time.Duration, resolvPath string) (*dhcp.Client, string, error) {
	if cfg.Static {
		err := doErr(loop, func(s *stack.Stack) error {
			if err := s.SetAddress(cfg.Addr); err != nil {
				return err
			}
			s.SetGateway(cfg.Gateway)
			return nil
		})
		if err != nil {
			return nil, "", err
		}
		srv.SetDNS(cfg.DNS)
		writeResolvConf(resolvPath, cfg.DNS)
		return nil, "static", nil
	}
	leases := make(chan dhcp.Lease, 1)
	var client *dhcp.Client
	err := doErr(loop, func(s *stack.Stack) error {
		var err error
		client, err = dhcp.Start(s, dhcp.Config{Hostname: cfg.Hostname, OnChange: func(l dhcp.Lease) {
			// On the loop: nothing that blocks. The newest lease wins.
			select {
			case <-leases:
			default:
			}
			leases <- l
		}})
		return err
	})
	if err != nil {
		return nil, "", err
	}
	// Leases after the first (renewals, a new one after expiry) update
	// the DNS servers in the background.
	follow := func(l dhcp.Lease) {
		srv.SetDNS(l.DNS)
		if l.Addr.IsValid() {
			writeResolvConf(resolvPath, l.DNS)
		}
	}
	timer := time.NewTimer(wait)
	defer timer.Stop()
	select {
	case l := <-leases:
		follow(l)
		go followLeases(ctx, leases, follow)
		return client, "dhcp", nil
	case <-timer.C:
		go followLeases(ctx, leases, func(l dhcp.Lease) {
			fmt.Printf("netd: dhcp: %v\n", l)
			follow(l)
		})
		return client, fmt.Sprintf("dhcp: no lease in %v, still trying", wait), nil
	case <-ctx.Done():
		return nil, "", ctx.Err()
	}
}

func followLeases(ctx context.Context, leases <-chan dhcp.Lease, fn func(dhcp.Lease)) {
	for {
		select {
		case l := <-leases:
			fn(l)
		case <-ctx.Done():
			return
		}
	}
}

// writeResolvConf writes the DNS servers, or says why it cannot.
func writeResolvConf(path string, dns []netip.Addr) {
	if len(dns) == 0 {
		return
	}
	if err := os.WriteFile(path, []byte(resolvConf(dns)), 0o644); err != nil {
		fmt.Printf("netd: not writing %s: %v\n", path, err)
	}
}

// describe is the console line: interface, MAC, address, gateway, DNS.
func describe(loop *stack.Loop, mac ethernet.Address, srv *netd.Server, how string) string {
	var (
		addr netip.Prefix
		gw   netip.Addr
	)
	loop.Do(func(s *stack.Stack) { addr, gw = s.Address(), s.Gateway() })
	var b strings.Builder
	fmt.Fprintf(&b, "netd: eth0 %v", mac)
	if addr.IsValid() {
		fmt.Fprintf(&b, " %v", addr)
	} else {
		b.WriteString(" no address")
	}
	if gw.IsValid() {
		fmt.Fprintf(&b, " gateway %v", gw)
	}
	if dns := srv.DNS(); len(dns) > 0 {
		b.WriteString(" dns")
		for _, a := range dns {
			fmt.Fprintf(&b, " %v", a)
		}
	}
	fmt.Fprintf(&b, " (%s)", how)
	return b.String()
}

// doErr runs fn on the loop and returns its error.
func doErr(loop *stack.Loop, fn func(*stack.Stack) error) error {
	var err error
	if e := loop.Do(func(s *stack.Stack) { err = fn(s) }); e != nil {
		return e
	}
	return err
}
