package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// testUnixCalls: the AF_UNIX answers a program checks by errno, each as
// Linux gives it (checked on Linux 6.x with NETTESTS=unix-calls), and
// what fstat, /proc and epoll say about a unix socket.
func testUnixCalls() error {
	a, err := newArena()
	if err != nil {
		return err
	}
	pair := func(typ int) (int, int) {
		fds, err := syscall.Socketpair(syscall.AF_UNIX, typ|syscall.SOCK_NONBLOCK, 0)
		if err != nil {
			panic(err)
		}
		return fds[0], fds[1]
	}
	st0, st1 := pair(syscall.SOCK_STREAM)
	defer syscall.Close(st0) // unixEpoll closes st1
	closedPeer, gone := pair(syscall.SOCK_STREAM)
	syscall.Close(gone)
	defer syscall.Close(closedPeer)
	dg0, dg1 := pair(syscall.SOCK_DGRAM)
	defer syscall.Close(dg0)
	defer syscall.Close(dg1)
	lone, _ := syscall.Socket(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_NONBLOCK, 0)
	defer syscall.Close(lone)
	_, svp := a.alloc(8)
	_, bufp := a.alloc(64)
	unixAddr := func(name string, n int) (uintptr, uintptr) {
		b, p := a.alloc(112)
		b[0] = syscall.AF_UNIX
		copy(b[2:], name)
		return p, uintptr(n)
	}
	missing, missingLen := unixAddr("/nonexistent/socket", 2+20)
	longAddr, _ := unixAddr("/x", 0)
	abstractNobody, abstractLen := unixAddr("\x00valence-nobody-listens", 2+23)
	cases := []abuseCase{
		{name: "socketpair(AF_INET)", call: func() (uintptr, syscall.Errno) {
			return sys(syscall.SYS_SOCKETPAIR, syscall.AF_INET, syscall.SOCK_STREAM, 0, svp)
		}, want: syscall.EOPNOTSUPP},
		{name: "socketpair(AF_PACKET)", call: func() (uintptr, syscall.Errno) {
			return sys(syscall.SYS_SOCKETPAIR, syscall.AF_PACKET, syscall.SOCK_DGRAM, 0, svp)
		}, want: syscall.EOPNOTSUPP},
		{name: "socketpair(family 46, past AF_MAX)", call: func() (uintptr, syscall.Errno) {
			return sys(syscall.SYS_SOCKETPAIR, 46, syscall.SOCK_DGRAM, 0, svp)
		}, want: syscall.EAFNOSUPPORT},
		{name: "socketpair to a bad pointer", call: func() (uintptr, syscall.Errno) {
			return sys(syscall.SYS_SOCKETPAIR, syscall.AF_UNIX, syscall.SOCK_STREAM, 0, 16)
		}, want: syscall.EFAULT},
		{name: "socket(AF_UNIX, protocol 5)", call: func() (uintptr, syscall.Errno) {
			return sys(syscall.SYS_SOCKET, syscall.AF_UNIX, syscall.SOCK_STREAM, 5)
		}, want: syscall.EPROTONOSUPPORT, fd: true},
		{name: "connect to a missing path", call: func() (uintptr, syscall.Errno) {
			return sys(syscall.SYS_CONNECT, uintptr(lone), missing, missingLen)
		}, want: syscall.ENOENT},
		{name: "connect to an abstract name nobody has", call: func() (uintptr, syscall.Errno) {
			return sys(syscall.SYS_CONNECT, uintptr(lone), abstractNobody, abstractLen)
		}, want: syscall.ECONNREFUSED},
		{name: "bind with an address longer than sockaddr_un", call: func() (uintptr, syscall.Errno) {
			return sys(syscall.SYS_BIND, uintptr(lone), longAddr, 111)
		}, want: syscall.EINVAL},
		{name: "listen unbound", call: func() (uintptr, syscall.Errno) {
			return sys(syscall.SYS_LISTEN, uintptr(lone), 5)
		}, want: syscall.EINVAL},
		{name: "accept on a socket not listening", call: func() (uintptr, syscall.Errno) {
			return sys(syscall.SYS_ACCEPT4, uintptr(lone), 0, 0, 0)
		}, want: syscall.EINVAL},
		{name: "listen on a datagram socket", call: func() (uintptr, syscall.Errno) {
			return sys(syscall.SYS_LISTEN, uintptr(dg0), 5)
		}, want: syscall.EOPNOTSUPP},
		{name: "send on an unconnected stream", call: func() (uintptr, syscall.Errno) {
			return sys(syscall.SYS_SENDTO, uintptr(lone), bufp, 1, syscall.MSG_NOSIGNAL, 0, 0)
		}, want: syscall.ENOTCONN},
		{name: "send to a closed peer, MSG_NOSIGNAL", call: func() (uintptr, syscall.Errno) {
			return sys(syscall.SYS_SENDTO, uintptr(closedPeer), bufp, 1, syscall.MSG_NOSIGNAL, 0, 0)
		}, want: syscall.EPIPE},
		{name: "read from a closed peer: end of file", call: func() (uintptr, syscall.Errno) {
			return sys(syscall.SYS_READ, uintptr(closedPeer), bufp, 8)
		}, want: 0},
		{name: "recv with nothing queued", call: func() (uintptr, syscall.Errno) {
			return sys(syscall.SYS_RECVFROM, uintptr(st0), bufp, 8, 0, 0, 0)
		}, want: syscall.EAGAIN},
		{name: "sendto an address on a connected stream", call: func() (uintptr, syscall.Errno) {
			return sys(syscall.SYS_SENDTO, uintptr(st0), bufp, 1, 0, abstractNobody, abstractLen)
		}, want: syscall.EISCONN},
		{name: "getpeername unconnected", call: func() (uintptr, syscall.Errno) {
			return sys(syscall.SYS_GETPEERNAME, uintptr(lone), bufp, a.u32(64))
		}, want: syscall.ENOTCONN},
		{name: "shutdown(how 7)", call: func() (uintptr, syscall.Errno) {
			return sys(syscall.SYS_SHUTDOWN, uintptr(st0), 7)
		}, want: syscall.EINVAL},
		{name: "getsockopt(SO_TCP level)", call: func() (uintptr, syscall.Errno) {
			return sys(syscall.SYS_GETSOCKOPT, uintptr(st0), syscall.IPPROTO_TCP, 1, bufp, a.u32(4))
		}, want: syscall.EOPNOTSUPP},
		{name: "getsockopt(unknown)", call: func() (uintptr, syscall.Errno) {
			return sys(syscall.SYS_GETSOCKOPT, uintptr(st0), syscall.SOL_SOCKET, 9999, bufp, a.u32(4))
		}, want: syscall.ENOPROTOOPT},
	}
	if err := runAbuse(cases); err != nil {
		return err
	}
	// Options.
	for _, o := range []struct {
		name      string
		opt, want int
	}{
		{"SO_TYPE", syscall.SO_TYPE, syscall.SOCK_DGRAM},
		{"SO_DOMAIN", 39, syscall.AF_UNIX},
		{"SO_PROTOCOL", 38, 0},
		{"SO_ACCEPTCONN", syscall.SO_ACCEPTCONN, 0},
		{"SO_ERROR", syscall.SO_ERROR, 0},
	} {
		if v, err := syscall.GetsockoptInt(dg0, syscall.SOL_SOCKET, o.opt); err != nil || v != o.want {
			return fmt.Errorf("getsockopt(%s) = %d, %v; want %d", o.name, v, err, o.want)
		}
	}
	syscall.SetsockoptInt(st0, syscall.SOL_SOCKET, syscall.SO_SNDBUF, 10000)
	if v, _ := syscall.GetsockoptInt(st0, syscall.SOL_SOCKET, syscall.SO_SNDBUF); v != 20000 {
		return fmt.Errorf("SO_SNDBUF after setting 10000: %d, want 20000 (doubled, as Linux)", v)
	}
	// fstat and /proc.
	var st syscall.Stat_t
	if err := syscall.Fstat(st0, &st); err != nil || st.Mode&syscall.S_IFMT != syscall.S_IFSOCK {
		return fmt.Errorf("fstat mode %#o, %v; want S_IFSOCK", st.Mode, err)
	}
	link, err := os.Readlink(filepath.Join("/proc/self/fd", strconv.Itoa(st0)))
	if want := fmt.Sprintf("socket:[%d]", st.Ino); err != nil || link != want {
		return fmt.Errorf("/proc/self/fd/%d = %q, %v; want %q", st0, link, err, want)
	}
	return unixEpoll(st0, st1)
}

