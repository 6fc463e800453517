package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"
)

// abuse is what the socket-abuse cases work on: an arena for the
// addresses they pass, and sockets in known states.
type abuse struct {
	a *arena

	listener, listenPort int // TCP, non-blocking, listening on 127.0.0.1
	client, server       int // a connected TCP pair, non-blocking
	udp, udpPort         int // UDP, non-blocking, bound to 127.0.0.1: the receiver
	sender               int // UDP, non-blocking, bound: the sender

	// Addresses in the arena.
	any, toUDP, toTCP uintptr // sockaddr_in: 127.0.0.1:0, the receiver, the listener
	in6, unix         uintptr // a sockaddr_in6 (28 bytes) and a sockaddr_un (110 bytes)
	buf               uintptr // 256 bytes of data
	name              uintptr // 128 bytes of room for an address

	closeLater []int
}

// negative is -1 as a system call argument: Linux reads an int
// argument's low 32 bits, so both spellings are -1 there.
const negative = ^uintptr(0)

func newAbuse() (*abuse, error) {
	a, err := newArena()
	if err != nil {
		return nil, err
	}
	t := &abuse{a: a}
	if t.listener, t.listenPort, err = rawListener(true); err != nil {
		return nil, err
	}
	if t.client, t.server, err = rawPair(); err != nil {
		return nil, err
	}
	syscall.SetNonblock(t.client, true)
	syscall.SetNonblock(t.server, true)
	if t.udp, err = rawSocket(syscall.SOCK_DGRAM, true); err != nil {
		return nil, err
	}
	t.udpPort = localPort(t.udp)
	if t.sender, err = rawSocket(syscall.SOCK_DGRAM, true); err != nil {
		return nil, err
	}
	t.closeLater = []int{t.listener, t.client, t.server, t.udp, t.sender}
	t.any = a.sockaddr(syscall.AF_INET, loopback, 0)
	t.toUDP = a.sockaddr(syscall.AF_INET, loopback, t.udpPort)
	t.toTCP = a.sockaddr(syscall.AF_INET, loopback, t.listenPort)
	b, p := a.alloc(28)
	binary.LittleEndian.PutUint16(b, syscall.AF_INET6)
	t.in6 = p
	b, p = a.alloc(110)
	binary.LittleEndian.PutUint16(b, syscall.AF_UNIX)
	copy(b[2:], "/tmp/nettests.sock")
	t.unix = p
	b, t.buf = a.alloc(256)
	copy(b, pattern(256, 5))
	_, t.name = a.alloc(128)
	return t, nil
}

func (t *abuse) close() {
	for _, fd := range t.closeLater {
		syscall.Close(fd)
	}
}

// fresh is a new socket of type typ (non-blocking), closed at the end.
func (t *abuse) fresh(typ int) uintptr {
	fd, err := syscall.Socket(syscall.AF_INET, typ|syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		fmt.Printf("nettests: socket-abuse: a fresh socket: %v\n", err)
		return negative
	}
	t.closeLater = append(t.closeLater, fd)
	return uintptr(fd)
}

// lenp is a new socklen_t holding v.
func (t *abuse) lenp(v int32) uintptr { return t.a.u32(v) }

// pendDatagram sends a datagram of 64 bytes to the receiver and waits until it can
// be read, so that a receive with a bad buffer gets as far as copying.
func (t *abuse) pendDatagram() {
	if _, e := sys(syscall.SYS_SENDTO, uintptr(t.sender), t.buf, 64, 0, t.toUDP, 16); e != 0 {
		fmt.Printf("nettests: socket-abuse: sending a datagram to receive: %v\n", e)
	}
	if !waitReadable(t.udp, abuseWait) {
		fmt.Println("nettests: socket-abuse: the datagram to receive never arrived")
	}
}

// drain reads every datagram queued on the receiver.
func (t *abuse) drain() {
	for {
		if _, e := sys(syscall.SYS_RECVFROM, uintptr(t.udp), t.buf, 256, syscall.MSG_DONTWAIT, 0, 0); e != 0 {
			return
		}
	}
}

