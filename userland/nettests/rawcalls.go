package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"time"
	"unsafe"
)

// raw-icmp-calls: a raw ICMP socket's calls made the way a careless or
// hostile program makes them, each errno checked against Linux's (run
// as root on Linux: NETTESTS=raw-icmp-calls go run ./nettests; checked
// on Linux 6.18), with Valence's deliberate differences named. Then the
// privilege: a child that gives up CAP_NET_RAW gets EPERM, as on Linux.

func init() {
	if os.Getenv("NETTESTS_CHILD") == "raw-icmp-privilege" {
		if err := rawPrivChild(); err != nil {
			fmt.Printf("nettests: raw-icmp-privilege child: %v\n", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
}

// onValence reports whether this is Valence (its kernel release names
// it in /proc/version), for the deviations.
func onValence() bool {
	b, _ := os.ReadFile("/proc/version")
	return len(b) >= 7 && string(b[:7]) == "Valence"
}

func testRawICMPCalls() error {
	fd, err := rawICMP()
	if err != nil {
		return err
	}
	defer syscall.Close(fd)
	lo := &syscall.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}
	sendto := func(b []byte, to syscall.Sockaddr) error { return syscall.Sendto(fd, b, 0, to) }
	bad := uintptr(0xdead0000) // not mapped
	short := [8]byte{2, 0}     // AF_INET, but 8 bytes: EINVAL
	six := [28]byte{10, 0}     // AF_INET6
	arena := make([]byte, 70000)
	raw := func(n int, addr unsafe.Pointer, alen uintptr) syscall.Errno {
		_, e := sys(syscall.SYS_SENDTO, uintptr(fd), addrOf(arena), uintptr(n), 0, uintptr(addr), alen)
		return e
	}
	type sc struct {
		name string
		got  func() error
		want syscall.Errno
		dev  syscall.Errno // Valence's documented difference (0: none)
		why  string
	}
	errOf := func(e syscall.Errno) error {
		if e == 0 {
			return nil
		}
		return e
	}
	cases := []sc{
		{"socket of protocol 0", func() error { _, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_RAW, 0); return err }, syscall.EPROTONOSUPPORT, 0, ""},
		{"raw UDP socket", func() error {
			s, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_RAW, syscall.IPPROTO_UDP)
			if err == nil {
				syscall.Close(s)
			}
			return err
		}, 0, syscall.EPROTONOSUPPORT, "only ICMP raw sockets are offered"},
		{"raw IPv6 ICMP socket", func() error {
			s, err := syscall.Socket(syscall.AF_INET6, syscall.SOCK_RAW, syscall.IPPROTO_ICMPV6)
			if err == nil {
				syscall.Close(s)
			}
			return err
		}, 0, syscall.EAFNOSUPPORT, "the stack has no IPv6"},
		{"send of nothing", func() error { return sendto(nil, lo) }, syscall.EFAULT, 0, ""},
		{"send of one byte", func() error { return sendto([]byte{8}, lo) }, syscall.EFAULT, 0, ""},
		{"send of garbage", func() error { return sendto([]byte{0xde, 0xad, 0xbe, 0xef, 1}, lo) }, 0, 0, ""},
		{"send of 65515 bytes", func() error { return errOf(raw(65515, unsafe.Pointer(&lo4[0]), 16)) }, 0, 0, ""},
		{"send of 65516 bytes", func() error { return errOf(raw(65516, unsafe.Pointer(&lo4[0]), 16)) }, syscall.EMSGSIZE, 0, ""},
		{"send of 65536 bytes", func() error { return errOf(raw(65536, unsafe.Pointer(&lo4[0]), 16)) }, syscall.EMSGSIZE, 0, ""},
		{"send of 70000 bytes", func() error { return errOf(raw(70000, unsafe.Pointer(&lo4[0]), 16)) }, syscall.EMSGSIZE, 0, ""},
		{"send without an address", func() error { return sendto([]byte{8, 0, 0, 0}, nil) }, syscall.EDESTADDRREQ, 0, ""},
		{"send to a short address", func() error { return errOf(raw(8, unsafe.Pointer(&short[0]), 8)) }, syscall.EINVAL, 0, ""},
		{"send to an IPv6 address", func() error { return errOf(raw(8, unsafe.Pointer(&six[0]), 28)) }, syscall.EAFNOSUPPORT, 0, ""},
		{"send from a bad buffer", func() error {
			_, e := sys(syscall.SYS_SENDTO, uintptr(fd), bad, 8, 0, uintptr(unsafe.Pointer(&lo4[0])), 16)
			return errOf(e)
		}, syscall.EFAULT, 0, ""},
		{"send to broadcast", func() error {
			return sendto([]byte{8, 0, 0, 0}, &syscall.SockaddrInet4{Addr: [4]byte{255, 255, 255, 255}})
		}, syscall.EACCES, 0, ""},
		{"listen", func() error { return syscall.Listen(fd, 1) }, syscall.EOPNOTSUPP, 0, ""},
		{"accept", func() error { _, _, err := syscall.Accept(fd); return err }, syscall.EOPNOTSUPP, 0, ""},
		{"getpeername", func() error { _, err := syscall.Getpeername(fd); return err }, syscall.ENOTCONN, 0, ""},
		{"shutdown", func() error { return syscall.Shutdown(fd, syscall.SHUT_RD) }, syscall.ENOTCONN, 0, ""},
		{"bind to another host's address", func() error {
			return syscall.Bind(fd, &syscall.SockaddrInet4{Addr: [4]byte{192, 0, 2, 77}})
		}, syscall.EADDRNOTAVAIL, 0, ""},
		{"IP_HDRINCL", func() error {
			err := syscall.SetsockoptInt(fd, syscall.IPPROTO_IP, syscall.IP_HDRINCL, 1)
			syscall.SetsockoptInt(fd, syscall.IPPROTO_IP, syscall.IP_HDRINCL, 0) // what follows builds no headers
			return err
		}, 0, syscall.ENOPROTOOPT, "IP_HDRINCL is not offered"},
		{"SOL_RAW option 2", func() error { _, err := syscall.GetsockoptInt(fd, syscall.SOL_RAW, 2); return err }, syscall.ENOPROTOOPT, 0, ""},
	}
	var errs []error
	for _, c := range cases {
		err := c.got()
		var e syscall.Errno
		if err != nil && !errors.As(err, &e) {
			errs = append(errs, fmt.Errorf("%s: %v", c.name, err))
			continue
		}
		switch {
		case e == c.want:
		case c.dev != 0 && e == c.dev && onValence():
			fmt.Printf("nettests: raw-icmp-calls: %s: %s, where Linux says %s (deviation: %s)\n", c.name, errnoName(e), errnoName(c.want), c.why)
		default:
			errs = append(errs, fmt.Errorf("%s: %s, want %s", c.name, errnoName(e), errnoName(c.want)))
		}
	}
	// The answers that are values.
	sa, err := syscall.Getsockname(fd)
	if in4, ok := sa.(*syscall.SockaddrInet4); err != nil || !ok || in4.Port != 1 || in4.Addr != [4]byte{} {
		errs = append(errs, fmt.Errorf("getsockname: %#v, %v; want 0.0.0.0 port 1 (the protocol)", sa, err))
	}
	for _, o := range []struct {
		level, name, want int
	}{{syscall.SOL_SOCKET, syscall.SO_TYPE, syscall.SOCK_RAW}, {syscall.SOL_SOCKET, syscall.SO_PROTOCOL, 1}, {syscall.SOL_SOCKET, syscall.SO_DOMAIN, 2}} {
		if v, err := syscall.GetsockoptInt(fd, o.level, o.name); err != nil || v != o.want {
			errs = append(errs, fmt.Errorf("getsockopt(%d, %d): %d, %v; want %d", o.level, o.name, v, err, o.want))
		}
	}
	// ICMP_FILTER: echo requests filtered out, the reply still comes
	// (after what the sends above left in the queue: garbage too).
	drainRaw(fd)
	if err := syscall.SetsockoptInt(fd, syscall.SOL_RAW, 1, 1<<8); err != nil {
		errs = append(errs, fmt.Errorf("ICMP_FILTER: %v", err))
	} else if v, err := syscall.GetsockoptInt(fd, syscall.SOL_RAW, 1); err != nil || v != 1<<8 {
		errs = append(errs, fmt.Errorf("ICMP_FILTER read back: %#x, %v", v, err))
	} else if got, err := pingOnce(fd, [4]byte{127, 0, 0, 1}, 0x5151, 1, 16); err != nil || string(got) != "\x00" {
		errs = append(errs, fmt.Errorf("a ping with echo requests filtered: types %v, %v; want only the reply", got, err))
	}
	// MSG_TRUNC says how long the datagram was.
	syscall.SetsockoptInt(fd, syscall.SOL_RAW, 1, 0)
	drainRaw(fd)
	if err := sendto(echoRequest(0x5252, 1, make([]byte, 100)), lo); err != nil {
		errs = append(errs, err)
	} else if n, err := recvTrunc(fd); err != nil || n != 20+8+100 {
		errs = append(errs, fmt.Errorf("recv(MSG_TRUNC) into 4 bytes: %d, %v; want 128", n, err))
	}
	if err := privilegeChild(); err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return fmt.Errorf("%d cases: %v", len(errs), errors.Join(errs...))
	}
	return nil
}

