package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"runtime"
	"syscall"
	"time"
)

// abuseWait bounds every wait of socket-abuse for a datagram or a
// connection on the loopback.
const abuseWait = 10 * time.Second

// bigOption is a 1 MiB option value whose first int is 1.
var bigOption = func() []byte {
	b := make([]byte, 1<<20)
	b[0] = 1
	return b
}()

// optCases: setsockopt(2) and getsockopt(2) with faulting values and
// lengths, negative and huge lengths, unknown levels and names.
func (t *abuse) optCases() []abuseCase {
	set := func(level, name, val, n uintptr) func() (uintptr, syscall.Errno) {
		return func() (uintptr, syscall.Errno) {
			defer runtime.KeepAlive(bigOption)
			return sys(syscall.SYS_SETSOCKOPT, uintptr(t.client), level, name, val, n)
		}
	}
	get := func(level, name, val, lenp uintptr) func() (uintptr, syscall.Errno) {
		return func() (uintptr, syscall.Errno) {
			return sys(syscall.SYS_GETSOCKOPT, uintptr(t.client), level, name, val, lenp)
		}
	}
	one := t.a.u32(1)
	_, val := t.a.alloc(64)
	bound := &deviation{syscall.EINVAL, "option values are bounded at sockproto.MaxOptLen (256 bytes) so that one fits netd's message; Linux reads the int it needs and ignores the rest"}
	var cases []abuseCase
	for _, bad := range withNull(t.a.badPointers(4)) {
		cases = append(cases,
			abuseCase{name: "setsockopt(SO_REUSEADDR, " + bad.name + ", 4)", call: set(syscall.SOL_SOCKET, syscall.SO_REUSEADDR, bad.p, 4), want: syscall.EFAULT},
			abuseCase{name: "getsockopt(SO_TYPE, " + bad.name + ", &4)", call: get(syscall.SOL_SOCKET, syscall.SO_TYPE, bad.p, t.lenp(4)), want: syscall.EFAULT},
			abuseCase{name: "getsockopt(SO_RCVBUF, " + bad.name + ", &4)", call: get(syscall.SOL_SOCKET, syscall.SO_RCVBUF, bad.p, t.lenp(4)), want: syscall.EFAULT},
			abuseCase{name: "getsockopt(SO_TYPE, val, optlen at " + bad.name + ")", call: get(syscall.SOL_SOCKET, syscall.SO_TYPE, val, bad.p), want: syscall.EFAULT},
			abuseCase{name: "getsockopt(TCP_NODELAY, val, optlen at " + bad.name + ")", call: get(syscall.IPPROTO_TCP, syscall.TCP_NODELAY, val, bad.p), want: syscall.EFAULT})
	}
	return append(cases, []abuseCase{
		{name: "setsockopt(SO_REUSEADDR, &1, 4)", call: set(syscall.SOL_SOCKET, syscall.SO_REUSEADDR, one, 4)},
		{name: "setsockopt(SO_REUSEADDR, &1, -1)", call: set(syscall.SOL_SOCKET, syscall.SO_REUSEADDR, one, negative), want: syscall.EINVAL},
		{name: "setsockopt(SO_REUSEADDR, &1, -1 in 32 bits)", call: set(syscall.SOL_SOCKET, syscall.SO_REUSEADDR, one, 0xffff_ffff), want: syscall.EINVAL},
		{name: "setsockopt(SO_REUSEADDR, &1, 0)", call: set(syscall.SOL_SOCKET, syscall.SO_REUSEADDR, one, 0), want: syscall.EINVAL},
		{name: "setsockopt(SO_REUSEADDR, 1 MiB, 1 MiB)", call: set(syscall.SOL_SOCKET, syscall.SO_REUSEADDR, addrOf(bigOption), 1<<20), dev: bound},
		{name: "setsockopt(TCP_NODELAY, 1 MiB, 1 MiB)", call: set(syscall.IPPROTO_TCP, syscall.TCP_NODELAY, addrOf(bigOption), 1<<20), dev: bound},
		{name: "setsockopt(SO_REUSEADDR, a 4-byte value, 1 MiB)", call: set(syscall.SOL_SOCKET, syscall.SO_REUSEADDR, t.a.guard-4, 1<<20), dev: bound},
		{name: "setsockopt(level 12345, 1)", call: set(12345, 1, one, 4), want: syscall.ENOPROTOOPT},
		{name: "setsockopt(SOL_SOCKET, name 12345)", call: set(syscall.SOL_SOCKET, 12345, one, 4), want: syscall.ENOPROTOOPT},
		{name: "setsockopt(IPPROTO_TCP, name 12345)", call: set(syscall.IPPROTO_TCP, 12345, one, 4), want: syscall.ENOPROTOOPT},
		{name: "getsockopt(SO_TYPE, val, &-1)", call: get(syscall.SOL_SOCKET, syscall.SO_TYPE, val, t.lenp(-1)), want: syscall.EINVAL},
		{name: "getsockopt(SO_RCVBUF, val, &-1)", call: get(syscall.SOL_SOCKET, syscall.SO_RCVBUF, val, t.lenp(-1)), want: syscall.EINVAL},
		{name: "getsockopt(TCP_NODELAY, val, &-1)", call: get(syscall.IPPROTO_TCP, syscall.TCP_NODELAY, val, t.lenp(-1)), want: syscall.EINVAL},
		{name: "getsockopt(SO_ERROR, val, &2^20)", call: get(syscall.SOL_SOCKET, syscall.SO_ERROR, val, t.lenp(1<<20))},
		{name: "getsockopt(level 12345, 1)", call: get(12345, 1, val, t.lenp(4)), want: syscall.EOPNOTSUPP},
		{name: "getsockopt(SOL_SOCKET, name 12345)", call: get(syscall.SOL_SOCKET, 12345, val, t.lenp(4)), want: syscall.ENOPROTOOPT},
	}...)
}

