package procfs

import (
	"net/netip"
	"slices"
	"time"

	"gvisor.dev/gvisor/pkg/abi/linux/errno"
)

// /proc/net: the network's files, in the formats of Linux's net/ipv4
// (tcp_ipv4.c, udp.c, raw.c, ping.c, fib_trie.c, proc.c),
// net/core/net-procfs.c and net/unix/af_unix.c. /proc/net and every
// /proc/<pid>/net show the same files (Valence has one network
// namespace); Linux makes /proc/net a symlink to self/net, here it is a
// directory, as /proc/mounts is a file (doc.go).
//
// The Source provides the data by being a Networker; one that is not
// (or a kernel without a network server: Net.Up false) gives files with
// their header lines only, no interfaces, and counters of 0. There is no
// IPv6: tcp6, udp6, udplite6, raw6 and if_inet6, ipv6_route exist with
// no entries, as on a Linux whose IPv6 has no addresses or sockets.

// Networker is optionally implemented by a Source to describe the
// network for /proc/net.
type Networker interface {
	// Net returns the network server's interfaces, routes and counters,
	// and its sockets if sockets is set (listing them costs more).
	Net(sockets bool) Net
	// UnixSockets returns the kernel's AF_UNIX sockets.
	UnixSockets() []UnixSocket
}

// Net is the network as the network server reports it.
type Net struct {
	Up         bool           // a network server answered; false: nothing else is set
	Interfaces []NetInterface // in index order (1, 2, ...): lo first
	Gateway    netip.Addr     // the default route's next hop; invalid: none
	Sockets    []InetSocket
	SNMP       SNMP
}

// NetInterface is one interface.
type NetInterface struct {
	Name  string
	MTU   uint32
	Flags uint32       // IFF_UP, IFF_LOOPBACK, ...
	Addr  netip.Prefix // its IPv4 address and prefix; invalid: none
	// Counters as /proc/net/dev shows them.
	RxBytes, RxPackets, RxErrs uint64
	TxBytes, TxPackets, TxErrs uint64
}

// InetSocket is one AF_INET socket, or a TCP connection no socket holds.
type InetSocket struct {
	Protocol uint8 // IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP
	// Raw: a raw socket (/proc/net/raw); otherwise an ICMP socket is a
	// ping socket (/proc/net/icmp).
	Raw           bool
	Local, Remote netip.AddrPort // a raw socket's Local port is its protocol
	// State is Linux's number (TCP_ESTABLISHED 1 ... TCP_CLOSING 11);
	// a datagram socket is TCP_ESTABLISHED (1) when connected, else
	// TCP_CLOSE (7).
	State            uint8
	TxQueue, RxQueue uint32
	UID              uint32
	Inode            uint64 // 0: held by no socket (a TCP connection closing, or not yet accepted)
	Drops            uint32
	// A TCP connection's retransmission timeout, congestion window and
	// slow-start threshold (segments; -1 in the initial slow start).
	RTO      time.Duration
	CWnd     uint32
	SSThresh int32
}

// UnixSocket is one AF_UNIX socket.
type UnixSocket struct {
	Type      uint16 // SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET
	Listening bool
	// Connected: a stream socket with a peer, or a datagram socket with
	// a default peer. Embryo: a connection not accepted yet.
	Connected, Embryo bool
	Inode             uint64
	// Name is the bound address as sockaddr_un's sun_path holds it: a
	// path, or an abstract name starting with a NUL byte; "" unbound.
	Name string
}

// netFile is one file in /proc/net.
type netFile struct {
	name   string
	slot   uint32 // ino(pid, slot); fixed per name
	render func(Networker) []byte
}

// netDirSlot is the slot of /proc/net and /proc/<pid>/net; their files
// take netSlot+i, i fixed per name (append, never reorder).
const (
	netDirSlot = 12
	netSlot    = 0x100
)

// netFiles are /proc/net's files, rendered by net_*.go.
var netFiles = []netFile{
	{"dev", netSlot + 0, renderNetDev},
	{"icmp", netSlot + 1, renderNetICMP},
	{"if_inet6", netSlot + 2, func(Networker) []byte { return nil }},
	{"ipv6_route", netSlot + 3, func(Networker) []byte { return nil }},
	{"netstat", netSlot + 4, renderNetstat},
	{"raw", netSlot + 5, renderNetRaw},
	{"raw6", netSlot + 6, func(Networker) []byte { return []byte(inet6Header + inet6Dgram + "\n") }},
	{"route", netSlot + 7, renderNetRoute},
	{"snmp", netSlot + 8, renderSNMP},
	{"tcp", netSlot + 9, renderNetTCP},
	{"tcp6", netSlot + 10, func(Networker) []byte { return []byte(inet6Header + "\n") }},
	{"udp", netSlot + 11, func(n Networker) []byte { return renderNetUDP(n, "udp") }},
	{"udp6", netSlot + 12, func(Networker) []byte { return []byte(inet6Header + inet6Dgram + "\n") }},
	{"udplite", netSlot + 13, func(n Networker) []byte { return renderNetUDP(n, "udplite") }},
	{"udplite6", netSlot + 14, func(Networker) []byte { return []byte(inet6Header + inet6Dgram + "\n") }},
	{"unix", netSlot + 15, renderNetUnix},
}

// noNet is the Networker of a Source that is none: no network server
// and no AF_UNIX sockets.
type noNet struct{}

func (noNet) Net(bool) Net              { return Net{} }
func (noNet) UnixSockets() []UnixSocket { return nil }

func networker(src Source) Networker {
	if n, ok := src.(Networker); ok {
		return n
	}
	return noNet{}
}

// walkNet walks names below /proc/net (pid 0) or /proc/<pid>/net, whose
// files belong to uid and gid.
func walkNet(src Source, pid int, names []string, uid, gid uint32) (Node, string, errno.Errno) {
	if len(names) == 0 {
		entries := make([]Entry, len(netFiles))
		for i, f := range netFiles {
			entries[i] = Entry{Name: f.name, Kind: File, Ino: ino(pid, f.slot)}
		}
		return dirNode(modeDir, ino(pid, netDirSlot), entries, uid, gid), "", 0
	}
	i := slices.IndexFunc(netFiles, func(f netFile) bool { return f.name == names[0] })
	if i < 0 {
		return Node{}, "", errno.ENOENT
	}
	if len(names) > 1 {
		return Node{}, "", errno.ENOTDIR
	}
	f := netFiles[i]
	return Node{Kind: File, Mode: modeFile, Ino: ino(pid, f.slot), Data: f.render(networker(src)), UID: uid, GID: gid}, "", 0
}

// pad is s padded with spaces to width, then a newline, as Linux's
// seq_setwidth and seq_pad make the lines of tcp, udp, icmp and route
// (a line already as long is not cut).
func pad(s string, width int) string {
	for len(s) < width {
		s += " "
	}
	return s + "\n"
}
