package tests

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"valence.dev/tests/qemu"
)

// TestNetFrames sends netd tens of thousands of malformed and hostile
// frames from the wire: the guest's NIC is on a QEMU socket backend
// (-netdev socket,udp=...), so the test writes raw Ethernet frames to it
// from a host UDP socket. netd is configured statically (/etc/net.toml
// put on the disk copy: 10.0.2.15/24) so that the frames reach deep
// into the stack: IPv4 to its address with correct header checksums,
// fragments, TCP segments with every flag combination to the port
// nettests serves, UDP, ICMP, ARP, besides garbage of every length.
// netd must neither die nor stop serving: it answers 50 pings from the
// wire before the frames and again after them, nettests' own
// connections over the loopback still work, and init never reports
// netd ending.
func TestNetFrames(t *testing.T) {
	if testing.Short() {
		t.Skip("boots the kernel under QEMU; skipped with -short")
	}
	disk := rootDiskCopy(t)
	conf := filepath.Join(t.TempDir(), "net.toml")
	if err := os.WriteFile(conf, []byte("address = \"10.0.2.15/24\"\ngateway = \"10.0.2.2\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(valfs(t), "put", disk, conf, "/etc/net.toml").CombinedOutput(); err != nil {
		t.Fatalf("valfs put: %v\n%s", err, out)
	}
	host, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	qemuPort := freeUDPPort(t)
	extra := append(nvmeDisk(disk, "valence-root"),
		"-netdev", fmt.Sprintf("socket,id=net0,udp=%s,localaddr=127.0.0.1:%d", host.LocalAddr(), qemuPort),
		"-device", "virtio-net-pci,netdev=net0,disable-legacy=on,mac=52:54:00:12:34:56")
	m := qemu.Boot(t, qemu.Options{Cmdline: "root=nvme0 init=/bin/nettests NETTESTS=frames", Timeout: 4 * bootTimeout, ExtraArgs: extra})
	m.Expect(`netd: eth0 52:54:00:12:34:56 10\.0\.2\.15/24 gateway 10\.0\.2\.2 .*\(static\)`, bootTimeout)
	m.Expect(`nettests: frames: ready`, bootTimeout)

	// What the guest sends is read: ARP requests for 10.0.2.2 are
	// answered, so that netd can reply, and echo replies are counted.
	var echoes atomic.Int64
	to := &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: qemuPort}
	go func() {
		b := make([]byte, 2048)
		for {
			n, err := host.Read(b)
			if err != nil {
				return
			}
			if reply := arpReply(b[:n]); reply != nil {
				host.WriteToUDP(reply, to)
			}
			if isEchoReply(b[:n]) {
				echoes.Add(1)
			}
		}
	}()
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("VALENCE_FRAMES_SEED"); v != "" {
		seed, _ = strconv.ParseUint(v, 10, 64)
	}
	t.Logf("frames seed %d (VALENCE_FRAMES_SEED reproduces a run)", seed)
	r := rand.New(rand.NewPCG(seed, 13))
	// pings sends 50 echo requests and reports whether netd answered
	// most: frames from the wire reach it, and it serves them.
	pings := func(when string) {
		before := echoes.Load()
		for seq := range 50 {
			host.WriteToUDP(echoRequest(uint16(seq)), to)
			time.Sleep(20 * time.Millisecond)
		}
		deadline := time.Now().Add(30 * time.Second)
		for echoes.Load()-before < 40 && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		if n := echoes.Load() - before; n < 40 {
			t.Errorf("%s: netd answered %d of 50 pings from the wire", when, n)
		} else {
			t.Logf("%s: netd answered %d of 50 pings", when, n)
		}
	}
	pings("before the frames")
	const frames = 30000
	for i := range frames {
		if _, err := host.WriteToUDP(hostileFrame(r), to); err != nil {
			t.Fatalf("frame %d: %v", i, err)
		}
		if i%200 == 199 {
			time.Sleep(20 * time.Millisecond) // QEMU's socket backend drops what the guest has no room for
		}
	}
	t.Logf("%d hostile frames sent", frames)
	pings("after the frames")
	m.SendLine("done")
	m.Expect(`nettests: (PASS|FAIL).*`, 2*bootTimeout)
	out := m.Output()
	if !strings.Contains(out, "nettests: frames: ok") {
		t.Errorf("nettests frames did not pass")
	}
	if strings.Contains(out, "netd (pid") {
		t.Errorf("netd ended under the frames")
	}
	if t.Failed() {
		t.Logf("console:\n%s", out)
	}
}

