package main

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"reflect"
	"slices"
	"strings"
	"syscall"
	"time"
)

// The netlink-* tests: AF_NETLINK sockets of protocol NETLINK_ROUTE,
// which the kernel answers from netd's status (docs/net.md,
// "NETLINK_ROUTE"). netlink-interfaces reads them through Go's net,
// netlink-dump with raw system calls parsed by syscall's netlink parser,
// netlink-abuse makes the calls a hostile or broken program makes. They
// run on Linux too (NETTESTS=netlink-dump,netlink-abuse go run
// ./nettests), which is how their expectations were checked; where
// Valence answers otherwise on purpose, the case says why.

// inValence reports whether this runs on Valence (uname's sysname).
func inValence() bool {
	var u syscall.Utsname
	if syscall.Uname(&u) != nil {
		return false
	}
	var b []byte
	for _, c := range u.Sysname {
		if c == 0 {
			break
		}
		b = append(b, byte(c))
	}
	return string(b) == "Valence"
}

// testNetlinkInterfaces: net.Interfaces, InterfaceByIndex, InterfaceByName,
// InterfaceAddrs and Interface.Addrs agree with each other, the loopback
// is index 1 with 127.0.0.1/8, and every interface is printed for the
// QEMU test to check against the NIC it attached.
func testNetlinkInterfaces() error {
	ift, err := net.Interfaces()
	if err != nil {
		return fmt.Errorf("net.Interfaces: %w", err)
	}
	if len(ift) == 0 {
		return errors.New("net.Interfaces: none")
	}
	lo := ift[0]
	if lo.Index != 1 || lo.Name != "lo" || lo.Flags&(net.FlagUp|net.FlagLoopback) != net.FlagUp|net.FlagLoopback || lo.HardwareAddr != nil {
		return fmt.Errorf("first interface %+v, want lo, index 1, up, loopback, no hardware address", lo)
	}
	all, err := net.InterfaceAddrs()
	if err != nil {
		return fmt.Errorf("net.InterfaceAddrs: %w", err)
	}
	var union []string
	for _, ifi := range ift {
		byIndex, err := net.InterfaceByIndex(ifi.Index)
		if err != nil || !reflect.DeepEqual(*byIndex, ifi) {
			return fmt.Errorf("InterfaceByIndex(%d) = %+v, %v; want %+v", ifi.Index, byIndex, err, ifi)
		}
		byName, err := net.InterfaceByName(ifi.Name)
		if err != nil || !reflect.DeepEqual(*byName, ifi) {
			return fmt.Errorf("InterfaceByName(%q) = %+v, %v; want %+v", ifi.Name, byName, err, ifi)
		}
		addrs, err := ifi.Addrs()
		if err != nil {
			return fmt.Errorf("%s.Addrs: %w", ifi.Name, err)
		}
		var shown []string
		for _, a := range addrs {
			ipn, isNet := a.(*net.IPNet)
			if !isNet || ipn.IP == nil || ipn.Mask == nil {
				return fmt.Errorf("%s: address %#v", ifi.Name, a)
			}
			shown = append(shown, a.String())
		}
		union = append(union, shown...)
		fmt.Printf("nettests: netlink: %s index=%d flags=%v mtu=%d hw=%v addrs=%s\n",
			ifi.Name, ifi.Index, ifi.Flags, ifi.MTU, ifi.HardwareAddr, strings.Join(shown, ","))
	}
	var every []string
	for _, a := range all {
		every = append(every, a.String())
	}
	// InterfaceAddrs lists by family, then interface; Addrs by interface.
	slices.Sort(union)
	if !slices.Equal(union, slices.Sorted(slices.Values(every))) {
		return fmt.Errorf("the interfaces' addresses %v differ from InterfaceAddrs %v", union, every)
	}
	if !slices.Contains(every, "127.0.0.1/8") {
		return fmt.Errorf("InterfaceAddrs %v lacks 127.0.0.1/8", every)
	}
	if _, err := net.InterfaceByName("nonexistent0"); err == nil {
		return errors.New("InterfaceByName(nonexistent0) found something")
	}
	return nil
}

// nl is a NETLINK_ROUTE socket for raw requests.
type nl struct {
	fd   int
	port uint32
	seq  uint32
}

func openNL(nonblock bool) (*nl, error) {
	typ := syscall.SOCK_RAW | syscall.SOCK_CLOEXEC
	if nonblock {
		typ |= syscall.SOCK_NONBLOCK
	}
	fd, err := syscall.Socket(syscall.AF_NETLINK, typ, syscall.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("socket(AF_NETLINK): %w", err)
	}
	if err := syscall.Bind(fd, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("bind: %w", err)
	}
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		syscall.Close(fd)
		return nil, fmt.Errorf("getsockname: %w", err)
	}
	nsa, ok := sa.(*syscall.SockaddrNetlink)
	if !ok || nsa.Pid == 0 {
		syscall.Close(fd)
		return nil, fmt.Errorf("getsockname after bind: %#v, want a sockaddr_nl with a port", sa)
	}
	return &nl{fd: fd, port: nsa.Pid}, nil
}

