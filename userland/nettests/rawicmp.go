package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"syscall"
	"time"
)

// raw-icmp: raw ICMP sockets (raw(7)) as ping uses them: a message
// built here, checksum included, goes out behind an IP header the
// kernel writes, and what comes back is every ICMP message that reaches
// the host, IP header included. Echo to 127.0.0.1 shows the request
// (which reaches the host too) and then the reply, as on Linux; echo to
// the host's own address likewise; echo to the gateway (QEMU's user
// network answers for 10.0.2.2; NETTESTS_GATEWAY names another) only
// the reply. Go's net.ListenPacket("ip4:icmp") (what golang.org/x/net's
// icmp package opens for u-root's ping) reads the same messages without
// the header. Run on Linux too (as root): NETTESTS=raw-icmp
// NETTESTS_GATEWAY=<its gateway> go run ./nettests.

// gatewayAddr is the gateway to ping: NETTESTS_GATEWAY or QEMU's.
func gatewayAddr() [4]byte {
	s := os.Getenv("NETTESTS_GATEWAY")
	if s == "" {
		s = gateway
	}
	return [4]byte(net.ParseIP(s).To4())
}

// icmpSum is the Internet checksum of b (RFC 1071).
func icmpSum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	if len(b)%2 == 1 {
		s += uint32(b[len(b)-1]) << 8
	}
	for s>>16 != 0 {
		s = s&0xffff + s>>16
	}
	return ^uint16(s)
}

// echoRequest is an ICMP echo request with its checksum.
func echoRequest(id, seq uint16, data []byte) []byte {
	m := make([]byte, 8+len(data))
	m[0] = 8
	binary.BigEndian.PutUint16(m[4:], id)
	binary.BigEndian.PutUint16(m[6:], seq)
	copy(m[8:], data)
	binary.BigEndian.PutUint16(m[2:], icmpSum(m))
	return m
}

// icmpSeen is an ICMP message read from a raw socket.
type icmpSeen struct {
	src, dst, from [4]byte
	typ            byte
	id, seq        uint16
	dataLen        int
}

// readICMP reads one datagram from a raw socket and checks its IPv4
// header (version, length, protocol, checksum) and the ICMP checksum.
func readICMP(fd int, timeout time.Duration) (icmpSeen, error) {
	// Waited for with epoll (abuse.go): Valence has no SO_RCVTIMEO on
	// inet sockets. Readiness may be stale (a queue drained by the last
	// read), as poll(2) allows: EAGAIN means wait again.
	buf := make([]byte, 70000)
	var n int
	var from syscall.Sockaddr
	for deadline := time.Now().Add(timeout); ; {
		if !waitReadable(fd, time.Until(deadline)) {
			return icmpSeen{}, fmt.Errorf("nothing to read within %v", timeout)
		}
		var err error
		n, from, err = syscall.Recvfrom(fd, buf, syscall.MSG_DONTWAIT)
		if err == nil {
			break
		}
		if !errors.Is(err, syscall.EAGAIN) {
			return icmpSeen{}, fmt.Errorf("recvfrom: %w", err)
		}
	}
	b := buf[:n]
	if n < 28 || b[0]>>4 != 4 {
		return icmpSeen{}, fmt.Errorf("a datagram of %d bytes: % x", n, b[:min(n, 28)])
	}
	ihl := int(b[0]&0xf) * 4
	if int(binary.BigEndian.Uint16(b[2:])) != n || b[9] != 1 || icmpSum(b[:ihl]) != 0 || n < ihl+8 {
		return icmpSeen{}, fmt.Errorf("a bad IPv4 header (%d bytes read): % x", n, b[:ihl])
	}
	m := b[ihl:]
	if icmpSum(m) != 0 {
		return icmpSeen{}, fmt.Errorf("a bad ICMP checksum: % x", m[:8])
	}
	sa, ok := from.(*syscall.SockaddrInet4)
	if !ok || sa.Port != 0 {
		return icmpSeen{}, fmt.Errorf("recvfrom's address %#v, want an AF_INET one with port 0", from)
	}
	return icmpSeen{src: [4]byte(b[12:16]), dst: [4]byte(b[16:20]), from: sa.Addr, typ: m[0],
		id: binary.BigEndian.Uint16(m[4:]), seq: binary.BigEndian.Uint16(m[6:]), dataLen: len(m) - 8}, nil
}

