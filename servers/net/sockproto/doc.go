// Package sockproto is the socket protocol: what the kernel's Linux front
// end sends to netd when a program makes a socket call on an AF_INET
// socket. It is declared once here with valence.dev/ipc/rpc; the kernel
// (the client) and netd (the server) both import it.
//
// # Model
//
// A client is a badge: the kernel calls netd with one capability for
// all programs, as it does fsd, and keeps which process owns which
// socket. A socket is a Sock, a number netd chose, good only for the
// client that made it (EBADF for anyone else); Sock 0 is never issued.
//
// Every call is non-blocking, as the stack's sockets are (package
// servers/net/socket): a call that cannot proceed fails with EAGAIN, and
// a connect that has begun with EINPROGRESS. Blocking is the kernel's
// business: it waits for the socket to become ready, then calls again.
// Readiness reaches the kernel through Wait, a long poll: netd answers it
// with the sockets whose readiness changed since the last answer (each
// with its current Events), holding the call until there is at least
// one, so the kernel keeps one Wait outstanding per netd and turns its
// answers into wake-ups of the threads and epoll sets watching those
// sockets. Events are level-style: a socket listed is re-checked with
// its current state, so a lost or merged change costs nothing.
//
// What counts as a change: a new socket (socket, accept: its first
// events), every notification of the stack (new data is a change even
// when the socket was readable already: an edge for an edge-triggered
// epoll), and any call whose result changes the socket's events (a read
// that drains it). A reply lists at most MaxReady sockets, oldest change
// first, and its Seq is that of the last one listed; the next Wait with
// that Seq acknowledges them and gets the rest. A Seq larger than any
// netd has issued to the client (from before a restart of netd) counts
// as 0. netd holds one Wait per client: a newer Wait from the same badge
// ends the held one with an empty reply (its own Seq back), so a Wait
// whose caller gave up does not hold a server goroutine for ever; Forget
// ends it the same way.
//
// Addresses travel as Addr: Family (AF_INET, AF_INET6), Port and the
// address bytes (4 or 16). The Linux sockaddr encoding is the kernel's
// business.
//
// # Data
//
// Send and Recv carry up to MaxInline bytes in the message; larger
// transfers go through shared buffers exactly as in the file protocol
// (Attach gives a memory handle; Buf and BufOff name a range; Buf 0 is
// inline). An inline Recv gets at most MaxInline bytes, whatever Len
// says. A datagram's RecvReply always has Full, its whole length, so the
// kernel can apply MSG_TRUNC. An ICMP (ping) socket sends and receives
// ICMP echo messages, header included, as Linux's ping sockets do: netd
// sets the identifier and the checksum. A raw ICMP socket (SOCK_RAW,
// IPPROTO_ICMP) sends whole ICMP messages as given, checksum included,
// and receives every ICMP message that reaches the host with its IPv4
// header, as Linux's raw sockets without IP_HDRINCL do (raw(7)).
//
// # Privilege
//
// netd sees one client for every program, so the kernel decides what a
// program may do: it checks CAP_NET_BIND_SERVICE itself before a Bind
// of a low port, and tells netd in SocketRequest.NetRaw whether the
// program has CAP_NET_RAW, which a raw socket needs; netd then refuses
// in Linux's order (EAFNOSUPPORT for the family, EPROTONOSUPPORT for
// protocol 0, EPERM without the capability).
//
// # Status
//
// Status describes what netd serves for ip, netstat, /proc/net and
// NETLINK_ROUTE: the interfaces (lo first, then the NIC: an interface's
// index is its place in the list, from 1) with their counters, the
// gateway, the DNS servers, every socket (Conn: addresses, Linux's TCP
// state number, queues, drops, and Sock, which the kernel uses as the
// socket's inode) and the TCP connections no socket holds (closing, in
// TIME-WAIT, not yet accepted: Sock 0), in pages of MaxConns, and the
// stack's counters under Linux's MIB names (SNMP). Fields are only ever
// added, at the end of their struct; both ends are built together.
//
// Handler and NewServer (server.go) are the server side, Client
// (client.go) the typed calls.
//
// # Methods
//
//	label  name      request          reply
//	1      Attach    AttachRequest    AttachReply    a shared buffer
//	2      Detach    DetachRequest    Empty          give one back
//	3      Socket    SocketRequest    SockReply      socket(2)
//	4      Close     SockRequest      Empty          close(2) of the last reference
//	5      Bind      AddrRequest      Empty          bind(2)
//	6      Listen    ListenRequest    Empty          listen(2)
//	7      Accept    SockRequest      AcceptReply    accept4(2): a new Sock and the peer
//	8      Connect   AddrRequest      Empty          connect(2): EINPROGRESS, then SO_ERROR
//	9      Send      SendRequest      SendReply      sendto(2), sendmsg(2), write(2)
//	10     Recv      RecvRequest      RecvReply      recvfrom(2), recvmsg(2), read(2)
//	11     Shutdown  ShutdownRequest  Empty          shutdown(2)
//	12     Name      NameRequest      Addr           getsockname(2), getpeername(2)
//	13     SetOpt    OptRequest       Empty          setsockopt(2)
//	14     GetOpt    OptRequest       OptReply       getsockopt(2)
//	15     Wait      WaitRequest      WaitReply      readiness changes (long poll)
//	16     Forget    Empty            Empty          the client is gone: close all it holds
//	17     Status    StatusRequest    StatusReply    interfaces, connections, counters (ip, netstat, /proc/net)
//
// # Errors
//
// A refusal is an *rpc.Error whose Code is the Linux errno to give the
// program (EAGAIN, EINPROGRESS, ECONNREFUSED, EADDRINUSE, ...), so the
// kernel passes it on. EOWNERDEAD from the transport means netd died: its
// sockets are gone; the kernel answers ECONNRESET on them, and ENETDOWN
// for new ones until a netd is registered again.
package sockproto
