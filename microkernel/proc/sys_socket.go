package proc

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"syscall"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/ipc"
	"valence.dev/ipc/rpc"
	"valence.dev/microkernel/fsclient"
	"valence.dev/microkernel/kfile"
	"valence.dev/microkernel/obj"
	"valence.dev/microkernel/sock"
	"valence.dev/servers/net/sockproto"
)

// Sockets. AF_INET (and AF_INET6, which netd refuses for now) socket
// calls go to the network server the first process registered
// (valence_net_server; bootstrap registers netd), through package sock;
// the socket is a file behind the descriptor, so read, write, close,
// fcntl and epoll work on it as on any file. Without a network server,
// socket(2) says EAFNOSUPPORT, as a Linux without the protocol would.
// AF_UNIX sockets are the kernel's own (sys_unix.go), and so are
// AF_NETLINK ones (sys_netlink.go); the other families are not served
// (EAFNOSUPPORT).

var (
	netMu  sync.Mutex
	netCur *sock.Net
)

// sysNetServer implements valence_net_server(endpoint).
func sysNetServer(c *call) result {
	if !c.p.isFirst() {
		return fail(errno.EPERM)
	}
	ep, cp, e := lookup[*obj.Endpoint](c, 0, ipc.RightWrite)
	if e != 0 {
		return fail(e)
	}
	conn := fsclient.New(ep, cp.Badge, 0, "netd")
	n := sock.Start(func(k kfile.Caller) rpc.Transport { return deadIsOwnerDead{conn.Transport(k, nil)} }, netBuffers(conn))
	netMu.Lock()
	old := netCur
	netCur = n
	netMu.Unlock()
	if old != nil {
		old.Stop() // its sockets fail; the new server makes new ones
	}
	return ok0()
}

// deadIsOwnerDead reports the server's death as the socket client
// expects it, EOWNERDEAD (the file client's transport says
// obj.ErrPeerDied).
type deadIsOwnerDead struct{ t rpc.Transport }

func (d deadIsOwnerDead) Call(ctx context.Context, req, rep *ipc.Message) error {
	err := d.t.Call(ctx, req, rep)
	if errors.Is(err, obj.ErrPeerDied) {
		return fmt.Errorf("%w (%v)", syscall.EOWNERDEAD, err)
	}
	return err
}

func currentNet() *sock.Net {
	netMu.Lock()
	defer netMu.Unlock()
	return netCur
}

// socketFlags are the flags socket(2) and accept4(2) take with the type.
const socketFlags = linux.SOCK_NONBLOCK | linux.SOCK_CLOEXEC

// sockMax and ipprotoMax bound socket(2)'s type and protocol (Linux's
// SOCK_MAX and IPPROTO_MAX): beyond them is EINVAL.
const (
	sockMax    = 11
	ipprotoMax = 263
)

// sysSocket implements socket(2).
func sysSocket(c *call) result {
	domain, typ, protocol := c.arg(0), uint32(c.arg(1)), c.i32(2)
	flags := uint64(typ) & socketFlags
	typ &^= uint32(socketFlags)
	// Linux's order (__sys_socket, __sock_create): flags and the type's
	// range, the protocol's range, then the family; a type in range that
	// the family does not have is ESOCKTNOSUPPORT. Netlink checks its
	// protocol itself (EPROTONOSUPPORT, netlink_create).
	if typ&^0xf != 0 || typ >= sockMax {
		return fail(errno.EINVAL)
	}
	if domain == linux.AF_NETLINK {
		return newNetlinkSocket(c, linux.SockType(typ), protocol, flags)
	}
	if protocol < 0 || protocol >= ipprotoMax {
		return fail(errno.EINVAL)
	}
	if domain == linux.AF_UNIX {
		return newUnixSocket(c, linux.SockType(typ), protocol, flags)
	}
	if domain != linux.AF_INET && domain != linux.AF_INET6 {
		return fail(errno.EAFNOSUPPORT)
	}
	if typ != uint32(linux.SOCK_STREAM) && typ != uint32(linux.SOCK_DGRAM) && typ != uint32(linux.SOCK_RAW) {
		return fail(errno.ESOCKTNOSUPPORT)
	}
	n := currentNet()
	if n == nil {
		return fail(errno.EAFNOSUPPORT)
	}
	// A raw socket needs CAP_NET_RAW (raw(7)); netd, which sees one
	// client for every program, is told whether the caller has it and
	// refuses in Linux's order (EPROTONOSUPPORT for protocol 0 first).
	s, e := n.Open(c.t, sockproto.SocketRequest{Family: uint16(domain), Type: uint16(typ), Protocol: uint16(protocol),
		NetRaw: typ == uint32(linux.SOCK_RAW) && c.p.hasCap(linux.CAP_NET_RAW)})
	if e != 0 {
		return fail(e)
	}
	return installSocket(c, s, flags)
}

