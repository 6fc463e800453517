package proc

import (
	"encoding/binary"
	"fmt"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile"
	"valence.dev/microkernel/mm"
	"valence.dev/microkernel/unixsock"
)

// AF_UNIX sockets are served in the kernel (package unixsock), one
// domain for the whole system. The socket calls below are what
// sys_socket.go and sys_sockmsg.go hand an AF_UNIX socket to; this file
// does the parts that need the process: its descriptors, its namespace
// (a pathname is a socket node in a filesystem: bind makes it, connect
// finds it) and its memory.

var unixDomain = unixsock.NewDomain(kernelIno, mm.KernelCanGrow)

// kernelIno numbers an object in the kernel tree's inode space.
func kernelIno() uint64 {
	root.mu.Lock()
	defer root.mu.Unlock()
	root.ino++
	return root.ino
}

// unixOwner is what c's process is charged for its sockets.
func unixOwner(c *call) unixsock.Owner {
	o := unixsock.Owner{Cred: unixsock.Cred{PID: int32(c.p.PID)}, MaxInFlight: int64(c.p.limit(linux.RLIMIT_NOFILE))}
	if acct := c.p.acct; acct != nil {
		o.Bytes, o.InFlight = &acct.sockBytes, &acct.unixInFlight
	}
	return o
}

// newUnixSocket implements socket(AF_UNIX, typ, protocol).
func newUnixSocket(c *call, typ linux.SockType, protocol int32, flags uint64) result {
	if protocol != 0 && protocol != linux.AF_UNIX {
		return fail(errno.EPROTONOSUPPORT)
	}
	if typ == linux.SOCK_RAW {
		typ = linux.SOCK_DGRAM // as Linux's unix_create, for old programs
	}
	if e := admitObject(4096); e != 0 {
		return fail(e)
	}
	u, e := unixDomain.NewSocket(typ, unixOwner(c))
	if e != 0 {
		return fail(e)
	}
	fd, e := installUnix(c, u, flags)
	if e != 0 {
		return fail(e)
	}
	return ok(uint64(fd))
}

// installUnix puts u behind a new descriptor (u is released if there
// is no room).
func installUnix(c *call, u *unixsock.Socket, flags uint64) (int32, errno.Errno) {
	fl := uint32(linux.O_RDWR)
	if flags&linux.SOCK_NONBLOCK != 0 {
		fl |= linux.O_NONBLOCK
	}
	of := kfile.NewOpenFile(u, fl, fmt.Sprintf("socket:[%d]", u.Ino()))
	fd, e := c.p.fdTable().Install(of, 0, flags&linux.SOCK_CLOEXEC != 0)
	if e != 0 {
		of.Drop()
		return -1, e
	}
	return fd, 0
}

// sysSocketpair implements socketpair(2): AF_UNIX only. Linux's other
// families that exist have no pairs (EOPNOTSUPP); the rest do not exist
// (EAFNOSUPPORT).
func sysSocketpair(c *call) result {
	domain, typ, protocol := c.arg(0), uint32(c.arg(1)), c.i32(2)
	flags := uint64(typ) & socketFlags
	typ &^= uint32(socketFlags)
	if typ&^0xf != 0 || typ >= sockMax || protocol < 0 || protocol >= ipprotoMax {
		return fail(errno.EINVAL)
	}
	switch domain {
	case linux.AF_UNIX:
	case linux.AF_INET, linux.AF_INET6, linux.AF_PACKET, linux.AF_NETLINK:
		return fail(errno.EOPNOTSUPP) // families Linux has, without pairs
	default:
		return fail(errno.EAFNOSUPPORT)
	}
	if protocol != 0 && protocol != linux.AF_UNIX {
		return fail(errno.EPROTONOSUPPORT)
	}
	if typ == uint32(linux.SOCK_RAW) {
		typ = uint32(linux.SOCK_DGRAM)
	}
	if e := admitObject(8192); e != 0 {
		return fail(e)
	}
	a, b, e := unixDomain.Pair(linux.SockType(typ), unixOwner(c))
	if e != 0 {
		return fail(e)
	}
	fa, e := installUnix(c, a, flags)
	if e != 0 {
		b.Release()
		return fail(e)
	}
	fb, e := installUnix(c, b, flags)
	if e != 0 {
		c.p.fdTable().Close(fa)
		return fail(e)
	}
	var sv [8]byte
	binary.LittleEndian.PutUint32(sv[:], uint32(fa))
	binary.LittleEndian.PutUint32(sv[4:], uint32(fb))
	if err := c.as().CopyOut(c.arg(3), sv[:]); err != nil {
		c.p.fdTable().Close(fa)
		c.p.fdTable().Close(fb)
		return fail(errno.EFAULT)
	}
	return ok0()
}

