package procfs

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"
	"strings"
)

// The socket tables: /proc/net/tcp, udp, udplite, raw and icmp, as
// proc(5) describes them and Linux's tcp4_seq_show, udp4_format_sock,
// raw_sock_seq_show and ping_v4_format_sock print them. An address is
// the 32-bit value of its network-order bytes in hex, as a
// little-endian machine prints it (127.0.0.1 is 0100007F), then the
// port in hex.
//
// What Valence does not track shows as Linux shows "nothing": the timer
// columns are 00:00000000 (no timer reported), except 03 for TIME_WAIT
// and 01 for a connection not yet accepted, whose remaining times are
// reported as 0; retrnsmt and the probes are 0; the kernel address
// (%pK) is all zeros, as Linux prints it to a reader it hides pointers
// from. The queues are bytes (Linux's datagram queues count the memory
// their buffers take, which is more). ref is derived: 2 for a socket, 1
// for a connection only the stack holds, as Linux's usual counts. The sl
// column of a table Linux walks by hash bucket is the bucket a table of
// one slot per port (udp, raw: per protocol) or per identifier (icmp,
// 64 slots) would give; tcp numbers its lines.

const (
	inetHeader = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"
	inetDgram  = " ref pointer drops"
	// inet6Header heads the IPv6 tables, which have no entries.
	inet6Header = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode"
	inet6Dgram  = inetDgram

	tcpWidth   = 149 // TMPSZ - 1
	dgramWidth = 127
	nullPtr    = "0000000000000000"

	protoICMP = 1
	protoTCP  = 6
	protoUDP  = 17

	tcpSynRecv  = 3 // include/net/tcp_states.h
	tcpTimeWait = 6
	tcpListen   = 10
)

// hexAddr is addr:port as the tables show it.
func hexAddr(a netip.AddrPort) string {
	b := a.Addr().Unmap().As4()
	return fmt.Sprintf("%02X%02X%02X%02X:%04X", b[3], b[2], b[1], b[0], a.Port())
}

// ref is the derived reference count.
func (s *InetSocket) ref() int {
	if s.Inode == 0 {
		return 1
	}
	return 2
}

// sockets returns the sockets of n that keep matches.
func sockets(n Networker, keep func(*InetSocket) bool) []InetSocket {
	var out []InetSocket
	net := n.Net(true)
	for i := range net.Sockets {
		if s := &net.Sockets[i]; s.Local.Addr().Unmap().Is4() && keep(s) {
			out = append(out, *s)
		}
	}
	return out
}

// renderNetTCP renders /proc/net/tcp: listeners first, then the other
// connections, as Linux walks its listening hash before the established
// one. A TIME_WAIT connection and one not yet accepted have Linux's
// shorter lines (get_timewait4_sock, get_openreq4).
func renderNetTCP(n Networker) []byte {
	socks := sockets(n, func(s *InetSocket) bool { return s.Protocol == protoTCP })
	slices.SortStableFunc(socks, func(a, b InetSocket) int {
		return cmp.Compare(boolRank(a.State != tcpListen), boolRank(b.State != tcpListen))
	})
	var b strings.Builder
	b.WriteString(pad(inetHeader, tcpWidth))
	for i, s := range socks {
		head := fmt.Sprintf("%4d: %s %s %02X", i, hexAddr(s.Local), hexAddr(s.Remote), s.State)
		var line string
		switch {
		case s.State == tcpTimeWait:
			line = fmt.Sprintf("%s %08X:%08X %02X:%08X %08X %5d %8d %d %d %s",
				head, 0, 0, 3, 0, 0, 0, 0, 0, s.ref(), nullPtr)
		case s.State == tcpSynRecv && s.Inode == 0:
			line = fmt.Sprintf("%s %08X:%08X %02X:%08X %08X %5d %8d %d %d %s",
				head, 0, 0, 1, 0, 0, s.UID, 0, 0, 0, nullPtr)
		default:
			line = fmt.Sprintf("%s %08X:%08X %02X:%08X %08X %5d %8d %d %d %s %s %d %d %d %d",
				head, s.TxQueue, s.RxQueue, 0, 0, 0, s.UID, 0, s.Inode, s.ref(), nullPtr,
				ticks(s.RTO), 0, 0, s.CWnd, s.SSThresh)
		}
		b.WriteString(pad(line, tcpWidth))
	}
	return []byte(b.String())
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// dgramLine is a line of udp, icmp (width 127, "%5d: ") or raw (no
// padding, "%4d: "): Linux's udp4_format_sock, ping_v4_format_sock and
// raw_sock_seq_show print the same columns.
func dgramLine(slot int, s *InetSocket, slotWidth int) string {
	return fmt.Sprintf("%*d: %s %s %02X %08X:%08X %02X:%08X %08X %5d %8d %d %d %s %d",
		slotWidth, slot, hexAddr(s.Local), hexAddr(s.Remote), s.State, s.TxQueue, s.RxQueue,
		0, 0, 0, s.UID, 0, s.Inode, s.ref(), nullPtr, s.Drops)
}

// renderNetUDP renders /proc/net/udp (name "udp") or udplite, which has
// no sockets: the stack has no UDP-Lite.
func renderNetUDP(n Networker, name string) []byte {
	var socks []InetSocket
	if name == "udp" {
		socks = sockets(n, func(s *InetSocket) bool { return s.Protocol == protoUDP })
	}
	slices.SortStableFunc(socks, func(a, b InetSocket) int { return cmp.Compare(a.Local.Port(), b.Local.Port()) })
	var b strings.Builder
	b.WriteString(pad(" "+inetHeader+inetDgram, dgramWidth))
	for i := range socks {
		b.WriteString(pad(dgramLine(int(socks[i].Local.Port()), &socks[i], 5), dgramWidth))
	}
	return []byte(b.String())
}

// renderNetICMP renders /proc/net/icmp: the ping sockets (SOCK_DGRAM,
// IPPROTO_ICMP), whose port is their echo identifier.
func renderNetICMP(n Networker) []byte {
	socks := sockets(n, func(s *InetSocket) bool { return s.Protocol == protoICMP && !s.Raw })
	slices.SortStableFunc(socks, func(a, b InetSocket) int { return cmp.Compare(a.Local.Port()%64, b.Local.Port()%64) })
	var b strings.Builder
	b.WriteString(pad(inetHeader+inetDgram, dgramWidth))
	for i := range socks {
		b.WriteString(pad(dgramLine(int(socks[i].Local.Port()%64), &socks[i], 5), dgramWidth))
	}
	return []byte(b.String())
}

// renderNetRaw renders /proc/net/raw, whose lines are not padded.
func renderNetRaw(n Networker) []byte {
	socks := sockets(n, func(s *InetSocket) bool { return s.Raw })
	slices.SortStableFunc(socks, func(a, b InetSocket) int { return cmp.Compare(a.Protocol, b.Protocol) })
	var b strings.Builder
	b.WriteString(inetHeader + inetDgram + "\n")
	for i := range socks {
		b.WriteString(dgramLine(int(socks[i].Protocol), &socks[i], 4) + "\n")
	}
	return []byte(b.String())
}
