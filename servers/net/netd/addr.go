package netd

import (
	"net/netip"
	"syscall"

	"valence.dev/servers/net/sockproto"
	"valence.dev/servers/net/stack"
)

// inetAddr decodes an AF_INET address: EAFNOSUPPORT for another family
// (the stack is IPv4 only), EINVAL for a malformed one.
func inetAddr(a sockproto.Addr) (netip.AddrPort, error) {
	if a.Family != uint16(sockproto.AF_INET) {
		return netip.AddrPort{}, errno(syscall.EAFNOSUPPORT, "address family %d (only AF_INET)", a.Family)
	}
	ip, ok := netip.AddrFromSlice(a.IP)
	if !ok || !ip.Is4() {
		return netip.AddrPort{}, errno(syscall.EINVAL, "AF_INET address of %d bytes", len(a.IP))
	}
	return netip.AddrPortFrom(ip, a.Port), nil
}

// destination is inetAddr for connect(2) and sendto(2): as in Linux, the
// unspecified address means this host (ip_route_output_key: "if
// (!fl4->daddr) fl4->daddr = INADDR_LOOPBACK").
func destination(a sockproto.Addr) (netip.AddrPort, error) {
	ap, err := inetAddr(a)
	if err == nil && ap.Addr().IsUnspecified() {
		ap = netip.AddrPortFrom(netip.AddrFrom4([4]byte{127, 0, 0, 1}), ap.Port())
	}
	return ap, err
}

// protoAddr encodes an address; the zero AddrPort is 0.0.0.0:0.
func protoAddr(ap netip.AddrPort) sockproto.Addr {
	ip := ap.Addr()
	if !ip.IsValid() {
		ip = netip.IPv4Unspecified()
	}
	b := ip.As4()
	return sockproto.Addr{Family: uint16(sockproto.AF_INET), Port: ap.Port(), IP: b[:]}
}

// isLocal reports whether ip is one of the stack's addresses: its
// interface address or the loopback network.
func isLocal(st *stack.Stack, ip netip.Addr) bool {
	if ip.IsLoopback() {
		return true
	}
	a := st.Address()
	return a.IsValid() && a.Addr() == ip
}