// rawICMP opens a raw ICMP socket.
func rawICMP() (int, error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_RAW|syscall.SOCK_CLOEXEC, syscall.IPPROTO_ICMP)
	if err != nil {
		return -1, fmt.Errorf("socket(AF_INET, SOCK_RAW, IPPROTO_ICMP): %w", err)
	}
	return fd, nil
}

// ownAddr is the address the host sends to the gateway from (a UDP
// socket's, once connected).
func ownAddr(gw [4]byte) ([4]byte, error) {
	c, err := net.Dial("udp4", net.IP(gw[:]).String()+":9")
	if err != nil {
		return [4]byte{}, err
	}
	defer c.Close()
	return [4]byte(c.LocalAddr().(*net.UDPAddr).IP.To4()), nil
}

// pingOnce sends an echo request with id and seq to dst and reads until
// the reply, returning the types seen from dst in order, others' skipped.
func pingOnce(fd int, dst [4]byte, id, seq uint16, size int) ([]byte, error) {
	data := pattern(size, byte(seq))
	if err := syscall.Sendto(fd, echoRequest(id, seq, data), 0, &syscall.SockaddrInet4{Addr: dst}); err != nil {
		return nil, fmt.Errorf("sendto %v: %w", net.IP(dst[:]), err)
	}
	var types []byte
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		m, err := readICMP(fd, time.Until(deadline))
		if err != nil {
			return types, err
		}
		if m.id != id || m.seq != seq {
			continue // another program's, or an earlier round's
		}
		if m.src != dst || m.from != dst || m.dataLen != size {
			return types, fmt.Errorf("type %d from %v (header says %v to %v), %d bytes of data; want from %v, %d bytes",
				m.typ, net.IP(m.from[:]), net.IP(m.src[:]), net.IP(m.dst[:]), m.dataLen, net.IP(dst[:]), size)
		}
		types = append(types, m.typ)
		if m.typ == 0 {
			return types, nil
		}
	}
	return types, fmt.Errorf("no echo reply from %v", net.IP(dst[:]))
}

func testRawICMP() error {
	fd, err := rawICMP()
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	gw := gatewayAddr()
	own, err := ownAddr(gw)
	if err != nil {
		return fmt.Errorf("the host's own address: %w", err)
	}
	id := uint16(os.Getpid())
	cases := []struct {
		name string
		dst  [4]byte
		size int
		want []byte // the types seen: the request too when it reaches this host
	}{
		{"127.0.0.1", [4]byte{127, 0, 0, 1}, 56, []byte{8, 0}},
		{"127.0.0.1, no data", [4]byte{127, 0, 0, 1}, 0, []byte{8, 0}},
		{"127.0.0.1, 65507 bytes of data (IP's largest)", [4]byte{127, 0, 0, 1}, 65507, []byte{8, 0}},
		{"the host's address", own, 56, []byte{8, 0}},
		{"the gateway", gw, 56, []byte{0}},
		{"the gateway, 1000 bytes", gw, 1000, []byte{0}},
	}
	for i, c := range cases {
		got, err := pingOnce(fd, c.dst, id, uint16(i+1), c.size)
		if err != nil {
			return fmt.Errorf("%s: %w", c.name, err)
		}
		if string(got) != string(c.want) {
			return fmt.Errorf("%s: ICMP types %v seen, want %v", c.name, got, c.want)
		}
	}
	// Go's own raw ICMP endpoint: ReadFrom strips the IPv4 header.
	pc, err := net.ListenPacket("ip4:icmp", "0.0.0.0")
	if err != nil {
		return fmt.Errorf("net.ListenPacket(ip4:icmp): %w", err)
	}
	defer pc.Close()
	if _, err := pc.WriteTo(echoRequest(id, 99, []byte("go")), &net.IPAddr{IP: net.IP(gw[:])}); err != nil {
		return fmt.Errorf("IPConn.WriteTo: %w", err)
	}
	pc.SetReadDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 1500)
	for {
		n, from, err := pc.ReadFrom(buf)
		if err != nil {
			return fmt.Errorf("IPConn.ReadFrom: %w", err)
		}
		if n >= 8 && binary.BigEndian.Uint16(buf[6:]) == 99 && binary.BigEndian.Uint16(buf[4:]) == id {
			if buf[0] != 0 || n != 10 || from.String() != net.IP(gw[:]).String() {
				return fmt.Errorf("Go's ReadFrom: type %d, %d bytes from %v", buf[0], n, from)
			}
			break
		}
	}
	fmt.Printf("nettests: raw-icmp: echo to 127.0.0.1 and %v shows request and reply, to %v the reply, with IP headers\n",
		net.IP(own[:]), net.IP(gw[:]))
	return nil
}