// unixArg returns the AF_UNIX socket behind descriptor argument i, held
// (nil if it is not one: the caller goes on as for any socket).
func unixArg(c *call, i int) (*unixsock.Socket, *kfile.OpenFile) {
	of, ok := c.p.fdTable().Get(c.i32(i))
	if !ok {
		return nil, nil
	}
	u, isUnix := of.File.(*unixsock.Socket)
	if !isUnix {
		of.Drop()
		return nil, nil
	}
	return u, of
}

// unixAddrArg reads a sockaddr_un argument.
func unixAddrArg(c *call, addr, n uint64) (unixsock.Addr, errno.Errno) {
	b, e := addrBytes(c, addr, n)
	if e != 0 {
		return "", e
	}
	return unixsock.DecodeAddr(b)
}

// unixBind implements bind(2) on u.
func unixBind(c *call, u *unixsock.Socket) result {
	a, e := unixAddrArg(c, c.arg(1), c.arg(2))
	if e != 0 {
		return fail(e)
	}
	if !a.Path() {
		return result{err: u.BindAbstract(a)} // "" autobinds
	}
	return result{err: bindPath(c, u, a)}
}

// bindPath makes the socket node a names and binds u to it: EADDRINUSE
// if the name exists, as Linux (a stale node must be unlinked first).
func bindPath(c *call, u *unixsock.Socket, a unixsock.Addr) errno.Errno {
	if u.Bound() {
		return errno.EINVAL
	}
	r, e := c.resolveAt(linux.AT_FDCWD, string(a))
	if e != 0 {
		return e
	}
	mk, canMknod := r.fs.(kfile.Mknoder)
	if !canMknod {
		if _, e := r.fs.Stat(c.t, r.at, linux.AT_SYMLINK_NOFOLLOW); e == 0 {
			return errno.EADDRINUSE
		}
		return errno.EROFS
	}
	switch e := mk.Mknod(c.t, r.at, linux.S_IFSOCK|0o777&^c.p.getUmask()); e {
	case 0:
	case errno.EEXIST:
		return errno.EADDRINUSE
	default:
		return e
	}
	st, e := r.fs.Stat(c.t, r.at, linux.AT_SYMLINK_NOFOLLOW)
	if e == 0 {
		e = u.BindPath(a, unixsock.Key{Dev: st.Dev, Ino: st.Ino})
	}
	if e != 0 {
		r.fs.Unlink(c.t, r.at, 0) // the node we made and could not use
	}
	return e
}

// unixTarget finds the socket address a names: an abstract name in the
// domain, a pathname by its node (ENOENT when absent, ECONNREFUSED when
// it is not a socket or no socket is bound to it, as Linux).
func unixTarget(c *call, a unixsock.Addr) (*unixsock.Socket, errno.Errno) {
	switch {
	case a == "":
		return nil, errno.EINVAL
	case a.Abstract():
		return unixDomain.LookupAbstract(a)
	}
	r, e := c.resolveAt(linux.AT_FDCWD, string(a))
	if e != 0 {
		return nil, e
	}
	st, e := r.fs.Stat(c.t, r.at, 0)
	if e != 0 {
		return nil, e
	}
	if st.Mode&linux.S_IFMT != linux.S_IFSOCK {
		return nil, errno.ECONNREFUSED
	}
	return unixDomain.LookupPath(unixsock.Key{Dev: st.Dev, Ino: st.Ino})
}

