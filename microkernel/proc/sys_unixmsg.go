package proc

import (
	"encoding/binary"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile"
	"valence.dev/microkernel/sock"
	"valence.dev/microkernel/unixsock"
)

// Sending and receiving on AF_UNIX sockets, with their ancillary data:
// SCM_RIGHTS (descriptions move from the sender's table into the
// receiver's) and SCM_CREDENTIALS.

// maxControl bounds the ancillary data a sendmsg may carry (Linux's
// optmem_max; ENOBUFS beyond).
const maxControl = 64 << 10

// cmsgAlign rounds a control message length up as CMSG_ALIGN.
func cmsgAlign(n int) int { return (n + 7) &^ 7 }

// readControl parses sendmsg's ancillary data: the descriptions named
// by SCM_RIGHTS (held; the caller drops them unless sent) and the
// credentials of SCM_CREDENTIALS, which must be the caller's own: every
// process here runs as root, but a pid that is not the sender's would be
// a lie the receiver cannot check (EPERM).
func readControl(c *call, addr, n uint64) ([]*kfile.OpenFile, *unixsock.Cred, errno.Errno) {
	if n == 0 {
		return nil, nil, 0
	}
	if n > maxControl {
		return nil, nil, errno.ENOBUFS
	}
	b := make([]byte, n)
	if err := c.as().CopyIn(addr, b); err != nil {
		return nil, nil, errno.EFAULT
	}
	var rights []*kfile.OpenFile
	var cred *unixsock.Cred
	fail := func(e errno.Errno) ([]*kfile.OpenFile, *unixsock.Cred, errno.Errno) {
		for _, of := range rights {
			of.Drop()
		}
		return nil, nil, e
	}
	hdr := linux.SizeOfControlMessageHeader
	for len(b) >= hdr {
		var h linux.ControlMessageHeader
		h.UnmarshalBytes(b)
		if h.Length < uint64(hdr) || h.Length > uint64(len(b)) {
			return fail(errno.EINVAL)
		}
		data := b[hdr:h.Length]
		switch {
		case h.Level == linux.SOL_SOCKET && h.Type == linux.SCM_RIGHTS:
			if len(data)%linux.SizeOfControlMessageRight != 0 {
				return fail(errno.EINVAL)
			}
			if len(rights)+len(data)/4 > linux.SCM_MAX_FD {
				return fail(errno.EINVAL)
			}
			for i := 0; i < len(data); i += 4 {
				of, ok := c.p.fdTable().Get(int32(binary.LittleEndian.Uint32(data[i:])))
				if !ok {
					return fail(errno.EBADF)
				}
				rights = append(rights, of)
			}
		case h.Level == linux.SOL_SOCKET && h.Type == linux.SCM_CREDENTIALS:
			if len(data) != linux.SizeOfControlMessageCredentials {
				return fail(errno.EINVAL)
			}
			var cr linux.ControlMessageCredentials
			cr.UnmarshalBytes(data)
			if cr.PID != int32(c.p.PID) {
				return fail(errno.EPERM)
			}
			cred = &unixsock.Cred{PID: cr.PID, UID: cr.UID, GID: cr.GID}
		default:
			return fail(errno.EINVAL)
		}
		next := cmsgAlign(int(h.Length))
		if next >= len(b) {
			break
		}
		b = b[next:]
	}
	return rights, cred, 0
}

// unixSend sends data with ancillary data on u: sendto (to, toLen) or
// sendmsg. The rights in m are queued if it sends, dropped otherwise.
func unixSend(c *call, u *unixsock.Socket, of *kfile.OpenFile, m unixsock.Message, to, toLen uint64, flags uint32) result {
	n, e := unixSendTo(c, u, of, m, to, toLen, flags)
	if e != 0 || n == 0 && len(m.Data) == 0 && u.Type() == linux.SOCK_STREAM {
		dropAllFiles(m.Rights)
	}
	if e != 0 {
		return fail(e)
	}
	return ok(uint64(n))
}

func unixSendTo(c *call, u *unixsock.Socket, of *kfile.OpenFile, m unixsock.Message, to, toLen uint64, flags uint32) (int, errno.Errno) {
	var target *unixsock.Socket
	if to != 0 && toLen != 0 {
		if e := u.CheckAddressed(); e != 0 {
			return 0, e
		}
		a, e := unixAddrArg(c, to, toLen)
		if e != 0 {
			return 0, e
		}
		if u.Type() == linux.SOCK_DGRAM {
			if target, e = unixTarget(c, a); e != 0 {
				return 0, e
			}
		}
	}
	return u.Send(c.t, m, target, flags, of.Nonblock())
}

