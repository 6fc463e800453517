package sock

import (
	"bytes"
	"encoding/binary"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/servers/net/sockproto"
)

// The interface ioctls of netdevice(7) that read, on any socket: they
// take a struct ifreq (a 16-byte name, then a 24-byte union) and answer
// from the network server's interfaces. An interface's index is its
// place in the server's list, from 1 (lo is 1, the NIC 2), as Linux
// numbers lo first. Setting anything is not offered.

// IfReqSize is sizeof(struct ifreq) on amd64.
const IfReqSize = 40

// IfReq answers request cmd (SIOCGIFNAME, SIOCGIFFLAGS, SIOCGIFADDR,
// SIOCGIFBRDADDR, SIOCGIFNETMASK, SIOCGIFMTU, SIOCGIFHWADDR,
// SIOCGIFINDEX) on req, the program's struct ifreq: the struct to copy
// back, ENODEV for an interface that does not exist, EADDRNOTAVAIL for
// an address it does not have, and ok false for a request it does not
// answer.
func IfReq(cmd uint32, req [IfReqSize]byte, ifaces []sockproto.Interface) (rep [IfReqSize]byte, e errno.Errno, ok bool) {
	rep = req
	data := rep[linux.IFNAMSIZ:]
	if cmd == linux.SIOCGIFNAME {
		idx := int32(binary.LittleEndian.Uint32(data))
		if idx < 1 || int(idx) > len(ifaces) {
			return rep, errno.ENODEV, true
		}
		clear(rep[:linux.IFNAMSIZ])
		copy(rep[:linux.IFNAMSIZ-1], ifaces[idx-1].Name)
		return rep, 0, true
	}
	switch cmd {
	case linux.SIOCGIFFLAGS, linux.SIOCGIFADDR, linux.SIOCGIFBRDADDR, linux.SIOCGIFNETMASK,
		linux.SIOCGIFMTU, linux.SIOCGIFHWADDR, linux.SIOCGIFINDEX:
	default:
		return rep, 0, false
	}
	name := req[:linux.IFNAMSIZ]
	if i := bytes.IndexByte(name, 0); i >= 0 {
		name = name[:i]
	}
	idx := -1
	for i := range ifaces {
		if ifaces[i].Name == string(name) {
			idx = i
			break
		}
	}
	if idx < 0 {
		return rep, errno.ENODEV, true
	}
	ifc := &ifaces[idx]
	switch cmd {
	case linux.SIOCGIFFLAGS:
		clear(data)
		binary.LittleEndian.PutUint16(data, uint16(ifc.Flags))
	case linux.SIOCGIFMTU:
		clear(data)
		binary.LittleEndian.PutUint32(data, ifc.MTU)
	case linux.SIOCGIFINDEX:
		clear(data)
		binary.LittleEndian.PutUint32(data, uint32(idx+1))
	case linux.SIOCGIFHWADDR:
		clear(data)
		family := uint16(linux.ARPHRD_ETHER)
		if ifc.Flags&linux.IFF_LOOPBACK != 0 {
			family = linux.ARPHRD_LOOPBACK
		}
		binary.LittleEndian.PutUint16(data, family)
		copy(data[2:16], ifc.MAC)
	default: // the addresses
		addr, bits, found := ipv4Of(ifc)
		if !found || cmd == linux.SIOCGIFBRDADDR && ifc.Flags&linux.IFF_BROADCAST == 0 {
			return rep, errno.EADDRNOTAVAIL, true
		}
		mask := uint32(0)
		if bits > 0 {
			mask = ^uint32(0) << (32 - bits)
		}
		v := binary.BigEndian.Uint32(addr[:])
		switch cmd {
		case linux.SIOCGIFNETMASK:
			v = mask
		case linux.SIOCGIFBRDADDR:
			v |= ^mask
		}
		binary.BigEndian.PutUint32(addr[:], v)
		clear(data)
		copy(data, EncodeAddr(sockproto.Addr{Family: linux.AF_INET, IP: addr[:]}))
	}
	return rep, 0, true
}

// IfConf returns the entries SIOCGIFCONF lists: a struct ifreq with
// the name and the IPv4 address of each interface that has one.
func IfConf(ifaces []sockproto.Interface) [][IfReqSize]byte {
	var out [][IfReqSize]byte
	for i := range ifaces {
		addr, _, ok := ipv4Of(&ifaces[i])
		if !ok {
			continue
		}
		var r [IfReqSize]byte
		copy(r[:linux.IFNAMSIZ-1], ifaces[i].Name)
		copy(r[linux.IFNAMSIZ:], EncodeAddr(sockproto.Addr{Family: linux.AF_INET, IP: addr[:]}))
		out = append(out, r)
	}
	return out
}

// ipv4Of is an interface's first IPv4 address and its prefix length.
func ipv4Of(ifc *sockproto.Interface) ([4]byte, int, bool) {
	for _, p := range ifc.Addrs {
		if p.Addr.Family == linux.AF_INET && len(p.Addr.IP) == 4 {
			return [4]byte(p.Addr.IP), int(min(p.Bits, 32)), true
		}
	}
	return [4]byte{}, 0, false
}