// pendConn connects a client to the listener and waits until the
// connection can be accepted; the client is closed at the end.
func (t *abuse) pendConn() {
	fd, err := rawDial(t.listenPort)
	if err != nil {
		fmt.Printf("nettests: socket-abuse: a connection to accept: %v\n", err)
		return
	}
	t.closeLater = append(t.closeLater, fd)
	if !waitReadable(t.listener, abuseWait) {
		fmt.Println("nettests: socket-abuse: the connection to accept never became pending")
	}
}

// socketCases: socket(2) with families, types, flags and protocols that
// do not exist or do not go together.
func (t *abuse) socketCases() []abuseCase {
	sock := func(dom, typ, proto uintptr) func() (uintptr, syscall.Errno) {
		return func() (uintptr, syscall.Errno) { return sys(syscall.SYS_SOCKET, dom, typ, proto) }
	}
	return []abuseCase{
		{name: "socket(AF_INET, SOCK_STREAM, IPPROTO_TCP)", call: sock(syscall.AF_INET, syscall.SOCK_STREAM, syscall.IPPROTO_TCP), fd: true},
		{name: "socket(AF_INET, SOCK_DGRAM, IPPROTO_UDP)", call: sock(syscall.AF_INET, syscall.SOCK_DGRAM, syscall.IPPROTO_UDP), fd: true},
		{name: "socket(AF_INET, SOCK_STREAM, IPPROTO_UDP)", call: sock(syscall.AF_INET, syscall.SOCK_STREAM, syscall.IPPROTO_UDP), want: syscall.EPROTONOSUPPORT, fd: true},
		{name: "socket(AF_INET, SOCK_DGRAM, IPPROTO_TCP)", call: sock(syscall.AF_INET, syscall.SOCK_DGRAM, syscall.IPPROTO_TCP), want: syscall.EPROTONOSUPPORT, fd: true},
		{name: "socket(AF_INET, SOCK_SEQPACKET, 0)", call: sock(syscall.AF_INET, syscall.SOCK_SEQPACKET, 0), want: syscall.ESOCKTNOSUPPORT, fd: true},
		{name: "socket(AF_INET, type 11 (SOCK_MAX), 0)", call: sock(syscall.AF_INET, 11, 0), want: syscall.EINVAL, fd: true},
		{name: "socket(AF_INET, type 99, 0)", call: sock(syscall.AF_INET, 99, 0), want: syscall.EINVAL, fd: true},
		{name: "socket(AF_INET, SOCK_STREAM|0x40000000, 0)", call: sock(syscall.AF_INET, syscall.SOCK_STREAM|0x40000000, 0), want: syscall.EINVAL, fd: true},
		{name: "socket(AF_INET, SOCK_STREAM|O_APPEND, 0)", call: sock(syscall.AF_INET, syscall.SOCK_STREAM|syscall.O_APPEND, 0), want: syscall.EINVAL, fd: true},
		{name: "socket(AF_INET, SOCK_STREAM, -1)", call: sock(syscall.AF_INET, syscall.SOCK_STREAM, negative), want: syscall.EINVAL, fd: true},
		{name: "socket(AF_INET, SOCK_STREAM, 256)", call: sock(syscall.AF_INET, syscall.SOCK_STREAM, 256), want: syscall.EPROTONOSUPPORT, fd: true},
		{name: "socket(AF_INET, SOCK_STREAM, 263)", call: sock(syscall.AF_INET, syscall.SOCK_STREAM, 263), want: syscall.EINVAL, fd: true},
		{name: "socket(-1, SOCK_STREAM, 0)", call: sock(negative, syscall.SOCK_STREAM, 0), want: syscall.EAFNOSUPPORT, fd: true},
		{name: "socket(12345, SOCK_STREAM, 0)", call: sock(12345, syscall.SOCK_STREAM, 0), want: syscall.EAFNOSUPPORT, fd: true},
	}
}

// addrLenCases: call(length) with a good address and lengths Linux
// refuses (too short for a sockaddr_in, or more than a
// sockaddr_storage), each EINVAL.
func addrLenCases(what string, call func(n uintptr) (uintptr, syscall.Errno)) []abuseCase {
	var cases []abuseCase
	for _, n := range []struct {
		name string
		v    uintptr
	}{{"0", 0}, {"1", 1}, {"15", 15}, {"129", 129}, {"65536", 65536}, {"2^31-1", 1<<31 - 1}, {"-1", negative}, {"-1 in 32 bits", 0xffff_ffff}} {
		cases = append(cases, abuseCase{name: fmt.Sprintf(what, n.name), call: func() (uintptr, syscall.Errno) { return call(n.v) }, want: syscall.EINVAL})
	}
	return cases
}

