package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// The host's side of the network workloads: each drives userland/netbench
// in a guest through a dialer for one timed window and returns a rate.
// Every connection has a deadline past the window (netGrace), so a guest
// that stops answering fails the workload instead of hanging the bench.

// The guest's ports and HTTP body (userland/netbench's doc.go).
const (
	guestSink    = 5201
	guestSource  = 5202
	guestConnect = 5203
	guestHTTP    = 8080
)

var guestPorts = []int{guestSink, guestSource, guestConnect, guestHTTP}

// guestBody is netbench's answer to GET /.
var guestBody = strings.Repeat("netbench", 7) + "valence\n"

// netGrace is how long past its window a workload may wait for the
// guest: a TCG guest can be slow to drain or answer, but not this slow.
var netGrace = 30 * time.Second

const mib = 1 << 20

// dialer connects to a guest's port, wherever the guest is (a host port
// that QEMU forwards, or the guest's address in a namespace).
type dialer func(ctx context.Context, port int) (net.Conn, error)

// netWorkload is one row of the network table, without the backend.
type netWorkload struct {
	name, unit string
	run        func(dial dialer, window time.Duration, clients int) (float64, error)
}

// netWorkloads are the rows, in the table's order; clients is the
// concurrency of the HTTP and connect rows, which carry it in their names.
func netWorkloads(clients int) []netWorkload {
	return []netWorkload{
		{"tcp-to-guest", "MiB/s", func(d dialer, w time.Duration, _ int) (float64, error) { return upload(d, w) }},
		{"tcp-from-guest", "MiB/s", func(d dialer, w time.Duration, _ int) (float64, error) { return download(d, w) }},
		{fmt.Sprintf("http-c%d", clients), "req/s", httpRate},
		{fmt.Sprintf("connect-c%d", clients), "conn/s", connectRate},
	}
}

// upload sends to the guest's sink for window and returns the MiB/s the
// guest received: the difference of its count reports over the time
// between their arrival, so bytes still in the host's or QEMU's buffers
// are not counted.
func upload(dial dialer, window time.Duration) (float64, error) {
	c, err := dialBounded(dial, guestSink)
	if err != nil {
		return 0, err
	}
	// A reset rather than a FIN at the end: the data still queued is
	// discarded instead of reaching the guest during the next workload.
	defer resetClose(c)
	c.SetDeadline(time.Now().Add(window + netGrace))
	go func() {
		buf := make([]byte, 64<<10)
		for i := range buf {
			buf[i] = byte(i*7) ^ byte(i>>8)
		}
		for {
			if _, err := c.Write(buf); err != nil {
				return
			}
		}
	}()
	r := bufio.NewReader(c)
	var t0 time.Time
	var n0 int64
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return 0, fmt.Errorf("sink's reports: %w", err)
		}
		now := time.Now()
		n, err := strconv.ParseInt(strings.TrimSpace(line), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("sink's report %q: %w", line, err)
		}
		if t0.IsZero() {
			t0, n0 = now, n
			continue
		}
		if d := now.Sub(t0); d >= window {
			return float64(n-n0) / mib / d.Seconds(), nil
		}
	}
}

// download reads from the guest's source for window, timed from the
// first bytes, and returns MiB/s.
func download(dial dialer, window time.Duration) (float64, error) {
	c, err := dialBounded(dial, guestSource)
	if err != nil {
		return 0, err
	}
	defer resetClose(c)
	c.SetDeadline(time.Now().Add(window + netGrace))
	buf := make([]byte, 64<<10)
	if _, err := io.ReadFull(c, buf[:1]); err != nil {
		return 0, fmt.Errorf("source's first byte: %w", err)
	}
	t0 := time.Now()
	var n int64
	for {
		k, err := c.Read(buf)
		n += int64(k)
		if d := time.Since(t0); d >= window {
			return float64(n) / mib / d.Seconds(), nil
		}
		if err != nil {
			return 0, fmt.Errorf("source after %d bytes: %w", n, err)
		}
	}
}

