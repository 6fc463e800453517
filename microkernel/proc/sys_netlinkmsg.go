package proc

import (
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile"
	"valence.dev/microkernel/netlink"
)

// Sending requests to and receiving answers from a netlink socket, in
// Linux's netlink_sendmsg and netlink_recvmsg order of checks.

// netlinkSend sends the n bytes at buf to the kernel: MSG_OOB is
// EOPNOTSUPP; a destination, if given, must be the kernel (nlAddr); more
// than SO_SNDBUF less 32 bytes is EMSGSIZE.
func netlinkSend(c *call, s *netlink.Socket, read func([]byte) bool, n uint64, flags uint32, to, toLen uint64) result {
	if flags&linux.MSG_OOB != 0 {
		return fail(errno.EOPNOTSUPP)
	}
	if to != 0 && toLen != 0 {
		if e := nlAddr(c, to, toLen); e != 0 {
			return fail(e)
		}
	}
	if e := s.Autobind(c.p.PID); e != 0 {
		return fail(e)
	}
	if n > uint64(s.MaxSend()) {
		return fail(errno.EMSGSIZE)
	}
	b := make([]byte, n)
	if !read(b) {
		return fail(errno.EFAULT)
	}
	sent, e := s.Send(c.t, c.p.PID, b)
	if e != 0 {
		return fail(e)
	}
	return ok(uint64(sent))
}

// netlinkSendto implements sendto(2).
func netlinkSendto(c *call, s *netlink.Socket, _ *kfile.OpenFile) result {
	buf := c.arg(1)
	read := func(b []byte) bool { return c.as().CopyIn(buf, b) == nil }
	return netlinkSend(c, s, read, c.arg(2), uint32(c.arg(3)), c.arg(4), c.arg(5))
}

// netlinkSendmsg implements sendmsg(2): the iovecs make one request
// buffer; ancillary data is EINVAL (read first, for EFAULT), as the
// credentials Linux would take are not used.
func netlinkSendmsg(c *call, s *netlink.Socket, _ *kfile.OpenFile) result {
	m, e := readMsgHdr(c, c.arg(1))
	if e != 0 {
		return fail(e)
	}
	if m.ControlLen != 0 {
		if err := c.as().CopyIn(m.Control, make([]byte, min(m.ControlLen, 4096))); err != nil {
			return fail(errno.EFAULT)
		}
		return fail(errno.EINVAL)
	}
	v, total, e := msgIovecs(c, m)
	if e != 0 {
		return fail(e)
	}
	read := func(b []byte) bool {
		off := uint64(0)
		for _, iv := range v {
			if err := c.as().CopyIn(iv[0], b[off:off+iv[1]]); err != nil {
				return false
			}
			off += iv[1]
		}
		return true
	}
	return netlinkSend(c, s, read, total, uint32(c.arg(2)), m.Name, uint64(min(m.NameLen, 128)))
}

// netlinkRecvfrom implements recvfrom(2): one datagram, cut to the
// buffer; with MSG_TRUNC the call returns its whole length. The source
// is the kernel.
func netlinkRecvfrom(c *call, s *netlink.Socket, of *kfile.OpenFile) result {
	count := min(c.arg(2), maxIO)
	if !userRange(c.arg(1), count) {
		return fail(errno.EFAULT)
	}
	flags := uint32(c.arg(3))
	data, full, e := s.Recv(c.t, int(count), flags, of.Nonblock())
	if e != 0 {
		return fail(e)
	}
	if err := c.as().CopyOut(c.arg(1), data); err != nil {
		return fail(errno.EFAULT)
	}
	if e := putAddrBytes(c, nlName(0), c.arg(4), c.arg(5), true); e != 0 {
		return fail(e)
	}
	if flags&linux.MSG_TRUNC != 0 {
		return ok(uint64(full))
	}
	return ok(uint64(len(data)))
}

// netlinkRecvmsg implements recvmsg(2): as recvfrom, scattered over the
// iovecs, with MSG_TRUNC in msg_flags when the datagram was cut and no
// ancillary data.
func netlinkRecvmsg(c *call, s *netlink.Socket, of *kfile.OpenFile) result {
	hdr := c.arg(1)
	m, v, total, e := recvMsgArgs(c, hdr)
	if e != 0 {
		return fail(e)
	}
	flags := uint32(c.arg(2))
	data, full, e := s.Recv(c.t, int(total), flags, of.Nonblock())
	if e != 0 {
		return fail(e)
	}
	rest := data
	for _, iv := range v {
		k := min(uint64(len(rest)), iv[1])
		if err := c.as().CopyOut(iv[0], rest[:k]); err != nil {
			return fail(errno.EFAULT)
		}
		rest = rest[k:]
	}
	if m.Name != 0 {
		a := nlName(0)
		if err := c.as().CopyOut(m.Name, a[:min(int(m.NameLen), len(a))]); err != nil {
			return fail(errno.EFAULT)
		}
		m.NameLen = uint32(len(a))
	}
	var msgFlags uint32
	if full > len(data) {
		msgFlags |= linux.MSG_TRUNC
	}
	if e := putMsgHeader(c, hdr, m.NameLen, msgFlags); e != 0 {
		return fail(e)
	}
	if flags&linux.MSG_TRUNC != 0 {
		return ok(uint64(full))
	}
	return ok(uint64(len(data)))
}

// netlinkSetsockopt and netlinkGetsockopt implement setsockopt(2) and
// getsockopt(2) (netlink.Socket.SetOpt says which options act).
func netlinkSetsockopt(c *call, s *netlink.Socket, _ *kfile.OpenFile) result {
	n := c.arg(4)
	if n > 4096 {
		return fail(errno.EINVAL)
	}
	v := make([]byte, n)
	if err := c.as().CopyIn(c.arg(3), v); err != nil {
		return fail(errno.EFAULT)
	}
	return result{err: s.SetOpt(c.i32(1), c.i32(2), v)}
}

func netlinkGetsockopt(c *call, s *netlink.Socket, _ *kfile.OpenFile) result {
	room, e := optRoom(c)
	if e != 0 {
		return fail(e)
	}
	v, e := s.GetOpt(c.i32(1), c.i32(2))
	if e != 0 {
		return fail(e)
	}
	return putOpt(c, v, room)
}
