package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// The network boots: each kernel boots with a virtio-net NIC and runs
// userland/netbench as its first process, and the bench drives it from
// the host (netdrive.go): TCP each way, HTTP requests and connections
// per second. Once on QEMU's user network (the "user" rows: the host
// reaches the guest through hostfwd ports on 127.0.0.1), and once on a
// TAP device in a private network namespace (the "tap" rows, nettap.go),
// when the host allows it.

// netPlan is what the network boots measure.
type netPlan struct {
	Seconds  float64  `json:"seconds"` // per repetition of each workload
	Reps     int      `json:"reps"`
	Clients  int      `json:"clients"`            // concurrency of the HTTP and connect workloads
	Backends []string `json:"backends"`           // "user", "tap"
	TapSkip  string   `json:"tap_skip,omitempty"` // why the tap rows are missing
}

// String is p for the report.
func (p netPlan) String() string {
	s := fmt.Sprintf("%d repetitions of %g s each, %d clients for http and connect; backends %s",
		p.Reps, p.Seconds, p.Clients, strings.Join(p.Backends, ", "))
	if p.TapSkip != "" {
		s += " (no tap: " + p.TapSkip + ")"
	}
	return s
}

func (p netPlan) window() time.Duration { return time.Duration(p.Seconds * float64(time.Second)) }

// planNet checks the flags and decides the backends: tap is "auto" (when
// the host allows), "on" (an error when it does not) or "off".
func planNet(seconds float64, reps, clients int, tap string) (netPlan, error) {
	p := netPlan{Seconds: seconds, Reps: reps, Clients: clients, Backends: []string{"user"}}
	if seconds <= 0 || reps < 1 || clients < 1 {
		return p, fmt.Errorf("-net-seconds, -net-reps and -net-clients must be positive: %+v", p)
	}
	why := tapUnavailable()
	switch tap {
	case "off":
		p.TapSkip = "-net-tap off"
	case "auto":
		p.TapSkip = why
	case "on":
		if why != "" {
			return p, fmt.Errorf("-net-tap on, but %s", why)
		}
	default:
		return p, fmt.Errorf("-net-tap %q: want auto, on or off", tap)
	}
	if p.TapSkip == "" {
		p.Backends = append(p.Backends, "tap")
	}
	return p, nil
}

// netGuest is one kernel's network boot.
type netGuest struct {
	name string   // for messages: "Valence", "Linux ..."
	args []string // QEMU's arguments after machine(), the NIC excluded
}

// netBoots boots each kernel once per backend and returns the "bench:"
// lines of each. A backend's setup or boot that fails is reported and its
// rows are missing; the other rows still come.
func netBoots(p netPlan) (valence, linux []string, err error) {
	mods := *linuxMods
	if mods == "" {
		mods = filepath.Join(filepath.Dir(*linuxKernel), "modules")
	}
	extra, err := moduleEntries(mods, "net.order")
	if err != nil {
		return nil, nil, fmt.Errorf("linux modules (scripts/fetch-linux.sh puts them in %s): %w", mods, err)
	}
	initrd, err := buildInitramfs(*netbench, extra)
	if err != nil {
		return nil, nil, err
	}
	iommu := []string{"-device", "intel-iommu,intremap=off"}
	vg := netGuest{"Valence", append([]string{"-kernel", filepath.Join(*imageDir, "valence.mb"),
		"-initrd", filepath.Join(*imageDir, "initfs.tar") + " initfs," + filepath.Join(*imageDir, "kernel.sym") + " ksym",
		"-append", "root=nvme0 init=/bin/netbench"}, iommu...)}
	lg := netGuest{"Linux " + *linuxName, append([]string{"-kernel", *linuxKernel, "-initrd", initrd,
		"-append", "console=ttyS0 quiet loglevel=3 panic=-1 rdinit=/init intel_iommu=" + *linuxIOMMU}, iommu...)}
	for _, backend := range p.Backends {
		for _, g := range []struct {
			guest netGuest
			lines *[]string
		}{{vg, &valence}, {lg, &linux}} {
			fmt.Fprintf(os.Stderr, "bench: network boot of %s (%s)\n", g.guest.name, backend)
			lines, err := netBackendBoot(g.guest, backend, p)
			if err != nil {
				fmt.Fprintf(os.Stderr, "bench: %s, %s network: %v\n", g.guest.name, backend, err)
			}
			*g.lines = append(*g.lines, lines...)
		}
	}
	return valence, linux, nil
}

