package procfs

import (
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"
)

var netNames = []string{"dev", "icmp", "if_inet6", "ipv6_route", "netstat", "raw", "raw6", "route", "snmp",
	"tcp", "tcp6", "udp", "udp6", "udplite", "udplite6", "unix"}

// netSource is a fakeSource that is also a Networker.
type netSource struct {
	*fakeSource
	net  Net
	unix []UnixSocket
}

func (n netSource) Net(bool) Net              { return n.net }
func (n netSource) UnixSockets() []UnixSocket { return n.unix }

func ap(s string) netip.AddrPort { return netip.MustParseAddrPort(s) }

// newNetFake is a network like QEMU's user network gives: lo, and eth0
// at 10.0.2.15/24 behind 10.0.2.2, with sockets of every kind.
func newNetFake() netSource {
	return netSource{
		fakeSource: newFake(),
		net: Net{
			Up: true,
			Interfaces: []NetInterface{
				{Name: "lo", MTU: 65536, Flags: 0x49, Addr: netip.MustParsePrefix("127.0.0.1/8"),
					RxBytes: 46325139783, RxPackets: 4370394, TxBytes: 46325139783, TxPackets: 4370394},
				{Name: "eth0", MTU: 1500, Flags: 0x43, Addr: netip.MustParsePrefix("10.0.2.15/24")},
			},
			Gateway: netip.MustParseAddr("10.0.2.2"),
			Sockets: []InetSocket{
				{Protocol: 6, Local: ap("127.0.0.1:4242"), Remote: ap("0.0.0.0:0"), State: 10, Inode: 7, RTO: time.Second},
				{Protocol: 6, Local: ap("127.0.0.1:46298"), Remote: ap("127.0.0.1:4242"), State: 1, RxQueue: 5, Inode: 9,
					RTO: 200 * time.Millisecond, CWnd: 10, SSThresh: -1},
				{Protocol: 6, Local: ap("10.0.2.15:40000"), Remote: ap("93.184.216.34:443"), State: 6},
				{Protocol: 6, Local: ap("10.0.2.15:22"), Remote: ap("10.0.2.2:5555"), State: 3},
				{Protocol: 6, Local: ap("0.0.0.0:22"), Remote: ap("0.0.0.0:0"), State: 10, Inode: 3, RTO: time.Second},
				{Protocol: 17, Local: ap("127.0.0.1:35723"), Remote: ap("127.0.0.1:5353"), State: 1, Inode: 12, Drops: 3},
				{Protocol: 17, Local: ap("0.0.0.0:5353"), Remote: ap("0.0.0.0:0"), State: 7, RxQueue: 832, Inode: 11},
				{Protocol: 1, Raw: true, Local: ap("0.0.0.0:1"), Remote: ap("0.0.0.0:0"), State: 7, RxQueue: 84, Inode: 13},
				{Protocol: 1, Local: ap("0.0.0.0:48879"), Remote: ap("0.0.0.0:0"), State: 7, Inode: 14},
				{Protocol: 6, Local: ap("[::1]:80"), Remote: ap("[::]:0"), State: 10, Inode: 15}, // IPv6: not in tcp
			},
			SNMP: SNMP{
				DefaultTTL: 64,
				IP: IPMIB{InReceives: 100, InHdrErrors: 1, InAddrErrors: 2, InUnknownProtos: 3, InDelivers: 90,
					OutRequests: 80, OutNoRoutes: 4, ReasmTimeout: 5, ReasmReqds: 6, ReasmOKs: 7, ReasmFails: 8,
					FragOKs: 9, FragCreates: 10, OutTransmits: 81},
				ICMP:    ICMPMIB{InMsgs: 16, OutMsgs: 10, OutRateLimitGlobal: 2},
				ICMPMsg: []ICMPMsg{{Type: 0, In: 5, Out: 5}, {Type: 3, In: 6}, {Type: 8, In: 5, Out: 5}},
				TCP: TCPMIB{RtoMin: 200, RtoMax: 60000, ActiveOpens: 80108, PassiveOpens: 79970, CurrEstab: 2,
					InSegs: 3672528, OutSegs: 3657558, RetransSegs: 1565, InErrs: 2, OutRsts: 271},
				UDP:    UDPMIB{InDatagrams: 406271, InErrors: 323832, OutDatagrams: 731420, RcvbufErrors: 323810},
				TCPExt: TCPExtMIB{ListenOverflows: 1, ListenDrops: 1, TCPTimeouts: 7, TCPKeepAlive: 2},
				IPExt:  IPExtMIB{InOctets: 47351785268, OutOctets: 46314263910},
			},
		},
		unix: []UnixSocket{
			{Type: 1, Connected: true, Inode: 21, Name: "/tmp/sock"},
			{Type: 1, Listening: true, Inode: 20, Name: "/tmp/sock"},
			{Type: 1, Connected: true, Inode: 19},
			{Type: 2, Inode: 22, Name: "\x00abc\x00d"},
			{Type: 5, Embryo: true, Inode: 23, Name: "/run/x"},
		},
	}
}

