//go:build linux

package interop

import (
	"bytes"
	"context"
	"crypto/sha256"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"valence.dev/servers/net/dhcp"
	"valence.dev/servers/net/dns"
	"valence.dev/servers/net/link/tap"
	"valence.dev/servers/net/services"
	"valence.dev/servers/net/stack"
)

// requireTools installs missing Debian packages for the named commands;
// a failure skips the test, or fails it under CI=true.
func requireTools(t *testing.T, cmdPkg map[string]string) {
	t.Helper()
	requirePrerequisites(t)
	var missing []string
	for cmd, pkg := range cmdPkg {
		if _, err := exec.LookPath(cmd); err != nil {
			missing = append(missing, pkg)
		}
	}
	if len(missing) == 0 {
		return
	}
	if err := AptInstall(missing...); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true and tools are missing: %v", err)
		}
		t.Skipf("skipping: %v", err)
	}
}

// TestNettapWithLinuxTools builds nettap, runs it inside a namespace on a
// TAP, and talks to it with ping, nc and curl, as docs/net.md shows.
func TestNettapWithLinuxTools(t *testing.T) {
	requireTools(t, map[string]string{"ping": "iputils-ping", "nc": "netcat-openbsd", "curl": "curl"})
	bin := filepath.Join(t.TempDir(), "nettap")
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if out, err := exec.Command(gobin, "build", "-o", bin, "valence.dev/servers/net/cmd/nettap").CombinedOutput(); err != nil {
		t.Fatalf("go build nettap: %v\n%s", err, out)
	}
	ns, err := NewNamespace(UniqueName("vnt"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Delete() })
	for _, args := range [][]string{
		{"tuntap", "add", "dev", "vtap0", "mode", "tap"},
		{"addr", "add", linuxAddr.String() + "/24", "dev", "vtap0"},
		{"link", "set", "vtap0", "up"},
	} {
		if err := ns.IP(args...); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var log bytes.Buffer
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns.Name, bin, "-tap", "vtap0", "-ip", stackAddr.String()+"/24", "-gw", linuxAddr.String())
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })
	run := func(name string, args ...string) string {
		t.Helper()
		out, err := ns.Exec(name, args...)
		if err != nil {
			t.Fatalf("%s %v: %v\n%s\nnettap log:\n%s", name, args, err, out, log.String())
		}
		return string(out)
	}
	// nettap needs a moment to open the device.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := ns.Exec("ping", "-c", "1", "-W", "1", stackAddr.String()); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("nettap never answered ping; log:\n%s", log.String())
		}
	}
	if out := run("ping", "-c", "3", "-i", "0.2", "-s", "3000", stackAddr.String()); !strings.Contains(out, " 0% packet loss") {
		t.Errorf("ping: %s", out)
	}
	if out := run("sh", "-c", "echo hello valence | nc -N "+stackAddr.String()+" 7"); out != "hello valence\n" {
		t.Errorf("nc echo: %q", out)
	}
	if out := run("sh", "-c", "echo datagram | nc -u -w 1 "+stackAddr.String()+" 7"); out != "datagram\n" {
		t.Errorf("nc -u echo: %q", out)
	}
	run("sh", "-c", "head -c 1000000 /dev/zero | nc -N "+stackAddr.String()+" 9")
	if out := run("curl", "-sS", "-m", "10", "http://"+stackAddr.String()+"/"); !strings.Contains(out, "Valence") {
		t.Errorf("curl /: %q", out)
	}
	out := run("curl", "-sS", "-m", "30", "http://"+stackAddr.String()+"/bytes/1000000")
	want := make([]byte, 1000000)
	services.Pattern(want, 0)
	if sha256.Sum256([]byte(out)) != sha256.Sum256(want) {
		t.Errorf("curl /bytes/1000000: %d bytes, wrong contents", len(out))
	}
}

