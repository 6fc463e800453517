package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// proc-net: the sockets this program holds appear in /proc/net's tables
// as Linux shows them: a listening TCP socket and both ends of a
// connection in tcp (hex addresses and ports, states 0A and 01, unread
// bytes in rx_queue), a connected and an unconnected UDP socket in udp
// (states 01 and 07), a raw socket in raw (port 0001), a listening
// AF_UNIX socket in unix (flags 00010000, @name), each found by the
// inode /proc/self/fd shows; /proc/net/dev has lo, route the default
// route, snmp pairs of lines whose counts grow with traffic. Run on
// Linux too: NETTESTS=proc-net NETTESTS_GATEWAY=<gateway> go run ./nettests.

// socketInode is the inode of the socket behind fd (socket:[N]).
func socketInode(fd int) (string, error) {
	l, err := os.Readlink(fmt.Sprintf("/proc/self/fd/%d", fd))
	if err != nil {
		return "", err
	}
	n, ok := strings.CutPrefix(l, "socket:[")
	if !ok || !strings.HasSuffix(n, "]") {
		return "", fmt.Errorf("fd %d is %q, not a socket", fd, l)
	}
	return strings.TrimSuffix(n, "]"), nil
}

// procNetLine returns the line of /proc/net/<file> for inode ino (the
// tables' tenth column).
func procNetLine(file, ino string) (string, error) {
	b, err := os.ReadFile("/proc/net/" + file)
	if err != nil {
		return "", err
	}
	for _, l := range strings.Split(string(b), "\n")[1:] {
		if f := strings.Fields(l); len(f) > 9 && f[9] == ino {
			return l, nil
		}
	}
	return "", fmt.Errorf("no line for inode %s in /proc/net/%s:\n%s", ino, file, b)
}

// connFD is the descriptor behind a net.Conn or net.Listener.
func connFD(c any) int {
	fd := -1
	if sc, ok := c.(syscall.Conn); ok {
		if rc, err := sc.SyscallConn(); err == nil {
			rc.Control(func(f uintptr) { fd = int(f) })
		}
	}
	return fd
}

// hexPort is addr:port as the tables print an IPv4 address.
func hexPort(ip [4]byte, port int) string {
	return fmt.Sprintf("%02X%02X%02X%02X:%04X", ip[3], ip[2], ip[1], ip[0], port)
}

// expectLine finds c's line in file and checks its local and remote
// addresses and state (and, if rxq is not "", its receive queue),
// retrying for up to two seconds while data arrives.
func expectLine(file string, c any, local, remote, state, rxq string) (string, error) {
	ino, err := socketInode(connFD(c))
	if err != nil {
		return "", err
	}
	var line string
	for deadline := time.Now().Add(2 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		line, err = procNetLine(file, ino)
		if err != nil {
			return "", err
		}
		f := strings.Fields(line)
		queues := strings.SplitN(f[4], ":", 2)
		if f[1] == local && f[2] == remote && f[3] == state && (rxq == "" || queues[1] == rxq) {
			return line, nil
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("/proc/net/%s: %q; want %s %s %s rx_queue %q", file, line, local, remote, state, rxq)
		}
	}
}

func testProcNet() error {
	lo := [4]byte{127, 0, 0, 1}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	if _, err := expectLine("tcp", l, hexPort(lo, port), "00000000:0000", "0A", ""); err != nil {
		return fmt.Errorf("the listener: %w", err)
	}
	cli, err := net.Dial("tcp4", l.Addr().String())
	if err != nil {
		return err
	}
	defer cli.Close()
	srv, err := l.Accept()
	if err != nil {
		return err
	}
	defer srv.Close()
	cport := cli.LocalAddr().(*net.TCPAddr).Port
	if _, err := cli.Write([]byte("12345")); err != nil {
		return err
	}
	if _, err := expectLine("tcp", cli, hexPort(lo, cport), hexPort(lo, port), "01", ""); err != nil {
		return fmt.Errorf("the client: %w", err)
	}
	if _, err := expectLine("tcp", srv, hexPort(lo, port), hexPort(lo, cport), "01", "00000005"); err != nil {
		return fmt.Errorf("the accepted connection with 5 bytes unread: %w", err)
	}

	u1, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer u1.Close()
	p1 := u1.LocalAddr().(*net.UDPAddr).Port
	u2, err := net.Dial("udp4", u1.LocalAddr().String())
	if err != nil {
		return err
	}
	defer u2.Close()
	p2 := u2.LocalAddr().(*net.UDPAddr).Port
	if _, err := u2.Write([]byte("datagram")); err != nil {
		return err
	}
	if _, err := expectLine("udp", u2, hexPort(lo, p2), hexPort(lo, p1), "01", ""); err != nil {
		return fmt.Errorf("the connected UDP socket: %w", err)
	}
	line, err := expectLine("udp", u1, hexPort(lo, p1), "00000000:0000", "07", "")
	if err != nil {
		return fmt.Errorf("the bound UDP socket: %w", err)
	}
	if q := strings.SplitN(strings.Fields(line)[4], ":", 2)[1]; q == "00000000" {
		return fmt.Errorf("the bound UDP socket holds a datagram, but rx_queue is 0: %q", line)
	}

	raw, err := rawICMP()
	if err != nil {
		return err
	}
	defer syscall.Close(raw)
	rawIno, _ := socketInode(raw)
	if line, err := procNetLine("raw", rawIno); err != nil || !strings.Contains(line, ": 00000000:0001 00000000:0000 07 ") {
		return fmt.Errorf("the raw socket: %q, %v", line, err)
	}

	name := fmt.Sprintf("nettests-procnet-%d", os.Getpid())
	ul, err := net.Listen("unix", "@"+name)
	if err != nil {
		return err
	}
	defer ul.Close()
	uIno, err := socketInode(connFD(ul))
	if err != nil {
		return err
	}
	if err := findUnix(uIno, "00010000 0001 01", "@"+name); err != nil {
		return err
	}

	if err := checkDevAndRoute(); err != nil {
		return err
	}
	if err := checkSNMP(); err != nil {
		return err
	}
	// /proc/self/net is the same table.
	if b, err := os.ReadFile("/proc/self/net/tcp"); err != nil || !strings.Contains(string(b), " "+hexPort(lo, port)+" 00000000:0000 0A ") {
		return fmt.Errorf("/proc/self/net/tcp lacks the listener: %v", err)
	}
	fmt.Printf("nettests: proc-net: TCP, UDP, raw and unix sockets listed with their addresses, states and queues\n")
	return nil
}

