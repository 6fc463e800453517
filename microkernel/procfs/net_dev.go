package procfs

import (
	"fmt"
	"strings"
)

// /proc/net/dev and /proc/net/route.

const devHeader = "Inter-|   Receive                                                |  Transmit\n" +
	" face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n"

// renderNetDev renders /proc/net/dev as Linux's dev_seq_printf_stats:
// bytes, packets and errors each way. drop, fifo, frame, compressed,
// multicast, colls and carrier are 0: the stack drops nothing at the
// device, and the rest has no meaning for a virtual NIC or the loopback.
func renderNetDev(n Networker) []byte {
	var b strings.Builder
	b.WriteString(devHeader)
	for _, i := range n.Net(false).Interfaces {
		fmt.Fprintf(&b, "%6s: %7d %7d %4d %4d %4d %5d %10d %9d %8d %7d %4d %4d %4d %5d %7d %10d\n",
			i.Name, i.RxBytes, i.RxPackets, i.RxErrs, 0, 0, 0, 0, 0,
			i.TxBytes, i.TxPackets, i.TxErrs, 0, 0, 0, 0, 0)
	}
	return []byte(b.String())
}

// Route flags (include/uapi/linux/route.h).
const (
	rtfUp      = 0x1
	rtfGateway = 0x2
	rtfHost    = 0x4
	iffLoop    = 0x8 // IFF_LOOPBACK
)

// renderNetRoute renders /proc/net/route, Linux's main routing table
// (fib_route_seq_show): the default route through the gateway, then
// each interface's subnet. The loopback's 127.0.0.0/8 is in Linux's
// local table, which this file does not show, so neither does Valence.
// Addresses are hex as in the socket tables; metric, MTU, window and
// IRTT are 0, refcnt and use are 0 as Linux prints them.
func renderNetRoute(n Networker) []byte {
	net := n.Net(false)
	var b strings.Builder
	b.WriteString(pad("Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT", 127))
	route := func(iface string, dst, gw, mask [4]byte, flags int) {
		b.WriteString(pad(fmt.Sprintf("%s\t%s\t%s\t%04X\t%d\t%d\t%d\t%s\t%d\t%d\t%d",
			iface, hex4(dst), hex4(gw), flags, 0, 0, 0, hex4(mask), 0, 0, 0), 127))
	}
	if gw := net.Gateway; gw.Is4() {
		for _, i := range net.Interfaces {
			// The default route leaves through the interface whose
			// subnet holds the gateway.
			if i.Flags&iffLoop == 0 && i.Addr.IsValid() && i.Addr.Contains(gw) {
				route(i.Name, [4]byte{}, gw.As4(), [4]byte{}, rtfUp|rtfGateway)
				break
			}
		}
	}
	for _, i := range net.Interfaces {
		if i.Flags&iffLoop != 0 || !i.Addr.IsValid() || !i.Addr.Addr().Is4() {
			continue
		}
		p := i.Addr.Masked()
		flags := rtfUp
		if p.Bits() == 32 {
			flags |= rtfHost
		}
		route(i.Name, p.Addr().As4(), [4]byte{}, mask4(p.Bits()), flags)
	}
	return []byte(b.String())
}

// hex4 is an IPv4 address as /proc/net's tables print it.
func hex4(a [4]byte) string { return fmt.Sprintf("%02X%02X%02X%02X", a[3], a[2], a[1], a[0]) }

// mask4 is the netmask of a prefix length.
func mask4(bits int) [4]byte {
	m := ^uint32(0) << (32 - bits)
	if bits == 0 {
		m = 0
	}
	return [4]byte{byte(m >> 24), byte(m >> 16), byte(m >> 8), byte(m)}
}