// unixSendmsg implements sendmsg(2) on u. A stream takes any length, a
// maxIO piece at a time (the descriptors go with the first); a datagram
// or seqpacket message must fit in one (EMSGSIZE, as its send buffer
// would say anyway).
func unixSendmsg(c *call, u *unixsock.Socket, of *kfile.OpenFile) result {
	m, e := readMsgHdr(c, c.arg(1))
	if e != 0 {
		return fail(e)
	}
	if m.IovLen > 1024 {
		return fail(errno.EMSGSIZE)
	}
	v, e := iovecs(c, m.Iov, m.IovLen)
	if e != 0 {
		return fail(e)
	}
	total := uint64(0)
	for _, iv := range v {
		if iv[1] > 1<<31 || total+iv[1] > 1<<31 {
			return fail(errno.EINVAL)
		}
		total += iv[1]
	}
	if total > maxIO && u.Type() != linux.SOCK_STREAM {
		return fail(errno.EMSGSIZE)
	}
	rights, cred, e := readControl(c, m.Control, m.ControlLen)
	if e != 0 {
		return fail(e)
	}
	flags := uint32(c.arg(2))
	done := uint64(0)
	for first := true; first || done < total; first = false {
		b := make([]byte, 0, min(total-done, maxIO))
		for skip, i := done, 0; i < len(v) && len(b) < cap(b); i++ {
			if skip >= v[i][1] {
				skip -= v[i][1]
				continue
			}
			part := make([]byte, min(v[i][1]-skip, uint64(cap(b)-len(b))))
			if err := c.as().CopyIn(v[i][0]+skip, part); err != nil {
				dropAllFiles(rights)
				if done > 0 {
					return ok(done)
				}
				return fail(errno.EFAULT)
			}
			b, skip = append(b, part...), 0
		}
		r := unixSend(c, u, of, unixsock.Message{Data: b, Rights: rights, Cred: cred}, m.Name, uint64(min(m.NameLen, 128)), flags)
		rights = nil // sent with the first piece, or dropped by unixSend
		if r.err != 0 {
			if done > 0 {
				return ok(done)
			}
			return r
		}
		done += r.val
		if r.val < uint64(len(b)) {
			break
		}
	}
	return ok(done)
}

func dropAllFiles(ofs []*kfile.OpenFile) {
	for _, of := range ofs {
		of.Drop()
	}
}

// unixRecvfrom implements recvfrom(2) on u: descriptors that came with
// the bytes are closed, as a read that asks for no ancillary data gets.
func unixRecvfrom(c *call, u *unixsock.Socket, of *kfile.OpenFile) result {
	count := min(c.arg(2), maxIO)
	if !userRange(c.arg(1), count) {
		return fail(errno.EFAULT)
	}
	flags := uint32(c.arg(3))
	r, e := u.Recv(c.t, int(count), flags, of.Nonblock())
	if e != 0 {
		return fail(e)
	}
	r.DropRights()
	if err := c.as().CopyOut(c.arg(1), r.Data); err != nil {
		return fail(errno.EFAULT)
	}
	if c.arg(4) != 0 && r.From != "" {
		if e := putUnixAddr(c, r.From, c.arg(4), c.arg(5), true); e != 0 {
			return fail(e)
		}
	} else if c.arg(4) != 0 {
		if err := c.as().CopyOut(c.arg(5), make([]byte, 4)); err != nil {
			return fail(errno.EFAULT)
		}
	}
	if flags&linux.MSG_TRUNC != 0 && u.Type() != linux.SOCK_STREAM {
		return ok(uint64(r.Full))
	}
	return ok(uint64(len(r.Data)))
}

// unixRecvmsg implements recvmsg(2) on u.
func unixRecvmsg(c *call, u *unixsock.Socket, of *kfile.OpenFile) result {
	hdr := c.arg(1)
	m, v, total, e := recvMsgArgs(c, hdr)
	if e != 0 {
		return fail(e)
	}
	flags := uint32(c.arg(2))
	r, e := u.Recv(c.t, int(total), flags, of.Nonblock())
	if e != 0 {
		return fail(e)
	}
	defer r.DropRights() // whatever is not installed
	rest := r.Data
	for _, iv := range v {
		k := min(uint64(len(rest)), iv[1])
		if err := c.as().CopyOut(iv[0], rest[:k]); err != nil {
			return fail(errno.EFAULT)
		}
		rest = rest[k:]
	}
	nameLen := uint32(0) // an unnamed sender: no name (Linux sets 0)
	if m.Name != 0 && r.From != "" {
		a := r.From.Encode()
		if err := c.as().CopyOut(m.Name, a[:min(int(m.NameLen), len(a))]); err != nil {
			return fail(errno.EFAULT)
		}
		nameLen = uint32(len(a))
	}
	var msgFlags uint32
	if u.Type() != linux.SOCK_STREAM && r.Full > len(r.Data) {
		msgFlags |= linux.MSG_TRUNC
	}
	control, truncated := writeControl(c, &r, m.ControlLen, flags&linux.MSG_CMSG_CLOEXEC != 0)
	if truncated {
		msgFlags |= linux.MSG_CTRUNC
	}
	if len(control) > 0 {
		if err := c.as().CopyOut(m.Control, control); err != nil {
			return fail(errno.EFAULT)
		}
	}
	var out [8]byte
	binary.LittleEndian.PutUint32(out[:4], nameLen)
	if err := c.as().CopyOut(hdr+sock.MsgNameLenOff, out[:4]); err != nil {
		return fail(errno.EFAULT)
	}
	binary.LittleEndian.PutUint64(out[:], uint64(len(control)))
	if err := c.as().CopyOut(hdr+sock.MsgControlLenOff, out[:]); err != nil {
		return fail(errno.EFAULT)
	}
	binary.LittleEndian.PutUint32(out[:4], msgFlags)
	if err := c.as().CopyOut(hdr+sock.MsgFlagsOff, out[:4]); err != nil {
		return fail(errno.EFAULT)
	}
	if flags&linux.MSG_TRUNC != 0 && u.Type() != linux.SOCK_STREAM {
		return ok(uint64(r.Full))
	}
	return ok(uint64(len(r.Data)))
}

