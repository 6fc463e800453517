// Command nettap runs the Valence TCP/IP stack on a Linux TAP device, as a
// host separate from Linux on that virtual cable, and serves ICMP echo,
// Echo (RFC 862) on TCP and UDP port 7, Discard (RFC 863) on TCP port 9, a
// checksum service on TCP port 5001 and HTTP/1.1 on TCP port 80.
//
//	go run ./servers/net/cmd/nettap -tap tap0 -ip 198.18.0.2/24 [-gw 198.18.0.1]
//	go run ./servers/net/cmd/nettap -tap tap0 -dhcp
//
// See docs/net.md for a walk-through with ping, nc and curl.
package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"log"
	"net/netip"
	"os"
	"os/signal"
	"syscall"
	"time"

	"valence.dev/servers/net/dhcp"
	"valence.dev/servers/net/ethernet"
	"valence.dev/servers/net/link/tap"
	"valence.dev/servers/net/services"
	"valence.dev/servers/net/stack"
)

func main() {
	tapName := flag.String("tap", "", "TAP interface to attach to (created if missing)")
	ipFlag := flag.String("ip", "", "the stack's address and prefix, e.g. 198.18.0.2/24")
	gwFlag := flag.String("gw", "", "default gateway")
	useDHCP := flag.Bool("dhcp", false, "configure the address with DHCP instead of -ip")
	macFlag := flag.String("mac", "", "the stack's MAC address (default: random, locally administered)")
	mtu := flag.Int("mtu", 1500, "link MTU")
	stats := flag.Duration("stats", 0, "print counters at this interval (0: only on exit)")
	flag.Parse()
	if *tapName == "" || (*ipFlag == "") == !*useDHCP {
		fmt.Fprintln(os.Stderr, "usage: nettap -tap NAME (-ip ADDR/PREFIX [-gw ADDR] | -dhcp)")
		os.Exit(2)
	}
	if err := run(*tapName, *ipFlag, *gwFlag, *useDHCP, *macFlag, *mtu, *stats); err != nil {
		log.Fatalf("nettap: %v", err)
	}
}

func run(tapName, ipFlag, gwFlag string, useDHCP bool, macFlag string, mtu int, statsEvery time.Duration) error {
	mac, err := chooseMAC(macFlag)
	if err != nil {
		return err
	}
	dev, err := tap.Open(tapName, mtu)
	if err != nil {
		return err
	}
	s := stack.New(stack.Config{MAC: mac}, dev) // randomness from crypto/rand
	loop := stack.NewLoop(s, dev)
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- loop.Run(ctx) }()

	var setupErr error
	loop.Do(func(s *stack.Stack) {
		if !useDHCP {
			p, err := netip.ParsePrefix(ipFlag)
			if err != nil {
				setupErr = fmt.Errorf("bad -ip: %w", err)
				return
			}
			s.SetAddress(p)
			if gwFlag != "" {
				gw, err := netip.ParseAddr(gwFlag)
				if err != nil {
					setupErr = fmt.Errorf("bad -gw: %w", err)
					return
				}
				s.SetGateway(gw)
			}
		} else {
			_, setupErr = dhcp.Start(s, dhcp.Config{OnChange: func(l dhcp.Lease) {
				log.Printf("dhcp: %v", l)
			}})
		}
		if setupErr != nil {
			return
		}
		for _, f := range []func() error{
			func() error { _, err := services.ServeEcho(s, services.EchoPort); return err },
			func() error { _, err := services.ServeUDPEcho(s, services.EchoPort); return err },
			func() error { _, err := services.ServeDiscard(s, services.DiscardPort); return err },
			func() error { _, err := services.ServeChecksum(s, services.ChecksumPort); return err },
		} {
			if err := f(); err != nil {
				setupErr = err
				return
			}
		}
	})
	if setupErr != nil {
		return setupErr
	}
	if _, err := services.ServeHTTP(loop, services.HTTPPort); err != nil {
		return err
	}
	log.Printf("nettap: %s on %s (mac %v, mtu %d): ping, echo tcp+udp/7, discard tcp/9, http tcp/80", addrString(loop), tapName, mac, mtu)

	var tick <-chan time.Time
	if statsEvery > 0 {
		t := time.NewTicker(statsEvery)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case err := <-errc:
			printStats(loop, s)
			if err == context.Canceled {
				return nil
			}
			return err
		case <-tick:
			printStats(loop, s)
		}
	}
}

func addrString(loop *stack.Loop) string {
	var a netip.Prefix
	loop.Do(func(s *stack.Stack) { a = s.Address() })
	if !a.IsValid() {
		return "(address by DHCP)"
	}
	return a.String()
}

func printStats(loop *stack.Loop, s *stack.Stack) {
	var st stack.Stats
	if loop.Do(func(s *stack.Stack) { st = s.Stats() }) != nil {
		st = s.Stats() // the loop has ended: nothing else touches s
	}
	log.Printf("stats: %+v", st)
}

// chooseMAC parses the flag or makes a random unicast, locally
// administered address (IEEE 802 U/L bit set, I/G bit clear).
func chooseMAC(flagValue string) (ethernet.Address, error) {
	if flagValue != "" {
		return ethernet.ParseAddress(flagValue)
	}
	var m ethernet.Address
	rand.Read(m[:])
	m[0] = m[0]&^1 | 2
	return m, nil
}
