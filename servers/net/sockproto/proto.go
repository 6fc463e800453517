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
	Type     uint16 // SOCK_STREAM, SOCK_DGRAM
	Protocol uint16 // 0, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP (ping)
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

// Interface is one network interface, for ip and ifconfig.
type Interface struct {
	Name   string
	MAC    []byte
	MTU    uint32
	Flags  uint32 // IFF_UP, IFF_LOOPBACK, IFF_RUNNING, IFF_BROADCAST
	Addrs  []Prefix
	RxPkts uint64
	TxPkts uint64
}

// Prefix is an interface address with its prefix length.
type Prefix struct {
	Addr Addr
	Bits uint8
}

// Conn is one socket, for netstat.
type Conn struct {
	Type  uint16 // SOCK_STREAM, SOCK_DGRAM
	Local Addr
	Peer  Addr
	State string // "LISTEN", "ESTABLISHED", ...
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
)

// Linux's values, from gvisor's ABI package, so that the kernel passes a
// program's arguments on unchanged.
const (
	AF_INET     = linux.AF_INET
	AF_INET6    = linux.AF_INET6
	SOCK_STREAM = linux.SOCK_STREAM
	SOCK_DGRAM  = linux.SOCK_DGRAM

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