// raw-icmp-flood: one socket sends 1500 echo requests to 127.0.0.1 as
// fast as it can while another raw socket never reads; the idle one
// keeps a bounded queue and counts the rest as drops (/proc/net/raw),
// the machine's available memory stays where it was, and the network
// still answers afterwards.
func testRawICMPFlood() error {
	idle, err := rawICMP()
	if err != nil {
		return err
	}
	defer syscall.Close(idle)
	sender, err := rawICMP()
	if err != nil {
		return err
	}
	defer syscall.Close(sender)
	// The sender drains what it can without blocking, so that its own
	// queue is no bound on the flood.
	syscall.SetNonblock(sender, true)
	availBefore, err := memAvailable()
	if err != nil {
		return err
	}
	lo := &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}
	drain := make([]byte, 2000)
	sent := 0
	for i := range 1500 {
		err := syscall.Sendto(sender, echoRequest(0x7777, uint16(i), make([]byte, 200)), 0, lo)
		switch {
		case err == nil:
			sent++
		case errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.EAGAIN):
		default:
			return fmt.Errorf("send %d: %w", i, err)
		}
		for {
			if _, _, err := syscall.Recvfrom(sender, drain, syscall.MSG_DONTWAIT); err != nil {
				break
			}
		}
	}
	time.Sleep(200 * time.Millisecond)
	ino, err := socketInode(idle)
	if err != nil {
		return err
	}
	line, err := procNetLine("raw", ino)
	if err != nil {
		return err
	}
	var sl, rxq, drops uint64
	var local, remote, st, txq string
	var rest [7]string
	if _, err := fmt.Sscanf(line, "%d: %s %s %s %8s:%x %s %s %s %s %s %s %s %d",
		&sl, &local, &remote, &st, &txq, &rxq, &rest[0], &rest[1], &rest[2], &rest[3], &rest[4], &rest[5], &rest[6], &drops); err != nil {
		return fmt.Errorf("parsing %q: %w", line, err)
	}
	// Linux counts the buffers' memory against its 212992-byte default;
	// Valence counts bytes against 128 KiB.
	if rxq == 0 || rxq > 262144 || drops == 0 || local != "00000000:0001" {
		return fmt.Errorf("the idle socket after %d sends: %q: %d bytes queued, %d dropped", sent, line, rxq, drops)
	}
	syscall.SetNonblock(sender, false)
	if _, err := pingOnce(sender, [4]byte{127, 0, 0, 1}, 0x7778, 1, 8); err != nil {
		return fmt.Errorf("after the flood: %w", err)
	}
	// Neither the kernel nor netd kept what was dropped: the machine's
	// available memory is about what it was (a generous margin for the
	// collectors' timing).
	availAfter, err := memAvailable()
	if err != nil {
		return err
	}
	if availBefore-availAfter > 64<<20 {
		return fmt.Errorf("available memory fell from %d to %d KiB during the flood", availBefore>>10, availAfter>>10)
	}
	fmt.Printf("nettests: raw-icmp-flood: %d echo requests sent; the idle socket holds %d bytes and dropped %d\n", sent, rxq, drops)
	return nil
}

// memAvailable is /proc/meminfo's MemAvailable, in bytes.
func memAvailable() (int64, error) {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, "MemAvailable:"); ok {
			var kb int64
			if _, err := fmt.Sscanf(strings.TrimSpace(v), "%d kB", &kb); err != nil {
				return 0, fmt.Errorf("MemAvailable %q: %w", v, err)
			}
			return kb << 10, nil
		}
	}
	return 0, errors.New("no MemAvailable in /proc/meminfo")
}