// padded is s padded with spaces to width, as Linux pads these lines.
func padded(s string, width int) string { return s + strings.Repeat(" ", max(width-len(s), 0)) + "\n" }

func TestNetFiles(t *testing.T) {
	const ptr = "0000000000000000"
	tests := []struct {
		name string
		want string
	}{
		{"tcp", padded("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode", 149) +
			padded("   0: 0100007F:1092 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 7 2 "+ptr+" 100 0 0 0 0", 149) +
			padded("   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3 2 "+ptr+" 100 0 0 0 0", 149) +
			padded("   2: 0100007F:B4DA 0100007F:1092 01 00000000:00000005 00:00000000 00000000     0        0 9 2 "+ptr+" 20 0 0 10 -1", 149) +
			padded("   3: 0F02000A:9C40 22D8B85D:01BB 06 00000000:00000000 03:00000000 00000000     0        0 0 1 "+ptr, 149) +
			padded("   4: 0F02000A:0016 0202000A:15B3 03 00000000:00000000 01:00000000 00000000     0        0 0 0 "+ptr, 149)},
		{"udp", padded("   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops", 127) +
			padded(" 5353: 00000000:14E9 00000000:0000 07 00000000:00000340 00:00000000 00000000     0        0 11 2 "+ptr+" 0", 127) +
			padded("35723: 0100007F:8B8B 0100007F:14E9 01 00000000:00000000 00:00000000 00000000     0        0 12 2 "+ptr+" 3", 127)},
		{"udplite", padded("   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops", 127)},
		{"raw", "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n" +
			"   1: 00000000:0001 00000000:0000 07 00000000:00000054 00:00000000 00000000     0        0 13 2 " + ptr + " 0\n"},
		{"icmp", padded("  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops", 127) +
			padded("   47: 00000000:BEEF 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 14 2 "+ptr+" 0", 127)},
		{"tcp6", "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"},
		{"udp6", "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"},
		{"raw6", "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops\n"},
		{"if_inet6", ""},
		{"ipv6_route", ""},
		{"dev", "Inter-|   Receive                                                |  Transmit\n" +
			" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n" +
			"    lo: 46325139783 4370394    0    0    0     0          0         0 46325139783 4370394    0    0    0     0       0          0\n" +
			"  eth0:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0\n"},
		{"route", padded("Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT", 127) +
			padded("eth0\t00000000\t0202000A\t0003\t0\t0\t0\t00000000\t0\t0\t0", 127) +
			padded("eth0\t0002000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0", 127)},
		{"snmp", "" +
			"Ip: Forwarding DefaultTTL InReceives InHdrErrors InAddrErrors ForwDatagrams InUnknownProtos InDiscards InDelivers OutRequests OutDiscards OutNoRoutes ReasmTimeout ReasmReqds ReasmOKs ReasmFails FragOKs FragFails FragCreates OutTransmits\n" +
			"Ip: 2 64 100 1 2 0 3 0 90 80 0 4 5 6 7 8 9 0 10 81\n" +
			"Icmp: InMsgs InErrors InCsumErrors InDestUnreachs InTimeExcds InParmProbs InSrcQuenchs InRedirects InEchos InEchoReps InTimestamps InTimestampReps InAddrMasks InAddrMaskReps OutMsgs OutErrors OutRateLimitGlobal OutRateLimitHost OutDestUnreachs OutTimeExcds OutParmProbs OutSrcQuenchs OutRedirects OutEchos OutEchoReps OutTimestamps OutTimestampReps OutAddrMasks OutAddrMaskReps\n" +
			"Icmp: 16 0 0 6 0 0 0 0 5 5 0 0 0 0 10 0 2 0 0 0 0 0 0 5 5 0 0 0 0\n" +
			"IcmpMsg: InType0 InType3 InType8 OutType0 OutType8\n" +
			"IcmpMsg: 5 6 5 5 5\n" +
			"Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors\n" +
			"Tcp: 1 200 60000 -1 80108 79970 0 0 2 3672528 3657558 1565 2 271 0\n" +
			"Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors\n" +
			"Udp: 406271 0 323832 731420 323810 0 0 0 0\n" +
			"UdpLite: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors\n" +
			"UdpLite: 0 0 0 0 0 0 0 0 0\n"},
		{"netstat", "" +
			"TcpExt: ListenOverflows ListenDrops TCPFastRetrans TCPTimeouts TCPChallengeACK TCPWinProbe TCPKeepAlive\n" +
			"TcpExt: 1 1 0 7 0 0 2\n" +
			"IpExt: InOctets OutOctets\n" +
			"IpExt: 47351785268 46314263910\n"},
		{"unix", "Num       RefCount Protocol Flags    Type St Inode Path\n" +
			ptr + ": 00000003 00000000 00000000 0001 03    19\n" +
			ptr + ": 00000002 00000000 00010000 0001 01    20 /tmp/sock\n" +
			ptr + ": 00000003 00000000 00000000 0001 03    21 /tmp/sock\n" +
			ptr + ": 00000002 00000000 00000000 0002 01    22 @abc@d\n" +
			ptr + ": 00000003 00000000 00000000 0005 02    23 /run/x\n"},
	}
	src := newNetFake()
	for _, tt := range tests {
		for _, dir := range []string{"net/", "42/net/", "self/net/"} {
			n, e := Lookup(src, 42, dir+tt.name)
			if e != 0 {
				t.Errorf("%s%s: %v", dir, tt.name, e)
				continue
			}
			if diff := cmp.Diff(tt.want, string(n.Data)); diff != "" {
				t.Errorf("%s%s (-want +got):\n%s", dir, tt.name, diff)
			}
		}
	}
}