// TestDHCPAndDNSWithDnsmasq runs the stack's DHCP client and DNS resolver
// against dnsmasq, a real server, inside the namespace.
func TestDHCPAndDNSWithDnsmasq(t *testing.T) {
	requireTools(t, map[string]string{"dnsmasq": "dnsmasq-base"})
	ns, err := NewNamespace(UniqueName("vnt"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ns.Delete() })
	var dev *tap.Device
	if err := ns.Do(func() error { var err error; dev, err = tap.Open("vtap0", 1500); return err }); err != nil {
		t.Fatal(err)
	}
	ns.IP("addr", "add", linuxAddr.String()+"/24", "dev", "vtap0")
	ns.IP("link", "set", "vtap0", "up")
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var log bytes.Buffer
	dm := exec.CommandContext(ctx, "ip", "netns", "exec", ns.Name, "dnsmasq", "--no-daemon", "--conf-file=/dev/null",
		"--interface=vtap0", "--bind-interfaces", "--no-resolv", "--no-hosts",
		"--dhcp-range=198.18.0.50,198.18.0.60,255.255.255.0,2m", "--dhcp-leasefile="+filepath.Join(dir, "leases"),
		"--address=/valence.test/198.18.0.99", "--pid-file="+filepath.Join(dir, "pid"), "--user=root")
	dm.Stdout, dm.Stderr = &log, &log
	if err := dm.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); dm.Wait() })
	// Wait until dnsmasq answers DNS: then its DHCP socket is open too.
	for start := time.Now(); !dnsAnswers(ns); {
		if time.Since(start) > 10*time.Second {
			cancel()
			dm.Wait()
			t.Fatalf("dnsmasq did not start:\n%s", log.String())
		}
	}

	s := stack.New(stack.Config{MAC: stackMAC, Rand: stack.SeededRand(1)}, dev)
	loop := stack.NewLoop(s, dev)
	lctx, lcancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- loop.Run(lctx) }()
	t.Cleanup(func() { lcancel(); <-done })
	leases := make(chan dhcp.Lease, 4)
	loop.Do(func(s *stack.Stack) {
		_, err = dhcp.Start(s, dhcp.Config{Hostname: "valence", OnChange: func(l dhcp.Lease) { leases <- l }})
	})
	if err != nil {
		t.Fatal(err)
	}
	var lease dhcp.Lease
	select {
	case lease = <-leases:
	case <-time.After(30 * time.Second):
		t.Fatalf("no lease from dnsmasq; its log:\n%s", log.String())
	}
	if !netip.MustParsePrefix("198.18.0.48/28").Contains(lease.Addr.Addr()) || lease.Addr.Bits() != 24 || lease.Server != linuxAddr {
		t.Errorf("lease %v", lease)
	}
	// The address works: Linux pings it.
	if out, err := ns.Exec("ping", "-c", "1", "-W", "2", lease.Addr.Addr().String()); err != nil {
		t.Errorf("ping leased address: %v\n%s", err, out)
	}
	var r *dns.Resolver
	loop.Do(func(s *stack.Stack) { r = dns.NewResolver(s, lease.DNS, dns.Config{}) })
	addrs, err := dns.LookupSync(loop, r, "host.valence.test")
	if err != nil || len(addrs) != 1 || addrs[0] != netip.MustParseAddr("198.18.0.99") {
		t.Errorf("lookup: %v %v (servers %v)", addrs, err, lease.DNS)
	}
	if _, err := dns.LookupSync(loop, r, "nonexistent.invalid"); err == nil {
		t.Errorf("lookup of a missing name succeeded")
	}
}

// dnsAnswers reports whether a DNS server on the Linux side of the
// namespace answers a query within 200 ms.
func dnsAnswers(ns *Namespace) bool {
	q := &dns.Message{ID: 1, RecursionDesired: true, Questions: []dns.Question{{Name: "x.valence.test", Type: dns.TypeA, Class: dns.ClassIN}}}
	b, _ := q.Marshal()
	return ns.Do(func() error {
		c, err := net.Dial("udp", linuxAddr.String()+":53")
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(200 * time.Millisecond))
		if _, err := c.Write(b); err != nil {
			return err
		}
		_, err = c.Read(make([]byte, 512))
		return err
	}) == nil
}