// bindCases: bind(2) of addresses that fault, lengths out of range,
// families other than AF_INET.
func (t *abuse) bindCases() []abuseCase {
	bind := func(typ int, addr, n uintptr) func() (uintptr, syscall.Errno) {
		return func() (uintptr, syscall.Errno) { return sys(syscall.SYS_BIND, t.fresh(typ), addr, n) }
	}
	var cases []abuseCase
	for _, bad := range withNull(t.a.badPointers(16)) {
		cases = append(cases, abuseCase{name: "bind(UDP, " + bad.name + ", 16)", call: bind(syscall.SOCK_DGRAM, bad.p, 16), want: syscall.EFAULT})
	}
	cases = append(cases, addrLenCases("bind(UDP, 127.0.0.1:0, addrlen %s)", func(n uintptr) (uintptr, syscall.Errno) {
		return sys(syscall.SYS_BIND, t.fresh(syscall.SOCK_DGRAM), t.any, n)
	})...)
	unspec := func(ip [4]byte) uintptr { return t.a.sockaddr(syscall.AF_UNSPEC, ip, 0) }
	cases = append(cases, []abuseCase{
		{name: "bind(TCP, a sockaddr_in6, 28)", call: bind(syscall.SOCK_STREAM, t.in6, 28), want: syscall.EAFNOSUPPORT},
		{name: "bind(UDP, a sockaddr_in6, 28)", call: bind(syscall.SOCK_DGRAM, t.in6, 28), want: syscall.EAFNOSUPPORT},
		{name: "bind(TCP, a sockaddr_un, 110)", call: bind(syscall.SOCK_STREAM, t.unix, 110), want: syscall.EAFNOSUPPORT},
		{name: "bind(TCP, family 0xffff, 16)", call: bind(syscall.SOCK_STREAM, t.a.sockaddr(0xffff, loopback, 0), 16), want: syscall.EAFNOSUPPORT},
		{name: "bind(TCP, AF_UNSPEC 0.0.0.0:0, 16)", call: bind(syscall.SOCK_STREAM, unspec([4]byte{}), 16)},
		{name: "bind(TCP, AF_UNSPEC 127.0.0.1:0, 16)", call: bind(syscall.SOCK_STREAM, unspec(loopback), 16), want: syscall.EAFNOSUPPORT},
		{name: "bind(TCP, AF_UNSPEC, 2)", call: bind(syscall.SOCK_STREAM, unspec([4]byte{}), 2), want: syscall.EINVAL},
		{name: "bind(TCP, 192.0.2.1:0, 16)", call: bind(syscall.SOCK_STREAM, t.a.sockaddr(syscall.AF_INET, [4]byte{192, 0, 2, 1}, 0), 16), want: syscall.EADDRNOTAVAIL},
		{name: "bind(a bound UDP socket, 127.0.0.1:0, 16)", call: func() (uintptr, syscall.Errno) { return sys(syscall.SYS_BIND, uintptr(t.udp), t.any, 16) }, want: syscall.EINVAL},
	}...)
	return cases
}