// msgCases: sendmsg(2) and recvmsg(2) with a faulting msghdr, iovec
// array, iovec base, name; out-of-range counts and lengths; ancillary
// data.
func (t *abuse) msgCases() []abuseCase {
	a := t.a
	sendmsg := func(hdr uintptr) func() (uintptr, syscall.Errno) {
		return func() (uintptr, syscall.Errno) { return sys(syscall.SYS_SENDMSG, uintptr(t.sender), hdr, 0) }
	}
	recvmsg := func(hdr uintptr, pend bool) func() (uintptr, syscall.Errno) {
		return func() (uintptr, syscall.Errno) {
			if pend {
				t.pendDatagram()
			}
			return sys(syscall.SYS_RECVMSG, uintptr(t.udp), hdr, syscall.MSG_DONTWAIT)
		}
	}
	iov := a.iovec(t.buf, 4)
	recvIov := a.iovec(t.buf, 256)
	var cases []abuseCase
	for _, bad := range withNull(a.badPointers(56)) {
		cases = append(cases,
			abuseCase{name: "sendmsg(msghdr at " + bad.name + ")", call: sendmsg(bad.p), want: syscall.EFAULT},
			abuseCase{name: "recvmsg(msghdr at " + bad.name + ")", call: recvmsg(bad.p, true), want: syscall.EFAULT})
	}
	for _, bad := range withNull(a.badPointers(16)) {
		cases = append(cases,
			abuseCase{name: "sendmsg(iovec array at " + bad.name + ")", call: sendmsg(a.msghdr(t.toUDP, 16, bad.p, 1, 0, 0)), want: syscall.EFAULT},
			abuseCase{name: "recvmsg(iovec array at " + bad.name + ")", call: recvmsg(a.msghdr(0, 0, bad.p, 1, 0, 0), true), want: syscall.EFAULT})
	}
	for _, bad := range withNull(a.badPointers(64)) {
		cases = append(cases,
			abuseCase{name: "sendmsg(an iovec of 64 bytes at " + bad.name + ")", call: sendmsg(a.msghdr(t.toUDP, 16, a.iovec(bad.p, 64), 1, 0, 0)), want: syscall.EFAULT},
			abuseCase{name: "recvmsg(an iovec of 64 bytes at " + bad.name + ")", call: recvmsg(a.msghdr(0, 0, a.iovec(bad.p, 64), 1, 0, 0), true), want: syscall.EFAULT})
	}
	for _, bad := range a.badPointers(16) {
		cases = append(cases,
			abuseCase{name: "sendmsg(msg_name at " + bad.name + ")", call: sendmsg(a.msghdr(bad.p, 16, iov, 1, 0, 0)), want: syscall.EFAULT},
			abuseCase{name: "recvmsg(msg_name at " + bad.name + ")", call: recvmsg(a.msghdr(bad.p, 16, recvIov, 1, 0, 0), true), want: syscall.EFAULT})
	}
	// 1025 iovecs of one byte each: UIO_MAXIOV is 1024.
	pairs := make([]uintptr, 0, 2*1025)
	for range 1025 {
		pairs = append(pairs, t.buf, 1)
	}
	many := a.iovec(pairs...)
	_, garbageAt := a.alloc(16) // a cmsghdr of zeros: cmsg_len 0
	tos, tosAt := a.alloc(24)   // CMSG_SPACE(4): one IP_TOS control message
	binary.LittleEndian.PutUint64(tos, 20)
	binary.LittleEndian.PutUint32(tos[8:], syscall.IPPROTO_IP)
	binary.LittleEndian.PutUint32(tos[12:], syscall.IP_TOS)
	tos[16] = 0x10
	noAncillary := &deviation{syscall.EINVAL, "ancillary data is not supported yet: a sendmsg that carries some is EINVAL (sys_sockmsg.go)"}
	_, ctlRoom := a.alloc(64)
	t.drain()
	return append(cases, []abuseCase{
		{name: "sendmsg(msg_namelen 15)", call: sendmsg(a.msghdr(t.toUDP, 15, iov, 1, 0, 0)), want: syscall.EINVAL},
		{name: "sendmsg(msg_namelen 0, msg_name set), unconnected", call: sendmsg(a.msghdr(t.toUDP, 0, iov, 1, 0, 0)), want: syscall.EDESTADDRREQ},
		{name: "sendmsg(msg_namelen 129)", call: sendmsg(a.msghdr(t.toUDP, 129, iov, 1, 0, 0))},
		{name: "sendmsg(msg_namelen -1)", call: sendmsg(a.msghdr(t.toUDP, 0xffff_ffff, iov, 1, 0, 0)), want: syscall.EINVAL},
		{name: "sendmsg(a sockaddr_in6)", call: sendmsg(a.msghdr(t.in6, 28, iov, 1, 0, 0)), want: syscall.EAFNOSUPPORT},
		{name: "sendmsg(1024 iovecs)", call: sendmsg(a.msghdr(t.toUDP, 16, many, 1024, 0, 0))},
		{name: "sendmsg(1025 iovecs)", call: sendmsg(a.msghdr(t.toUDP, 16, many, 1025, 0, 0)), want: syscall.EMSGSIZE},
		{name: "sendmsg(2^32+1 iovecs)", call: sendmsg(a.msghdr(t.toUDP, 16, many, 1<<32+1, 0, 0)), want: syscall.EMSGSIZE},
		{name: "sendmsg(two iovecs of 40000 bytes: 80000 bytes of UDP)", call: sendmsg(a.msghdr(t.toUDP, 16, a.iovec(addrOf(bigOption), 40000, addrOf(bigOption), 40000), 2, 0, 0)), want: syscall.EMSGSIZE},
		{name: "sendmsg(msg_control: a cmsghdr of zeros)", call: sendmsg(a.msghdr(t.toUDP, 16, iov, 1, garbageAt, 16)), want: syscall.EINVAL},
		{name: "sendmsg(msg_control: one IP_TOS message)", call: sendmsg(a.msghdr(t.toUDP, 16, iov, 1, tosAt, 24)), dev: noAncillary},
		{name: "sendmsg(msg_control at a PROT_NONE page)", call: sendmsg(a.msghdr(t.toUDP, 16, iov, 1, a.guard, 16)), want: syscall.EFAULT},
		{name: "recvmsg(1025 iovecs)", call: recvmsg(a.msghdr(0, 0, many, 1025, 0, 0), true), want: syscall.EMSGSIZE},
		{name: "recvmsg(msg_namelen -1)", call: recvmsg(a.msghdr(t.name, 0xffff_ffff, recvIov, 1, 0, 0), true), want: syscall.EINVAL},
		{name: "recvmsg(msg_control: 64 bytes of room)", call: recvmsg(a.msghdr(t.name, 16, recvIov, 1, ctlRoom, 64), true)},
		{name: "recvmsg(MSG_DONTWAIT), nothing to read", call: func() (uintptr, syscall.Errno) {
			t.drain()
			return recvmsg(a.msghdr(0, 0, recvIov, 1, 0, 0), false)()
		}, want: syscall.EAGAIN},
	}...)
}