// installSocket puts s behind a new descriptor.
func installSocket(c *call, s *sock.Socket, flags uint64) result {
	fl := uint32(linux.O_RDWR)
	if flags&linux.SOCK_NONBLOCK != 0 {
		fl |= linux.O_NONBLOCK
	}
	of := kfile.NewOpenFile(s, fl, fmt.Sprintf("socket:[%d]", s.Stat().Ino))
	fd, e := c.p.fdTable().Install(of, 0, flags&linux.SOCK_CLOEXEC != 0)
	if e != 0 {
		of.Drop()
		return fail(e)
	}
	return ok(uint64(fd))
}

// socketArg returns the socket behind descriptor argument i, held.
func socketArg(c *call, i int) (*sock.Socket, *kfile.OpenFile, errno.Errno) {
	of, e := c.file(i)
	if e != 0 {
		return nil, nil, e
	}
	s, isSock := of.File.(*sock.Socket)
	if !isSock {
		of.Drop()
		return nil, nil, errno.ENOTSOCK
	}
	return s, of, 0
}

// addrArg reads a socket address argument (addr, addrlen).
func addrArg(c *call, s *sock.Socket, addr, n uint64) (sockproto.Addr, errno.Errno) {
	b, e := addrBytes(c, addr, n)
	if e != 0 {
		return sockproto.Addr{}, e
	}
	return sock.DecodeAddr(b, s.Family())
}

// addrBytes reads the bytes of a socket address argument: at most a
// sockaddr_storage (EINVAL beyond, as Linux's move_addr_to_kernel).
func addrBytes(c *call, addr, n uint64) ([]byte, errno.Errno) {
	if int32(n) < 0 || n > 128 {
		return nil, errno.EINVAL
	}
	b := make([]byte, n)
	if err := c.as().CopyIn(addr, b); err != nil {
		return nil, errno.EFAULT
	}
	return b, 0
}

// putAddr writes a into the program's (addr, *addrlen) as Linux's
// move_addr_to_user does: truncated to the room *addrlen gives, and
// *addrlen set to the whole length. Where the address is optional
// (accept, recvfrom), addr 0 writes nothing; otherwise (getsockname,
// getpeername) a NULL addr with room 0 is fine.
func putAddr(c *call, a sockproto.Addr, addr, lenAddr uint64, optional bool) errno.Errno {
	return putAddrBytes(c, sock.EncodeAddr(a), addr, lenAddr, optional)
}

// putAddrBytes is putAddr for an address already encoded (b), of any
// family.
func putAddrBytes(c *call, b []byte, addr, lenAddr uint64, optional bool) errno.Errno {
	if optional && addr == 0 {
		return 0
	}
	var lb [4]byte
	if err := c.as().CopyIn(lenAddr, lb[:]); err != nil {
		return errno.EFAULT
	}
	room := int32(binary.LittleEndian.Uint32(lb[:]))
	if room < 0 {
		return errno.EINVAL
	}
	if n := min(len(b), int(room)); n > 0 {
		if err := c.as().CopyOut(addr, b[:n]); err != nil {
			return errno.EFAULT
		}
	}
	binary.LittleEndian.PutUint32(lb[:], uint32(len(b)))
	if err := c.as().CopyOut(lenAddr, lb[:]); err != nil {
		return errno.EFAULT
	}
	return 0
}

// sysBind implements bind(2).
func sysBind(c *call) result {
	if r, isNetlink := onNetlink(c, netlinkBind); isNetlink {
		return r
	}
	if u, of := unixArg(c, 0); u != nil {
		defer of.Drop()
		return unixBind(c, u)
	}
	s, of, e := socketArg(c, 0)
	if e != 0 {
		return fail(e)
	}
	defer of.Drop()
	b, e := addrBytes(c, c.arg(1), c.arg(2))
	if e != 0 {
		return fail(e)
	}
	a, e := sock.DecodeBindAddr(b, s.Family())
	if e != 0 {
		return fail(e)
	}
	// Ports below 1024 are privileged (sys_capability.go); netd cannot
	// tell programs apart, so the kernel checks.
	if a.Port != 0 && a.Port < 1024 && !c.p.hasCap(linux.CAP_NET_BIND_SERVICE) {
		return fail(errno.EACCES)
	}
	return result{err: s.Bind(c.t, a)}
}