// httpRate runs clients keep-alive HTTP clients against the guest's
// server for window (each client's connection made, and one request
// answered, beforehand) and returns the requests answered per second.
func httpRate(dial dialer, window time.Duration, clients int) (float64, error) {
	tr := &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return dial(ctx, guestHTTP)
		},
		MaxIdleConnsPerHost: clients,
		DisableCompression:  true,
	}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: netGrace}
	get := func() error {
		resp, err := hc.Get("http://netbench/")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			return err
		}
		if resp.StatusCode != http.StatusOK || string(b) != guestBody {
			return fmt.Errorf("GET /: %s, %q", resp.Status, b)
		}
		return nil
	}
	return during(window, clients, get)
}

// connectRate has clients connecting to the guest's connect port, each
// waiting for the guest's byte (proof of the accept) and closing, for
// window, and returns connections per second.
func connectRate(dial dialer, window time.Duration, clients int) (float64, error) {
	once := func() error {
		c, err := dialBounded(dial, guestConnect)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(netGrace))
		var b [1]byte
		if _, err := io.ReadFull(c, b[:]); err != nil {
			return fmt.Errorf("the guest's byte: %w", err)
		}
		return nil
	}
	return during(window, clients, once)
}

// during runs op on clients goroutines, each once before the window
// (connections made, the guest warmed) and then in a loop until the
// window ends, and returns the number of ops completed within the window
// per second. The first error ends it.
func during(window time.Duration, clients int, op func() error) (float64, error) {
	if clients < 1 {
		return 0, errors.New("no clients")
	}
	var warm sync.WaitGroup
	errs := make(chan error, clients)
	start := make(chan struct{})
	var done atomic.Int64
	var deadline time.Time
	var wg sync.WaitGroup
	for range clients {
		warm.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := op()
			warm.Done()
			if err != nil {
				errs <- fmt.Errorf("before the window: %w", err)
				return
			}
			<-start
			for time.Now().Before(deadline) {
				if err := op(); err != nil {
					errs <- err
					return
				}
				if time.Now().Before(deadline) {
					done.Add(1)
				}
			}
		}()
	}
	warm.Wait()
	deadline = time.Now().Add(window)
	close(start)
	wg.Wait()
	select {
	case err := <-errs:
		return 0, err
	default:
	}
	return float64(done.Load()) / window.Seconds(), nil
}

// dialBounded dials with netGrace as the limit: a SYN to a guest that
// does not answer would otherwise be retried for minutes.
func dialBounded(dial dialer, port int) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), netGrace)
	defer cancel()
	return dial(ctx, port)
}

// resetClose closes c with a reset where it can (a TCP connection),
// discarding what is still queued either way.
func resetClose(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetLinger(0)
	}
	c.Close()
}

// benchLineOf is a workload's repetitions as the "bench:" line the
// guests' benchmark programs print, so that parse and compare take it
// alike: for rates the min is the slowest repetition.
func benchLineOf(name, unit string, rates []float64, window time.Duration) string {
	s := append([]float64(nil), rates...)
	sort.Float64s(s)
	return fmt.Sprintf("bench: %s min %.3f median %.3f %s (%d repetitions of %s s)",
		name, s[0], s[len(s)/2], unit, len(s), strconv.FormatFloat(window.Seconds(), 'f', -1, 64))
}

// measureNet runs every workload reps times against one guest through
// dial, each repetition a window long, and returns the "bench:" lines
// (rows named net-<backend>-<workload>). A workload that fails is
// reported on stderr and left out; the others still run.
func measureNet(backend string, dial dialer, window time.Duration, reps, clients int, log io.Writer) []string {
	var lines []string
	for _, w := range netWorkloads(clients) {
		name := "net-" + backend + "-" + w.name
		var rates []float64
		var err error
		for range reps {
			var r float64
			if r, err = w.run(dial, window, clients); err != nil {
				break
			}
			rates = append(rates, r)
		}
		if err != nil {
			fmt.Fprintf(log, "  bench: %s FAILED: %v\n", name, err)
			continue
		}
		line := benchLineOf(name, w.unit, rates, window)
		fmt.Fprintln(log, "  "+line)
		lines = append(lines, line)
	}
	return lines
}