// notSocketCases: every socket call on a pipe, /dev/null and an epoll
// descriptor (ENOTSOCK), and on a closed descriptor and -1 (EBADF).
func (t *abuse) notSocketCases() []abuseCase {
	var p [2]int
	if err := syscall.Pipe2(p[:], syscall.O_CLOEXEC|syscall.O_NONBLOCK); err != nil {
		return []abuseCase{{name: "pipe2", call: func() (uintptr, syscall.Errno) { return 0, err.(syscall.Errno) }}}
	}
	null, _ := syscall.Open("/dev/null", syscall.O_RDWR|syscall.O_CLOEXEC, 0)
	ep, _ := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	// A closed descriptor that no socket made meanwhile reuses: Linux
	// and Valence give the lowest free number, and 1000 is far above.
	const closed = 1000
	syscall.Dup3(null, closed, syscall.O_CLOEXEC)
	syscall.Close(closed)
	t.closeLater = append(t.closeLater, p[0], p[1], null, ep)
	lenp := t.lenp(16)
	one := t.a.u32(1)
	hdr := t.a.msghdr(t.toUDP, 16, t.a.iovec(t.buf, 4), 1, 0, 0)
	calls := []struct {
		name string
		trap uintptr
		args func(fd uintptr) []uintptr
	}{
		{"bind", syscall.SYS_BIND, func(fd uintptr) []uintptr { return []uintptr{fd, t.any, 16} }},
		{"connect", syscall.SYS_CONNECT, func(fd uintptr) []uintptr { return []uintptr{fd, t.toTCP, 16} }},
		{"listen", syscall.SYS_LISTEN, func(fd uintptr) []uintptr { return []uintptr{fd, 1} }},
		{"accept4", syscall.SYS_ACCEPT4, func(fd uintptr) []uintptr { return []uintptr{fd, 0, 0, 0} }},
		{"getsockname", syscall.SYS_GETSOCKNAME, func(fd uintptr) []uintptr { return []uintptr{fd, t.name, lenp} }},
		{"getpeername", syscall.SYS_GETPEERNAME, func(fd uintptr) []uintptr { return []uintptr{fd, t.name, lenp} }},
		{"setsockopt", syscall.SYS_SETSOCKOPT, func(fd uintptr) []uintptr {
			return []uintptr{fd, syscall.SOL_SOCKET, syscall.SO_REUSEADDR, one, 4}
		}},
		{"getsockopt", syscall.SYS_GETSOCKOPT, func(fd uintptr) []uintptr {
			return []uintptr{fd, syscall.SOL_SOCKET, syscall.SO_TYPE, t.name, lenp}
		}},
		{"shutdown", syscall.SYS_SHUTDOWN, func(fd uintptr) []uintptr { return []uintptr{fd, syscall.SHUT_RDWR} }},
		{"sendto", syscall.SYS_SENDTO, func(fd uintptr) []uintptr { return []uintptr{fd, t.buf, 4, 0, t.toUDP, 16} }},
		{"recvfrom", syscall.SYS_RECVFROM, func(fd uintptr) []uintptr { return []uintptr{fd, t.buf, 4, syscall.MSG_DONTWAIT, 0, 0} }},
		{"sendmsg", syscall.SYS_SENDMSG, func(fd uintptr) []uintptr { return []uintptr{fd, hdr, 0} }},
		{"recvmsg", syscall.SYS_RECVMSG, func(fd uintptr) []uintptr { return []uintptr{fd, hdr, syscall.MSG_DONTWAIT} }},
	}
	fds := []struct {
		name string
		fd   uintptr
		want syscall.Errno
	}{
		{"a pipe", uintptr(p[0]), syscall.ENOTSOCK},
		{"/dev/null", uintptr(null), syscall.ENOTSOCK},
		{"an epoll descriptor", uintptr(ep), syscall.ENOTSOCK},
		{"a closed descriptor", uintptr(closed), syscall.EBADF},
		{"descriptor -1", negative, syscall.EBADF},
		{"descriptor 1<<20", 1 << 20, syscall.EBADF},
	}
	var cases []abuseCase
	for _, c := range calls {
		for _, f := range fds {
			cases = append(cases, abuseCase{name: fmt.Sprintf("%s(%s)", c.name, f.name), call: func() (uintptr, syscall.Errno) {
				return sys(c.trap, c.args(f.fd)...)
			}, want: f.want, fd: c.name == "accept4"})
		}
	}
	return append(cases,
		abuseCase{name: "shutdown(TCP, 3)", call: func() (uintptr, syscall.Errno) { return sys(syscall.SYS_SHUTDOWN, uintptr(t.client), 3) }, want: syscall.EINVAL},
		abuseCase{name: "shutdown(TCP, -1)", call: func() (uintptr, syscall.Errno) { return sys(syscall.SYS_SHUTDOWN, uintptr(t.client), negative) }, want: syscall.EINVAL},
		abuseCase{name: "shutdown(an unconnected TCP socket, SHUT_RDWR)", call: func() (uintptr, syscall.Errno) {
			return sys(syscall.SYS_SHUTDOWN, t.fresh(syscall.SOCK_STREAM), syscall.SHUT_RDWR)
		}, want: syscall.ENOTCONN},
		abuseCase{name: "listen(UDP)", call: func() (uintptr, syscall.Errno) { return sys(syscall.SYS_LISTEN, uintptr(t.udp), 1) }, want: syscall.EOPNOTSUPP})
}