// sysListen implements listen(2).
func sysListen(c *call) result {
	if r, isNetlink := onNetlink(c, netlinkRefused); isNetlink {
		return r
	}
	if u, of := unixArg(c, 0); u != nil {
		defer of.Drop()
		return result{err: u.Listen(int(c.i32(1)))}
	}
	s, of, e := socketArg(c, 0)
	if e != 0 {
		return fail(e)
	}
	defer of.Drop()
	return result{err: s.Listen(c.t, c.i32(1))}
}

// sysAccept implements accept(2).
func sysAccept(c *call) result { return accept(c, 0) }

// sysAccept4 implements accept4(2).
func sysAccept4(c *call) result { return accept(c, c.arg(3)) }

func accept(c *call, flags uint64) result {
	if r, isNetlink := onNetlink(c, netlinkRefused); isNetlink {
		return r
	}
	if u, of := unixArg(c, 0); u != nil {
		defer of.Drop()
		return unixAccept(c, u, of, flags)
	}
	s, of, e := socketArg(c, 0)
	if e != 0 {
		return fail(e)
	}
	defer of.Drop()
	if flags&^socketFlags != 0 {
		return fail(errno.EINVAL)
	}
	if s.Type() != uint16(linux.SOCK_STREAM) {
		return fail(errno.EOPNOTSUPP)
	}
	ns, peer, e := s.Accept(c.t, of.Nonblock())
	if e != 0 {
		return fail(e)
	}
	if e := putAddr(c, peer, c.arg(1), c.arg(2), true); e != 0 {
		ns.Release()
		return fail(e)
	}
	return installSocket(c, ns, flags)
}

// sysConnect implements connect(2).
func sysConnect(c *call) result {
	if r, isNetlink := onNetlink(c, netlinkConnect); isNetlink {
		return r
	}
	if u, of := unixArg(c, 0); u != nil {
		defer of.Drop()
		return unixConnect(c, u, of)
	}
	s, of, e := socketArg(c, 0)
	if e != 0 {
		return fail(e)
	}
	defer of.Drop()
	a, e := addrArg(c, s, c.arg(1), c.arg(2))
	if e != 0 {
		return fail(e)
	}
	return result{err: s.Connect(c.t, a, of.Nonblock())}
}

// sysSendto implements sendto(2).
func sysSendto(c *call) result {
	if r, isNetlink := onNetlink(c, netlinkSendto); isNetlink {
		return r
	}
	if u, of := unixArg(c, 0); u != nil {
		defer of.Drop()
		return unixSendto(c, u, of)
	}
	s, of, e := socketArg(c, 0)
	if e != 0 {
		return fail(e)
	}
	defer of.Drop()
	var to sockproto.Addr
	if c.arg(4) != 0 {
		if to, e = addrArg(c, s, c.arg(4), c.arg(5)); e != 0 {
			return fail(e)
		}
	}
	flags := uint32(c.arg(3))
	nonblock := of.Nonblock() || flags&linux.MSG_DONTWAIT != 0
	// A blocking send on a stream socket sends everything, as Linux's
	// does, a maxIO piece at a time (the kernel's buffer).
	buf, count, done := c.arg(1), c.arg(2), uint64(0)
	for {
		b := make([]byte, min(count-done, maxIO))
		if err := c.as().CopyIn(buf+done, b); err != nil {
			if done > 0 {
				return ok(done)
			}
			return fail(errno.EFAULT)
		}
		n, e := s.SendTo(c.t, b, flags&^linux.MSG_DONTWAIT, to, nonblock)
		if e != 0 {
			if done > 0 {
				return ok(done)
			}
			return fail(e)
		}
		done += uint64(n)
		if done >= count || n < len(b) || nonblock || s.Type() != uint16(linux.SOCK_STREAM) {
			return ok(done)
		}
	}
}

// sysRecvfrom implements recvfrom(2).
func sysRecvfrom(c *call) result {
	if r, isNetlink := onNetlink(c, netlinkRecvfrom); isNetlink {
		return r
	}
	if u, of := unixArg(c, 0); u != nil {
		defer of.Drop()
		return unixRecvfrom(c, u, of)
	}
	s, of, e := socketArg(c, 0)
	if e != 0 {
		return fail(e)
	}
	defer of.Drop()
	count := min(c.arg(2), maxIO)
	if !userRange(c.arg(1), count) {
		return fail(errno.EFAULT)
	}
	flags := uint32(c.arg(3))
	b := make([]byte, count)
	n, full, from, e := s.RecvFrom(c.t, b, flags, of.Nonblock())
	if e != 0 {
		return fail(e)
	}
	if err := c.as().CopyOut(c.arg(1), b[:n]); err != nil {
		return fail(errno.EFAULT)
	}
	if e := putAddr(c, from, c.arg(4), c.arg(5), true); e != 0 {
		return fail(e)
	}
	if flags&linux.MSG_TRUNC != 0 && s.Type() != uint16(linux.SOCK_STREAM) {
		return ok(uint64(full))
	}
	return ok(uint64(n))
}