// connectCases: connect(2) likewise, on non-blocking sockets so that a
// wrong answer cannot hang the test.
func (t *abuse) connectCases() []abuseCase {
	connect := func(typ int, addr, n uintptr) func() (uintptr, syscall.Errno) {
		return func() (uintptr, syscall.Errno) { return sys(syscall.SYS_CONNECT, t.fresh(typ), addr, n) }
	}
	var cases []abuseCase
	for _, bad := range withNull(t.a.badPointers(16)) {
		cases = append(cases,
			abuseCase{name: "connect(TCP, " + bad.name + ", 16)", call: connect(syscall.SOCK_STREAM, bad.p, 16), want: syscall.EFAULT},
			abuseCase{name: "connect(UDP, " + bad.name + ", 16)", call: connect(syscall.SOCK_DGRAM, bad.p, 16), want: syscall.EFAULT})
	}
	cases = append(cases, addrLenCases("connect(TCP, the listener, addrlen %s)", func(n uintptr) (uintptr, syscall.Errno) {
		return sys(syscall.SYS_CONNECT, t.fresh(syscall.SOCK_STREAM), t.toTCP, n)
	})...)
	cases = append(cases, addrLenCases("connect(UDP, the receiver, addrlen %s)", func(n uintptr) (uintptr, syscall.Errno) {
		return sys(syscall.SYS_CONNECT, t.fresh(syscall.SOCK_DGRAM), t.toUDP, n)
	})...)
	return append(cases, []abuseCase{
		{name: "connect(TCP, NULL, 0)", call: connect(syscall.SOCK_STREAM, 0, 0), want: syscall.EINVAL},
		{name: "connect(TCP, a sockaddr_in6, 28)", call: connect(syscall.SOCK_STREAM, t.in6, 28), want: syscall.EAFNOSUPPORT},
		{name: "connect(UDP, a sockaddr_in6, 28)", call: connect(syscall.SOCK_DGRAM, t.in6, 28), want: syscall.EAFNOSUPPORT},
		{name: "connect(TCP, a sockaddr_un, 110)", call: connect(syscall.SOCK_STREAM, t.unix, 110), want: syscall.EAFNOSUPPORT},
		{name: "connect(a listening socket, the listener, 16)", call: func() (uintptr, syscall.Errno) {
			return sys(syscall.SYS_CONNECT, uintptr(t.listener), t.toTCP, 16)
		}, want: syscall.EISCONN},
		{name: "connect(a connected socket, the listener, 16)", call: func() (uintptr, syscall.Errno) {
			return sys(syscall.SYS_CONNECT, uintptr(t.client), t.toTCP, 16)
		}, want: syscall.EISCONN},
	}...)
}

// sendCases: sendto(2) with a faulting buffer or address, bad lengths,
// other families.
func (t *abuse) sendCases() []abuseCase {
	sendto := func(fd int, buf, n, addr, alen uintptr) func() (uintptr, syscall.Errno) {
		return func() (uintptr, syscall.Errno) { return sys(syscall.SYS_SENDTO, uintptr(fd), buf, n, 0, addr, alen) }
	}
	var cases []abuseCase
	for _, bad := range t.a.badPointers(16) {
		cases = append(cases, abuseCase{name: "sendto(UDP, data, 4, " + bad.name + ", 16)", call: sendto(t.sender, t.buf, 4, bad.p, 16), want: syscall.EFAULT})
	}
	for _, bad := range withNull(t.a.badPointers(64)) {
		cases = append(cases,
			abuseCase{name: "sendto(UDP, " + bad.name + ", 64, the receiver, 16)", call: sendto(t.sender, bad.p, 64, t.toUDP, 16), want: syscall.EFAULT},
			abuseCase{name: "send(TCP, " + bad.name + ", 64)", call: sendto(t.client, bad.p, 64, 0, 0), want: syscall.EFAULT})
	}
	cases = append(cases, addrLenCases("sendto(UDP, data, 4, the receiver, addrlen %s)", func(n uintptr) (uintptr, syscall.Errno) {
		return sys(syscall.SYS_SENDTO, uintptr(t.sender), t.buf, 4, 0, t.toUDP, n)
	})...)
	return append(cases, []abuseCase{
		{name: "sendto(UDP, data, 4, NULL, 0) unconnected", call: sendto(t.sender, t.buf, 4, 0, 0), want: syscall.EDESTADDRREQ},
		{name: "sendto(UDP, data, 4, a sockaddr_in6, 28)", call: sendto(t.sender, t.buf, 4, t.in6, 28), want: syscall.EAFNOSUPPORT},
		{name: "sendto(UDP, data, 4, a sockaddr_un, 110)", call: sendto(t.sender, t.buf, 4, t.unix, 110), want: syscall.EAFNOSUPPORT},
		{name: "sendto(TCP, data, 4, " + "a faulting address, 16)", call: sendto(t.client, t.buf, 4, t.a.guard, 16), want: syscall.EFAULT},
		{name: "send(an unconnected TCP socket, data, 4)", call: func() (uintptr, syscall.Errno) {
			return sys(syscall.SYS_SENDTO, t.fresh(syscall.SOCK_STREAM), t.buf, 4, syscall.MSG_NOSIGNAL, 0, 0)
		}, want: syscall.EPIPE},
	}...)
}

