// Package netlink implements AF_NETLINK sockets of protocol
// NETLINK_ROUTE (netlink(7), rtnetlink(7)) in the kernel: the socket
// through which Go's net.Interfaces and net.InterfaceAddrs, and ip(8)
// (iproute2, or u-root's over vishvananda/netlink), read the interfaces,
// addresses and routes.
//
// # Where the answers come from
//
// Valence's network stack is netd, a program; the kernel has no tables
// of its own. A request that needs them takes one snapshot of netd's
// Status (its interfaces with their addresses, flags, MTU and packet
// counters, and its default gateway) through Config.Table, at most once
// per send, so that a dump is consistent with itself (no
// NLM_F_DUMP_INTR) and a send of many requests asks netd once.
// FromStatus turns it into a Table, checking what netd says as input:
// names that do not fit IFNAMSIZ and malformed addresses are left out,
// and at most 16 interfaces of 16 addresses each are kept. Interfaces
// are numbered as Linux numbers them at boot: the loopback 1, then netd's
// others in its order (its NIC is 2), the same on every call and across
// netd restarts. Without a netd, or while a dead one is not replaced,
// the tables are empty: the system then has no interfaces at all (not
// even a loopback, since AF_INET sockets are EAFNOSUPPORT without netd),
// and saying so is more honest than inventing one.
//
// Routes are derived (Table.Routes): netd routes its own addresses and
// 127.0.0.0/8 locally, its subnet directly and the rest through its
// gateway, which is what Linux's main and local tables say after the
// same configuration: a connected route per address (proto kernel,
// scope link), the default route (proto boot: set at start-up, by DHCP
// or /etc/net.toml, which Status does not tell apart), and local and
// broadcast routes in the local table. Table.Lookup answers `ip route
// get` the same way.
//
// # What is answered
//
// The requests are cut and checked as Linux's netlink_rcv_skb and
// rtnetlink_rcv_msg do, in their order (handle.go): messages whose
// nlmsg_len is below the header or beyond the send end the walk
// silently; non-requests and control messages are only acknowledged;
// types beyond RTM_MAX are EOPNOTSUPP.
//
//   - RTM_GETLINK, RTM_GETADDR and RTM_GETROUTE with NLM_F_DUMP: every
//     link (RTM_NEWLINK: ifinfomsg, IFLA_IFNAME, IFLA_OPERSTATE,
//     IFLA_LINKMODE, IFLA_MTU, IFLA_GROUP, IFLA_PROMISCUITY,
//     IFLA_CARRIER, IFLA_ADDRESS, IFLA_BROADCAST, IFLA_STATS64 and
//     IFLA_STATS with the packet counts netd keeps), address
//     (RTM_NEWADDR: IFA_ADDRESS, IFA_LOCAL, IFA_BROADCAST, IFA_LABEL,
//     IFA_FLAGS, IFA_CACHEINFO; reported permanent, since netd does not
//     tell lease lifetimes) or route (RTM_NEWROUTE: RTA_TABLE, RTA_DST,
//     RTA_PREFSRC, RTA_GATEWAY, RTA_OIF), each NLM_F_MULTI, then
//     NLMSG_DONE. The family byte selects IPv4 or IPv6 objects (AF_INET,
//     AF_INET6; anything else is all, as Linux's rtnl_dump_all), and for
//     links AF_BRIDGE asks for bridge ports, of which there are none.
//   - RTM_GETLINK without NLM_F_DUMP, by ifi_index or IFLA_IFNAME
//     (IFLA_ALT_IFNAME): one RTM_NEWLINK, or ENODEV; neither given is
//     EINVAL.
//   - RTM_GETROUTE without NLM_F_DUMP for an AF_INET RTA_DST: the route
//     netd takes. Other selectors (RTA_SRC, RTA_IIF, RTA_OIF, RTA_MARK)
//     are EOPNOTSUPP rather than ignored.
//   - NLM_F_ACK: an NLMSG_ERROR of 0 after the answer, as Linux.
//
// # What is refused, and why
//
//   - Changes (RTM_NEW*, RTM_DEL*, RTM_SET*): EPERM without
//     CAP_NET_ADMIN, as Linux; with it EOPNOTSUPP, "operation not
//     supported", which is the truth: the network is netd's
//     configuration (DHCP or /etc/net.toml) and netd takes no orders
//     over netlink. With NETLINK_EXT_ACK the error says so in words.
//   - Other rtnetlink requests (neighbours, rules, qdiscs, netconf, ...):
//     EOPNOTSUPP, as Linux answers a type it has no handler for.
//   - Notifications: nothing is ever multicast (netd tells the kernel of
//     no changes), so joining groups, by bind's nl_groups or
//     NETLINK_ADD_MEMBERSHIP, is EPERM, and so is sending to another
//     port or a group: a program learns at once that it will hear
//     nothing, instead of waiting for ever. `ip monitor` fails so.
//   - Other netlink protocols: EPROTONOSUPPORT at socket(2).
//
// # The socket
//
// A Socket is a kfile.File (read, write, poll, epoll and close work on
// it); proc's socket calls reach its other methods. Sends never wait: a
// send is handled at once, and each answer is queued as one datagram (a
// doit answer, its acknowledgment and each error separately, as Linux).
// A dump's messages are made at once and kept in the socket; its first
// part is queued with the send, the next each time a read leaves the
// queue at most half full, as Linux's netlink_recvmsg goes on with a
// dump. A part holds as many whole messages as fit in a batch: 3776
// bytes (NLMSG_GOODSIZE) or the largest read so far, up to 32 KiB, so
// Go's page-sized reads always take a whole part. A read shorter than a
// datagram gets its start (MSG_TRUNC says the whole length) and loses
// the rest, as on Linux; MSG_PEEK leaves it queued. One dump runs at a
// time: another asked meanwhile is EBUSY. Answers carry the request's
// sequence number and the socket's port, which is bound on first use as
// Linux's autobind: the process's ID, or a free negative ID.
//
// # Memory
//
// Everything a socket holds is bounded and charged. Queued answers count
// against SO_RCVBUF (at most 416 KiB, each datagram costing 256 bytes
// besides its data); an answer that finds the queue full is dropped and
// the next read says ENOBUFS, once (not with NETLINK_NO_ENOBUFS), as
// Linux's netlink_overrun: a program that floods requests without
// reading loses answers, never kernel memory. An empty queue always
// takes one datagram, so the bound is SO_RCVBUF plus one answer (an
// error echoing a request of at most SO_SNDBUF). A running dump's
// messages are at most a few tens of KiB (the Table's bounds). Both are
// charged to the creating process (Config.Charge, proc's socket byte
// count, which the out-of-memory killer reads), and once its sockets
// hold 16 MiB, or the kernel heap cannot grow, a socket keeps only one
// batch's worth.
//
// # Locking
//
// Socket.sendMu orders sends, so that one send's answers are queued
// together and in order while netd is asked without other locks held;
// Socket.mu guards the queue, the dump and the options. Ports.mu guards
// the port map and is taken inside Socket.mu, never the other way. The
// event is signalled with Socket.mu released.
package netlink
