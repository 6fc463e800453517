//go:build linux

package interop

import (
	"fmt"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"valence.dev/servers/net/services"
)

// vethWorld is the Linux-to-Linux baseline: two namespaces joined by a
// veth pair, 198.19.0.1 on one side and 198.19.0.2 on the other.
type vethWorld struct {
	client, server *Namespace
}

const vethServer = "198.19.0.2"

func newVethWorld(t testing.TB) *vethWorld {
	t.Helper()
	requirePrerequisites(t)
	v := &vethWorld{}
	for _, p := range []**Namespace{&v.client, &v.server} {
		ns, err := NewNamespace(UniqueName("vnv"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ns.Delete() })
		*p = ns
	}
	if err := v.client.IP("link", "add", "veth0", "type", "veth", "peer", "name", "veth1", "netns", v.server.Name); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		ns   *Namespace
		args []string
	}{
		{v.client, []string{"addr", "add", "198.19.0.1/24", "dev", "veth0"}},
		{v.client, []string{"link", "set", "veth0", "up"}},
		{v.server, []string{"addr", "add", vethServer + "/24", "dev", "veth1"}},
		{v.server, []string{"link", "set", "veth1", "up"}},
	} {
		if err := step.ns.IP(step.args...); err != nil {
			t.Fatal(err)
		}
	}
	return v
}

// serve runs a Linux server in the server namespace: discard on 9, echo on
// 7, and "send N bytes" on 19 (the client writes the count as text).
func (v *vethWorld) serve(t testing.TB) {
	t.Helper()
	for _, port := range []int{7, 9, 19} {
		var l net.Listener
		if err := v.server.Do(func() error {
			var err error
			l, err = net.Listen("tcp", net.JoinHostPort(vethServer, fmt.Sprint(port)))
			return err
		}); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { l.Close() })
		go func(port int) {
			for {
				c, err := l.Accept()
				if err != nil {
					return
				}
				go func() {
					defer c.Close()
					switch port {
					case 7:
						io.Copy(c, c)
					case 9:
						io.Copy(io.Discard, c)
					case 19:
						var n int64
						fmt.Fscan(c, &n)
						io.CopyN(c, zeros{}, n)
					}
				}()
			}
		}(port)
	}
}

type zeros struct{}

func (zeros) Read(b []byte) (int, error) { clear(b); return len(b), nil }

func (v *vethWorld) dial(port int) (net.Conn, error) {
	var c net.Conn
	err := v.client.Do(func() error {
		var err error
		c, err = net.Dial("tcp", net.JoinHostPort(vethServer, fmt.Sprint(port)))
		return err
	})
	return c, err
}

// target abstracts the two systems under test.
type target struct {
	dial     func(port int) (net.Conn, error)
	download func(n int64) (net.Conn, error) // a connection that will deliver n bytes
}

func tapTarget(t testing.TB) target {
	w := newWorld(t)
	return target{
		dial: func(port int) (net.Conn, error) { return w.Dial("tcp", uint16(port)) },
		download: func(n int64) (net.Conn, error) {
			c, err := w.Dial("tcp", services.HTTPPort)
			if err != nil {
				return nil, err
			}
			fmt.Fprintf(c, "GET /bytes/%d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", n)
			return c, nil
		},
	}
}

func vethTarget(t testing.TB) target {
	v := newVethWorld(t)
	v.serve(t)
	return target{
		dial: v.dial,
		download: func(n int64) (net.Conn, error) {
			c, err := v.dial(19)
			if err == nil {
				fmt.Fprintf(c, "%d\n", n)
			}
			return c, err
		},
	}
}

const chunk = 1 << 20

func upload(tg target, n int) error {
	c, err := tg.dial(services.DiscardPort)
	if err != nil {
		return err
	}
	defer c.Close()
	buf := make([]byte, chunk)
	for i := 0; i < n; i++ {
		if _, err := c.Write(buf); err != nil {
			return err
		}
	}
	c.(*net.TCPConn).CloseWrite()
	_, err = io.Copy(io.Discard, c) // wait for the server's close
	return err
}