// Datagram sizes: what one UDP datagram may carry.
const (
	maxInline = 3072       // sockproto.MaxInline: Valence's datagram limit for now
	maxUDP    = 65535 - 28 // Linux's: an IPv4 datagram less the IP and UDP headers
)

// sizeCases: datagrams at and beyond the limits.
func (t *abuse) sizeCases() []abuseCase {
	send := func(n uintptr) func() (uintptr, syscall.Errno) {
		return func() (uintptr, syscall.Errno) {
			defer runtime.KeepAlive(bigOption)
			return sys(syscall.SYS_SENDTO, uintptr(t.sender), addrOf(bigOption), n, 0, t.toUDP, 16)
		}
	}
	inline := &deviation{syscall.EMSGSIZE, fmt.Sprintf("a datagram is at most %d bytes while socket data moves inline in netd's messages (docs/net.md)", maxInline)}
	return []abuseCase{
		{name: fmt.Sprintf("sendto(UDP, %d bytes)", maxInline), call: send(maxInline)},
		{name: fmt.Sprintf("sendto(UDP, %d bytes)", maxInline+1), call: send(maxInline + 1), dev: inline},
		{name: fmt.Sprintf("sendto(UDP, %d bytes)", maxUDP), call: send(maxUDP), dev: inline},
		{name: fmt.Sprintf("sendto(UDP, %d bytes)", maxUDP+1), call: send(maxUDP + 1), want: syscall.EMSGSIZE},
		{name: "sendto(UDP, 1 MiB)", call: send(1 << 20), want: syscall.EMSGSIZE},
		{name: "sendto(UDP, length 2^40 from a 1 MiB buffer)", call: send(1 << 40), want: syscall.EMSGSIZE},
	}
}