// unixConnect implements connect(2) on u.
func unixConnect(c *call, u *unixsock.Socket, of *kfile.OpenFile) result {
	b, e := addrBytes(c, c.arg(1), c.arg(2))
	if e != 0 {
		return fail(e)
	}
	if u.Type() == linux.SOCK_DGRAM && len(b) >= 2 && binary.LittleEndian.Uint16(b) == linux.AF_UNSPEC {
		return result{err: u.Connect(c.t, nil, false)} // dissolve the association
	}
	a, e := unixsock.DecodeAddr(b)
	if e != 0 {
		return fail(e)
	}
	if a == "" {
		return fail(errno.EINVAL)
	}
	target, e := unixTarget(c, a)
	if e != 0 {
		return fail(e)
	}
	return result{err: u.Connect(c.t, target, of.Nonblock())}
}

// unixAccept implements accept4(2) on u.
func unixAccept(c *call, u *unixsock.Socket, of *kfile.OpenFile, flags uint64) result {
	if flags&^socketFlags != 0 {
		return fail(errno.EINVAL)
	}
	ns, e := u.Accept(c.t, of.Nonblock(), unixOwner(c))
	if e != 0 {
		return fail(e)
	}
	peer, _ := ns.PeerName()
	if e := putUnixAddr(c, peer, c.arg(1), c.arg(2), true); e != 0 {
		ns.Release()
		return fail(e)
	}
	fd, e := installUnix(c, ns, flags)
	if e != 0 {
		return fail(e)
	}
	return ok(uint64(fd))
}

// putUnixAddr is putAddr for a sockaddr_un.
func putUnixAddr(c *call, a unixsock.Addr, addr, lenAddr uint64, optional bool) errno.Errno {
	return putAddrBytes(c, a.Encode(), addr, lenAddr, optional)
}

// unixName implements getsockname(2) and getpeername(2) on u.
func unixName(c *call, u *unixsock.Socket, peer bool) result {
	a := u.Name()
	if peer {
		var e errno.Errno
		if a, e = u.PeerName(); e != 0 {
			return fail(e)
		}
	}
	return result{err: putUnixAddr(c, a, c.arg(1), c.arg(2), false)}
}

// sysMknodat implements mknodat(2) (sysMknod, mknod(2)) for the special
// files a filesystem can hold without the kernel serving a device: a
// socket node, a FIFO node (which cannot be opened yet: ENXIO) and, as
// Linux allows, an empty regular file. Device nodes are EPERM: the
// kernel's devices live in /dev, which it makes itself.
func sysMknodat(c *call) result {
	mode := uint32(c.arg(2))
	perm := mode & 0o7777 &^ c.p.getUmask()
	r, e := c.resolveArg(0, 1)
	if e != 0 {
		return fail(e)
	}
	switch mode & linux.S_IFMT {
	case 0, linux.S_IFREG:
		f, e := r.fs.Open(c.t, r.at, linux.O_CREAT|linux.O_EXCL|linux.O_WRONLY, perm)
		if e != 0 {
			return fail(e)
		}
		f.Release()
		return ok0()
	case linux.S_IFSOCK, linux.S_IFIFO:
		mk, canMknod := r.fs.(kfile.Mknoder)
		if !canMknod {
			if _, e := r.fs.Stat(c.t, r.at, linux.AT_SYMLINK_NOFOLLOW); e == 0 {
				return fail(errno.EEXIST)
			}
			return fail(errno.EROFS)
		}
		return result{err: mk.Mknod(c.t, r.at, mode&linux.S_IFMT|perm)}
	case linux.S_IFCHR, linux.S_IFBLK:
		return fail(errno.EPERM)
	}
	return fail(errno.EINVAL)
}

func sysMknod(c *call) result {
	c.args = [6]uint64{atFDCWD, c.args[0], c.args[1], c.args[2]}
	return sysMknodat(c)
}
