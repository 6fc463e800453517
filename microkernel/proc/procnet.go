package proc

import (
	"net/netip"
	"time"

	"gvisor.dev/gvisor/pkg/abi/linux"

	"valence.dev/microkernel/kfile"
	"valence.dev/microkernel/procfs"
	"valence.dev/microkernel/unixsock"
	"valence.dev/servers/net/sockproto"
)

// /proc/net's data (procfs.Networker): the network server's status
// (sock.Net.Status: its interfaces, sockets and counters), and the
// kernel's AF_UNIX sockets, found in the processes' descriptor tables.

var _ procfs.Networker = procSource{}

// Net implements procfs.Networker: what the network server reports, for
// the caller (a signal ends the calls); the first page of its status
// only, unless the sockets are wanted. Without a server, or when it does
// not answer, there is no network to show.
func (s procSource) Net(sockets bool) procfs.Net {
	n := currentNet()
	if n == nil {
		return procfs.Net{}
	}
	status := n.Summary
	if sockets {
		status = n.Status
	}
	st, e := status(s.c)
	if e != 0 {
		return procfs.Net{}
	}
	return netOf(st)
}

// netOf converts the network server's status. Names and addresses come
// from another process: a name is cut to IFNAMSIZ-1 bytes and cleaned of
// what would break the tables' lines, and an address of the wrong length
// is dropped.
func netOf(st sockproto.StatusReply) procfs.Net {
	out := procfs.Net{Up: true, Gateway: inetAddr(st.Gateway).Addr()}
	for _, i := range st.Interfaces {
		pi := procfs.NetInterface{Name: ifName(i.Name), MTU: i.MTU, Flags: i.Flags,
			RxBytes: i.RxBytes, RxPackets: i.RxPkts, RxErrs: i.RxErrs,
			TxBytes: i.TxBytes, TxPackets: i.TxPkts, TxErrs: i.TxErrs}
		for _, a := range i.Addrs {
			if ip := inetAddr(a.Addr).Addr(); ip.Is4() && !pi.Addr.IsValid() {
				pi.Addr = netip.PrefixFrom(ip, int(min(a.Bits, 32)))
			}
		}
		out.Interfaces = append(out.Interfaces, pi)
	}
	for _, c := range st.Conns {
		local, remote := inetAddr(c.Local), inetAddr(c.Peer)
		if !local.IsValid() {
			continue
		}
		if !remote.IsValid() {
			remote = netip.AddrPortFrom(netip.IPv4Unspecified(), 0)
		}
		out.Sockets = append(out.Sockets, procfs.InetSocket{
			Protocol: uint8(c.Protocol), Raw: c.Type == uint16(linux.SOCK_RAW),
			Local: local, Remote: remote, State: c.TCPState,
			TxQueue: c.TxQueue, RxQueue: c.RxQueue, Inode: uint64(c.Sock), Drops: c.Drops,
			RTO: msDuration(c.RTO), CWnd: c.CWnd, SSThresh: c.SSThresh,
		})
	}
	out.SNMP = st.SNMP
	return out
}

// inetAddr is a protocol address as a netip value (invalid unless a
// 4- or 16-byte address of its family).
func inetAddr(a sockproto.Addr) netip.AddrPort {
	ip, ok := netip.AddrFromSlice(a.IP)
	switch {
	case !ok,
		a.Family == linux.AF_INET && !ip.Is4(),
		a.Family == linux.AF_INET6 && !ip.Is6(),
		a.Family != linux.AF_INET && a.Family != linux.AF_INET6:
		return netip.AddrPort{}
	}
	return netip.AddrPortFrom(ip, a.Port)
}

// ifName is an interface name as Linux allows it: at most IFNAMSIZ-1
// bytes, none of them space, '/', ':' or a control byte.
func ifName(s string) string {
	b := []byte(s)
	if len(b) > linux.IFNAMSIZ-1 {
		b = b[:linux.IFNAMSIZ-1]
	}
	for i, c := range b {
		if c <= ' ' || c >= 0x7f || c == '/' || c == ':' {
			b[i] = '?'
		}
	}
	return string(b)
}

func msDuration(ms uint32) time.Duration { return time.Duration(ms) * time.Millisecond }

// UnixSockets implements procfs.Networker: every AF_UNIX socket a
// descriptor holds, once however many hold it, and the connections
// waiting on listeners. A socket only in flight (passed in a message
// not yet received) is not listed.
func (s procSource) UnixSockets() []procfs.UnixSocket {
	tableMu.Lock()
	ps := make([]*Process, 0, len(procs))
	for _, p := range procs {
		if p != nil { // a pid reserved for a process still being made
			ps = append(ps, p)
		}
	}
	tableMu.Unlock()
	seen := map[*unixsock.Socket]bool{}
	var socks []*unixsock.Socket
	for _, p := range ps {
		p.mu.Lock()
		files := p.files
		p.mu.Unlock()
		if files == nil {
			continue
		}
		// Collected first, described after: Status takes the unix
		// domain's lock, which is not to be taken under a table's.
		files.Each(func(_ int, of *kfile.OpenFile) {
			if u, ok := of.File.(*unixsock.Socket); ok && !seen[u] {
				seen[u] = true
				socks = append(socks, u)
			}
		})
	}
	var out []procfs.UnixSocket
	for _, u := range socks {
		st, pending := u.Status()
		out = append(out, unixOf(st))
		for _, e := range pending {
			out = append(out, unixOf(e))
		}
	}
	return out
}

func unixOf(st unixsock.Status) procfs.UnixSocket {
	return procfs.UnixSocket{Type: uint16(st.Type), Listening: st.Listening, Connected: st.Connected,
		Embryo: st.Embryo, Inode: st.Ino, Name: string(st.Name)}
}