// checkDatagramSizes: the largest datagram Valence carries arrives whole.
func (t *abuse) checkDatagramSizes() error {
	t.drain()
	want := pattern(maxInline, 7)
	if err := syscall.Sendto(t.sender, want, 0, &syscall.SockaddrInet4{Addr: loopback, Port: t.udpPort}); err != nil {
		return fmt.Errorf("a datagram of %d bytes: %w", maxInline, err)
	}
	if !waitReadable(t.udp, abuseWait) {
		return fmt.Errorf("a datagram of %d bytes never arrived", maxInline)
	}
	got := make([]byte, 2*maxInline)
	n, _, err := syscall.Recvfrom(t.udp, got, 0)
	if err != nil || !bytes.Equal(got[:n], want) {
		return fmt.Errorf("a datagram of %d bytes came back as %d bytes (%v), or other bytes", maxInline, n, err)
	}
	return nil
}

// checkBigTCPSend: one blocking sendto of 2 MiB on TCP while the peer
// reads. Linux sends it all; Valence may send part (a call moves at most
// 1 MiB): either way what the call says it sent arrives, byte-exact.
func checkBigTCPSend() error {
	client, server, err := rawPair()
	if err != nil {
		return err
	}
	defer syscall.Close(client)
	const n = 2 << 20
	data := pattern(n, 11)
	got := make(chan []byte, 1)
	go func() {
		defer syscall.Close(server)
		var all []byte
		buf := make([]byte, 64<<10)
		for {
			k, err := syscall.Read(server, buf)
			if k <= 0 || err != nil {
				break
			}
			all = append(all, buf[:k]...)
		}
		got <- all
	}()
	sent, _, e := syscall.Syscall6(syscall.SYS_SENDTO, uintptr(client), addrOf(data), n, 0, 0, 0)
	runtime.KeepAlive(data)
	if e != 0 {
		return fmt.Errorf("sendto(TCP, 2 MiB): %v", e)
	}
	if sent == 0 || sent > n {
		return fmt.Errorf("sendto(TCP, 2 MiB) says it sent %d bytes", sent)
	}
	if sent < n {
		fmt.Printf("nettests: socket-abuse: sendto(TCP, 2 MiB) sent %d bytes (Linux sends all of a blocking send)\n", sent)
	}
	syscall.Shutdown(client, syscall.SHUT_WR)
	select {
	case all := <-got:
		if !bytes.Equal(all, data[:sent]) {
			return fmt.Errorf("sendto(TCP, 2 MiB) sent %d bytes; the peer read %d, or other bytes", sent, len(all))
		}
	case <-time.After(2 * time.Minute):
		return fmt.Errorf("sendto(TCP, 2 MiB) sent %d bytes; the peer had not read them all after 2 minutes", sent)
	}
	return nil
}
