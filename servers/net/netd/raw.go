package netd

import (
	"encoding/binary"
	"net/netip"
	"syscall"

	"valence.dev/servers/net/ipv4"
	"valence.dev/servers/net/sockproto"
	"valence.dev/servers/net/stack"
)

// Raw ICMP sockets (SOCK_RAW, IPPROTO_ICMP; raw(7)), as Linux's without
// IP_HDRINCL: the socket receives a copy of every ICMP message that
// reaches the host, IP header included (echo requests and replies, and
// errors, whatever socket they concern), from the moment it exists, and
// what it sends is the whole ICMP message, checksum included, behind an
// IP header the stack writes. The calls follow Linux's raw.c and
// ip4_datagram_connect: bind names the address it receives on and sends
// from (any port; it may be bound again, unless connected); connect
// names the one peer it receives from, and takes the stack's source for
// it as its address if it has none; getsockname's port is the protocol
// (1); getpeername is ENOTCONN unless connect named a port. A message
// shorter than its type and code is EFAULT (Linux reads those two bytes
// to route it and fails), one longer than 65535 bytes EMSGSIZE. The
// receive queue holds stack.RawQueueBytes; what arrives beyond is
// dropped and counted (/proc/net/raw's drops). SOL_RAW ICMP_FILTER sets
// the types not received. IP_HDRINCL is not offered (ENOPROTOOPT).

// maxRawSend is the longest message raw_sendmsg takes: 0xFFFF bytes
// (EMSGSIZE beyond, before anything else is looked at).
const maxRawSend = 0xFFFF

// openRaw gives so, a new raw socket, its stack socket: it receives
// from now on, as Linux's raw sockets do from socket(2).
func openRaw(st *stack.Stack, so *sock) error {
	r, err := st.OpenRaw(ipv4.ProtoICMP)
	if err != nil {
		return stackErr("socket", err)
	}
	so.raw = r
	return nil
}

// bindRaw is raw_bind: the address must be the host's (or 0.0.0.0);
// the port means nothing. A connected socket cannot be bound (EINVAL).
func bindRaw(st *stack.Stack, so *sock, addr netip.AddrPort) error {
	if so.raw.Remote().IsValid() {
		return errno(syscall.EINVAL, "bind of a connected raw socket")
	}
	ip := addr.Addr()
	if !ip.IsUnspecified() && !isLocal(st, ip) {
		return errno(syscall.EADDRNOTAVAIL, "%v is not an address of this host", ip)
	}
	so.raw.Bind(ip)
	so.rawBound = !ip.IsUnspecified()
	so.bound = netip.AddrPortFrom(ip, 0)
	return nil
}

// connectRaw is ip4_datagram_connect on a raw socket (AF_UNSPEC: udp's
// disconnect, which also forgets an address connect chose).
func connectRaw(st *stack.Stack, so *sock, raddr netip.AddrPort, unspec bool) error {
	if unspec {
		so.raw.Connect(netip.Addr{})
		so.peer = netip.AddrPort{}
		if !so.rawBound {
			so.raw.Bind(netip.Addr{})
			so.bound = netip.AddrPort{}
		}
		return nil
	}
	if raddr.Addr() == broadcast && !so.opts.broadcast {
		return errno(syscall.EACCES, "broadcast without SO_BROADCAST")
	}
	so.raw.Connect(raddr.Addr())
	so.peer = raddr
	if !so.raw.Local().IsValid() {
		src := st.SourceFor(raddr.Addr())
		so.raw.Bind(src)
		so.bound = netip.AddrPortFrom(src, 0)
	}
	return nil
}

var broadcast = netip.AddrFrom4([4]byte{255, 255, 255, 255})

// sendRaw is raw_sendmsg: data is the ICMP message, sent as given.
func sendRaw(so *sock, data []byte, to netip.AddrPort) (int, error) {
	if len(data) > maxRawSend {
		return 0, errno(syscall.EMSGSIZE, "raw message of %d bytes", len(data))
	}
	dst := to.Addr()
	if !to.IsValid() {
		if !so.peer.IsValid() {
			return 0, errno(syscall.EDESTADDRREQ, "no destination")
		}
		dst = so.peer.Addr()
	}
	if len(data) < 2 {
		// raw_probe_proto_opt reads the type and code to route the
		// message; a shorter one fails to copy.
		return 0, errno(syscall.EFAULT, "ICMP message of %d bytes", len(data))
	}
	if dst == broadcast && !so.opts.broadcast {
		return 0, errno(syscall.EACCES, "broadcast without SO_BROADCAST")
	}
	n, err := so.raw.SendTo(data, dst)
	return n, stackErr("sendto", err)
}

// recvRaw takes (or peeks at) the next datagram, IP header included: n
// bytes copied of full.
func recvRaw(so *sock, buf []byte, peek bool) (n, full int, from netip.AddrPort, err error) {
	if so.shutRd {
		return 0, 0, from, nil
	}
	recv := so.raw.Recv
	if peek {
		recv = so.raw.Peek
	}
	full, src, err := recv(buf)
	if err != nil {
		return 0, 0, from, stackErr("recvfrom", err)
	}
	return min(full, len(buf)), full, netip.AddrPortFrom(src, 0), nil
}

// rawName is getsockname(2) of a raw socket: its address, and its
// protocol as the port (inet_sport is the protocol number).
func rawName(so *sock) sockproto.Addr {
	return protoAddr(netip.AddrPortFrom(so.raw.Local(), uint16(so.raw.Protocol())))
}

// rawPeer is getpeername(2): Linux's inet_getname answers ENOTCONN when
// the destination port is 0, which for a raw socket it is unless
// connect(2) named one.
func rawPeer(so *sock) (sockproto.Addr, error) {
	if !so.peer.IsValid() || so.peer.Port() == 0 {
		return sockproto.Addr{}, errno(syscall.ENOTCONN, "not connected")
	}
	return protoAddr(so.peer), nil
}

// setRawOpt is setsockopt(SOL_RAW): ICMP_FILTER takes up to 4 bytes, as
// raw_seticmpfilter (a shorter value sets only its first bytes).
func setRawOpt(so *sock, name int32, v []byte) error {
	if so.kind != kindRaw || name != sockproto.ICMP_FILTER {
		return errNoOpt
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], so.raw.Filter())
	copy(b[:], v)
	so.raw.SetFilter(binary.LittleEndian.Uint32(b[:]))
	return nil
}

// getRawOpt is getsockopt(SOL_RAW): on anything but a raw socket, the
// IP level's answer for a level it does not know (EOPNOTSUPP).
func getRawOpt(so *sock, name int32) ([]byte, error) {
	switch {
	case so.kind != kindRaw:
		return nil, errno(syscall.EOPNOTSUPP, "SOL_RAW on a socket that is not raw")
	case name != sockproto.ICMP_FILTER:
		return nil, errNoOpt
	}
	return binary.LittleEndian.AppendUint32(nil, so.raw.Filter()), nil
}