// unixEpoll: an edge-triggered interest reports each arrival once; the
// peer's shutdown is EPOLLRDHUP, its close EPOLLHUP.
func unixEpoll(a, b int) error {
	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return err
	}
	defer syscall.Close(ep)
	ev := syscall.EpollEvent{Events: syscall.EPOLLIN | syscall.EPOLLRDHUP | syscall.EPOLLOUT | 1<<31, Fd: int32(a)} // 1<<31: EPOLLET
	if err := syscall.EpollCtl(ep, syscall.EPOLL_CTL_ADD, a, &ev); err != nil {
		return err
	}
	evs := make([]syscall.EpollEvent, 4)
	wait := func() uint32 {
		n, _ := syscall.EpollWait(ep, evs, 200)
		if n <= 0 {
			return 0
		}
		return evs[0].Events
	}
	if got := wait(); got != syscall.EPOLLOUT {
		return fmt.Errorf("idle connected socket: events %#x, want EPOLLOUT", got)
	}
	if got := wait(); got != 0 {
		return fmt.Errorf("edge-triggered, nothing new: events %#x, want none", got)
	}
	syscall.Write(b, []byte("x"))
	if got := wait(); got&syscall.EPOLLIN == 0 {
		return fmt.Errorf("after a write: events %#x, want EPOLLIN", got)
	}
	syscall.Shutdown(b, syscall.SHUT_WR)
	if got := wait(); got&syscall.EPOLLRDHUP == 0 {
		return fmt.Errorf("after the peer's shutdown: events %#x, want EPOLLRDHUP", got)
	}
	syscall.Close(b)
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if got := wait(); got&syscall.EPOLLHUP != 0 {
			return nil
		}
	}
	return errors.New("no EPOLLHUP after the peer closed")
}
