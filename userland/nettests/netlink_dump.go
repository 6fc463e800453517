package main

import (
	"encoding/binary"
	"fmt"
	"net"
	"slices"
	"syscall"
	"unsafe"
)

// testNetlinkDump: the three dumps read with raw system calls and Go's
// netlink parser agree with net's view; a link asked for by index and by
// name comes with its acknowledgment; `ip route get` for an outside
// address takes the default route; recvmsg names the kernel as the
// sender; MSG_PEEK|MSG_TRUNC with no buffer tells a datagram's size.
func testNetlinkDump() error {
	s, err := openNL(true)
	if err != nil {
		return err
	}
	defer s.close()
	ift, err := net.Interfaces()
	if err != nil {
		return err
	}
	links, err := s.dump(syscall.RTM_GETLINK, syscall.AF_UNSPEC)
	if err != nil {
		return fmt.Errorf("link dump: %w", err)
	}
	var names []string
	for _, m := range links {
		ifi := (*syscall.IfInfomsg)(unsafe.Pointer(&m.Data[0]))
		name := attrsOf(m)[syscall.IFLA_IFNAME]
		if len(name) == 0 || name[len(name)-1] != 0 {
			return fmt.Errorf("link %d: IFLA_IFNAME %q", ifi.Index, name)
		}
		names = append(names, fmt.Sprintf("%d:%s", ifi.Index, name[:len(name)-1]))
	}
	var want []string
	for _, ifi := range ift {
		want = append(want, fmt.Sprintf("%d:%s", ifi.Index, ifi.Name))
	}
	if !slices.Equal(names, want) {
		return fmt.Errorf("link dump %v, net.Interfaces %v", names, want)
	}

	addrs, err := s.dump(syscall.RTM_GETADDR, syscall.AF_INET)
	if err != nil {
		return fmt.Errorf("address dump: %w", err)
	}
	var got []string
	for _, m := range addrs {
		ifa := (*syscall.IfAddrmsg)(unsafe.Pointer(&m.Data[0]))
		local := attrsOf(m)[syscall.IFA_LOCAL]
		if ifa.Family != syscall.AF_INET || len(local) != 4 {
			return fmt.Errorf("address message %+v with IFA_LOCAL % x", ifa, local)
		}
		got = append(got, fmt.Sprintf("%v/%d", net.IP(local), ifa.Prefixlen))
	}
	var v4 []string
	all, err := net.InterfaceAddrs()
	if err != nil {
		return err
	}
	for _, a := range all {
		if a.(*net.IPNet).IP.To4() != nil {
			v4 = append(v4, a.String())
		}
	}
	if !slices.Equal(got, v4) {
		return fmt.Errorf("AF_INET address dump %v, net.InterfaceAddrs %v", got, v4)
	}

	routes, err := s.dump(syscall.RTM_GETROUTE, syscall.AF_INET)
	if err != nil {
		return fmt.Errorf("route dump: %w", err)
	}
	var defOIF uint32
	var defGW net.IP
	for _, m := range routes {
		rt := (*syscall.RtMsg)(unsafe.Pointer(&m.Data[0]))
		as := attrsOf(m)
		oif := binary.NativeEndian.Uint32(append(as[syscall.RTA_OIF], 0, 0, 0, 0))
		fmt.Printf("nettests: netlink: route table=%d type=%d dst=%v/%d gw=%v src=%v oif=%d\n",
			rt.Table, rt.Type, net.IP(as[syscall.RTA_DST]), rt.Dst_len, net.IP(as[syscall.RTA_GATEWAY]), net.IP(as[syscall.RTA_PREFSRC]), oif)
		if rt.Table == syscall.RT_TABLE_MAIN && rt.Dst_len == 0 {
			defOIF, defGW = oif, net.IP(as[syscall.RTA_GATEWAY])
		}
	}

	if err := linkByIndexAndName(s, ift[len(ift)-1]); err != nil {
		return err
	}
	if defOIF != 0 {
		if err := routeGet(s, defOIF, defGW); err != nil {
			return err
		}
	}
	return recvmsgAndPeek(s)
}