func download(tg target, n int) error {
	c, err := tg.download(int64(n) * chunk)
	if err != nil {
		return err
	}
	defer c.Close()
	got, err := io.Copy(io.Discard, c)
	if err == nil && got < int64(n)*chunk {
		err = fmt.Errorf("short download: %d bytes", got)
	}
	return err
}

func requestResponse(tg target, n int, reconnect bool) error {
	msg := make([]byte, 100)
	var c net.Conn
	var err error
	for i := 0; i < n; i++ {
		if c == nil {
			if c, err = tg.dial(services.EchoPort); err != nil {
				return err
			}
		}
		if _, err := c.Write(msg); err != nil {
			return err
		}
		if _, err := io.ReadFull(c, msg); err != nil {
			return err
		}
		if reconnect {
			c.Close()
			c = nil
		}
	}
	if c != nil {
		c.Close()
	}
	return nil
}

func benchTargets(b *testing.B, fn func(b *testing.B, tg target)) {
	b.Run("valence-tap", func(b *testing.B) { fn(b, tapTarget(b)) })
	b.Run("linux-veth", func(b *testing.B) { fn(b, vethTarget(b)) })
}

// BenchmarkTCPUpload: Linux sends to the stack (or to Linux), MiB per op.
func BenchmarkTCPUpload(b *testing.B) {
	benchTargets(b, func(b *testing.B, tg target) {
		b.SetBytes(chunk)
		b.ResetTimer()
		if err := upload(tg, b.N); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkTCPDownload: the stack (or Linux) sends to Linux.
func BenchmarkTCPDownload(b *testing.B) {
	benchTargets(b, func(b *testing.B, tg target) {
		b.SetBytes(chunk)
		b.ResetTimer()
		if err := download(tg, b.N); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkTCPRequestResponse: 100-byte echo round trips on one connection.
func BenchmarkTCPRequestResponse(b *testing.B) {
	benchTargets(b, func(b *testing.B, tg target) {
		b.ResetTimer()
		if err := requestResponse(tg, b.N, false); err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkTCPConnectRequest: connect, one 100-byte round trip, close.
func BenchmarkTCPConnectRequest(b *testing.B) {
	benchTargets(b, func(b *testing.B, tg target) {
		b.ResetTimer()
		if err := requestResponse(tg, b.N, true); err != nil {
			b.Fatal(err)
		}
	})
}

// TestThroughputReport measures both systems side by side and prints the
// ratio. It runs only with VALENCE_BENCH=1 (make it part of a benchmark
// run, not of every test run).
func TestThroughputReport(t *testing.T) {
	if os.Getenv("VALENCE_BENCH") != "1" {
		t.Skip("set VALENCE_BENCH=1 to measure throughput against Linux")
	}
	tap, veth := tapTarget(t), vethTarget(t)
	type measure struct {
		name string
		run  func(tg target) (float64, string, error)
	}
	rate := func(mib int, f func(target, int) error) func(target) (float64, string, error) {
		return func(tg target) (float64, string, error) {
			start := time.Now()
			err := f(tg, mib)
			return float64(mib) * chunk * 8 / time.Since(start).Seconds() / 1e6, "Mbit/s", err
		}
	}
	rr := func(n int, reconnect bool) func(target) (float64, string, error) {
		return func(tg target) (float64, string, error) {
			start := time.Now()
			err := requestResponse(tg, n, reconnect)
			return float64(n) / time.Since(start).Seconds(), "req/s", err
		}
	}
	for _, m := range []measure{
		{"upload 256 MiB (Linux -> target)", rate(256, upload)},
		{"download 256 MiB (target -> Linux)", rate(256, download)},
		{"request/response, 100 B, one connection", rr(20000, false)},
		{"connect + request + close", rr(2000, true)},
	} {
		// The machines are shared: take the best of three interleaved rounds.
		var v, l float64
		var unit string
		for round := 0; round < 3; round++ {
			x, u, err := m.run(tap)
			if err != nil {
				t.Fatalf("%s on the stack: %v", m.name, err)
			}
			y, _, err := m.run(veth)
			if err != nil {
				t.Fatalf("%s on Linux: %v", m.name, err)
			}
			v, l, unit = max(v, x), max(l, y), u
		}
		t.Logf("%-42s valence %9.0f %-6s linux %9.0f %-6s ratio %.3f", m.name, v, unit, l, unit, v/l)
	}
}
