package proc

import (
	"encoding/binary"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/sock"
	"valence.dev/servers/net/sockproto"
)

// sendmsg(2) and recvmsg(2): sendto and recvfrom with the data in an
// iovec array and the address in a struct msghdr. Ancillary data
// (msg_control) is AF_UNIX's only (sys_unixmsg.go): on an inet socket a
// sendmsg that carries some is EINVAL, and recvmsg never returns any
// (msg_controllen is set to 0).

// msgIovecs reads the iovecs of a msghdr, bounded as readv's (but more
// than UIO_MAXIOV is EMSGSIZE here, as Linux's msghdr copy says).
func msgIovecs(c *call, m sock.MsgHdr) ([][2]uint64, uint64, errno.Errno) {
	if m.IovLen > 1024 {
		return nil, 0, errno.EMSGSIZE
	}
	v, e := iovecs(c, m.Iov, m.IovLen)
	if e != 0 {
		return nil, 0, e
	}
	total := uint64(0)
	for _, iv := range v {
		total += iv[1]
		if total > maxIO || iv[1] > maxIO {
			return nil, 0, errno.EMSGSIZE
		}
	}
	return v, total, 0
}

func readMsgHdr(c *call, addr uint64) (sock.MsgHdr, errno.Errno) {
	b := make([]byte, sock.MsgHdrSize)
	if err := c.as().CopyIn(addr, b); err != nil {
		return sock.MsgHdr{}, errno.EFAULT
	}
	return sock.DecodeMsgHdr(b)
}

// sysSendmsg implements sendmsg(2).
func sysSendmsg(c *call) result {
	if r, isNetlink := onNetlink(c, netlinkSendmsg); isNetlink {
		return r
	}
	if u, of := unixArg(c, 0); u != nil {
		defer of.Drop()
		return unixSendmsg(c, u, of)
	}
	s, of, e := socketArg(c, 0)
	if e != 0 {
		return fail(e)
	}
	defer of.Drop()
	m, e := readMsgHdr(c, c.arg(1))
	if e != 0 {
		return fail(e)
	}
	if m.ControlLen != 0 {
		// Read as Linux does (EFAULT for a bad pointer), then refused:
		// ancillary data is not supported.
		if err := c.as().CopyIn(m.Control, make([]byte, min(m.ControlLen, 4096))); err != nil {
			return fail(errno.EFAULT)
		}
		return fail(errno.EINVAL)
	}
	var to sockproto.Addr
	// A name longer than a sockaddr_storage is cut to one; a name of
	// length 0 is none (Linux's copy_msghdr_from_user).
	if nl := min(int32(m.NameLen), 128); m.Name != 0 && nl != 0 {
		if to, e = addrArg(c, s, m.Name, uint64(nl)); e != 0 {
			return fail(e)
		}
	}
	v, total, e := msgIovecs(c, m)
	if e != 0 {
		return fail(e)
	}
	b := make([]byte, 0, total)
	for _, iv := range v {
		part := make([]byte, iv[1])
		if err := c.as().CopyIn(iv[0], part); err != nil {
			return fail(errno.EFAULT)
		}
		b = append(b, part...)
	}
	flags := uint32(c.arg(2))
	n, e := s.SendTo(c.t, b, flags&^linux.MSG_DONTWAIT, to, of.Nonblock() || flags&linux.MSG_DONTWAIT != 0)
	if e != 0 {
		return fail(e)
	}
	return ok(uint64(n))
}

// sysRecvmsg implements recvmsg(2).
func sysRecvmsg(c *call) result {
	if r, isNetlink := onNetlink(c, netlinkRecvmsg); isNetlink {
		return r
	}
	if u, of := unixArg(c, 0); u != nil {
		defer of.Drop()
		return unixRecvmsg(c, u, of)
	}
	s, of, e := socketArg(c, 0)
	if e != 0 {
		return fail(e)
	}
	defer of.Drop()
	hdr := c.arg(1)
	m, v, total, e := recvMsgArgs(c, hdr)
	if e != 0 {
		return fail(e)
	}
	flags := uint32(c.arg(2))
	b := make([]byte, total)
	n, full, from, e := s.RecvFrom(c.t, b, flags, of.Nonblock())
	if e != 0 {
		return fail(e)
	}
	rest := b[:n]
	for _, iv := range v {
		k := min(uint64(len(rest)), iv[1])
		if err := c.as().CopyOut(iv[0], rest[:k]); err != nil {
			return fail(errno.EFAULT)
		}
		rest = rest[k:]
	}
	if m.Name != 0 {
		a := sock.EncodeAddr(from)
		room := min(int(m.NameLen), len(a))
		if err := c.as().CopyOut(m.Name, a[:room]); err != nil {
			return fail(errno.EFAULT)
		}
		m.NameLen = uint32(len(a))
	}
	var msgFlags uint32
	if s.Type() != uint16(linux.SOCK_STREAM) && full > n {
		msgFlags |= linux.MSG_TRUNC
	}
	if e := putMsgHeader(c, hdr, m.NameLen, msgFlags); e != 0 {
		return fail(e)
	}
	if flags&linux.MSG_TRUNC != 0 && s.Type() != uint16(linux.SOCK_STREAM) {
		return ok(uint64(full))
	}
	return ok(uint64(n))
}

// recvMsgArgs reads recvmsg(2)'s struct msghdr at hdr and its iovecs,
// which must all be user memory, with their total length.
func recvMsgArgs(c *call, hdr uint64) (sock.MsgHdr, [][2]uint64, uint64, errno.Errno) {
	m, e := readMsgHdr(c, hdr)
	if e != 0 {
		return m, nil, 0, e
	}
	if int32(m.NameLen) < 0 {
		return m, nil, 0, errno.EINVAL
	}
	v, total, e := msgIovecs(c, m)
	if e != 0 {
		return m, nil, 0, e
	}
	for _, iv := range v {
		if !userRange(iv[0], iv[1]) {
			return m, nil, 0, errno.EFAULT
		}
	}
	return m, v, total, 0
}

// putMsgHeader writes back what recvmsg(2) reports in the caller's
// struct msghdr at hdr: msg_namelen, a msg_controllen of 0 (no ancillary
// data) and msg_flags.
func putMsgHeader(c *call, hdr uint64, nameLen, msgFlags uint32) errno.Errno {
	var out [8]byte
	binary.LittleEndian.PutUint32(out[:4], nameLen)
	if err := c.as().CopyOut(hdr+sock.MsgNameLenOff, out[:4]); err != nil {
		return errno.EFAULT
	}
	binary.LittleEndian.PutUint64(out[:], 0)
	if err := c.as().CopyOut(hdr+sock.MsgControlLenOff, out[:]); err != nil {
		return errno.EFAULT
	}
	binary.LittleEndian.PutUint32(out[:4], msgFlags)
	if err := c.as().CopyOut(hdr+sock.MsgFlagsOff, out[:4]); err != nil {
		return errno.EFAULT
	}
	return 0
}
