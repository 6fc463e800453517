package sock

import (
	"encoding/binary"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/servers/net/sockproto"
)

// Socket addresses as programs pass them (struct sockaddr_in,
// sockaddr_in6; ip(7), ipv6(7)) and as the socket protocol carries them
// (sockproto.Addr). The port and the address are in network byte order in
// the program's structure, the family in the machine's.

// Sizes of the address structures Linux accepts: sockaddr_in is 16
// bytes; sockaddr_in6 is 28, but Linux takes the 24 of RFC 2133 (no
// scope id) too.
const (
	inetSize      = 16
	inet6Size     = 28
	inet6SizeMin  = 24
	familySize    = 2
	maxSockaddr   = 128 // sizeof(struct sockaddr_storage): longer is EINVAL
	unspecFamily  = linux.AF_UNSPEC
	inetFamily    = linux.AF_INET
	inet6Family   = linux.AF_INET6
	unixFamily    = linux.AF_UNIX
	unixPathBytes = 108
)

// DecodeAddr reads a socket address of family want (AF_INET or
// AF_INET6) from b, the addrlen bytes a program passed to bind, connect
// or sendto. AF_UNSPEC is allowed (connect's "dissolve the association"
// on a datagram socket, Linux's bind of AF_UNSPEC to INADDR_ANY on an
// AF_INET socket) and returns a zero Addr with Family 0.
func DecodeAddr(b []byte, want uint16) (sockproto.Addr, errno.Errno) {
	if len(b) < familySize || len(b) > maxSockaddr {
		return sockproto.Addr{}, errno.EINVAL
	}
	family := binary.LittleEndian.Uint16(b)
	switch {
	case family == unspecFamily:
		return sockproto.Addr{}, 0
	case family != want:
		return sockproto.Addr{}, errno.EAFNOSUPPORT
	case family == inetFamily && len(b) >= inetSize:
		return sockproto.Addr{Family: family, Port: binary.BigEndian.Uint16(b[2:]), IP: append([]byte(nil), b[4:8]...)}, 0
	case family == inet6Family && len(b) >= inet6SizeMin:
		return sockproto.Addr{Family: family, Port: binary.BigEndian.Uint16(b[2:]), IP: append([]byte(nil), b[8:24]...)}, 0
	}
	return sockproto.Addr{}, errno.EINVAL
}

// EncodeAddr writes a as the program's structure: sockaddr_in for
// AF_INET, sockaddr_in6 for AF_INET6, just the family otherwise
// (AF_UNSPEC: an unconnected peer).
func EncodeAddr(a sockproto.Addr) []byte {
	switch {
	case a.Family == inetFamily && len(a.IP) == 4:
		b := make([]byte, inetSize)
		binary.LittleEndian.PutUint16(b, a.Family)
		binary.BigEndian.PutUint16(b[2:], a.Port)
		copy(b[4:], a.IP)
		return b
	case a.Family == inet6Family && len(a.IP) == 16:
		b := make([]byte, inet6Size)
		binary.LittleEndian.PutUint16(b, a.Family)
		binary.BigEndian.PutUint16(b[2:], a.Port)
		copy(b[8:], a.IP)
		return b
	}
	b := make([]byte, familySize)
	binary.LittleEndian.PutUint16(b, a.Family)
	return b
}

// MsgHdr is struct msghdr (sendmsg(2), recvmsg(2)) as read from a
// program: where its parts are in its memory.
type MsgHdr struct {
	Name       uint64 // address of the peer's sockaddr (0: none)
	NameLen    uint32
	Iov        uint64 // address of the iovec array
	IovLen     uint64
	Control    uint64 // ancillary data
	ControlLen uint64
	Flags      int32
}

// MsgHdrSize is sizeof(struct msghdr) on amd64.
const MsgHdrSize = 56

// Offsets of the fields recvmsg writes back.
const (
	MsgNameLenOff    = 8
	MsgControlLenOff = 40
	MsgFlagsOff      = 48
)

// DecodeMsgHdr reads a struct msghdr. IovLen is bounded by the caller
// (UIO_MAXIOV); NameLen is checked against maxSockaddr where it is used.
func DecodeMsgHdr(b []byte) (MsgHdr, errno.Errno) {
	if len(b) < MsgHdrSize {
		return MsgHdr{}, errno.EFAULT
	}
	le := binary.LittleEndian
	return MsgHdr{
		Name:       le.Uint64(b[0:]),
		NameLen:    le.Uint32(b[8:]),
		Iov:        le.Uint64(b[16:]),
		IovLen:     le.Uint64(b[24:]),
		Control:    le.Uint64(b[32:]),
		ControlLen: le.Uint64(b[40:]),
		Flags:      int32(le.Uint32(b[48:])),
	}, 0
}

// DecodeBindAddr is DecodeAddr for bind(2), which Linux's inet_bind reads
// differently: an address shorter than sockaddr_in is EINVAL whatever
// its family, and AF_UNSPEC is taken as AF_INET when the address is
// INADDR_ANY (EAFNOSUPPORT otherwise), for old programs' sake.
func DecodeBindAddr(b []byte, want uint16) (sockproto.Addr, errno.Errno) {
	if want == inetFamily && len(b) < inetSize {
		return sockproto.Addr{}, errno.EINVAL
	}
	if len(b) >= familySize && binary.LittleEndian.Uint16(b) == unspecFamily {
		if want != inetFamily || len(b) < inetSize || binary.BigEndian.Uint32(b[4:]) != 0 {
			return sockproto.Addr{}, errno.EAFNOSUPPORT
		}
		return sockproto.Addr{Family: inetFamily, Port: binary.BigEndian.Uint16(b[2:]), IP: make([]byte, 4)}, 0
	}
	return DecodeAddr(b, want)
}
