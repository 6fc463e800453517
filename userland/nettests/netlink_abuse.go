package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// testNetlinkAbuse: the netlink calls made the way a hostile or broken
// program makes them (raw system calls, faulting pointers, lying
// lengths, requests the kernel does not serve, floods), each answer
// checked against Linux's (checked as root on Linux 6.18 with
// NETTESTS=netlink-abuse); where Valence answers otherwise on purpose,
// the case names the deviation and why.
func testNetlinkAbuse() error {
	a, err := newArena()
	if err != nil {
		return err
	}
	var fds []int
	defer func() {
		for _, fd := range fds {
			syscall.Close(fd)
		}
	}()
	fresh := func() uintptr {
		fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_RAW|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, syscall.NETLINK_ROUTE)
		if err != nil {
			panic(fmt.Sprintf("socket(AF_NETLINK): %v", err))
		}
		fds = append(fds, fd)
		return uintptr(fd)
	}
	nladdr := func(family uint16, pid, groups uint32) uintptr {
		b, p := a.alloc(12)
		binary.NativeEndian.PutUint16(b, family)
		binary.NativeEndian.PutUint32(b[4:], pid)
		binary.NativeEndian.PutUint32(b[8:], groups)
		return p
	}
	kernel := nladdr(syscall.AF_NETLINK, 0, 0)
	cases := netlinkSocketCases()
	cases = append(cases, netlinkAddrCases(a, fresh, nladdr, kernel)...)
	cases = append(cases, netlinkSendCases(a, fresh, nladdr, kernel)...)
	cases = append(cases, netlinkAnswerCases(fresh)...)
	cases = append(cases, netlinkRecvCases(a, fresh)...)
	if err := runAbuse(cases); err != nil {
		return err
	}
	if err := netlinkTinyReads(a, fresh); err != nil {
		return err
	}
	return netlinkFlood()
}

func netlinkSocketCases() []abuseCase {
	sock := func(typ, proto uintptr) func() (uintptr, syscall.Errno) {
		return func() (uintptr, syscall.Errno) { return sys(syscall.SYS_SOCKET, syscall.AF_NETLINK, typ, proto) }
	}
	return []abuseCase{
		{name: "socket(AF_NETLINK, SOCK_RAW, NETLINK_ROUTE)", call: sock(syscall.SOCK_RAW, 0), fd: true},
		{name: "socket(AF_NETLINK, SOCK_DGRAM|SOCK_NONBLOCK|SOCK_CLOEXEC, 0)", call: sock(syscall.SOCK_DGRAM|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0), fd: true},
		{name: "socket(AF_NETLINK, SOCK_STREAM, 0)", call: sock(syscall.SOCK_STREAM, 0), want: syscall.ESOCKTNOSUPPORT, fd: true},
		{name: "socket(AF_NETLINK, SOCK_SEQPACKET, 0)", call: sock(syscall.SOCK_SEQPACKET, 0), want: syscall.ESOCKTNOSUPPORT, fd: true},
		{name: "socket(AF_NETLINK, type 11, 0)", call: sock(11, 0), want: syscall.EINVAL, fd: true},
		{name: "socket(AF_NETLINK, SOCK_RAW|0x40000000, 0)", call: sock(syscall.SOCK_RAW|0x40000000, 0), want: syscall.EINVAL, fd: true},
		{name: "socket(AF_NETLINK, SOCK_RAW, 1 (NETLINK_UNUSED))", call: sock(syscall.SOCK_RAW, 1), want: syscall.EPROTONOSUPPORT, fd: true},
		{name: "socket(AF_NETLINK, SOCK_RAW, 32)", call: sock(syscall.SOCK_RAW, 32), want: syscall.EPROTONOSUPPORT, fd: true},
		{name: "socket(AF_NETLINK, SOCK_RAW, -1)", call: sock(syscall.SOCK_RAW, negative), want: syscall.EPROTONOSUPPORT, fd: true},
		{name: "socket(AF_NETLINK, SOCK_RAW, 263)", call: sock(syscall.SOCK_RAW, 263), want: syscall.EPROTONOSUPPORT, fd: true},
	}
}