// recvCases: recvfrom(2) with a faulting buffer, address or length
// pointer, with a datagram waiting so that the call gets as far as
// copying it out.
func (t *abuse) recvCases() []abuseCase {
	recvfrom := func(buf, n, addr, alen uintptr) func() (uintptr, syscall.Errno) {
		return func() (uintptr, syscall.Errno) {
			t.pendDatagram()
			return sys(syscall.SYS_RECVFROM, uintptr(t.udp), buf, n, syscall.MSG_DONTWAIT, addr, alen)
		}
	}
	var cases []abuseCase
	for _, bad := range withNull(t.a.badPointers(64)) {
		cases = append(cases, abuseCase{name: "recvfrom(UDP, " + bad.name + ", 64)", call: recvfrom(bad.p, 64, 0, 0), want: syscall.EFAULT})
	}
	for _, bad := range t.a.badPointers(16) {
		cases = append(cases, abuseCase{name: "recvfrom(UDP, buf, 64, " + bad.name + ", &16)", call: recvfrom(t.buf, 64, bad.p, t.lenp(16)), want: syscall.EFAULT})
	}
	for _, bad := range withNull(t.a.badPointers(4)) {
		cases = append(cases, abuseCase{name: "recvfrom(UDP, buf, 64, addr, addrlen at " + bad.name + ")", call: recvfrom(t.buf, 64, t.name, bad.p), want: syscall.EFAULT})
	}
	t.drain()
	return append(cases, []abuseCase{
		{name: "recvfrom(UDP, buf, 64, addr, &-1)", call: recvfrom(t.buf, 64, t.name, t.lenp(-1)), want: syscall.EINVAL},
		{name: "recvfrom(UDP, a 256-byte buf, length 2^40) of a 64-byte datagram", call: recvfrom(t.buf, 1<<40, 0, 0)},
		{name: "recv(TCP, a 256-byte buf, length 2^40), nothing to read", call: func() (uintptr, syscall.Errno) {
			return sys(syscall.SYS_RECVFROM, uintptr(t.client), t.buf, 1<<40, 0, 0, 0)
		}, want: syscall.EAGAIN},
		{name: "recvfrom(UDP, MSG_DONTWAIT), nothing to read", call: func() (uintptr, syscall.Errno) {
			t.drain()
			return sys(syscall.SYS_RECVFROM, uintptr(t.udp), t.buf, 64, syscall.MSG_DONTWAIT, 0, 0)
		}, want: syscall.EAGAIN},
	}...)
}