// drainRaw reads fd until it is empty, without blocking.
func drainRaw(fd int) {
	b := make([]byte, 70000)
	for {
		if _, _, err := syscall.Recvfrom(fd, b, syscall.MSG_DONTWAIT); err != nil {
			return
		}
	}
}

// lo4 is sockaddr_in for 127.0.0.1.
var lo4 = [16]byte{2, 0, 0, 0, 127, 0, 0, 1}

// recvTrunc reads the next datagram from the 127.0.0.1 traffic into 4
// bytes with MSG_TRUNC and returns what recvfrom says: its whole length.
func recvTrunc(fd int) (int, error) {
	if !waitReadable(fd, 5*time.Second) {
		return 0, errors.New("nothing to read")
	}
	var b [4]byte
	r, e := sys(syscall.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), 4, syscall.MSG_TRUNC|syscall.MSG_DONTWAIT, 0, 0)
	if e != 0 {
		return 0, e
	}
	if b[0]>>4 != 4 || binary.BigEndian.Uint16(b[2:]) != uint16(r) {
		return int(r), fmt.Errorf("the first 4 bytes % x do not start the datagram", b)
	}
	return int(r), nil
}

// privilegeChild runs the CAP_NET_RAW checks in a child, on one locked
// thread (capabilities are per thread on Linux).
func privilegeChild() error {
	cmd := exec.Command("/proc/self/exe")
	cmd.Env = append(os.Environ(), "NETTESTS_CHILD=raw-icmp-privilege")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("the CAP_NET_RAW child: %v", err)
	}
	return nil
}