// netlinkAddrCases: bind, connect and the names, with addresses that
// fault, lengths out of range, other families, ports and groups.
func netlinkAddrCases(a *arena, fresh func() uintptr, nladdr func(uint16, uint32, uint32) uintptr, kernel uintptr) []abuseCase {
	bind := func(addr, n uintptr) func() (uintptr, syscall.Errno) {
		return func() (uintptr, syscall.Errno) { return sys(syscall.SYS_BIND, fresh(), addr, n) }
	}
	connect := func(addr, n uintptr) func() (uintptr, syscall.Errno) {
		return func() (uintptr, syscall.Errno) { return sys(syscall.SYS_CONNECT, fresh(), addr, n) }
	}
	groups := &deviation{syscall.EPERM, "Valence sends no netlink notifications, so joining a group is refused rather than left silent"}
	otherPort := &deviation{syscall.EPERM, "Valence's netlink sockets talk to the kernel only"}
	const port = 0x7ffffff0 // a port no process ID reaches
	taken := func() (uintptr, syscall.Errno) {
		p := nladdr(syscall.AF_NETLINK, port, 0)
		if _, e := sys(syscall.SYS_BIND, fresh(), p, 12); e != 0 {
			return 0, e
		}
		return sys(syscall.SYS_BIND, fresh(), p, 12)
	}
	rebind := func(second uintptr) func() (uintptr, syscall.Errno) {
		return func() (uintptr, syscall.Errno) {
			fd := fresh()
			if _, e := sys(syscall.SYS_BIND, fd, kernel, 12); e != 0 {
				return 0, e
			}
			return sys(syscall.SYS_BIND, fd, second, 12)
		}
	}
	var cases []abuseCase
	for _, bad := range withNull(a.badPointers(12)) {
		cases = append(cases,
			abuseCase{name: "bind(netlink, " + bad.name + ", 12)", call: bind(bad.p, 12), want: syscall.EFAULT},
			abuseCase{name: "connect(netlink, " + bad.name + ", 12)", call: connect(bad.p, 12), want: syscall.EFAULT})
	}
	for _, n := range []uintptr{0, 4, 11, 129, negative} {
		cases = append(cases, abuseCase{name: fmt.Sprintf("bind(netlink, sockaddr_nl, %d)", int(n)), call: bind(kernel, n), want: syscall.EINVAL})
	}
	_, lenp := a.alloc(4)
	name := func(trap uintptr, addr, lp uintptr, v int32) func() (uintptr, syscall.Errno) {
		return func() (uintptr, syscall.Errno) {
			if lp == lenp {
				a.setU32(lenp, v)
			}
			return sys(trap, fresh(), addr, lp)
		}
	}
	_, out := a.alloc(16)
	return append(cases, []abuseCase{
		{name: "bind(netlink, port 0)", call: bind(kernel, 12)},
		{name: "bind(netlink, AF_INET family)", call: bind(nladdr(syscall.AF_INET, 0, 0), 12), want: syscall.EINVAL},
		{name: "bind(netlink, groups 1)", call: bind(nladdr(syscall.AF_NETLINK, 0, 1), 12), dev: groups},
		{name: "bind(netlink, a taken port)", call: taken, want: syscall.EADDRINUSE},
		{name: "bind(a bound netlink socket, port 0)", call: rebind(kernel), want: syscall.EINVAL},
		{name: "connect(netlink, AF_UNSPEC, 2)", call: connect(nladdr(syscall.AF_UNSPEC, 0, 0), 2)},
		{name: "connect(netlink, the kernel)", call: connect(kernel, 12)},
		{name: "connect(netlink, sockaddr_nl, 4)", call: connect(kernel, 4), want: syscall.EINVAL},
		{name: "connect(netlink, AF_INET family)", call: connect(nladdr(syscall.AF_INET, 0, 0), 12), want: syscall.EINVAL},
		{name: "connect(netlink, port 12345)", call: connect(nladdr(syscall.AF_NETLINK, 12345, 0), 12), dev: otherPort},
		{name: "getsockname(netlink, out, &16)", call: name(syscall.SYS_GETSOCKNAME, out, lenp, 16)},
		{name: "getsockname(netlink, out, &-1)", call: name(syscall.SYS_GETSOCKNAME, out, lenp, -1), want: syscall.EINVAL},
		{name: "getsockname(netlink, out, length at a PROT_NONE page)", call: name(syscall.SYS_GETSOCKNAME, out, a.guard, 0), want: syscall.EFAULT},
		{name: "getsockname(netlink, a PROT_NONE page, &16)", call: name(syscall.SYS_GETSOCKNAME, a.guard, lenp, 16), want: syscall.EFAULT},
		{name: "getpeername(netlink, out, &16)", call: name(syscall.SYS_GETPEERNAME, out, lenp, 16)},
		{name: "listen(netlink)", call: func() (uintptr, syscall.Errno) { return sys(syscall.SYS_LISTEN, fresh(), 1) }, want: syscall.EOPNOTSUPP},
		{name: "accept(netlink)", call: func() (uintptr, syscall.Errno) { return sys(syscall.SYS_ACCEPT, fresh(), 0, 0) }, want: syscall.EOPNOTSUPP},
		{name: "shutdown(netlink, SHUT_RDWR)", call: func() (uintptr, syscall.Errno) { return sys(syscall.SYS_SHUTDOWN, fresh(), syscall.SHUT_RDWR) }, want: syscall.EOPNOTSUPP},
		{name: "socketpair(AF_NETLINK)", call: func() (uintptr, syscall.Errno) {
			return sys(syscall.SYS_SOCKETPAIR, syscall.AF_NETLINK, syscall.SOCK_RAW, 0, out)
		}, want: syscall.EOPNOTSUPP},
		{name: "setsockopt(NETLINK_EXT_ACK, 1)", call: setsockopt(fresh, unix.SOL_NETLINK, unix.NETLINK_EXT_ACK, a.u32(1), 4)},
		{name: "setsockopt(NETLINK_GET_STRICT_CHK, 1)", call: setsockopt(fresh, unix.SOL_NETLINK, unix.NETLINK_GET_STRICT_CHK, a.u32(1), 4)},
		{name: "setsockopt(NETLINK_EXT_ACK, a PROT_NONE page)", call: setsockopt(fresh, unix.SOL_NETLINK, unix.NETLINK_EXT_ACK, a.guard, 4), want: syscall.EFAULT},
		{name: "setsockopt(SOL_NETLINK, 99)", call: setsockopt(fresh, unix.SOL_NETLINK, 99, a.u32(1), 4), want: syscall.ENOPROTOOPT},
		{name: "setsockopt(NETLINK_ADD_MEMBERSHIP, 1)", call: setsockopt(fresh, unix.SOL_NETLINK, unix.NETLINK_ADD_MEMBERSHIP, a.u32(1), 4), dev: groups},
		{name: "setsockopt(NETLINK_ADD_MEMBERSHIP, 0)", call: setsockopt(fresh, unix.SOL_NETLINK, unix.NETLINK_ADD_MEMBERSHIP, a.u32(0), 4), want: syscall.EINVAL},
		{name: "setsockopt(SO_RCVBUF, 4096)", call: setsockopt(fresh, syscall.SOL_SOCKET, syscall.SO_RCVBUF, a.u32(4096), 4)},
		{name: "getsockopt(SO_PROTOCOL) is NETLINK_ROUTE", call: getsockoptIs(a, fresh, syscall.SOL_SOCKET, syscall.SO_PROTOCOL, syscall.NETLINK_ROUTE)},
		{name: "getsockopt(SO_DOMAIN) is AF_NETLINK", call: getsockoptIs(a, fresh, syscall.SOL_SOCKET, syscall.SO_DOMAIN, syscall.AF_NETLINK)},
		{name: "getsockopt(SO_TYPE) is SOCK_RAW", call: getsockoptIs(a, fresh, syscall.SOL_SOCKET, syscall.SO_TYPE, syscall.SOCK_RAW)},
	}...)
}