// acceptCases: accept4(2) with bad flags, and with a faulting address
// or length pointer while a connection is pending (which Linux then
// drops, as the call fails after taking it).
func (t *abuse) acceptCases() []abuseCase {
	accept := func(fd int, addr, alen, flags uintptr, pend bool) func() (uintptr, syscall.Errno) {
		return func() (uintptr, syscall.Errno) {
			if pend {
				t.pendConn()
			}
			return sys(syscall.SYS_ACCEPT4, uintptr(fd), addr, alen, flags)
		}
	}
	cases := []abuseCase{
		{name: "accept4(listener, flags 0x1234)", call: accept(t.listener, 0, 0, 0x1234, false), want: syscall.EINVAL},
		{name: "accept4(listener, flags O_APPEND)", call: accept(t.listener, 0, 0, syscall.O_APPEND, false), want: syscall.EINVAL},
		{name: "accept4(-1, flags 0x1234)", call: accept(-1, 0, 0, 0x1234, false), want: syscall.EBADF}, // the descriptor first, since Linux 5.5
		{name: "accept4(listener, flags -1)", call: accept(t.listener, 0, 0, negative, false), want: syscall.EINVAL},
		{name: "accept4(listener), nothing pending", call: accept(t.listener, 0, 0, 0, false), want: syscall.EAGAIN},
		{name: "accept4(UDP)", call: accept(t.udp, 0, 0, 0, false), want: syscall.EOPNOTSUPP},
		{name: "accept4(a TCP socket not listening)", call: func() (uintptr, syscall.Errno) {
			return sys(syscall.SYS_ACCEPT4, t.fresh(syscall.SOCK_STREAM), 0, 0, 0)
		}, want: syscall.EINVAL},
		{name: "accept4(a connected socket)", call: accept(t.client, 0, 0, 0, false), want: syscall.EINVAL},
	}
	for _, bad := range t.a.badPointers(16) {
		cases = append(cases, abuseCase{name: "accept4(listener, " + bad.name + ", &16), a connection pending", call: accept(t.listener, bad.p, t.lenp(16), 0, true), want: syscall.EFAULT, fd: true})
	}
	for _, bad := range withNull(t.a.badPointers(4)) {
		cases = append(cases, abuseCase{name: "accept4(listener, addr, addrlen at " + bad.name + "), a connection pending", call: accept(t.listener, t.name, bad.p, 0, true), want: syscall.EFAULT, fd: true})
	}
	return append(cases,
		abuseCase{name: "accept4(listener, addr, &-1), a connection pending", call: accept(t.listener, t.name, t.lenp(-1), 0, true), want: syscall.EINVAL, fd: true},
		abuseCase{name: "accept4(listener, NULL, NULL), a connection pending", call: accept(t.listener, 0, 0, syscall.SOCK_CLOEXEC, true), fd: true})
}

// nameCases: getsockname(2) and getpeername(2) with faulting pointers.
func (t *abuse) nameCases() []abuseCase {
	var cases []abuseCase
	for _, call := range []struct {
		name string
		trap uintptr
	}{{"getsockname", syscall.SYS_GETSOCKNAME}, {"getpeername", syscall.SYS_GETPEERNAME}} {
		name := func(addr, alen uintptr) func() (uintptr, syscall.Errno) {
			return func() (uintptr, syscall.Errno) { return sys(call.trap, uintptr(t.client), addr, alen) }
		}
		for _, bad := range withNull(t.a.badPointers(16)) {
			cases = append(cases, abuseCase{name: call.name + "(TCP, " + bad.name + ", &16)", call: name(bad.p, t.lenp(16)), want: syscall.EFAULT})
		}
		for _, bad := range withNull(t.a.badPointers(4)) {
			cases = append(cases, abuseCase{name: call.name + "(TCP, addr, addrlen at " + bad.name + ")", call: name(t.name, bad.p), want: syscall.EFAULT})
		}
		cases = append(cases,
			abuseCase{name: call.name + "(TCP, addr, &-1)", call: name(t.name, t.lenp(-1)), want: syscall.EINVAL},
			abuseCase{name: call.name + "(TCP, NULL, &0)", call: name(0, t.lenp(0))},
			abuseCase{name: call.name + "(TCP, addr, &1)", call: name(t.name, t.lenp(1))})
	}
	return append(cases, abuseCase{name: "getpeername(an unconnected TCP socket)", call: func() (uintptr, syscall.Errno) {
		return sys(syscall.SYS_GETPEERNAME, t.fresh(syscall.SOCK_STREAM), t.name, t.lenp(16))
	}, want: syscall.ENOTCONN})
}

// testSocketAbuse: every case of socket-abuse, then the sizes.
func testSocketAbuse() error {
	t, err := newAbuse()
	if err != nil {
		return err
	}
	defer t.close()
	var cases []abuseCase
	for _, part := range [][]abuseCase{
		t.socketCases(), t.bindCases(), t.connectCases(), t.sendCases(), t.recvCases(),
		t.acceptCases(), t.nameCases(), t.optCases(), t.msgCases(), t.notSocketCases(), t.sizeCases(),
	} {
		cases = append(cases, part...)
	}
	errs := []error{runAbuse(cases)}
	errs = append(errs, t.checkDatagramSizes(), checkBigTCPSend())
	if err := errors.Join(errs...); err != nil {
		return err
	}
	fmt.Printf("nettests: socket-abuse: %d calls answered as Linux does (or as documented)\n", len(cases))
	return nil
}
