package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"syscall"
	"time"
)

// socket-abuse: the socket system calls made the way a hostile or broken
// program makes them, with raw syscall.Syscall6: addresses that fault,
// lengths out of range, families and types that do not exist, descriptors
// that are not sockets, oversized messages. Every call must come back
// with an errno (never a crash, never a hang: the sockets are
// non-blocking wherever a wrong answer could block), and the errno must
// be the one Linux gives. The expectations were checked by running this
// program on Linux 6.18 (NETTESTS=socket-abuse go run ./nettests); where
// Valence answers otherwise on purpose, the case names the deviation and
// why, and the test accepts it and prints it.

// abuseCase is one call and the answer Linux gives to it.
type abuseCase struct {
	name string
	call func() (uintptr, syscall.Errno)
	want syscall.Errno // Linux's errno; 0: the call succeeds
	dev  *deviation    // Valence's documented other answer, if any
	fd   bool          // a success returns a descriptor, to be closed
}

// deviation is an answer Valence gives instead of Linux's, on purpose.
type deviation struct {
	errno syscall.Errno
	why   string
}

// sys makes a raw system call with up to six arguments.
func sys(trap uintptr, args ...uintptr) (uintptr, syscall.Errno) {
	var a [6]uintptr
	copy(a[:], args)
	r, _, e := syscall.Syscall6(trap, a[0], a[1], a[2], a[3], a[4], a[5])
	return r, e
}

// errnoName is e as Linux's header names it ("success" for 0).
func errnoName(e syscall.Errno) string {
	if e == 0 {
		return "success"
	}
	if n, ok := errnoNames[e]; ok {
		return n
	}
	return fmt.Sprintf("errno %d", int(e))
}

var errnoNames = map[syscall.Errno]string{
	syscall.EPERM: "EPERM", syscall.EBADF: "EBADF", syscall.EAGAIN: "EAGAIN", syscall.EFAULT: "EFAULT",
	syscall.EINVAL: "EINVAL", syscall.EMFILE: "EMFILE", syscall.ENFILE: "ENFILE", syscall.EPIPE: "EPIPE",
	syscall.ENOTSOCK: "ENOTSOCK", syscall.EDESTADDRREQ: "EDESTADDRREQ", syscall.EMSGSIZE: "EMSGSIZE",
	syscall.EPROTOTYPE: "EPROTOTYPE", syscall.ENOPROTOOPT: "ENOPROTOOPT", syscall.EPROTONOSUPPORT: "EPROTONOSUPPORT",
	syscall.ESOCKTNOSUPPORT: "ESOCKTNOSUPPORT", syscall.EOPNOTSUPP: "EOPNOTSUPP", syscall.EAFNOSUPPORT: "EAFNOSUPPORT",
	syscall.EADDRINUSE: "EADDRINUSE", syscall.EADDRNOTAVAIL: "EADDRNOTAVAIL", syscall.ENETDOWN: "ENETDOWN",
	syscall.ECONNRESET: "ECONNRESET", syscall.ENOBUFS: "ENOBUFS", syscall.EISCONN: "EISCONN",
	syscall.ENOTCONN: "ENOTCONN", syscall.ECONNREFUSED: "ECONNREFUSED", syscall.EINPROGRESS: "EINPROGRESS",
	syscall.EINTR: "EINTR", syscall.ENOMEM: "ENOMEM", syscall.ENOSYS: "ENOSYS",
}

// runAbuse runs the cases and reports every mismatch at once.
func runAbuse(cases []abuseCase) error {
	var errs []error
	for _, c := range cases {
		r, e := c.call()
		if e == 0 && c.fd {
			syscall.Close(int(r))
		}
		switch {
		case e == c.want:
		case c.dev != nil && e == c.dev.errno:
			fmt.Printf("nettests: socket-abuse: %s: %s, where Linux says %s (deviation: %s)\n",
				c.name, errnoName(e), errnoName(c.want), c.dev.why)
		default:
			errs = append(errs, fmt.Errorf("%s: %s, want %s (Linux)", c.name, errnoName(e), errnoName(c.want)))
		}
	}
	if len(errs) > 0 {
		fmt.Printf("nettests: socket-abuse: %d of %d calls answered otherwise than Linux:\n", len(errs), len(cases))
		for _, err := range errs {
			fmt.Printf("nettests: socket-abuse:   %v\n", err)
		}
	}
	return errors.Join(errs...)
}

// arena is memory from mmap whose addresses the tests pass to the
// kernel: it never moves, and its last page is PROT_NONE, so that an
// address in it, or a structure running into it, faults.
type arena struct {
	mem   []byte
	used  int
	guard uintptr // the PROT_NONE page's address
}

const (
	pageSize   = 4096
	arenaPages = 16 // room for an iovec array of 1025 entries and the rest
)

func newArena() (*arena, error) {
	mem, err := syscall.Mmap(-1, 0, (arenaPages+1)*pageSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil, fmt.Errorf("mmap: %w", err)
	}
	if err := syscall.Mprotect(mem[arenaPages*pageSize:], syscall.PROT_NONE); err != nil {
		return nil, fmt.Errorf("mprotect: %w", err)
	}
	return &arena{mem: mem[:arenaPages*pageSize], guard: addrOf(mem) + arenaPages*pageSize}, nil
}

// alloc returns n fresh bytes of the arena and their address.
func (a *arena) alloc(n int) ([]byte, uintptr) {
	n = (n + 15) &^ 15
	if a.used+n > len(a.mem) {
		panic("nettests: arena exhausted")
	}
	b := a.mem[a.used : a.used+n : a.used+n]
	a.used += n
	return b, addrOf(b)
}

