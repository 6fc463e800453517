package proc

import (
	"fmt"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile"
	"valence.dev/microkernel/mm"
	"valence.dev/microkernel/netlink"
)

// AF_NETLINK sockets of protocol NETLINK_ROUTE are the kernel's own
// (package netlink): they answer rtnetlink dumps of links, addresses and
// routes from netd's status, so that Go's net.Interfaces and ip(8) work.
// The socket calls of sys_socket.go and sys_sockmsg.go hand a netlink
// socket to this file, which reads and writes the program's memory and
// addresses (struct sockaddr_nl, netlink(7)).

var netlinkPorts = netlink.NewPorts(kernelIno, mm.KernelCanGrow)

// newNetlinkSocket implements socket(AF_NETLINK, typ, protocol): SOCK_RAW
// or SOCK_DGRAM (ESOCKTNOSUPPORT otherwise), NETLINK_ROUTE only
// (EPROTONOSUPPORT otherwise, as Linux for a protocol it does not have),
// in that order, as Linux's netlink_create.
func newNetlinkSocket(c *call, typ linux.SockType, protocol int32, flags uint64) result {
	if typ != linux.SOCK_RAW && typ != linux.SOCK_DGRAM {
		return fail(errno.ESOCKTNOSUPPORT)
	}
	if protocol != linux.NETLINK_ROUTE {
		return fail(errno.EPROTONOSUPPORT)
	}
	if e := admitObject(4096); e != 0 {
		return fail(e)
	}
	cfg := netlink.Config{Type: typ, Table: netlinkTable, Admin: netlinkAdmin}
	if acct := c.p.acct; acct != nil {
		cfg.Charge = &acct.sockBytes
	}
	s, e := netlinkPorts.NewSocket(cfg)
	if e != 0 {
		return fail(e)
	}
	fl := uint32(linux.O_RDWR)
	if flags&linux.SOCK_NONBLOCK != 0 {
		fl |= linux.O_NONBLOCK
	}
	of := kfile.NewOpenFile(s, fl, fmt.Sprintf("socket:[%d]", s.Ino()))
	fd, e := c.p.fdTable().Install(of, 0, flags&linux.SOCK_CLOEXEC != 0)
	if e != 0 {
		of.Drop()
		return fail(e)
	}
	return ok(uint64(fd))
}

// netlinkTable is netd's state for a dump. Without a network server, or
// with one that has died and not been replaced, the system has no
// interfaces at all (not even a loopback: AF_INET sockets are
// EAFNOSUPPORT then), and the tables say so by being empty.
func netlinkTable(k kfile.Caller) (netlink.Table, errno.Errno) {
	n := currentNet()
	if n == nil {
		return netlink.Table{}, 0
	}
	st, e := n.Status(k)
	switch e {
	case 0:
		return netlink.FromStatus(st), 0
	case errno.ENETDOWN:
		return netlink.Table{}, 0
	}
	return netlink.Table{}, e
}

// netlinkAdmin reports whether k's process holds CAP_NET_ADMIN, which
// rtnetlink asks of a request that changes the network.
func netlinkAdmin(k kfile.Caller) bool {
	t, isThread := k.(*Thread)
	return isThread && t.proc.hasCap(linux.CAP_NET_ADMIN)
}

// onNetlink runs op when descriptor argument 0 is a netlink socket
// (handled reports so); the socket calls try it first.
func onNetlink(c *call, op func(*call, *netlink.Socket, *kfile.OpenFile) result) (r result, handled bool) {
	of, found := c.p.fdTable().Get(c.i32(0))
	if !found {
		return result{}, false
	}
	defer of.Drop()
	s, isNetlink := of.File.(*netlink.Socket)
	if !isNetlink {
		return result{}, false
	}
	return op(c, s, of), true
}

// nlAddr reads a struct sockaddr_nl of n bytes at addr: shorter than one
// or of another family is EINVAL; an address other than the kernel's
// (nl_pid 0) or with multicast groups is EPERM, as Linux says to a
// program that may not send to other sockets or join groups: Valence's
// netlink sockets talk to the kernel only and it sends no notifications.
func nlAddr(c *call, addr, n uint64) errno.Errno {
	b, e := addrBytes(c, addr, n)
	if e != 0 {
		return e
	}
	if len(b) < linux.SockAddrNetlinkSize {
		return errno.EINVAL
	}
	var sa linux.SockAddrNetlink
	sa.UnmarshalBytes(b)
	if sa.Family != linux.AF_NETLINK {
		return errno.EINVAL
	}
	if sa.PortID != 0 || sa.Groups != 0 {
		return errno.EPERM
	}
	return 0
}

// nlName is a struct sockaddr_nl naming port.
func nlName(port uint32) []byte {
	sa := linux.SockAddrNetlink{Family: linux.AF_NETLINK, PortID: port}
	b := make([]byte, linux.SockAddrNetlinkSize)
	sa.MarshalBytes(b)
	return b
}

// netlinkBind implements bind(2): nl_pid 0 lets the kernel pick the port
// (the process's ID, else a negative one), another binds that port
// (EADDRINUSE if taken); groups are EPERM (see nlAddr).
func netlinkBind(c *call, s *netlink.Socket, _ *kfile.OpenFile) result {
	b, e := addrBytes(c, c.arg(1), c.arg(2))
	if e != 0 {
		return fail(e)
	}
	if len(b) < linux.SockAddrNetlinkSize {
		return fail(errno.EINVAL)
	}
	var sa linux.SockAddrNetlink
	sa.UnmarshalBytes(b)
	switch {
	case sa.Family != linux.AF_NETLINK:
		return fail(errno.EINVAL)
	case sa.Groups != 0:
		return fail(errno.EPERM)
	}
	return result{err: s.Bind(c.p.PID, sa.PortID)}
}

// netlinkConnect implements connect(2): the only peer is the kernel
// (AF_UNSPEC, "no peer", is the same); it binds the socket, as Linux.
func netlinkConnect(c *call, s *netlink.Socket, _ *kfile.OpenFile) result {
	b, e := addrBytes(c, c.arg(1), c.arg(2))
	if e != 0 {
		return fail(e)
	}
	if len(b) >= 2 && b[0] == linux.AF_UNSPEC && b[1] == 0 {
		return ok0()
	}
	if e := nlAddr(c, c.arg(1), c.arg(2)); e != 0 {
		return fail(e)
	}
	return result{err: s.Autobind(c.p.PID)}
}

// netlinkName implements getsockname(2) (the socket's port, 0 until it is
// bound) and getpeername(2) (the kernel, port 0).
func netlinkName(peer bool) func(*call, *netlink.Socket, *kfile.OpenFile) result {
	return func(c *call, s *netlink.Socket, _ *kfile.OpenFile) result {
		port := uint32(0)
		if !peer {
			port = s.Port()
		}
		return result{err: putAddrBytes(c, nlName(port), c.arg(1), c.arg(2), false)}
	}
}

// netlinkRefused answers the calls netlink sockets do not have (listen,
// accept, shutdown), as Linux's sock_no_* do.
func netlinkRefused(c *call, _ *netlink.Socket, _ *kfile.OpenFile) result {
	return fail(errno.EOPNOTSUPP)
}
