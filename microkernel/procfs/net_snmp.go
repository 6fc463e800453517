package procfs

import (
	"fmt"
	"strings"

	"valence.dev/servers/net/sockproto"
)

// /proc/net/snmp and /proc/net/netstat: pairs of lines, names then
// values, per MIB, in the order of Linux's net/ipv4/proc.c.

// SNMP is the network's counters under Linux's MIB names, as the
// network server reports them (sockproto.SNMP: one definition for the
// wire and for rendering).
type (
	SNMP      = sockproto.SNMP
	IPMIB     = sockproto.IPMIB
	ICMPMIB   = sockproto.ICMPMIB
	ICMPMsg   = sockproto.ICMPMsg
	TCPMIB    = sockproto.TCPMIB
	UDPMIB    = sockproto.UDPMIB
	TCPExtMIB = sockproto.TCPExtMIB
	IPExtMIB  = sockproto.IPExtMIB
)

// counter is one column: its name and value, printed as a signed or
// unsigned decimal.
type counter struct {
	name string
	v    int64
	u    uint64
	sign bool
}

func ctr(name string, v uint64) counter   { return counter{name: name, u: v} }
func signed(name string, v int64) counter { return counter{name: name, v: v, sign: true} }

// mibLines appends the two lines of one MIB: "Prefix: names" and
// "Prefix: values".
func mibLines(b *strings.Builder, prefix string, cs []counter) {
	b.WriteString(prefix + ":")
	for _, c := range cs {
		b.WriteString(" " + c.name)
	}
	b.WriteString("\n" + prefix + ":")
	for _, c := range cs {
		if c.sign {
			fmt.Fprintf(b, " %d", c.v)
		} else {
			fmt.Fprintf(b, " %d", c.u)
		}
	}
	b.WriteString("\n")
}

// icmpTypes are the ICMP types the Icmp line counts, with their names
// (Linux's icmpmibmap).
var icmpTypes = []struct {
	name string
	typ  uint8
}{
	{"DestUnreachs", 3}, {"TimeExcds", 11}, {"ParmProbs", 12}, {"SrcQuenchs", 4}, {"Redirects", 5},
	{"Echos", 8}, {"EchoReps", 0}, {"Timestamps", 13}, {"TimestampReps", 14}, {"AddrMasks", 17}, {"AddrMaskReps", 18},
}