// findUnix checks /proc/net/unix's line for inode ino: its flags, type
// and state columns, and its path.
func findUnix(ino, cols, path string) error {
	b, err := os.ReadFile("/proc/net/unix")
	if err != nil {
		return err
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Fields(l)
		if len(f) >= 7 && f[6] == ino {
			if strings.Join(f[3:6], " ") != cols || len(f) < 8 || f[7] != path {
				return fmt.Errorf("/proc/net/unix: %q; want %s ... %s", l, cols, path)
			}
			return nil
		}
	}
	return fmt.Errorf("/proc/net/unix has no inode %s:\n%s", ino, b)
}

// checkDevAndRoute: lo is in /proc/net/dev with counters that parse,
// and the main table routes to the gateway (flags 0003, UG).
func checkDevAndRoute() error {
	b, err := os.ReadFile("/proc/net/dev")
	if err != nil {
		return err
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) < 3 || !strings.HasPrefix(lines[0], "Inter-|") {
		return fmt.Errorf("/proc/net/dev:\n%s", b)
	}
	found := false
	for _, l := range lines[2:] {
		name, rest, ok := strings.Cut(l, ":")
		if f := strings.Fields(rest); !ok || len(f) != 16 {
			return fmt.Errorf("/proc/net/dev line %q", l)
		}
		if strings.TrimSpace(name) == "lo" {
			found = true
		}
	}
	if !found {
		return fmt.Errorf("/proc/net/dev has no lo:\n%s", b)
	}
	gw := gatewayAddr()
	want := fmt.Sprintf("\t00000000\t%02X%02X%02X%02X\t0003\t", gw[3], gw[2], gw[1], gw[0])
	r, err := os.ReadFile("/proc/net/route")
	if err != nil || !strings.Contains(string(r), want) {
		return fmt.Errorf("/proc/net/route has no default route through %v: %v\n%s", net.IP(gw[:]), err, r)
	}
	return nil
}

// snmpValue is counter name of /proc/net/snmp's line prefix.
func snmpValue(prefix, name string) (int64, error) {
	b, err := os.ReadFile("/proc/net/snmp")
	if err != nil {
		return 0, err
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines)%2 != 0 {
		return 0, fmt.Errorf("/proc/net/snmp has %d lines, not pairs", len(lines))
	}
	for i := 0; i < len(lines); i += 2 {
		names, values := strings.Fields(lines[i]), strings.Fields(lines[i+1])
		if len(names) != len(values) || names[0] != values[0] {
			return 0, fmt.Errorf("/proc/net/snmp lines %q and %q do not pair", lines[i], lines[i+1])
		}
		if names[0] != prefix+":" {
			continue
		}
		for j, n := range names {
			if n == name {
				return strconv.ParseInt(values[j], 10, 64)
			}
		}
	}
	return 0, fmt.Errorf("no %s %s in /proc/net/snmp:\n%s", prefix, name, b)
}

// checkSNMP: the counters parse, and an echo request sent from a raw
// socket counts in Icmp's OutEchos and OutMsgs, as Linux counts it.
func checkSNMP() error {
	before, err := snmpValue("Icmp", "OutEchos")
	if err != nil {
		return err
	}
	if est, err := snmpValue("Tcp", "CurrEstab"); err != nil || est < 2 {
		return fmt.Errorf("Tcp CurrEstab %d, %v; want at least this program's 2", est, err)
	}
	fd, err := rawICMP()
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	if _, err := pingOnce(fd, [4]byte{127, 0, 0, 1}, 0x6161, 1, 8); err != nil {
		return err
	}
	after, err := snmpValue("Icmp", "OutEchos")
	if err != nil {
		return err
	}
	if after <= before {
		return errors.New("Icmp OutEchos did not grow with an echo request sent")
	}
	for _, c := range [][2]string{{"Ip", "InReceives"}, {"Udp", "OutDatagrams"}, {"Tcp", "ActiveOpens"}} {
		if v, err := snmpValue(c[0], c[1]); err != nil || v <= 0 {
			return fmt.Errorf("%s %s: %d, %v", c[0], c[1], v, err)
		}
	}
	return nil
}
