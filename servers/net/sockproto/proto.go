package sockproto

import (
	"syscall"

	"gvisor.dev/gvisor/pkg/abi/linux"

	"valence.dev/ipc"
	"valence.dev/ipc/rpc"
)

// Empty is a request or reply with nothing in it.
type Empty struct{}

// Addr is a socket address: Family AF_INET (IP 4 bytes) or AF_INET6 (16
// bytes); Port in host order.
type Addr struct {
	Family uint16
	Port   uint16
	IP     []byte
}

// AttachRequest asks for a shared buffer of Size bytes (1 to MaxBuffer).
type AttachRequest struct {
	Size uint64
}

// AttachReply is a new buffer: ID names it in Send and Recv; Mem is a
// memory handle the client maps.
type AttachReply struct {
	ID   uint32
	Size uint64
	Mem  ipc.Handle
}

// DetachRequest gives buffer ID back.
type DetachRequest struct {
	ID uint32
}

// SocketRequest is socket(2)'s arguments, less SOCK_NONBLOCK and
// SOCK_CLOEXEC (the kernel's).
type SocketRequest struct {
	Family   uint16
	Type     uint16 // SOCK_STREAM, SOCK_DGRAM, SOCK_RAW
	Protocol uint16 // 0, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP (ping; raw)
	// NetRaw says the program has CAP_NET_RAW, which a SOCK_RAW socket
	// needs (EPERM without it). The kernel checks, since netd sees one
	// client for every program, and netd refuses in Linux's order
	// (family, then protocol, then privilege).
	NetRaw bool
}

// SockReply is a new socket.
type SockReply struct {
	Sock uint32
}

// SockRequest names a socket.
type SockRequest struct {
	Sock uint32
}

// AddrRequest is bind(2) or connect(2).
type AddrRequest struct {
	Sock uint32
	Addr Addr
}

// ListenRequest is listen(2).
type ListenRequest struct {
	Sock    uint32
	Backlog int32
}

// AcceptReply is an accepted connection.
type AcceptReply struct {
	Sock uint32
	Peer Addr
}

// SendRequest sends Data (inline) or Len bytes of buffer Buf at BufOff,
// to To if it is set (Family non-zero; sendto on a datagram socket).
// Flags are send(2)'s (MSG_DONTWAIT is the kernel's and not passed).
type SendRequest struct {
	Sock   uint32
	Flags  uint32
	To     Addr
	Data   []byte
	Buf    uint32
	BufOff uint64
	Len    uint32
}

// SendReply says how many bytes were taken.
type SendReply struct {
	N uint32
}

// RecvRequest receives up to Len bytes, inline (Buf 0; at most
// MaxInline) or into buffer Buf at BufOff. Flags are recv(2)'s:
// MSG_PEEK, MSG_TRUNC, MSG_WAITALL (the kernel's: it calls again).
type RecvRequest struct {
	Sock   uint32
	Flags  uint32
	Len    uint32
	Buf    uint32
	BufOff uint64
}

// RecvReply is what was received: N bytes (in Data when inline); Full is
// the datagram's whole length (MSG_TRUNC); From the sender of a datagram.
type RecvReply struct {
	N    uint32
	Full uint32
	Data []byte
	From Addr
}

// ShutdownRequest is shutdown(2): How is SHUT_RD, SHUT_WR or SHUT_RDWR.
type ShutdownRequest struct {
	Sock uint32
	How  uint32
}

// NameRequest asks for the socket's own address, or its peer's.
type NameRequest struct {
	Sock uint32
	Peer bool
}

// OptRequest is setsockopt(2) (Value set) or getsockopt(2) (Value's
// length is the room the caller has).
type OptRequest struct {
	Sock  uint32
	Level int32
	Name  int32
	Value []byte
}

// OptReply is getsockopt(2)'s value.
type OptReply struct {
	Value []byte
}

// WaitRequest asks for readiness changes. Seq is the Seq of the last
// reply the client has taken in (0 at first): netd answers at once if
// it has changes newer than that, else when it has some.
type WaitRequest struct {
	Seq uint64
}

// Ready is one socket's readiness: Events are EPOLLIN, EPOLLOUT,
// EPOLLHUP, EPOLLRDHUP and EPOLLERR bits, as poll(2) would report them.
type Ready struct {
	Sock   uint32
	Events uint32
}

// WaitReply lists sockets whose readiness changed (at most MaxReady; the
// next Wait gets the rest), as of Seq.
type WaitReply struct {
	Seq   uint64
	Ready []Ready
}

// Interface is one network interface, for ip, ifconfig and
// /proc/net/dev. The counters are Linux's rtnl_link_stats64: bytes count
// whole frames, Ethernet header included (lo counts its 14-byte header
// too, as Linux's loopback does).
type Interface struct {
	Name   string
	MAC    []byte
	MTU    uint32
	Flags  uint32 // IFF_UP, IFF_LOOPBACK, IFF_RUNNING, IFF_BROADCAST
	Addrs  []Prefix
	RxPkts uint64
	TxPkts uint64
	// Added for /proc/net/dev.
	RxBytes, TxBytes uint64
	RxErrs, TxErrs   uint64 // frames that could not be decoded; writes the link refused
}