// renderSNMP renders /proc/net/snmp. Forwarding is 2 (not a router);
// DefaultTTL is 64 when no network server reports one. Tcp's
// RtoAlgorithm is 1 ("other") and MaxConn -1 (no limit), as Linux's;
// UdpLite is all zeros (no UDP-Lite). IcmpMsg lists the types with a
// count, received ones first, at most 16 per pair of lines, and is left
// out when there are none, as Linux does.
func renderSNMP(n Networker) []byte {
	m := n.Net(false).SNMP
	ttl := int64(m.DefaultTTL)
	if ttl == 0 {
		ttl = 64
	}
	var b strings.Builder
	ip := m.IP
	mibLines(&b, "Ip", []counter{signed("Forwarding", 2), signed("DefaultTTL", ttl),
		ctr("InReceives", ip.InReceives), ctr("InHdrErrors", ip.InHdrErrors), ctr("InAddrErrors", ip.InAddrErrors),
		ctr("ForwDatagrams", 0), ctr("InUnknownProtos", ip.InUnknownProtos), ctr("InDiscards", ip.InDiscards),
		ctr("InDelivers", ip.InDelivers), ctr("OutRequests", ip.OutRequests), ctr("OutDiscards", ip.OutDiscards),
		ctr("OutNoRoutes", ip.OutNoRoutes), ctr("ReasmTimeout", ip.ReasmTimeout), ctr("ReasmReqds", ip.ReasmReqds),
		ctr("ReasmOKs", ip.ReasmOKs), ctr("ReasmFails", ip.ReasmFails), ctr("FragOKs", ip.FragOKs),
		ctr("FragFails", ip.FragFails), ctr("FragCreates", ip.FragCreates), ctr("OutTransmits", ip.OutTransmits)})

	var in, out [256]uint64
	for _, t := range m.ICMPMsg {
		in[t.Type], out[t.Type] = t.In, t.Out
	}
	ic := m.ICMP
	cs := []counter{ctr("InMsgs", ic.InMsgs), ctr("InErrors", ic.InErrors), ctr("InCsumErrors", ic.InCsumErrors)}
	for _, t := range icmpTypes {
		cs = append(cs, ctr("In"+t.name, in[t.typ]))
	}
	cs = append(cs, ctr("OutMsgs", ic.OutMsgs), ctr("OutErrors", ic.OutErrors),
		ctr("OutRateLimitGlobal", ic.OutRateLimitGlobal), ctr("OutRateLimitHost", ic.OutRateLimitHost))
	for _, t := range icmpTypes {
		cs = append(cs, ctr("Out"+t.name, out[t.typ]))
	}
	mibLines(&b, "Icmp", cs)

	var msg []counter
	for dir, counts := range [][256]uint64{in, out} {
		for typ, v := range counts {
			if v != 0 {
				msg = append(msg, ctr(fmt.Sprintf("%sType%d", []string{"In", "Out"}[dir], typ), v))
			}
		}
	}
	for len(msg) > 0 {
		k := min(len(msg), 16)
		mibLines(&b, "IcmpMsg", msg[:k])
		msg = msg[k:]
	}

	t := m.TCP
	mibLines(&b, "Tcp", []counter{ctr("RtoAlgorithm", 1), ctr("RtoMin", uint64(t.RtoMin)), ctr("RtoMax", uint64(t.RtoMax)),
		signed("MaxConn", -1), ctr("ActiveOpens", t.ActiveOpens), ctr("PassiveOpens", t.PassiveOpens),
		ctr("AttemptFails", t.AttemptFails), ctr("EstabResets", t.EstabResets), ctr("CurrEstab", t.CurrEstab),
		ctr("InSegs", t.InSegs), ctr("OutSegs", t.OutSegs), ctr("RetransSegs", t.RetransSegs),
		ctr("InErrs", t.InErrs), ctr("OutRsts", t.OutRsts), ctr("InCsumErrors", t.InCsumErrors)})
	udpLine := func(prefix string, x UDPMIB) {
		mibLines(&b, prefix, []counter{ctr("InDatagrams", x.InDatagrams), ctr("NoPorts", x.NoPorts),
			ctr("InErrors", x.InErrors), ctr("OutDatagrams", x.OutDatagrams), ctr("RcvbufErrors", x.RcvbufErrors),
			ctr("SndbufErrors", x.SndbufErrors), ctr("InCsumErrors", x.InCsumErrors), ctr("IgnoredMulti", 0), ctr("MemErrors", 0)})
	}
	udpLine("Udp", m.UDP)
	udpLine("UdpLite", UDPMIB{})
	return []byte(b.String())
}

// renderNetstat renders /proc/net/netstat: the TcpExt and IpExt
// counters the network keeps, in Linux's order (a reader finds columns
// by name, and Linux's own set of names changes between releases).
func renderNetstat(n Networker) []byte {
	m := n.Net(false).SNMP
	t := m.TCPExt
	var b strings.Builder
	mibLines(&b, "TcpExt", []counter{ctr("ListenOverflows", t.ListenOverflows), ctr("ListenDrops", t.ListenDrops),
		ctr("TCPFastRetrans", t.TCPFastRetrans), ctr("TCPTimeouts", t.TCPTimeouts), ctr("TCPChallengeACK", t.TCPChallengeACK),
		ctr("TCPWinProbe", t.TCPWinProbe), ctr("TCPKeepAlive", t.TCPKeepAlive)})
	mibLines(&b, "IpExt", []counter{ctr("InOctets", m.IPExt.InOctets), ctr("OutOctets", m.IPExt.OutOctets)})
	return []byte(b.String())
}