const netRaw = 13 // CAP_NET_RAW

func rawPrivChild() error {
	runtime.LockOSThread()
	d, err := capget()
	if err != nil {
		return fmt.Errorf("capget: %v", err)
	}
	if d[0].effective&(1<<netRaw) == 0 {
		return fmt.Errorf("root starts without CAP_NET_RAW: %+v", d)
	}
	drop := d
	drop[0].effective &^= 1 << netRaw
	if _, err := capset(capVersion3, 0, drop); err != nil {
		return fmt.Errorf("capset dropping CAP_NET_RAW: %v", err)
	}
	for _, proto := range []int{syscall.IPPROTO_ICMP, syscall.IPPROTO_UDP, 255} {
		if _, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_RAW, proto); !errors.Is(err, syscall.EPERM) {
			return fmt.Errorf("a raw socket of protocol %d without CAP_NET_RAW: %v, want EPERM", proto, err)
		}
	}
	// Protocol 0 is refused before the privilege is looked at.
	if _, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_RAW, 0); !errors.Is(err, syscall.EPROTONOSUPPORT) {
		return fmt.Errorf("a raw socket of protocol 0 without CAP_NET_RAW: %v, want EPROTONOSUPPORT", err)
	}
	if _, err := capset(capVersion3, 0, d); err != nil {
		return fmt.Errorf("capset raising CAP_NET_RAW again: %v", err)
	}
	fd, err := rawICMP()
	if err != nil {
		return fmt.Errorf("with CAP_NET_RAW back: %v", err)
	}
	syscall.Close(fd)
	fmt.Println("nettests: raw-icmp-calls: a raw socket needs CAP_NET_RAW (EPERM without it)")
	return nil
}