func setsockopt(fresh func() uintptr, level, name, val, n uintptr) func() (uintptr, syscall.Errno) {
	return func() (uintptr, syscall.Errno) { return sys(syscall.SYS_SETSOCKOPT, fresh(), level, name, val, n) }
}

// getsockoptIs reads an int option: EDOM when it is not want.
func getsockoptIs(a *arena, fresh func() uintptr, level, name uintptr, want int32) func() (uintptr, syscall.Errno) {
	return func() (uintptr, syscall.Errno) {
		v, vp := a.alloc(4)
		lp := a.u32(4)
		if _, e := sys(syscall.SYS_GETSOCKOPT, fresh(), level, name, vp, lp); e != 0 {
			return 0, e
		}
		if int32(binary.NativeEndian.Uint32(v)) != want {
			return 0, syscall.EDOM
		}
		return 0, 0
	}
}

// netlinkSendCases: sendto and sendmsg with faulting buffers, lying
// destinations, oversized requests.
func netlinkSendCases(a *arena, fresh func() uintptr, nladdr func(uint16, uint32, uint32) uintptr, kernel uintptr) []abuseCase {
	req := nlMessage(syscall.RTM_GETLINK, syscall.NLM_F_REQUEST, 1, make([]byte, syscall.SizeofIfInfomsg))
	rb, rp := a.alloc(len(req))
	copy(rb, req)
	sendto := func(buf, n, flags, to, tolen uintptr) func() (uintptr, syscall.Errno) {
		return func() (uintptr, syscall.Errno) { return sys(syscall.SYS_SENDTO, fresh(), buf, n, flags, to, tolen) }
	}
	sendmsg := func(hdr uintptr) func() (uintptr, syscall.Errno) {
		return func() (uintptr, syscall.Errno) { return sys(syscall.SYS_SENDMSG, fresh(), hdr, 0) }
	}
	big := make([]byte, 300000)
	otherPort := &deviation{syscall.EPERM, "Valence's netlink sockets talk to the kernel only"}
	var cases []abuseCase
	for _, bad := range withNull(a.badPointers(32)) {
		cases = append(cases,
			abuseCase{name: "sendto(netlink, " + bad.name + ", 32)", call: sendto(bad.p, 32, 0, kernel, 12), want: syscall.EFAULT},
			abuseCase{name: "sendmsg(netlink, iovec base at " + bad.name + ")", call: sendmsg(a.msghdr(0, 0, a.iovec(bad.p, 32), 1, 0, 0)), want: syscall.EFAULT},
			abuseCase{name: "sendmsg(netlink, msghdr at " + bad.name + ")", call: sendmsg(bad.p), want: syscall.EFAULT})
	}
	return append(cases, []abuseCase{
		{name: "sendto(netlink, a request)", call: sendto(rp, uintptr(len(req)), 0, kernel, 12)},
		{name: "sendto(netlink, a request, no address)", call: sendto(rp, uintptr(len(req)), 0, 0, 0)},
		{name: "sendto(netlink, 300000 bytes)", call: func() (uintptr, syscall.Errno) {
			return sys(syscall.SYS_SENDTO, fresh(), addrOf(big), uintptr(len(big)), 0, kernel, 12)
		}, want: syscall.EMSGSIZE},
		{name: "sendto(netlink, MSG_OOB)", call: sendto(rp, uintptr(len(req)), syscall.MSG_OOB, kernel, 12), want: syscall.EOPNOTSUPP},
		{name: "sendto(netlink, to a sockaddr_nl of 4 bytes)", call: sendto(rp, uintptr(len(req)), 0, kernel, 4), want: syscall.EINVAL},
		{name: "sendto(netlink, to an AF_INET family)", call: sendto(rp, uintptr(len(req)), 0, nladdr(syscall.AF_INET, 0, 0), 12), want: syscall.EINVAL},
		{name: "sendto(netlink, to port 12345)", call: sendto(rp, uintptr(len(req)), 0, nladdr(syscall.AF_NETLINK, 12345, 0), 12),
			want: syscall.ECONNREFUSED, dev: otherPort},
		{name: "sendmsg(netlink, SCM_RIGHTS)", call: func() (uintptr, syscall.Errno) {
			cb, cp := a.alloc(24)
			binary.NativeEndian.PutUint64(cb, 20)
			binary.NativeEndian.PutUint32(cb[8:], syscall.SOL_SOCKET)
			binary.NativeEndian.PutUint32(cb[12:], syscall.SCM_RIGHTS)
			return sys(syscall.SYS_SENDMSG, fresh(), a.msghdr(0, 0, a.iovec(rp, uintptr(len(req))), 1, cp, 24), 0)
		}, want: syscall.EINVAL},
	}...)
}

