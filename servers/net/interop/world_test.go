//go:build linux

package interop

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"os"
	"testing"
	"time"

	"valence.dev/servers/net/ethernet"
	"valence.dev/servers/net/link/tap"
	"valence.dev/servers/net/services"
	"valence.dev/servers/net/stack"
)

var (
	linuxAddr = netip.MustParseAddr("198.18.0.1")
	stackAddr = netip.MustParseAddr("198.18.0.2")
	stackMAC  = ethernet.Address{0x02, 0x56, 0x41, 0x4c, 0x00, 0x02}
)

// requirePrerequisites skips the test, or fails it under CI=true, when the
// machine cannot run interop tests.
func requirePrerequisites(t testing.TB) {
	t.Helper()
	if err := Prerequisites(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and a prerequisite is missing: %v", err)
		}
		t.Skipf("skipping interop test: %v", err)
	}
}

// World is one namespace with a TAP, Linux on one end and the stack on the
// other, serving the nettap services.
type World struct {
	NS   *Namespace
	Loop *stack.Loop
	Tap  string
}

func newWorld(t testing.TB) *World {
	t.Helper()
	requirePrerequisites(t)
	ns, err := NewNamespace(UniqueName("vnt"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := ns.Delete(); err != nil {
			t.Errorf("cleanup: %v", err)
		}
	})
	w := &World{NS: ns, Tap: "vtap0"}
	var dev *tap.Device
	if err := ns.Do(func() error {
		var err error
		dev, err = tap.Open(w.Tap, 1500)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	// Quiet IPv6 on the TAP (router solicitations are harmless but noise).
	ns.Exec("sysctl", "-qw", "net.ipv6.conf."+w.Tap+".disable_ipv6=1")
	if err := ns.IP("addr", "add", linuxAddr.String()+"/24", "dev", w.Tap); err != nil {
		t.Fatal(err)
	}
	if err := ns.IP("link", "set", w.Tap, "up"); err != nil {
		t.Fatal(err)
	}
	s := stack.New(stack.Config{MAC: stackMAC}, dev)
	w.Loop = stack.NewLoop(s, dev)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- w.Loop.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	var serr error
	w.Loop.Do(func(s *stack.Stack) {
		s.SetAddress(netip.PrefixFrom(stackAddr, 24))
		if _, serr = services.ServeEcho(s, services.EchoPort); serr != nil {
			return
		}
		if _, serr = services.ServeUDPEcho(s, services.EchoPort); serr != nil {
			return
		}
		if _, serr = services.ServeDiscard(s, services.DiscardPort); serr != nil {
			return
		}
		_, serr = services.ServeChecksum(s, services.ChecksumPort)
	})
	if serr != nil {
		t.Fatal(serr)
	}
	srv, err := services.ServeHTTP(w.Loop, services.HTTPPort)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return w
}

// Dial connects from Linux, inside the namespace, to the stack.
func (w *World) Dial(network string, port uint16) (net.Conn, error) {
	var c net.Conn
	err := w.NS.Do(func() error {
		var err error
		c, err = net.DialTimeout(network, netip.AddrPortFrom(stackAddr, port).String(), 10*time.Second)
		return err
	})
	return c, err
}

// Listen opens a Linux TCP listener inside the namespace.
func (w *World) Listen(t testing.TB) net.Listener {
	t.Helper()
	var l net.Listener
	if err := w.NS.Do(func() error {
		var err error
		l, err = net.Listen("tcp", linuxAddr.String()+":0")
		return err
	}); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// HTTPClient returns a client whose connections are made in the namespace.
func (w *World) HTTPClient() *http.Client {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var c net.Conn
			err := w.NS.Do(func() error {
				var d net.Dialer
				var err error
				c, err = d.DialContext(ctx, network, addr)
				return err
			})
			return c, err
		},
		DisableCompression: true,
	}
	return &http.Client{Transport: tr, Timeout: 5 * time.Minute}
}

// Stats reads the stack's counters.
func (w *World) Stats() stack.Stats {
	var st stack.Stats
	w.Loop.Do(func(s *stack.Stack) { st = s.Stats() })
	return st
}