// Prefix is an interface address with its prefix length.
type Prefix struct {
	Addr Addr
	Bits uint8
}

// Conn is one socket, or a TCP connection no socket holds any more (one
// that is finishing after close, or in TIME-WAIT), for netstat and
// /proc/net/{tcp,udp,raw,icmp}.
type Conn struct {
	Type  uint16 // SOCK_STREAM, SOCK_DGRAM, SOCK_RAW
	Local Addr   // a raw socket's Port is its protocol, as Linux's getsockname says
	Peer  Addr
	State string // "LISTEN", "ESTABLISHED", ...
	// Added for /proc/net.
	Sock     uint32 // the socket's number (its inode for the kernel); 0: held by no socket
	Protocol uint16 // IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP
	// TCPState is the state as Linux numbers it (include/net/tcp_states.h:
	// TCP_ESTABLISHED 1 ... TCP_CLOSING 11): a TCP socket's, and for a
	// datagram socket TCP_ESTABLISHED when connected, else TCP_CLOSE.
	TCPState uint8
	// TxQueue and RxQueue are bytes: TCP's written and unacknowledged,
	// and readable; a datagram socket's queued datagrams (RxQueue). A
	// listener's RxQueue is its connections waiting to be accepted.
	TxQueue, RxQueue uint32
	Drops            uint32 // datagrams dropped on a full receive queue
	// A connection's retransmission timeout (ms), congestion window and
	// slow-start threshold (segments; SSThresh -1 while in the initial
	// slow start), as the tail of a /proc/net/tcp line shows them.
	RTO      uint32
	CWnd     uint32
	SSThresh int32
}

// StatusRequest asks for the sockets from the From'th on (0 first).
type StatusRequest struct {
	From uint32
}

// StatusReply is the interfaces, the default gateway and the DNS servers
// netd uses, and its sockets from the From'th (at most MaxConns; More
// if there are others after them).
type StatusReply struct {
	Interfaces []Interface
	Gateway    Addr
	DNS        []Addr
	Conns      []Conn
	More       bool
	SNMP       SNMP // added for /proc/net/snmp and /proc/net/netstat
}

// SNMP is the stack's counters under the names of Linux's MIBs
// (include/uapi/linux/snmp.h; RFC 4293 for IP, ICMP and IcmpMsg, RFC 4022
// for TCP, RFC 4113 for UDP), as /proc/net/snmp and /proc/net/netstat
// show them. A counter the stack does not keep is 0, and netd's doc.go
// (status.go) says which.
type SNMP struct {
	DefaultTTL uint8
	IP         IPMIB
	ICMP       ICMPMIB
	ICMPMsg    []ICMPMsg // per ICMP type with a count, by type; at most MaxICMPMsg
	TCP        TCPMIB
	UDP        UDPMIB
	TCPExt     TCPExtMIB
	IPExt      IPExtMIB
}

// IPMIB is Linux's Ip line (Forwarding is always 2: not a router).
type IPMIB struct {
	InReceives, InHdrErrors, InAddrErrors, InUnknownProtos, InDiscards, InDelivers uint64
	OutRequests, OutDiscards, OutNoRoutes                                          uint64
	ReasmTimeout, ReasmReqds, ReasmOKs, ReasmFails                                 uint64
	FragOKs, FragFails, FragCreates, OutTransmits                                  uint64
}

// ICMPMIB is Linux's Icmp line less its per-type counts, which are
// ICMPMsg's.
type ICMPMIB struct {
	InMsgs, InErrors, InCsumErrors                           uint64
	OutMsgs, OutErrors, OutRateLimitGlobal, OutRateLimitHost uint64
}

// ICMPMsg counts the ICMP messages of one type received (with a good
// checksum) and sent.
type ICMPMsg struct {
	Type    uint8
	In, Out uint64
}

// TCPMIB is Linux's Tcp line (RtoAlgorithm is 1, "other"; MaxConn -1).
type TCPMIB struct {
	RtoMin, RtoMax                                                  uint32 // milliseconds
	ActiveOpens, PassiveOpens, AttemptFails, EstabResets, CurrEstab uint64
	InSegs, OutSegs, RetransSegs, InErrs, OutRsts, InCsumErrors     uint64
}

// UDPMIB is Linux's Udp line.
type UDPMIB struct {
	InDatagrams, NoPorts, InErrors, OutDatagrams uint64
	RcvbufErrors, SndbufErrors, InCsumErrors     uint64
}

// TCPExtMIB is the part of Linux's TcpExt line the stack counts.
type TCPExtMIB struct {
	ListenOverflows, ListenDrops, TCPTimeouts, TCPFastRetrans uint64
	TCPChallengeACK, TCPKeepAlive, TCPWinProbe                uint64
}