// sysShutdown implements shutdown(2).
func sysShutdown(c *call) result {
	if r, isNetlink := onNetlink(c, netlinkRefused); isNetlink {
		return r
	}
	if u, of := unixArg(c, 0); u != nil {
		defer of.Drop()
		return result{err: u.Shutdown(c.i32(1))}
	}
	s, of, e := socketArg(c, 0)
	if e != 0 {
		return fail(e)
	}
	defer of.Drop()
	return result{err: s.Shutdown(c.t, uint32(c.arg(1)))}
}

// sysGetsockname implements getsockname(2).
func sysGetsockname(c *call) result { return sockName(c, false) }

// sysGetpeername implements getpeername(2).
func sysGetpeername(c *call) result { return sockName(c, true) }

func sockName(c *call, peer bool) result {
	if r, isNetlink := onNetlink(c, netlinkName(peer)); isNetlink {
		return r
	}
	if u, of := unixArg(c, 0); u != nil {
		defer of.Drop()
		return unixName(c, u, peer)
	}
	s, of, e := socketArg(c, 0)
	if e != 0 {
		return fail(e)
	}
	defer of.Drop()
	a, e := s.Name(c.t, peer)
	if e != 0 {
		return fail(e)
	}
	return result{err: putAddr(c, a, c.arg(1), c.arg(2), false)}
}

// sysSetsockopt implements setsockopt(2).
func sysSetsockopt(c *call) result {
	if r, isNetlink := onNetlink(c, netlinkSetsockopt); isNetlink {
		return r
	}
	if u, of := unixArg(c, 0); u != nil {
		defer of.Drop()
		return unixSetsockopt(c, u)
	}
	s, of, e := socketArg(c, 0)
	if e != 0 {
		return fail(e)
	}
	defer of.Drop()
	n := c.arg(4)
	if n > sockproto.MaxOptLen {
		return fail(errno.EINVAL)
	}
	v := make([]byte, n)
	if err := c.as().CopyIn(c.arg(3), v); err != nil {
		return fail(errno.EFAULT)
	}
	return result{err: s.SetOpt(c.t, c.i32(1), c.i32(2), v)}
}

// sysGetsockopt implements getsockopt(2).
func sysGetsockopt(c *call) result {
	if r, isNetlink := onNetlink(c, netlinkGetsockopt); isNetlink {
		return r
	}
	if u, of := unixArg(c, 0); u != nil {
		defer of.Drop()
		return unixGetsockopt(c, u)
	}
	s, of, e := socketArg(c, 0)
	if e != 0 {
		return fail(e)
	}
	defer of.Drop()
	room, e := optRoom(c)
	if e != 0 {
		return fail(e)
	}
	level, name := c.i32(1), c.i32(2)
	var v []byte
	switch {
	case level == linux.SOL_SOCKET && name == linux.SO_TYPE:
		v = binary.LittleEndian.AppendUint32(nil, uint32(s.Type()))
	case level == linux.SOL_SOCKET && name == linux.SO_DOMAIN:
		v = binary.LittleEndian.AppendUint32(nil, uint32(s.Family()))
	default:
		v, e = s.GetOpt(c.t, level, name, int(room))
		if e != 0 {
			return fail(e)
		}
	}
	return putOpt(c, v, room)
}

// optRoom reads getsockopt(2)'s *optlen: the room the program has.
func optRoom(c *call) (int32, errno.Errno) {
	var lb [4]byte
	if err := c.as().CopyIn(c.arg(4), lb[:]); err != nil {
		return 0, errno.EFAULT
	}
	room := int32(binary.LittleEndian.Uint32(lb[:]))
	if room < 0 {
		return 0, errno.EINVAL
	}
	return room, 0
}

// putOpt writes getsockopt(2)'s value v, cut to room, and its length.
func putOpt(c *call, v []byte, room int32) result {
	v = v[:min(len(v), int(room))]
	if err := c.as().CopyOut(c.arg(3), v); err != nil {
		return fail(errno.EFAULT)
	}
	var lb [4]byte
	binary.LittleEndian.PutUint32(lb[:], uint32(len(v)))
	if err := c.as().CopyOut(c.arg(4), lb[:]); err != nil {
		return fail(errno.EFAULT)
	}
	return ok0()
}