// freeUDPPort returns a UDP port on 127.0.0.1 nobody uses now.
func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

var (
	guestMAC = []byte{0x52, 0x54, 0x00, 0x12, 0x34, 0x56}
	peerMAC  = []byte{0x52, 0x55, 0x0a, 0x00, 0x02, 0x02}
	guestIP  = []byte{10, 0, 2, 15}
	peerIP   = []byte{10, 0, 2, 2}
)

// hostileFrame returns one frame: garbage, or a frame for the guest whose
// headers are right enough to pass the early checks and whose rest is
// hostile.
func hostileFrame(r *rand.Rand) []byte {
	switch r.IntN(8) {
	case 0: // garbage of any length, runts included; not 0 bytes: QEMU's
		// socket backend takes an empty datagram for the end of the
		// connection and stops reading (net/socket.c), which is QEMU's
		// business, not netd's
		b := make([]byte, 1+r.IntN(1599))
		fill(r, b)
		return b
	case 1: // ARP with random fields
		return ether(0x0806, randBytes(r, 28+r.IntN(20)), r)
	default:
		return ether(0x0800, ipv4(r), r)
	}
}

func ether(typ uint16, payload []byte, r *rand.Rand) []byte {
	b := make([]byte, 0, 14+len(payload))
	if r.IntN(10) == 0 {
		b = append(b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff)
	} else {
		b = append(b, guestMAC...)
	}
	b = append(b, peerMAC...)
	b = binary.BigEndian.AppendUint16(b, typ)
	return append(b, payload...)
}

// ipv4 is an IPv4 packet to the guest with a correct header checksum
// and hostile lengths, options, fragment fields and transport headers.
func ipv4(r *rand.Rand) []byte {
	ihl := 5
	if r.IntN(8) == 0 {
		ihl = 5 + r.IntN(11) // options, random
	}
	proto := []byte{1, 6, 6, 6, 17, 17, byte(r.IntN(256))}[r.IntN(7)]
	payload := transport(r, proto)
	total := 4*ihl + len(payload)
	h := make([]byte, 4*ihl)
	h[0] = 0x40 | byte(ihl)
	h[1] = byte(r.IntN(256))
	switch r.IntN(6) {
	case 0:
		binary.BigEndian.PutUint16(h[2:], uint16(r.IntN(65536))) // a lying length
	default:
		binary.BigEndian.PutUint16(h[2:], uint16(total))
	}
	binary.BigEndian.PutUint16(h[4:], uint16(r.IntN(8))) // few IDs: fragments meet
	whole := true
	switch r.IntN(4) {
	case 0: // a fragment: MF and/or an offset
		binary.BigEndian.PutUint16(h[6:], uint16(r.IntN(2))<<13|uint16(r.IntN(1<<13)))
		whole = false
	case 1:
		binary.BigEndian.PutUint16(h[6:], 0x4000) // DF
	}
	// Most whole packets get a right transport checksum, so that they
	// get past it into the protocol's state machines.
	if whole && r.IntN(5) != 0 {
		transportChecksum(proto, payload)
	}
	h[8] = byte(1 + r.IntN(255))
	h[9] = proto
	copy(h[12:], peerIP)
	copy(h[16:], guestIP)
	if ihl > 5 {
		fill(r, h[20:])
	}
	binary.BigEndian.PutUint16(h[10:], ipChecksum(h))
	return append(h, payload...)
}

// transport is a TCP, UDP or ICMP header and data with random fields,
// mostly to the ports nettests and netd have open.
func transport(r *rand.Rand, proto byte) []byte {
	switch proto {
	case 6:
		h := make([]byte, 20+4*r.IntN(11))
		fill(r, h)
		binary.BigEndian.PutUint16(h[2:], []uint16{8080, 8080, 7, uint16(r.IntN(65536))}[r.IntN(4)])
		h[12] = byte(len(h)/4) << 4
		if r.IntN(4) == 0 {
			h[12] = byte(r.IntN(256))
		}
		return append(h, randBytes(r, r.IntN(1400))...)
	case 17:
		h := make([]byte, 8)
		fill(r, h)
		binary.BigEndian.PutUint16(h[2:], []uint16{53, 68, 7, uint16(r.IntN(65536))}[r.IntN(4)])
		return append(h, randBytes(r, r.IntN(1400))...)
	default:
		return randBytes(r, r.IntN(1400))
	}
}