// netBackendBoot sets up the backend for one boot and runs it.
func netBackendBoot(g netGuest, backend string, p netPlan) ([]string, error) {
	switch backend {
	case "user":
		ports, err := freePorts(len(guestPorts))
		if err != nil {
			return nil, err
		}
		host := map[int]int{}
		var fwd []string
		for i, gp := range guestPorts {
			host[gp] = ports[i]
			fwd = append(fwd, fmt.Sprintf("hostfwd=tcp:127.0.0.1:%d-:%d", ports[i], gp))
		}
		dial := func(ctx context.Context, port int) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "tcp", fmt.Sprintf("127.0.0.1:%d", host[port]))
		}
		args := append(slices.Clone(g.args), "-netdev", "user,id=net0,"+strings.Join(fwd, ","),
			"-device", "virtio-net-pci,netdev=net0,disable-legacy=on,mac=52:54:00:12:34:56")
		return netRun(nil, args, backend, dial, p)
	case "tap":
		w, err := newTapWorld()
		if err != nil {
			return nil, err
		}
		defer w.close()
		return netRun(w.qemuPrefix(), append(slices.Clone(g.args), tapDevices()...), backend, w.dial, p)
	}
	return nil, fmt.Errorf("unknown backend %q", backend)
}

// freePorts are n TCP ports free on the host's loopback now.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// netRun boots QEMU (under prefix, when the backend needs it) with
// netbench as init, waits until it serves and answers, measures, and asks
// it to end. Every wait is bounded: the boot by -timeout, each
// measurement by its window and netGrace, the power-off by a minute; a
// guest still running then is killed.
func netRun(prefix, args []string, backend string, dial dialer, p netPlan) ([]string, error) {
	argv := append(append(slices.Clone(prefix), *qemu), append(machine(), args...)...)
	cmd := exec.Command(argv[0], argv[1:]...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	con := &console{ready: make(chan struct{})}
	exited := make(chan struct{})
	go func() {
		con.read(stdout)
		cmd.Wait()
		close(exited)
	}()
	kill := func() {
		cmd.Process.Kill()
		<-exited
	}
	select {
	case <-con.ready:
	case <-exited:
		return nil, fmt.Errorf("the guest ended before netbench served; console:\n%s\n%s", con.tail(30), stderr.String())
	case <-time.After(*timeout):
		kill()
		return nil, fmt.Errorf("netbench not serving after %v; console:\n%s", *timeout, con.tail(30))
	}
	if err := probe(dial, time.Now().Add(netGrace)); err != nil {
		kill()
		return nil, fmt.Errorf("netbench serves but does not answer through the %s network: %w; console:\n%s", backend, err, con.tail(30))
	}
	lines := measureNet(backend, dial, p.window(), p.Reps, p.Clients, os.Stderr)
	if err := quit(dial); err != nil {
		fmt.Fprintf(os.Stderr, "bench: asking netbench to end: %v\n", err)
	}
	select {
	case <-exited:
	case <-time.After(time.Minute):
		fmt.Fprintln(os.Stderr, "bench: the guest did not power off within a minute; killed")
		kill()
	}
	return lines, nil
}

// probe waits until a connection through dial reaches netbench: QEMU's
// user network accepts on the forwarded port before the guest does, and
// on the TAP the first packets wait for ARP.
func probe(dial dialer, deadline time.Time) error {
	var err error
	for time.Now().Before(deadline) {
		if _, err = connectRate(dial, 0, 1); err == nil {
			return nil
		}
		time.Sleep(200 * time.Millisecond)
	}
	return err
}

// quit asks netbench to end, which powers the guest off.
func quit(dial dialer) error {
	hc := &http.Client{Timeout: netGrace, Transport: &http.Transport{
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) { return dial(ctx, guestHTTP) }}}
	resp, err := hc.Get("http://netbench/quit")
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return errors.New(resp.Status)
	}
	return nil
}

// console collects a guest's console, echoes what netbench and netd say
// (and failures) to stderr, and closes ready when netbench serves.
type console struct {
	mu    sync.Mutex
	lines []string
	ready chan struct{}
}

func (c *console) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	served := false
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		c.mu.Lock()
		c.lines = append(c.lines, line)
		c.mu.Unlock()
		if strings.HasPrefix(line, "netbench: ") || strings.HasPrefix(line, "netd: ") || strings.Contains(line, "FAILED") {
			fmt.Fprintln(os.Stderr, "  "+line)
		}
		if !served && strings.HasPrefix(line, "netbench: serving") {
			served = true
			close(c.ready)
		}
	}
	io.Copy(io.Discard, r)
}

// tail is the console's last n lines.
func (c *console) tail(n int) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return strings.Join(c.lines[max(0, len(c.lines)-n):], "\n")
}