func (s *nl) close() { syscall.Close(s.fd) }

// nlMessage encodes a netlink message of type typ with payload parts,
// each padded to four bytes.
func nlMessage(typ, flags uint16, seq uint32, parts ...[]byte) []byte {
	b := make([]byte, syscall.NLMSG_HDRLEN)
	for _, p := range parts {
		b = append(b, p...)
		for len(b)%4 != 0 {
			b = append(b, 0)
		}
	}
	binary.NativeEndian.PutUint32(b[0:], uint32(len(b)))
	binary.NativeEndian.PutUint16(b[4:], typ)
	binary.NativeEndian.PutUint16(b[6:], flags)
	binary.NativeEndian.PutUint32(b[8:], seq)
	return b
}

// nlAttr encodes a route attribute.
func nlAttr(typ uint16, v []byte) []byte {
	b := binary.NativeEndian.AppendUint16(nil, uint16(4+len(v)))
	b = binary.NativeEndian.AppendUint16(b, typ)
	return append(b, v...)
}

// send sends one request and returns its sequence number.
func (s *nl) send(typ, flags uint16, parts ...[]byte) (uint32, error) {
	s.seq++
	b := nlMessage(typ, flags|syscall.NLM_F_REQUEST, s.seq, parts...)
	if err := syscall.Sendto(s.fd, b, 0, &syscall.SockaddrNetlink{Family: syscall.AF_NETLINK}); err != nil {
		return 0, fmt.Errorf("sendto: %w", err)
	}
	return s.seq, nil
}

// recv reads the answers to seq until one ends them (NLMSG_DONE,
// NLMSG_ERROR, or a message without NLM_F_MULTI), checking that each
// comes from the kernel to this socket, and returns them all.
func (s *nl) recv(seq uint32) ([]syscall.NetlinkMessage, error) {
	var all []syscall.NetlinkMessage
	buf := make([]byte, 4096)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		n, from, err := syscall.Recvfrom(s.fd, buf, 0)
		if err == syscall.EAGAIN {
			time.Sleep(time.Millisecond)
			continue
		}
		if err != nil {
			return all, fmt.Errorf("recvfrom: %w", err)
		}
		if sa, ok := from.(*syscall.SockaddrNetlink); !ok || sa.Pid != 0 {
			return all, fmt.Errorf("an answer from %#v, not the kernel", from)
		}
		ms, err := syscall.ParseNetlinkMessage(append([]byte(nil), buf[:n]...))
		if err != nil {
			return all, fmt.Errorf("ParseNetlinkMessage of %d bytes: %w", n, err)
		}
		for _, m := range ms {
			if m.Header.Seq != seq || m.Header.Pid != s.port {
				return all, fmt.Errorf("answer %+v, want seq %d pid %d", m.Header, seq, s.port)
			}
			all = append(all, m)
			if m.Header.Type == syscall.NLMSG_DONE || m.Header.Type == syscall.NLMSG_ERROR || m.Header.Flags&syscall.NLM_F_MULTI == 0 {
				return all, nil
			}
		}
	}
	return all, errors.New("no end of the answer in 10 s")
}

// dump asks for a dump of typ for family and returns its messages
// before NLMSG_DONE (an NLMSG_ERROR is an error).
func (s *nl) dump(typ uint16, family uint8) ([]syscall.NetlinkMessage, error) {
	seq, err := s.send(typ, syscall.NLM_F_DUMP, []byte{family})
	if err != nil {
		return nil, err
	}
	ms, err := s.recv(seq)
	if err != nil {
		return nil, err
	}
	last := ms[len(ms)-1]
	if last.Header.Type != syscall.NLMSG_DONE {
		return nil, fmt.Errorf("dump of %d ended with %+v", typ, last.Header)
	}
	for _, m := range ms {
		if m.Header.Flags&syscall.NLM_F_MULTI == 0 {
			return nil, fmt.Errorf("dump message without NLM_F_MULTI: %+v", m.Header)
		}
	}
	return ms[:len(ms)-1], nil
}

// nlErrno reads an NLMSG_ERROR's errno (0 for an acknowledgment).
func nlErrno(m syscall.NetlinkMessage) (syscall.Errno, error) {
	if m.Header.Type != syscall.NLMSG_ERROR || len(m.Data) < 4+syscall.NLMSG_HDRLEN {
		return 0, fmt.Errorf("not an NLMSG_ERROR: %+v", m.Header)
	}
	return syscall.Errno(-int32(binary.NativeEndian.Uint32(m.Data))), nil
}

func attrsOf(m syscall.NetlinkMessage) map[uint16][]byte {
	as, err := syscall.ParseNetlinkRouteAttr(&m)
	if err != nil {
		return nil
	}
	out := map[uint16][]byte{}
	for _, a := range as {
		out[a.Attr.Type] = a.Value
	}
	return out
}
