package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"valence.dev/servers/net/dhcp"
	"valence.dev/servers/net/ethernet"
)

// fakeGuest serves userland/netbench's protocol (its doc.go) on the
// host's loopback; sinkRate, when not zero, throttles the sink to about
// that many bytes per second, as a slow guest would.
type fakeGuest struct {
	ports    map[int]int // guest port -> local port
	sinkRate int
	stall    bool // accept, then never answer
}

func startFakeGuest(t *testing.T, g *fakeGuest) dialer {
	t.Helper()
	g.ports = map[int]int{}
	serve := map[int]func(net.Conn){
		guestSink:    g.sink,
		guestSource:  g.source,
		guestConnect: func(c net.Conn) { c.Write([]byte{'+'}) },
	}
	for _, port := range guestPorts {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		g.ports[port] = l.Addr().(*net.TCPAddr).Port
		if port == guestHTTP && !g.stall {
			srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, guestBody)
			})}
			go srv.Serve(l)
			t.Cleanup(func() { srv.Close() })
			continue
		}
		go func() {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				t.Cleanup(func() { c.Close() })
				if !g.stall {
					go func() {
						defer c.Close()
						serve[port](c)
					}()
				}
			}
		}()
	}
	return func(ctx context.Context, port int) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, "tcp", fmt.Sprintf("127.0.0.1:%d", g.ports[port]))
	}
}

func (g *fakeGuest) sink(c net.Conn) {
	buf := make([]byte, 16<<10)
	var n int64
	start, last := time.Now(), time.Now()
	for {
		k, err := c.Read(buf)
		n += int64(k)
		if g.sinkRate > 0 {
			// Sleep until n bytes are due at sinkRate.
			time.Sleep(time.Until(start.Add(time.Duration(float64(n) / float64(g.sinkRate) * float64(time.Second)))))
		}
		if now := time.Now(); err != nil || now.Sub(last) >= 100*time.Millisecond {
			if _, werr := fmt.Fprintf(c, "%d\n", n); werr != nil {
				return
			}
			last = now
		}
		if err != nil {
			return
		}
	}
}

func (g *fakeGuest) source(c net.Conn) {
	buf := make([]byte, 64<<10)
	for {
		if _, err := c.Write(buf); err != nil {
			return
		}
	}
}

// TestNetWorkloads runs each workload against a fake guest: each must
// give a rate, and the upload must be the rate the guest received, not
// what the host's buffers took.
func TestNetWorkloads(t *testing.T) {
	const window = 400 * time.Millisecond
	for _, tc := range []struct {
		name     string
		guest    fakeGuest
		workload string
		lo, hi   float64 // the rate expected
	}{
		{"upload to a 1 MiB/s guest", fakeGuest{sinkRate: mib}, "tcp-to-guest", 0.6, 1.4},
		{"upload", fakeGuest{}, "tcp-to-guest", 1, 1e6},
		{"download", fakeGuest{}, "tcp-from-guest", 1, 1e6},
		{"http", fakeGuest{}, "http-c2", 10, 1e7},
		{"connect", fakeGuest{}, "connect-c2", 10, 1e7},
	} {
		dial := startFakeGuest(t, &tc.guest)
		ran := false
		for _, w := range netWorkloads(2) {
			if w.name != tc.workload {
				continue
			}
			ran = true
			got, err := w.run(dial, window, 2)
			if err != nil || got < tc.lo || got > tc.hi {
				t.Errorf("%s: %s gave %.3f %s (%v), want %g to %g", tc.name, w.name, got, w.unit, err, tc.lo, tc.hi)
			}
		}
		if !ran {
			t.Errorf("%s: no workload %s", tc.name, tc.workload)
		}
	}
}

// TestNetStalledGuest checks that a guest that accepts and never answers
// fails every workload within its window and the grace, and that
// measureNet leaves the failed rows out.
func TestNetStalledGuest(t *testing.T) {
	defer func(g time.Duration) { netGrace = g }(netGrace)
	netGrace = 300 * time.Millisecond
	dial := startFakeGuest(t, &fakeGuest{stall: true})
	var log strings.Builder
	start := time.Now()
	lines := measureNet("user", dial, 100*time.Millisecond, 2, 2, &log)
	if len(lines) != 0 {
		t.Errorf("measureNet against a stalled guest gave %q, want no lines", lines)
	}
	if n := strings.Count(log.String(), "FAILED"); n != 4 {
		t.Errorf("measureNet logged %d failures, want 4:\n%s", n, log.String())
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("measureNet against a stalled guest took %v", d)
	}
}

// TestMeasureNetLines checks that measureNet's lines are what parse and
// compare read, with the backend in the names.
func TestMeasureNetLines(t *testing.T) {
	dial := startFakeGuest(t, &fakeGuest{})
	lines := measureNet("tap", dial, 100*time.Millisecond, 3, 2, io.Discard)
	got := map[string]string{}
	for name, s := range parse(lines) {
		if s.reps != 3 || s.min <= 0 || s.median < s.min {
			t.Errorf("%s: %+v", name, s)
		}
		got[name] = s.unit
	}
	want := map[string]string{"net-tap-tcp-to-guest": "MiB/s", "net-tap-tcp-from-guest": "MiB/s",
		"net-tap-http-c2": "req/s", "net-tap-connect-c2": "conn/s"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows (-want +got):\n%s\nlines:\n%s", diff, strings.Join(lines, "\n"))
	}
}