// linkByIndexAndName asks for one link by index, then by name, with
// NLM_F_ACK: an RTM_NEWLINK for it, then the acknowledgment.
func linkByIndexAndName(s *nl, ifi net.Interface) error {
	ifinfo := make([]byte, syscall.SizeofIfInfomsg)
	binary.NativeEndian.PutUint32(ifinfo[4:], uint32(ifi.Index))
	byName := nlAttr(syscall.IFLA_IFNAME, append([]byte(ifi.Name), 0))
	for _, parts := range [][][]byte{{ifinfo}, {make([]byte, syscall.SizeofIfInfomsg), byName}} {
		seq, err := s.send(syscall.RTM_GETLINK, syscall.NLM_F_ACK, parts...)
		if err != nil {
			return err
		}
		ms, err := s.recv(seq)
		if err != nil {
			return fmt.Errorf("link %s: %w", ifi.Name, err)
		}
		if ms[0].Header.Type != syscall.RTM_NEWLINK {
			return fmt.Errorf("link %s: answer %+v", ifi.Name, ms[0].Header)
		}
		if got := (*syscall.IfInfomsg)(unsafe.Pointer(&ms[0].Data[0])).Index; got != int32(ifi.Index) {
			return fmt.Errorf("link %s: index %d, want %d", ifi.Name, got, ifi.Index)
		}
		ack, err := s.recv(seq)
		if err != nil {
			return fmt.Errorf("link %s, acknowledgment: %w", ifi.Name, err)
		}
		if e, err := nlErrno(ack[0]); err != nil || e != 0 {
			return fmt.Errorf("link %s, acknowledgment: %v %v", ifi.Name, e, err)
		}
	}
	return nil
}

// routeGet: the route to 198.51.100.1 (TEST-NET-2, off every link here)
// goes out of the default route's interface, through its gateway.
func routeGet(s *nl, oif uint32, gw net.IP) error {
	rtm := make([]byte, syscall.SizeofRtMsg)
	rtm[0] = syscall.AF_INET
	seq, err := s.send(syscall.RTM_GETROUTE, 0, rtm, nlAttr(syscall.RTA_DST, []byte{198, 51, 100, 1}))
	if err != nil {
		return err
	}
	ms, err := s.recv(seq)
	if err != nil {
		return fmt.Errorf("route get: %w", err)
	}
	if ms[0].Header.Type != syscall.RTM_NEWROUTE {
		e, _ := nlErrno(ms[0])
		return fmt.Errorf("route get: %+v (%v)", ms[0].Header, e)
	}
	as := attrsOf(ms[0])
	got := binary.NativeEndian.Uint32(append(as[syscall.RTA_OIF], 0, 0, 0, 0))
	if got != oif || !net.IP(as[syscall.RTA_GATEWAY]).Equal(gw) {
		return fmt.Errorf("route get 198.51.100.1: oif %d via %v, want the default route's %d via %v", got, net.IP(as[syscall.RTA_GATEWAY]), oif, gw)
	}
	return nil
}

// recvmsgAndPeek: MSG_PEEK|MSG_TRUNC with an empty buffer gives a
// datagram's length and leaves it; recvmsg then reads it whole, naming
// the kernel (a 12-byte sockaddr_nl, nl_pid 0) as its sender.
func recvmsgAndPeek(s *nl) error {
	if _, err := s.send(syscall.RTM_GETLINK, syscall.NLM_F_DUMP, []byte{syscall.AF_UNSPEC}); err != nil {
		return err
	}
	var n int
	var err error
	for range 1000 {
		n, _, err = syscall.Recvfrom(s.fd, nil, syscall.MSG_PEEK|syscall.MSG_TRUNC)
		if err != syscall.EAGAIN {
			break
		}
	}
	if err != nil || n < syscall.NLMSG_HDRLEN {
		return fmt.Errorf("peek for the size: %d, %v", n, err)
	}
	buf := make([]byte, n)
	got, _, flags, from, err := syscall.Recvmsg(s.fd, buf, nil, 0)
	if err != nil || got != n || flags&syscall.MSG_TRUNC != 0 {
		return fmt.Errorf("recvmsg after the peek: %d bytes, flags %#x, %v; want %d", got, flags, err, n)
	}
	if sa, ok := from.(*syscall.SockaddrNetlink); !ok || sa.Pid != 0 || sa.Groups != 0 {
		return fmt.Errorf("recvmsg's sender %#v, want the kernel", from)
	}
	ms, err := syscall.ParseNetlinkMessage(buf)
	if err != nil || len(ms) == 0 {
		return fmt.Errorf("the peeked datagram: %v", err)
	}
	if ms[len(ms)-1].Header.Type == syscall.NLMSG_DONE {
		return nil
	}
	_, err = s.recv(s.seq) // the rest of the dump
	return err
}