// echoRequest is an ICMP echo request (RFC 792) from the peer to the
// guest.
func echoRequest(seq uint16) []byte {
	icmp := make([]byte, 8+32)
	icmp[0] = 8
	binary.BigEndian.PutUint16(icmp[4:], 0x7e57)
	binary.BigEndian.PutUint16(icmp[6:], seq)
	transportChecksum(1, icmp)
	h := make([]byte, 20)
	h[0] = 0x45
	binary.BigEndian.PutUint16(h[2:], uint16(20+len(icmp)))
	h[8] = 64
	h[9] = 1
	copy(h[12:], peerIP)
	copy(h[16:], guestIP)
	binary.BigEndian.PutUint16(h[10:], ipChecksum(h))
	b := append(append(append([]byte(nil), guestMAC...), peerMAC...), 0x08, 0x00)
	return append(append(b, h...), icmp...)
}

// isEchoReply reports whether f is an ICMP echo reply to the peer with
// the test's identifier.
func isEchoReply(f []byte) bool {
	if len(f) < 14+20+8 || binary.BigEndian.Uint16(f[12:]) != 0x0800 || f[23] != 1 {
		return false
	}
	icmp := f[14+4*int(f[14]&0xf):]
	return len(icmp) >= 8 && icmp[0] == 0 && binary.BigEndian.Uint16(icmp[4:]) == 0x7e57
}

// arpReply answers an ARP request for 10.0.2.2 (RFC 826), nil for any
// other frame.
func arpReply(f []byte) []byte {
	if len(f) < 42 || binary.BigEndian.Uint16(f[12:]) != 0x0806 || binary.BigEndian.Uint16(f[20:]) != 1 ||
		string(f[38:42]) != string(peerIP) {
		return nil
	}
	a := make([]byte, 28)
	copy(a, f[14:20])                    // hardware and protocol types and lengths
	binary.BigEndian.PutUint16(a[6:], 2) // reply
	copy(a[8:], peerMAC)                 // sender: the peer
	copy(a[14:], peerIP)
	copy(a[18:], f[22:28]) // target: the asker
	copy(a[24:], f[28:32])
	b := append(append(append([]byte(nil), f[6:12]...), peerMAC...), 0x08, 0x06)
	return append(b, a...)
}

// transportChecksum sets the checksum of a TCP or UDP segment (over the
// pseudo-header, RFC 9293 section 3.1, RFC 768) or of an ICMP message
// (RFC 792) from peerIP to guestIP.
func transportChecksum(proto byte, b []byte) {
	var at int
	var pseudo []byte
	switch proto {
	case 6:
		at = 16
	case 17:
		at = 6
	case 1:
		at = 2
	default:
		return
	}
	if len(b) < at+2 {
		return
	}
	b[at], b[at+1] = 0, 0
	if proto != 1 {
		pseudo = append(append(append([]byte(nil), peerIP...), guestIP...), 0, proto, byte(len(b)>>8), byte(len(b)))
	}
	sum := onesSum(onesSum(0, pseudo), b)
	binary.BigEndian.PutUint16(b[at:], ^fold(sum))
}

func onesSum(sum uint32, b []byte) uint32 {
	for i := 0; i < len(b); i += 2 {
		if i+1 < len(b) {
			sum += uint32(binary.BigEndian.Uint16(b[i:]))
		} else {
			sum += uint32(b[i]) << 8
		}
	}
	return sum
}

func fold(sum uint32) uint16 {
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return uint16(sum)
}

func ipChecksum(h []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(h); i += 2 {
		if i == 10 {
			continue
		}
		sum += uint32(binary.BigEndian.Uint16(h[i:]))
	}
	for sum > 0xffff {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}

func randBytes(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	fill(r, b)
	return b
}

func fill(r *rand.Rand, b []byte) {
	for i := range b {
		b[i] = byte(r.Uint32())
	}
}