// TestNetWithoutNetwork: a Source that is no Networker (a kernel with no
// network server) gives the headers, no interfaces or routes, and
// counters of 0 with Linux's constants.
func TestNetWithoutNetwork(t *testing.T) {
	tests := map[string]string{
		"tcp":   padded(inetHeader, 149),
		"udp":   padded(" "+inetHeader+inetDgram, 127),
		"raw":   inetHeader + inetDgram + "\n",
		"icmp":  padded(inetHeader+inetDgram, 127),
		"dev":   devHeader,
		"route": padded("Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT", 127),
		"unix":  unixHeader,
	}
	for name, want := range tests {
		n, e := Lookup(newFake(), 1, "net/"+name)
		if e != 0 || string(n.Data) != want {
			t.Errorf("net/%s: %v\n%q\nwant\n%q", name, e, n.Data, want)
		}
	}
	n, _ := Lookup(newFake(), 1, "net/snmp")
	for _, want := range []string{"Ip: 2 64 0 0", "Tcp: 1 0 0 -1 0", "Udp: 0 0 0"} {
		if !strings.Contains(string(n.Data), "\n"+want) && !strings.HasPrefix(string(n.Data), want) {
			t.Errorf("snmp without a network lacks %q:\n%s", want, n.Data)
		}
	}
	if strings.Contains(string(n.Data), "IcmpMsg") {
		t.Errorf("snmp without counts has an IcmpMsg line:\n%s", n.Data)
	}
}

// TestNetLineWidths: every line of the padded tables is exactly as wide
// as Linux makes it, whatever the values (a width is a fixed-width
// reader's contract: netstat and ss read them by column).
func TestNetLineWidths(t *testing.T) {
	src := newNetFake()
	src.net.Sockets = append(src.net.Sockets, InetSocket{Protocol: 6, Local: ap("255.255.255.255:65535"),
		Remote: ap("255.255.255.255:65535"), State: 1, TxQueue: ^uint32(0), RxQueue: ^uint32(0), UID: ^uint32(0),
		Inode: 1 << 40, RTO: time.Hour, CWnd: ^uint32(0), SSThresh: -1 << 31})
	for name, width := range map[string]int{"tcp": 149, "udp": 127, "icmp": 127, "route": 127} {
		n, _ := Lookup(src, 1, "net/"+name)
		for i, l := range strings.Split(strings.TrimSuffix(string(n.Data), "\n"), "\n") {
			// A line longer than the width is not cut, as seq_pad.
			if len(l) < width || len(l) > width && strings.HasSuffix(l, " ") {
				t.Errorf("%s line %d is %d wide, want %d: %q", name, i, len(l), width, l)
			}
		}
	}
}

// TestNetLookup: the directory's names resolve, nothing else does, and a
// file is not a directory.
func TestNetLookup(t *testing.T) {
	src := newNetFake()
	for _, tt := range []struct {
		rel  string
		want errno.Errno
	}{
		{"net/tcp", 0}, {"net/nosuch", errno.ENOENT}, {"net/tcp/x", errno.ENOTDIR}, {"net/", errno.ENOENT},
		{"7/net/tcp", 0}, {"9/net/tcp", errno.ENOENT}, {"self/net/unix", 0}, {"net/../net", errno.ENOENT},
	} {
		if _, e := Lookup(src, 42, tt.rel); e != tt.want {
			t.Errorf("Lookup(%q): %v, want %v", tt.rel, e, tt.want)
		}
	}
	a, _ := Lookup(src, 42, "net/tcp")
	b, _ := Lookup(src, 42, "42/net/tcp")
	if a.Ino == b.Ino || a.Ino != 0x109 || b.Ino != 42<<32|0x109 {
		t.Errorf("inodes %#x and %#x", a.Ino, b.Ino)
	}
}
