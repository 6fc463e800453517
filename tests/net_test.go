package tests

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"valence.dev/tests/qemu"
)

// hostServers starts, on the host's loopback, what nettests reaches
// through QEMU's user network at 10.0.2.2: an HTTP server of /bytes?n=N
// (with the body's sha256 in X-Sha256) and a UDP echo server. It returns
// their ports.
func hostServers(t *testing.T) (httpPort, udpPort int) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.URL.Query().Get("n"))
		if err != nil || n < 0 || n > 256<<20 {
			http.Error(w, "bad n", http.StatusBadRequest)
			return
		}
		b := netPattern(n, 3)
		w.Header().Set("X-Sha256", fmt.Sprintf("%x", sha256.Sum256(b)))
		w.Header().Set("Content-Length", strconv.Itoa(n))
		w.Write(b)
	})}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	u, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { u.Close() })
	go func() {
		buf := make([]byte, 2048)
		for {
			n, from, err := u.ReadFrom(buf)
			if err != nil {
				return
			}
			u.WriteTo(buf[:n], from)
		}
	}()
	return l.Addr().(*net.TCPAddr).Port, u.LocalAddr().(*net.UDPAddr).Port
}

// netPattern is userland/nettests' pattern.
func netPattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*31) ^ seed ^ byte(i>>9)
	}
	return b
}

// freePort is a TCP port free on the host's loopback now.
func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// TestNet boots with root=nvme0 and a virtio NIC on QEMU's user network:
// init starts netd, which configures the NIC by DHCP, and nettests
// runs as init, a stock Go program using net and net/http: TCP, UDP and
// HTTP over the loopback, 200 concurrent connections, errors, an HTTP
// download and a UDP echo from servers on the host (10.0.2.2), and an
// HTTP server in Valence that the host reaches through a port forward,
// downloading and uploading 100 MiB byte-exact. Before serving, nettests
// attacks the socket calls (socket-abuse: faulting pointers, bad lengths,
// families, flags and descriptors, each errno checked against Linux's;
// socket-flood: EMFILE and 2000 connect/close cycles without a leak;
// socket-races: closes under blocked calls, concurrent writers), reads
// the interfaces, addresses and routes over NETLINK_ROUTE (through
// net.Interfaces, raw dumps, hostile calls, and /bin/ip if the image has
// it), pings through raw ICMP sockets (raw-icmp: 127.0.0.1, its own
// address and the gateway; raw-icmp-calls: hostile calls, each errno
// Linux's, and EPERM without CAP_NET_RAW; raw-icmp-flood: a socket that
// never reads stays bounded), and finds its sockets in /proc/net
// (proc-net).
func TestNet(t *testing.T) {
	if testing.Short() {
		t.Skip("boots the kernel under QEMU; skipped with -short")
	}
	httpPort, udpPort := hostServers(t)
	fwd := freePort(t)
	disk := rootDiskCopy(t)
	extra := append(nvmeDisk(disk, "valence-root"),
		"-netdev", fmt.Sprintf("user,id=net0,hostfwd=tcp:127.0.0.1:%d-:8080", fwd),
		"-device", "virtio-net-pci,netdev=net0,disable-legacy=on,mac=52:54:00:12:34:56")
	// 500 connect/close cycles in socket-flood (2000 by default) keep
	// make test within its time; a leak shows in any number of them.
	cmdline := fmt.Sprintf("root=nvme0 init=/bin/nettests NETTESTS_HOST=%d NETTESTS_UDP=%d NETTESTS_FLOOD_CYCLES=500", httpPort, udpPort)
	m := qemu.Boot(t, qemu.Options{Cmdline: cmdline, Timeout: 4 * bootTimeout, ExtraArgs: extra})
	m.Expect(`netd: eth0 52:54:00:12:34:56 10\.0\.2\.15/24 gateway 10\.0\.2\.2`, bootTimeout)
	m.Expect(`nettests: serving on :8080`, 3*bootTimeout)
	base := fmt.Sprintf("http://127.0.0.1:%d", fwd)
	client := &http.Client{Timeout: 10 * time.Minute}
	const n = 100 << 20
	resp, err := client.Get(fmt.Sprintf("%s/bytes?n=%d", base, n))
	if err != nil {
		t.Fatalf("download from Valence: %v\n%s", err, m.Output())
	}
	got, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || !bytes.Equal(got, netPattern(n, 3)) {
		t.Errorf("download from Valence: %d bytes (%v), not the pattern", len(got), err)
	}
	up := netPattern(n, 9)
	resp, err = client.Post(base+"/upload", "application/octet-stream", bytes.NewReader(up))
	if err != nil {
		t.Fatalf("upload to Valence: %v", err)
	}
	answer, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if want := fmt.Sprintf("%d %x", n, sha256.Sum256(up)); strings.TrimSpace(string(answer)) != want {
		t.Errorf("upload to Valence: the server says %q, want %q", answer, want)
	}
	if _, err := client.Get(base + "/quit"); err != nil {
		t.Errorf("/quit: %v", err)
	}
	m.Expect(`nettests: (PASS|FAIL).*`, 2*bootTimeout)
	out := m.Output()
	for _, name := range []string{"tcp-loopback", "udp-loopback", "http-loopback", "errors", "many-conns", "host-fetch", "host-udp",
		"socket-abuse", "socket-flood", "socket-races", "privileged-port", "serve", "unix-stream", "unix-gram", "unix-abstract",
		"unix-rights", "unix-http", "unix-calls", "netlink-interfaces", "netlink-dump", "netlink-abuse",
		"raw-icmp", "raw-icmp-calls", "raw-icmp-flood", "proc-net"} {
		if !strings.Contains(out, "nettests: "+name+": ok") {
			t.Errorf("nettests %s did not pass", name)
		}
	}
	// NETLINK_ROUTE tells what netd configured on the NIC QEMU attached,
	// and u-root's ip prints it when the image has one.
	for _, want := range []string{
		`nettests: netlink: lo index=1 flags=up\|loopback\|running mtu=65536 hw= addrs=127\.0\.0\.1/8\b`,
		`nettests: netlink: eth0 index=2 flags=up\|broadcast\|running mtu=1500 hw=52:54:00:12:34:56 addrs=10\.0\.2\.15/24\b`,
		`nettests: netlink: route table=254 type=1 dst=<nil>/0 gw=10\.0\.2\.2 src=<nil> oif=2`,
		`nettests: netlink-ip: (ok|skipped \(no /bin/ip\))`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("no line matching %q", want)
		}
	}
	if t.Failed() {
		t.Logf("console:\n%s", out)
	}
}