// netlinkAnswer sends b on a fresh socket and reads the answer: the
// errno of an NLMSG_ERROR, 0 for any other answer, EAGAIN for none (the
// kernel answers within the send, on Linux as on Valence).
func netlinkAnswer(fresh func() uintptr, b []byte) func() (uintptr, syscall.Errno) {
	return func() (uintptr, syscall.Errno) {
		fd := int(fresh())
		if err := syscall.Sendto(fd, b, 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
			return 0, syscall.EIO
		}
		buf := make([]byte, 65536)
		n, _, err := syscall.Recvfrom(fd, buf, 0)
		if err != nil {
			return 0, err.(syscall.Errno)
		}
		ms, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil || len(ms) == 0 {
			return 0, syscall.EBADMSG
		}
		if ms[0].Header.Type != syscall.NLMSG_ERROR {
			return 0, 0
		}
		e, err := nlErrno(ms[0])
		if err != nil {
			return 0, syscall.EBADMSG
		}
		return 0, e
	}
}

// netlinkAnswerCases: requests with lying lengths, unknown types,
// requests the kernel does not serve. The case's errno is the answer's
// (EAGAIN: none).
func netlinkAnswerCases(fresh func() uintptr) []abuseCase {
	getLink := nlMessage(syscall.RTM_GETLINK, syscall.NLM_F_REQUEST|syscall.NLM_F_ACK, 1, make([]byte, syscall.SizeofIfInfomsg))
	withLen := func(n uint32) []byte {
		b := append([]byte(nil), getLink...)
		binary.NativeEndian.PutUint32(b, n)
		return b
	}
	ifinfo := func(index int32) []byte {
		b := make([]byte, syscall.SizeofIfInfomsg)
		binary.NativeEndian.PutUint32(b[4:], uint32(index))
		return b
	}
	change := &deviation{syscall.EOPNOTSUPP, "the network is netd's configuration: netlink cannot change it"}
	return []abuseCase{
		{name: "answer to 10 bytes", call: netlinkAnswer(fresh, getLink[:10]), want: syscall.EAGAIN},
		{name: "answer to nlmsg_len 0", call: netlinkAnswer(fresh, withLen(0)), want: syscall.EAGAIN},
		{name: "answer to nlmsg_len 8", call: netlinkAnswer(fresh, withLen(8)), want: syscall.EAGAIN},
		{name: "answer to nlmsg_len 2^32-1", call: netlinkAnswer(fresh, withLen(0xffff_ffff)), want: syscall.EAGAIN},
		{name: "answer to nlmsg_len one past the send", call: netlinkAnswer(fresh, withLen(uint32(len(getLink)+1))), want: syscall.EAGAIN},
		{name: "answer to type 200", call: netlinkAnswer(fresh, nlMessage(200, syscall.NLM_F_REQUEST, 1, []byte{0})), want: syscall.EOPNOTSUPP},
		{name: "answer to NLMSG_NOOP with NLM_F_ACK", call: netlinkAnswer(fresh, nlMessage(syscall.NLMSG_NOOP, syscall.NLM_F_REQUEST|syscall.NLM_F_ACK, 1))},
		{name: "answer to a reply sent as a request", call: netlinkAnswer(fresh, nlMessage(syscall.RTM_NEWLINK, syscall.NLM_F_ACK, 1, ifinfo(1)))},
		{name: "answer to RTM_GETADDR without NLM_F_DUMP", call: netlinkAnswer(fresh, nlMessage(syscall.RTM_GETADDR, syscall.NLM_F_REQUEST, 1, make([]byte, 8))), want: syscall.EOPNOTSUPP},
		{name: "answer to RTM_GETLINK of index 999999", call: netlinkAnswer(fresh, nlMessage(syscall.RTM_GETLINK, syscall.NLM_F_REQUEST, 1, ifinfo(999999))), want: syscall.ENODEV},
		{name: "answer to RTM_GETLINK of no index or name", call: netlinkAnswer(fresh, nlMessage(syscall.RTM_GETLINK, syscall.NLM_F_REQUEST, 1, ifinfo(0))), want: syscall.EINVAL},
		{name: "answer to RTM_GETLINK of a 4-byte ifinfomsg", call: netlinkAnswer(fresh, nlMessage(syscall.RTM_GETLINK, syscall.NLM_F_REQUEST, 1, []byte{0, 0, 0, 0})), want: syscall.EINVAL},
		{name: "answer to RTM_GETLINK of index 1", call: netlinkAnswer(fresh, nlMessage(syscall.RTM_GETLINK, syscall.NLM_F_REQUEST, 1, ifinfo(1)))},
		{name: "answer to RTM_NEWADDR of no address", call: netlinkAnswer(fresh, nlMessage(syscall.RTM_NEWADDR, syscall.NLM_F_REQUEST|syscall.NLM_F_ACK, 1, []byte{syscall.AF_INET, 0, 0, 0, 0, 0, 0, 0})),
			want: syscall.EINVAL, dev: change},
		{name: "answer to RTM_DELLINK of index 999999", call: netlinkAnswer(fresh, nlMessage(syscall.RTM_DELLINK, syscall.NLM_F_REQUEST|syscall.NLM_F_ACK, 1, ifinfo(999999))),
			want: syscall.ENODEV, dev: change},
	}
}

