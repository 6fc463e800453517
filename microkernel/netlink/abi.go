package netlink

import "gvisor.dev/gvisor/pkg/abi/linux"

// Linux's values that gvisor's abi/linux lacks, each from the UAPI header
// named beside it. Everything else (headers, ifinfomsg, ifaddrmsg, rtmsg,
// RTM_*, IFLA_*, IFA_*, RTA_*, NLM_F_*) comes from abi/linux.
const (
	// include/uapi/linux/netlink.h: flags of an NLMSG_ERROR message.
	nlmFCapped  = 0x100 // NLM_F_CAPPED: the request's payload is not echoed
	nlmFAckTLVs = 0x200 // NLM_F_ACK_TLVS: extended-ack attributes follow

	// include/uapi/linux/netlink.h: enum nlmsgerr_attrs.
	nlmsgerrAttrMsg = 1 // NLMSGERR_ATTR_MSG: a NUL-terminated message

	// include/uapi/linux/netlink.h: sockopt NETLINK_GET_STRICT_CHK, which
	// abi/linux names NETLINK_DUMP_STRICT_CHK.
	netlinkGetStrictChk = linux.NETLINK_DUMP_STRICT_CHK

	// include/uapi/linux/if.h: RFC 2863 operational states (IF_OPER_*).
	ifOperUnknown = 0
	ifOperDown    = 2
	ifOperUp      = 6

	// include/uapi/linux/if_addr.h: IFA_F_PERMANENT, an address
	// configured rather than learned with a lifetime.
	ifaFPermanent = 0x80

	// include/uapi/linux/if_link.h: IFLA_ALT_IFNAME, the name attribute
	// for names longer than IFNAMSIZ-1 (vishvananda/netlink sends it).
	iflaAltIfname = 53

	// include/uapi/linux/rtnetlink.h: RTM_MAX, the last rtnetlink type
	// (RTM_GETTUNNEL rounded up to its group of four, minus one); a larger
	// type is EOPNOTSUPP.
	rtmMax = 123

	// include/uapi/linux/if.h: IFNAMSIZ, with its NUL.
	ifNameSize = 16

	// include/uapi/linux/if_link.h: struct rtnl_link_stats (24 __u32) and
	// struct rtnl_link_stats64 (25 __u64), as Linux 6 sends them.
	linkStatsSize   = 24 * 4
	linkStats64Size = 25 * 8

	// include/uapi/linux/if_addr.h: struct ifa_cacheinfo (ifa_prefered,
	// ifa_valid, cstamp, tstamp), lifetimes in seconds, 0xffffffff for
	// ever.
	ifaCacheinfoSize = 16
	infinityLife     = 0xffffffff
)

// rtnetlink kinds: the low two bits of (type - RTM_BASE), as Linux's
// rtnl_msgtype_kind: NEW, DEL, GET, SET.
const (
	kindNew = 0
	kindDel = 1
	kindGet = 2
	kindSet = 3
)

// align rounds n up to NLMSG_ALIGNTO (and NLA_ALIGNTO, the same 4).
func align(n int) int { return (n + linux.NLMSG_ALIGNTO - 1) &^ (linux.NLMSG_ALIGNTO - 1) }