// IPExtMIB is the part of Linux's IpExt line the stack counts.
type IPExtMIB struct {
	InOctets, OutOctets uint64
}

// The methods. Labels are the wire identity of a method: never reuse or
// renumber one.
var (
	Attach   = rpc.Method[AttachRequest, AttachReply]{Label: 1, Name: "Attach"}
	Detach   = rpc.Method[DetachRequest, Empty]{Label: 2, Name: "Detach"}
	Socket   = rpc.Method[SocketRequest, SockReply]{Label: 3, Name: "Socket"}
	Close    = rpc.Method[SockRequest, Empty]{Label: 4, Name: "Close"}
	Bind     = rpc.Method[AddrRequest, Empty]{Label: 5, Name: "Bind"}
	Listen   = rpc.Method[ListenRequest, Empty]{Label: 6, Name: "Listen"}
	Accept   = rpc.Method[SockRequest, AcceptReply]{Label: 7, Name: "Accept"}
	Connect  = rpc.Method[AddrRequest, Empty]{Label: 8, Name: "Connect"}
	Send     = rpc.Method[SendRequest, SendReply]{Label: 9, Name: "Send"}
	Recv     = rpc.Method[RecvRequest, RecvReply]{Label: 10, Name: "Recv"}
	Shutdown = rpc.Method[ShutdownRequest, Empty]{Label: 11, Name: "Shutdown"}
	Name     = rpc.Method[NameRequest, Addr]{Label: 12, Name: "Name"}
	SetOpt   = rpc.Method[OptRequest, Empty]{Label: 13, Name: "SetOpt"}
	GetOpt   = rpc.Method[OptRequest, OptReply]{Label: 14, Name: "GetOpt"}
	Wait     = rpc.Method[WaitRequest, WaitReply]{Label: 15, Name: "Wait"}
	Forget   = rpc.Method[Empty, Empty]{Label: 16, Name: "Forget"}
	Status   = rpc.Method[StatusRequest, StatusReply]{Label: 17, Name: "Status"}
)

// Protocol is the socket protocol.
var Protocol = rpc.NewProtocol("socket",
	Attach.Def(), Detach.Def(), Socket.Def(), Close.Def(), Bind.Def(), Listen.Def(),
	Accept.Def(), Connect.Def(), Send.Def(), Recv.Def(), Shutdown.Def(), Name.Def(),
	SetOpt.Def(), GetOpt.Def(), Wait.Def(), Forget.Def(), Status.Def(),
)

// Limits of the protocol.
const (
	MaxInline  = 3072    // bytes of data in one Send request or Recv reply
	MaxBuffer  = 4 << 20 // bytes in one shared buffer (ipc.MaxDMA)
	MaxBuffers = 4       // shared buffers per client
	MaxReady   = 256     // sockets in one WaitReply
	MaxOptLen  = 256     // bytes of an option value
	MaxConns   = 24      // sockets in one StatusReply
	MaxIfaces  = 4       // interfaces in one StatusReply
	MaxDNS     = 3       // DNS servers in one StatusReply (resolv.conf's MAXNS)
	MaxICMPMsg = 32      // ICMP types counted in one StatusReply
)

// Linux's values, from gvisor's ABI package, so that the kernel passes a
// program's arguments on unchanged.
const (
	AF_INET     = linux.AF_INET
	AF_INET6    = linux.AF_INET6
	SOCK_STREAM = linux.SOCK_STREAM
	SOCK_DGRAM  = linux.SOCK_DGRAM
	SOCK_RAW    = linux.SOCK_RAW

	IPPROTO_ICMP = linux.IPPROTO_ICMP
	IPPROTO_TCP  = linux.IPPROTO_TCP
	IPPROTO_UDP  = linux.IPPROTO_UDP

	// SOL_RAW's ICMP_FILTER (raw(7)): a 32-bit mask of the ICMP types
	// below 32 that a raw ICMP socket does not receive.
	SOL_RAW     = linux.SOL_RAW
	ICMP_FILTER = 1 // include/uapi/linux/icmp.h; gvisor's ABI package has no name for it

	EPOLLIN    = linux.EPOLLIN
	EPOLLOUT   = linux.EPOLLOUT
	EPOLLERR   = linux.EPOLLERR
	EPOLLHUP   = linux.EPOLLHUP
	EPOLLRDHUP = linux.EPOLLRDHUP
)

// The protocol's errors that are not plain errnos.
var (
	// ErrBadSock: the Sock is not open for this client (EBADF).
	ErrBadSock = &rpc.Error{Code: int32(syscall.EBADF), Msg: "socket: bad socket id"}
	// ErrBuffer: an unknown buffer, or a range outside it (EFAULT).
	ErrBuffer = &rpc.Error{Code: int32(syscall.EFAULT), Msg: "socket: bad buffer range"}
)