// netlinkRecvCases: recvfrom and recvmsg into memory that faults, with
// nothing to read, with lengths that lie.
func netlinkRecvCases(a *arena, fresh func() uintptr) []abuseCase {
	pending := func() uintptr {
		fd := fresh()
		req := nlMessage(syscall.RTM_GETLINK, syscall.NLM_F_REQUEST, 1, []byte{1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
		if err := syscall.Sendto(int(fd), req, 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
			panic(err)
		}
		return fd
	}
	recvfrom := func(buf, n, from, fromlen uintptr) func() (uintptr, syscall.Errno) {
		return func() (uintptr, syscall.Errno) { return sys(syscall.SYS_RECVFROM, pending(), buf, n, 0, from, fromlen) }
	}
	recvmsg := func(hdr uintptr) func() (uintptr, syscall.Errno) {
		return func() (uintptr, syscall.Errno) { return sys(syscall.SYS_RECVMSG, pending(), hdr, 0) }
	}
	_, buf := a.alloc(4096)
	_, from := a.alloc(16)
	var cases []abuseCase
	for _, bad := range a.badPointers(4) {
		cases = append(cases,
			abuseCase{name: "recvfrom(netlink, buf, 4096, from, fromlen at " + bad.name + ")", call: recvfrom(buf, 4096, from, bad.p), want: syscall.EFAULT})
	}
	for _, bad := range a.badPointers(56) {
		cases = append(cases, abuseCase{name: "recvmsg(netlink, msghdr at " + bad.name + ")", call: recvmsg(bad.p), want: syscall.EFAULT})
	}
	for _, bad := range a.badPointers(64) {
		cases = append(cases,
			abuseCase{name: "recvfrom(netlink, " + bad.name + ", 4096)", call: recvfrom(bad.p, 4096, 0, 0), want: syscall.EFAULT},
			abuseCase{name: "recvmsg(netlink, iovec base at " + bad.name + ")", call: recvmsg(a.msghdr(0, 0, a.iovec(bad.p, 4096), 1, 0, 0)), want: syscall.EFAULT})
	}
	return append(cases, []abuseCase{
		{name: "recvfrom(netlink, nothing queued)", call: func() (uintptr, syscall.Errno) { return sys(syscall.SYS_RECVFROM, fresh(), buf, 4096, 0, 0, 0) }, want: syscall.EAGAIN},
		{name: "recvfrom(netlink, MSG_OOB)", call: func() (uintptr, syscall.Errno) {
			return sys(syscall.SYS_RECVFROM, pending(), buf, 4096, syscall.MSG_OOB, 0, 0)
		}, want: syscall.EOPNOTSUPP},
		{name: "recvfrom(netlink, buf, 4096, from, &-1)", call: recvfrom(buf, 4096, from, a.u32(-1)), want: syscall.EINVAL},
	}...)
}

// netlinkTinyReads: reads shorter than a datagram get its start, the
// whole length with MSG_TRUNC, and lose the rest (the next read gets the
// next datagram or nothing); recvmsg flags the cut with MSG_TRUNC.
func netlinkTinyReads(a *arena, fresh func() uintptr) error {
	getLink := nlMessage(syscall.RTM_GETLINK, syscall.NLM_F_REQUEST|syscall.NLM_F_ACK, 1, []byte{0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	fd := int(fresh())
	if err := syscall.Sendto(fd, getLink, 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		return err
	}
	one := make([]byte, 1)
	n, _, err := syscall.Recvfrom(fd, one, syscall.MSG_TRUNC)
	if err != nil || n <= syscall.NLMSG_HDRLEN {
		return fmt.Errorf("recvfrom(1 byte, MSG_TRUNC) of an RTM_NEWLINK: %d, %v; want its whole length", n, err)
	}
	buf := make([]byte, 16)
	n, _, flags, _, err := syscall.Recvmsg(fd, buf, nil, 0)
	if err != nil || n != 16 || flags&syscall.MSG_TRUNC == 0 {
		return fmt.Errorf("recvmsg(16 bytes) of the acknowledgment (36 bytes): %d, flags %#x, %v; want 16 and MSG_TRUNC", n, flags, err)
	}
	if _, _, err := syscall.Recvfrom(fd, buf, 0); err != syscall.EAGAIN {
		return fmt.Errorf("after both answers were read short: %v, want EAGAIN", err)
	}
	if n, err := syscall.Read(fd, one); err != syscall.EAGAIN {
		return fmt.Errorf("read(1 byte) of nothing: %d, %v; want EAGAIN", n, err)
	}
	return nil
}

// netlinkFlood: sockets sent thousands of requests and never read keep
// at most their receive buffer's worth of answers: the rest are dropped
// and the first read says ENOBUFS, once; then what was kept is read,
// whole. The kernel must still answer afterwards.
func netlinkFlood() error {
	one := nlMessage(syscall.RTM_GETLINK, syscall.NLM_F_REQUEST|syscall.NLM_F_ACK, 1, []byte{0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0})
	var batch []byte
	for range 100 {
		batch = append(batch, one...)
	}
	start := time.Now()
	var socks []int
	defer func() {
		for _, fd := range socks {
			syscall.Close(fd)
		}
	}()
	for range 10 {
		fd, err := syscall.Socket(syscall.AF_NETLINK, syscall.SOCK_RAW|syscall.SOCK_NONBLOCK, syscall.NETLINK_ROUTE)
		if err != nil {
			return err
		}
		socks = append(socks, fd)
		for range 50 {
			if err := syscall.Sendto(fd, batch, 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
				return fmt.Errorf("a flooding send: %w", err)
			}
		}
	}
	buf := make([]byte, 65536)
	for i, fd := range socks {
		if _, _, err := syscall.Recvfrom(fd, buf, 0); err != syscall.ENOBUFS {
			return fmt.Errorf("socket %d's first read after 5000 unread requests: %v, want ENOBUFS", i, err)
		}
		total, count := 0, 0
		for {
			n, _, err := syscall.Recvfrom(fd, buf, 0)
			if err == syscall.EAGAIN {
				break
			}
			if err != nil {
				return fmt.Errorf("socket %d: %v after %d answers", i, err, count)
			}
			if _, err := syscall.ParseNetlinkMessage(buf[:n]); err != nil {
				return fmt.Errorf("socket %d: answer %d: %w", i, count, err)
			}
			total += n
			count++
		}
		if count == 0 || total > 2*425984 {
			return fmt.Errorf("socket %d kept %d answers, %d bytes: want some, at most twice the largest receive buffer", i, count, total)
		}
	}
	fmt.Printf("nettests: netlink-abuse: 10 sockets flooded with 5000 requests each in %v\n", time.Since(start).Round(time.Millisecond))
	s, err := openNL(true)
	if err != nil {
		return err
	}
	defer s.close()
	if ms, err := s.dump(syscall.RTM_GETLINK, syscall.AF_UNSPEC); err != nil || len(ms) == 0 {
		return errors.Join(errors.New("a dump after the flood"), err)
	}
	return nil
}