func TestBenchLineOf(t *testing.T) {
	for _, tc := range []struct {
		rates []float64
		want  string
	}{
		{[]float64{3, 1, 2}, "bench: net-user-http-c4 min 1.000 median 2.000 req/s (3 repetitions of 2 s)"},
		{[]float64{0.25}, "bench: net-user-http-c4 min 0.250 median 0.250 req/s (1 repetitions of 2 s)"},
	} {
		if got := benchLineOf("net-user-http-c4", "req/s", tc.rates, 2*time.Second); got != tc.want {
			t.Errorf("benchLineOf(%v) = %q, want %q", tc.rates, got, tc.want)
		}
	}
}

// TestNetRows checks the network rows as the table shows them, a row
// Valence failed to measure included.
func TestNetRows(t *testing.T) {
	v := map[string]sample{"net-user-http-c4": {20, 25, "req/s", 3}, "net-tap-connect-c4": {5, 6, "conn/s", 3}}
	l := map[string]sample{"net-user-http-c4": {80, 100, "req/s", 3}, "net-tap-connect-c4": {50, 60, "conn/s", 3},
		"net-tap-tcp-to-guest": {40, 42, "MiB/s", 3}, "ipc-64B/pipe": {1, 2, "us/round-trip", 5}}
	var got []string
	for _, f := range compare(v, l) {
		got = append(got, row(f))
	}
	want := []string{
		"net-tap-connect-c4           conn/s                  6.000 (5.000)        60.000 (50.000)    0.10*",
		"net-tap-tcp-to-guest         MiB/s                               -        42.000 (40.000)        -",
		"net-user-http-c4             req/s                 25.000 (20.000)       100.000 (80.000)    0.25*",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rows (-want +got):\n%s", diff)
	}
}

func TestPlanNet(t *testing.T) {
	why := tapUnavailable()
	for _, tc := range []struct {
		name    string
		seconds float64
		reps    int
		tap     string
		want    netPlan
		wantErr bool
	}{
		{"tap off", 2, 3, "off", netPlan{Seconds: 2, Reps: 3, Clients: 4, Backends: []string{"user"}, TapSkip: "-net-tap off"}, false},
		{"tap auto", 1, 1, "auto", func() netPlan {
			p := netPlan{Seconds: 1, Reps: 1, Clients: 4, Backends: []string{"user", "tap"}}
			if why != "" {
				p.Backends, p.TapSkip = []string{"user"}, why
			}
			return p
		}(), false},
		{"tap on", 1, 1, "on", netPlan{Seconds: 1, Reps: 1, Clients: 4, Backends: []string{"user", "tap"}}, why != ""},
		{"no time", 0, 3, "off", netPlan{}, true},
		{"no repetitions", 2, 0, "off", netPlan{}, true},
		{"bad tap", 2, 3, "yes", netPlan{}, true},
	} {
		got, err := planNet(tc.seconds, tc.reps, 4, tc.tap)
		if (err != nil) != tc.wantErr {
			t.Errorf("%s: error %v, want error %v", tc.name, err, tc.wantErr)
			continue
		}
		if err != nil {
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("%s: planNet (-want +got):\n%s", tc.name, diff)
		}
	}
}

// TestDHCPReply checks the tap world's DHCP server against the messages
// netd's client sends (servers/net/dhcp/client.go), through Marshal and
// Parse as on the wire.
func TestDHCPReply(t *testing.T) {
	server, guest := netip.MustParseAddr(tapHost), netip.MustParseAddr(tapGuest)
	mac := ethernet.Address{0x52, 0x54, 0, 0x12, 0x34, 0x56}
	reply := func(typ uint8) *dhcp.Message {
		m := &dhcp.Message{Op: 2, XID: 7, Broadcast: true, YIAddr: guest, SIAddr: server, CHAddr: mac, Type: typ,
			CIAddr: netip.IPv4Unspecified(), GIAddr: netip.IPv4Unspecified(), Options: map[uint8][]byte{
				dhcp.OptMessageType: {typ},
				dhcp.OptServerID:    {10, 0, 2, 2},
				dhcp.OptSubnetMask:  {255, 255, 255, 0},
				dhcp.OptRouter:      {10, 0, 2, 2},
				dhcp.OptLeaseTime:   {0, 1, 0x51, 0x80},
			}}
		return m
	}
	for _, tc := range []struct {
		name string
		in   dhcp.Message
		want *dhcp.Message
	}{
		{"discover", dhcp.Message{Op: 1, XID: 7, Broadcast: true, CHAddr: mac, Type: dhcp.Discover}, reply(dhcp.Offer)},
		{"request", dhcp.Message{Op: 1, XID: 7, Broadcast: true, CHAddr: mac, Type: dhcp.Request}, reply(dhcp.Ack)},
		{"release", dhcp.Message{Op: 1, XID: 7, CHAddr: mac, Type: dhcp.Release}, nil},
		{"a reply", dhcp.Message{Op: 2, XID: 7, CHAddr: mac, Type: dhcp.Offer}, nil},
	} {
		in, err := dhcp.Parse(tc.in.Marshal())
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var got *dhcp.Message
		if r := dhcpReply(in, server, guest); r != nil {
			if got, err = dhcp.Parse(r.Marshal()); err != nil {
				t.Fatalf("%s: the reply does not parse: %v", tc.name, err)
			}
		}
		if diff := cmp.Diff(tc.want, got, cmp.Comparer(func(a, b netip.Addr) bool { return a == b })); diff != "" {
			t.Errorf("%s: reply (-want +got):\n%s", tc.name, diff)
		}
	}
}