// writeControl builds recvmsg's ancillary data in at most room bytes,
// as Linux's scm_recv: the credentials (with SO_PASSCRED), then the
// descriptors, installed in the caller's table, as many as fit (the
// rest stay in r, for the caller to close, and truncated is set).
func writeControl(c *call, r *unixsock.Received, room uint64, cloexec bool) (control []byte, truncated bool) {
	hdr := linux.SizeOfControlMessageHeader
	left := int(min(room, maxControl))
	put := func(typ int32, data []byte) {
		n := hdr + len(data)
		h := linux.ControlMessageHeader{Length: uint64(n), Level: linux.SOL_SOCKET, Type: typ}
		b := make([]byte, cmsgAlign(n))
		h.MarshalBytes(b)
		copy(b[hdr:], data)
		b = b[:min(len(b), left)]
		control = append(control, b...)
		left -= len(b)
	}
	if r.Cred != nil {
		if left < hdr+linux.SizeOfControlMessageCredentials {
			truncated = true
		} else {
			cr := linux.ControlMessageCredentials{PID: r.Cred.PID, UID: r.Cred.UID, GID: r.Cred.GID}
			b := make([]byte, linux.SizeOfControlMessageCredentials)
			cr.MarshalBytes(b)
			put(linux.SCM_CREDENTIALS, b)
		}
	}
	if len(r.Rights) == 0 {
		return control, truncated
	}
	fit := 0
	if left > hdr {
		fit = min(len(r.Rights), (left-hdr)/linux.SizeOfControlMessageRight)
	}
	var fds []byte
	for _, of := range r.Rights[:fit] {
		fd, e := c.p.fdTable().Install(of, 0, cloexec)
		if e != 0 {
			of.Drop() // no room in the table: lost, as the rest are
			truncated = true
			continue
		}
		fds = binary.LittleEndian.AppendUint32(fds, uint32(fd))
	}
	r.Rights = r.Rights[fit:]
	if fit < len(r.Rights)+fit {
		truncated = true
	}
	if len(fds) > 0 {
		put(linux.SCM_RIGHTS, fds)
	}
	return control, truncated
}

// unixSetsockopt and unixGetsockopt implement setsockopt(2) and
// getsockopt(2) on u.
func unixSetsockopt(c *call, u *unixsock.Socket) result {
	n := c.arg(4)
	if n > 4096 {
		return fail(errno.EINVAL)
	}
	v := make([]byte, n)
	if err := c.as().CopyIn(c.arg(3), v); err != nil {
		return fail(errno.EFAULT)
	}
	return result{err: u.SetOpt(c.i32(1), c.i32(2), v)}
}

func unixGetsockopt(c *call, u *unixsock.Socket) result {
	room, e := optRoom(c)
	if e != 0 {
		return fail(e)
	}
	v, e := u.GetOpt(c.i32(1), c.i32(2))
	if e != 0 {
		return fail(e)
	}
	return putOpt(c, v, room)
}

// unixSendto implements sendto(2) on u, in pieces of at most maxIO (a
// stream send goes on while each piece is taken whole).
func unixSendto(c *call, u *unixsock.Socket, of *kfile.OpenFile) result {
	buf, count := c.arg(1), c.arg(2)
	if u.Type() != linux.SOCK_STREAM && count > maxIO {
		return fail(errno.EMSGSIZE)
	}
	done := uint64(0)
	for {
		b := make([]byte, min(count-done, maxIO))
		if err := c.as().CopyIn(buf+done, b); err != nil {
			if done > 0 {
				return ok(done)
			}
			return fail(errno.EFAULT)
		}
		r := unixSend(c, u, of, unixsock.Message{Data: b}, c.arg(4), c.arg(5), uint32(c.arg(3)))
		if r.err != 0 {
			if done > 0 {
				return ok(done)
			}
			return r
		}
		done += r.val
		if done >= count || r.val < uint64(len(b)) {
			return ok(done)
		}
	}
}