// sockaddr places a struct sockaddr_in of family fam in the arena.
func (a *arena) sockaddr(fam uint16, ip [4]byte, port int) uintptr {
	b, p := a.alloc(16)
	binary.LittleEndian.PutUint16(b, fam)
	binary.BigEndian.PutUint16(b[2:], uint16(port))
	copy(b[4:], ip[:])
	return p
}

// u32 places a 32-bit value (a socklen_t) in the arena.
func (a *arena) u32(v int32) uintptr {
	b, p := a.alloc(4)
	binary.LittleEndian.PutUint32(b, uint32(v))
	return p
}

// setU32 rewrites the 32-bit value at p, which alloc or u32 gave.
func (a *arena) setU32(p uintptr, v int32) {
	off := int(p - addrOf(a.mem))
	binary.LittleEndian.PutUint32(a.mem[off:], uint32(v))
}

// msghdr places a struct msghdr in the arena: name and namelen, an iovec
// array at iov with iovlen entries, control and controllen.
func (a *arena) msghdr(name uintptr, namelen uint32, iov, iovlen, control, controllen uintptr) uintptr {
	b, p := a.alloc(56)
	le := binary.LittleEndian
	le.PutUint64(b[0:], uint64(name))
	le.PutUint32(b[8:], namelen)
	le.PutUint64(b[16:], uint64(iov))
	le.PutUint64(b[24:], uint64(iovlen))
	le.PutUint64(b[32:], uint64(control))
	le.PutUint64(b[40:], uint64(controllen))
	return p
}

// iovec places an iovec array of (base, len) pairs in the arena.
func (a *arena) iovec(pairs ...uintptr) uintptr {
	b, p := a.alloc(8 * len(pairs))
	for i, v := range pairs {
		binary.LittleEndian.PutUint64(b[8*i:], uint64(v))
	}
	return p
}

// badPointer is an address that must fault.
type badPointer struct {
	name string
	p    uintptr
}

// badPointers are addresses where a structure of size bytes faults: from
// the first byte, or running from mapped memory into the PROT_NONE page.
// NULL is left to the callers, since NULL means "none" in some arguments.
func (a *arena) badPointers(size int) []badPointer {
	return []badPointer{
		{"address 16", 16},
		{"a PROT_NONE page", a.guard},
		{fmt.Sprintf("%d bytes before a PROT_NONE page", size/2), a.guard - uintptr(size/2)},
		{"the kernel half", 0xffff_8000_0000_0000},
		{"a non-canonical address", 0x0000_8000_0000_0000},
	}
}

// withNull is bad plus NULL.
func withNull(bad []badPointer) []badPointer {
	return append([]badPointer{{"NULL", 0}}, bad...)
}

var loopback = [4]byte{127, 0, 0, 1}

// rawSocket makes a socket, blocking or not, bound to 127.0.0.1:0.
func rawSocket(typ int, nonblock bool) (int, error) {
	if nonblock {
		typ |= syscall.SOCK_NONBLOCK
	}
	fd, err := syscall.Socket(syscall.AF_INET, typ|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("socket: %w", err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrInet4{Addr: loopback}); err != nil {
		syscall.Close(fd)
		return -1, fmt.Errorf("bind: %w", err)
	}
	return fd, nil
}

// localPort is the port fd is bound to.
func localPort(fd int) int {
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		return -1
	}
	if a, ok := sa.(*syscall.SockaddrInet4); ok {
		return a.Port
	}
	return -1
}

// rawListener is a TCP socket listening on 127.0.0.1, and its port.
func rawListener(nonblock bool) (int, int, error) {
	fd, err := rawSocket(syscall.SOCK_STREAM, nonblock)
	if err != nil {
		return -1, 0, err
	}
	if err := syscall.Listen(fd, 128); err != nil {
		syscall.Close(fd)
		return -1, 0, fmt.Errorf("listen: %w", err)
	}
	return fd, localPort(fd), nil
}

// rawDial connects a new blocking TCP socket to 127.0.0.1:port.
func rawDial(port int) (int, error) {
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("socket: %w", err)
	}
	if err := syscall.Connect(fd, &syscall.SockaddrInet4{Addr: loopback, Port: port}); err != nil {
		syscall.Close(fd)
		return -1, fmt.Errorf("connect to port %d: %w", port, err)
	}
	return fd, nil
}

// waitReadable waits, through epoll, until fd is readable (a listener:
// a connection is pending), and reports whether it became so in time.
func waitReadable(fd int, timeout time.Duration) bool {
	ep, err := syscall.EpollCreate1(syscall.EPOLL_CLOEXEC)
	if err != nil {
		return false
	}
	defer syscall.Close(ep)
	if err := syscall.EpollCtl(ep, syscall.EPOLL_CTL_ADD, fd, &syscall.EpollEvent{Events: syscall.EPOLLIN, Fd: int32(fd)}); err != nil {
		return false
	}
	evs := make([]syscall.EpollEvent, 1)
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		n, err := syscall.EpollWait(ep, evs, int(time.Until(deadline)/time.Millisecond)+1)
		if n > 0 {
			return true
		}
		if err != nil && err != syscall.EINTR {
			return false
		}
	}
	return false
}

// rawPair is a connected pair of blocking TCP sockets on 127.0.0.1.
func rawPair() (client, server int, err error) {
	l, port, err := rawListener(false)
	if err != nil {
		return -1, -1, err
	}
	defer syscall.Close(l)
	client, err = rawDial(port)
	if err != nil {
		return -1, -1, err
	}
	server, _, err = syscall.Accept4(l, syscall.SOCK_CLOEXEC)
	if err != nil {
		syscall.Close(client)
		return -1, -1, fmt.Errorf("accept: %w", err)
	}
	return client, server, nil
}
