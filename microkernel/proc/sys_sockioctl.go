package proc

import (
	"encoding/binary"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile"
	"valence.dev/microkernel/sock"
	"valence.dev/microkernel/unixsock"
)

// Socket ioctls: the interface requests of netdevice(7) that read
// (SIOCGIFNAME, SIOCGIFCONF, SIOCGIFFLAGS, SIOCGIFADDR, SIOCGIFBRDADDR,
// SIOCGIFNETMASK, SIOCGIFMTU, SIOCGIFHWADDR, SIOCGIFINDEX), on any
// socket as on Linux, answered from the network server's interfaces
// (sock.IfReq). Without a network server there is no interface: ENODEV.
// u-root's netstat -i asks SIOCGIFMTU and SIOCGIFFLAGS.

// sockIoctl answers ioctl(2) request cmd on of when it is a socket and
// cmd an interface request; handled is false otherwise.
func sockIoctl(c *call, of *kfile.OpenFile) (r result, handled bool) {
	switch of.File.(type) {
	case *sock.Socket, *unixsock.Socket:
	default:
		return result{}, false
	}
	cmd := uint32(c.arg(1))
	if cmd == linux.SIOCGIFCONF {
		return ifConf(c), true
	}
	var req [sock.IfReqSize]byte
	if _, _, ok := sock.IfReq(cmd, req, nil); !ok {
		return result{}, false
	}
	if err := c.as().CopyIn(c.arg(2), req[:]); err != nil {
		return fail(errno.EFAULT), true
	}
	n := currentNet()
	if n == nil {
		return fail(errno.ENODEV), true
	}
	st, e := n.Summary(c.t)
	if e != 0 {
		return fail(errno.ENODEV), true
	}
	rep, e, _ := sock.IfReq(cmd, req, st.Interfaces)
	if e != 0 {
		return fail(e), true
	}
	return copyOutStruct(c, c.arg(2), rep[:]), true
}

// ifConf is SIOCGIFCONF on struct ifconf { int ifc_len; char *ifc_buf }:
// with a NULL buffer it says how many bytes the list takes; else it
// writes the entries that fit in ifc_len bytes and sets ifc_len to the
// bytes written.
func ifConf(c *call) result {
	var hdr [16]byte
	if err := c.as().CopyIn(c.arg(2), hdr[:]); err != nil {
		return fail(errno.EFAULT)
	}
	room := int32(binary.LittleEndian.Uint32(hdr[0:]))
	buf := binary.LittleEndian.Uint64(hdr[8:])
	var entries [][sock.IfReqSize]byte
	if n := currentNet(); n != nil {
		if st, e := n.Summary(c.t); e == 0 {
			entries = sock.IfConf(st.Interfaces)
		}
	}
	written := 0
	if buf != 0 {
		for _, ent := range entries {
			if room < int32(written+sock.IfReqSize) {
				break
			}
			if err := c.as().CopyOut(buf+uint64(written), ent[:]); err != nil {
				return fail(errno.EFAULT)
			}
			written += sock.IfReqSize
		}
	} else {
		written = len(entries) * sock.IfReqSize
	}
	binary.LittleEndian.PutUint32(hdr[0:], uint32(written))
	return copyOutStruct(c, c.arg(2), hdr[:4])
}
