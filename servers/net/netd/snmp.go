package netd

import (
	"gvisor.dev/gvisor/pkg/abi/linux"

	"valence.dev/servers/net/sockproto"
	"valence.dev/servers/net/stack"
)

// snmp maps the stack's counters (stack.Stats) to Linux's MIBs, for
// /proc/net/snmp and /proc/net/netstat. Where the stack counts a
// reason more finely, the MIB's counter is the sum of the reasons Linux
// counts under it; a counter with no source stays 0:
//
//	Ip   InDiscards, OutDiscards, FragFails (nothing is discarded for
//	     want of room, and the stack never sets DF)
//	Icmp OutErrors, OutRateLimitHost (no per-host limit)
//	Tcp  AttemptFails, EstabResets (not counted)
//	Udp  SndbufErrors, IgnoredMulti, MemErrors (cannot happen)
//
// conns are the sockets Status lists, for Tcp's CurrEstab.
func snmp(st *stack.Stack, conns []sockproto.Conn) sockproto.SNMP {
	s := st.Stats()
	cfg := st.TCPConfig()
	ip, ic, t, u := s.IPv4, s.ICMP, s.TCP, s.UDP
	out := sockproto.SNMP{
		DefaultTTL: st.TTL(),
		IP: sockproto.IPMIB{
			InReceives:      ip.PacketsIn,
			InHdrErrors:     ip.Malformed + ip.BadChecksum + ip.BadOptions,
			InAddrErrors:    ip.NotForUs,
			InUnknownProtos: ip.UnknownProtocol,
			InDelivers:      ip.Delivered,
			OutRequests:     ip.PacketsOut,
			OutNoRoutes:     ip.NoRoute,
			ReasmTimeout:    ip.ReassemblyTimeouts,
			ReasmReqds:      ip.FragmentsIn,
			ReasmOKs:        ip.Reassembled,
			ReasmFails:      ip.FragmentDrops + ip.ReassemblyTimeouts,
			FragOKs:         ip.Fragmented,
			FragCreates:     ip.FragmentsOut,
			OutTransmits:    ip.PacketsOut - ip.Fragmented + ip.FragmentsOut,
		},
		ICMP: sockproto.ICMPMIB{
			InMsgs:             ic.In,
			InErrors:           ic.Malformed + ic.BadChecksum,
			InCsumErrors:       ic.BadChecksum,
			OutMsgs:            ic.Out,
			OutRateLimitGlobal: ic.ErrorsLimited,
		},
		TCP: sockproto.TCPMIB{
			RtoMin:       uint32(cfg.MinRTO.Milliseconds()),
			RtoMax:       uint32(cfg.MaxRTO.Milliseconds()),
			ActiveOpens:  t.ActiveOpens,
			PassiveOpens: t.PassiveOpens,
			InSegs:       t.SegmentsIn,
			OutSegs:      t.SegmentsOut,
			RetransSegs:  t.Retransmits,
			InErrs:       t.Malformed + t.BadChecksum,
			OutRsts:      t.ResetsOut,
			InCsumErrors: t.BadChecksum,
		},
		UDP: sockproto.UDPMIB{
			InDatagrams:  u.Delivered,
			NoPorts:      u.NoPort,
			InErrors:     u.Malformed + u.BadChecksum + u.QueueFull,
			OutDatagrams: u.Out,
			RcvbufErrors: u.QueueFull,
			InCsumErrors: u.BadChecksum,
		},
		TCPExt: sockproto.TCPExtMIB{
			// A SYN refused for a full backlog counts in both, as in
			// Linux's tcp_listendrop.
			ListenOverflows: t.ListenOverflows,
			ListenDrops:     t.ListenOverflows,
			TCPTimeouts:     t.Timeouts,
			TCPFastRetrans:  t.FastRetransmits,
			TCPChallengeACK: t.ChallengeAcks,
			TCPKeepAlive:    t.KeepAlive,
			TCPWinProbe:     t.ZeroWindowProbes,
		},
		IPExt: sockproto.IPExtMIB{InOctets: ip.BytesIn, OutOctets: ip.BytesOut},
	}
	for typ := range 256 {
		if in, o := ic.InTypes[typ], ic.OutTypes[typ]; (in != 0 || o != 0) && len(out.ICMPMsg) < sockproto.MaxICMPMsg {
			out.ICMPMsg = append(out.ICMPMsg, sockproto.ICMPMsg{Type: uint8(typ), In: in, Out: o})
		}
	}
	for _, c := range conns {
		// RFC 4022's tcpCurrEstab: ESTABLISHED or CLOSE-WAIT.
		if c.Protocol == sockproto.IPPROTO_TCP && (c.TCPState == uint8(linux.TCP_ESTABLISHED) || c.TCPState == uint8(linux.TCP_CLOSE_WAIT)) {
			out.TCP.CurrEstab++
		}
	}
	return out
}
