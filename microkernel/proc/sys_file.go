package proc

import (
	"encoding/binary"
	"strings"
	"sync/atomic"
	"time"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/epoll"
	"valence.dev/microkernel/kfile"
	"valence.dev/microkernel/mm"
	"valence.dev/microkernel/pipe"
)

// maxIO bounds one read or write, so a huge count cannot make the kernel
// allocate without limit.
const maxIO = 1 << 20

func (c *call) file(i int) (*kfile.OpenFile, errno.Errno) {
	of, ok := c.p.fdTable().Get(c.i32(i))
	if !ok {
		return nil, errno.EBADF
	}
	return of, 0
}

func (p *Process) fdTable() *kfile.FDTable {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.files == nil {
		return kfile.NewFDTable()
	}
	return p.files
}

// doRead reads into user memory at buf, at the file offset (advancing it)
// or at off when positional.
func doRead(c *call, of *kfile.OpenFile, buf, count uint64, off int64, positional bool) result {
	if of.Flags&linux.O_ACCMODE == linux.O_WRONLY {
		return fail(errno.EBADF)
	}
	if count > maxIO {
		count = maxIO
	}
	if !userRange(buf, count) {
		return fail(errno.EFAULT) // before blocking: the data would be lost
	}
	b := make([]byte, count)
	useOff := of.File.Seekable()
	of.Mu.Lock()
	if !positional {
		off = of.Off
	}
	of.Mu.Unlock()
	if positional && !useOff {
		return fail(errno.ESPIPE)
	}
	n, e := of.File.Read(c.t, b, off, of.Nonblock())
	if e != 0 {
		return fail(e)
	}
	if err := c.as().CopyOut(buf, b[:n]); err != nil {
		return fail(errno.EFAULT)
	}
	if useOff && !positional {
		of.Mu.Lock()
		of.Off = off + int64(n)
		of.Mu.Unlock()
	}
	return ok(uint64(n))
}

func doWrite(c *call, of *kfile.OpenFile, buf, count uint64, off int64, positional bool) result {
	if of.Flags&linux.O_ACCMODE == linux.O_RDONLY {
		return fail(errno.EBADF)
	}
	if count > maxIO {
		count = maxIO
	}
	if !userRange(buf, count) {
		return fail(errno.EFAULT)
	}
	b := make([]byte, count)
	if err := c.as().CopyIn(buf, b); err != nil {
		return fail(errno.EFAULT)
	}
	seekable := of.File.Seekable()
	if positional && !seekable {
		return fail(errno.ESPIPE)
	}
	nonblock := of.Nonblock()
	if positional || !seekable {
		n, e := of.File.Write(c.t, b, off, nonblock)
		if e != 0 {
			return fail(e)
		}
		return ok(uint64(n))
	}
	// At the file offset: writers on one open file description take
	// turns, as Linux's f_pos lock makes them, so that each write starts
	// where the last ended.
	of.Mu.Lock()
	defer of.Mu.Unlock()
	if w, isEnd := of.File.(kfile.EndWriter); isEnd && of.Flags&linux.O_APPEND != 0 {
		n, end, e := w.WriteEnd(c.t, b, of.Off)
		if e != 0 {
			return fail(e)
		}
		of.Off = end
		return ok(uint64(n))
	}
	n, e := of.File.Write(c.t, b, of.Off, nonblock)
	if e != 0 {
		return fail(e)
	}
	of.Off += int64(n)
	return ok(uint64(n))
}

// sysRead implements read(2).
func sysRead(c *call) result {
	of, e := c.file(0)
	if e != 0 {
		return fail(e)
	}
	defer of.Drop()
	return doRead(c, of, c.arg(1), c.arg(2), 0, false)
}

// sysWrite implements write(2).
func sysWrite(c *call) result {
	of, e := c.file(0)
	if e != 0 {
		return fail(e)
	}
	defer of.Drop()
	return doWrite(c, of, c.arg(1), c.arg(2), 0, false)
}

// sysPread64 implements pread64(2).
func sysPread64(c *call) result {
	of, e := c.file(0)
	if e != 0 {
		return fail(e)
	}
	defer of.Drop()
	if c.iarg(3) < 0 {
		return fail(errno.EINVAL)
	}
	return doRead(c, of, c.arg(1), c.arg(2), c.iarg(3), true)
}

// sysPwrite64 implements pwrite64(2).
func sysPwrite64(c *call) result {
	of, e := c.file(0)
	if e != 0 {
		return fail(e)
	}
	defer of.Drop()
	if c.iarg(3) < 0 {
		return fail(errno.EINVAL)
	}
	return doWrite(c, of, c.arg(1), c.arg(2), c.iarg(3), true)
}

// iovecs reads an iovec array.
func iovecs(c *call, addr, n uint64) ([][2]uint64, errno.Errno) {
	if n > 1024 {
		return nil, errno.EINVAL
	}
	b := make([]byte, n*16)
	if err := c.as().CopyIn(addr, b); err != nil {
		return nil, errno.EFAULT
	}
	v := make([][2]uint64, n)
	for i := range v {
		v[i] = [2]uint64{binary.LittleEndian.Uint64(b[i*16:]), binary.LittleEndian.Uint64(b[i*16+8:])}
	}
	return v, 0
}

// sysReadv implements readv(2), one iovec after another.
func sysReadv(c *call) result {
	return vectored(c, func(of *kfile.OpenFile, base, n uint64) result { return doRead(c, of, base, n, 0, false) })
}

// sysWritev implements writev(2).
func sysWritev(c *call) result {
	return vectored(c, func(of *kfile.OpenFile, base, n uint64) result { return doWrite(c, of, base, n, 0, false) })
}

func vectored(c *call, op func(of *kfile.OpenFile, base, n uint64) result) result {
	of, e := c.file(0)
	if e != 0 {
		return fail(e)
	}
	defer of.Drop()
	v, e := iovecs(c, c.arg(1), c.arg(2))
	if e != 0 {
		return fail(e)
	}
	total := uint64(0)
	for _, iv := range v {
		if iv[1] == 0 {
			continue
		}
		r := op(of, iv[0], iv[1])
		if r.err != 0 {
			if total > 0 {
				break
			}
			return r
		}
		total += r.val
		if r.val < iv[1] {
			break
		}
	}
	return ok(total)
}

// sysLseek implements lseek(2).
func sysLseek(c *call) result {
	of, e := c.file(0)
	if e != 0 {
		return fail(e)
	}
	defer of.Drop()
	if !of.File.Seekable() {
		return fail(errno.ESPIPE)
	}
	off := c.iarg(1)
	of.Mu.Lock()
	defer of.Mu.Unlock()
	switch c.arg(2) {
	case linux.SEEK_SET:
	case linux.SEEK_CUR:
		off += of.Off
	case linux.SEEK_END:
		st, e := kfile.StatOf(c.t, of.File)
		if e != 0 {
			return fail(e)
		}
		off += st.Size
	default:
		return fail(errno.EINVAL)
	}
	if off < 0 {
		return fail(errno.EINVAL)
	}
	of.Off = off
	return ok(uint64(off))
}

// userPath reads a path argument.
func userPath(c *call, addr uint64) (string, errno.Errno) {
	s, err := c.as().ReadString(addr, linux.PATH_MAX)
	if err != nil {
		if strings.Contains(err.Error(), "longer") {
			return "", errno.ENAMETOOLONG
		}
		return "", errno.EFAULT
	}
	if s == "" {
		return "", errno.ENOENT
	}
	return s, 0
}

// sysClose implements close(2).
func sysClose(c *call) result {
	if e := c.p.fdTable().Close(c.i32(0)); e != 0 {
		return fail(e)
	}
	return ok0()
}

// sysDup implements dup(2).
func sysDup(c *call) result {
	of, e := c.file(0)
	if e != 0 {
		return fail(e)
	}
	fd, e := c.p.fdTable().Install(of, 0, false)
	if e != 0 {
		of.Drop()
		return fail(e)
	}
	return ok(uint64(fd))
}

// sysDup3 implements dup3(2).
func sysDup3(c *call) result {
	if c.arg(2)&^linux.O_CLOEXEC != 0 || c.i32(0) == c.i32(1) {
		return fail(errno.EINVAL)
	}
	return dupTo(c, c.arg(2)&linux.O_CLOEXEC != 0)
}

// sysDup2 implements dup2(2).
func sysDup2(c *call) result {
	if c.i32(0) == c.i32(1) {
		if of, e := c.file(0); e != 0 {
			return fail(e)
		} else {
			of.Drop()
		}
		return ok(c.arg(1))
	}
	return dupTo(c, false)
}

func dupTo(c *call, cloexec bool) result {
	of, e := c.file(0)
	if e != 0 {
		return fail(e)
	}
	if e := c.p.fdTable().InstallAt(of, c.i32(1), cloexec); e != 0 {
		of.Drop()
		return fail(e)
	}
	return ok(c.arg(1))
}

// sysFcntl implements fcntl(2): descriptor flags, status flags and
// duplication.
func sysFcntl(c *call) result {
	fd := c.i32(0)
	of, e := c.file(0)
	if e != 0 {
		return fail(e)
	}
	defer of.Drop()
	t := c.p.fdTable()
	switch c.arg(1) {
	case linux.F_GETFD:
		if t.Cloexec(fd) {
			return ok(linux.FD_CLOEXEC)
		}
		return ok0()
	case linux.F_SETFD:
		return fail(t.SetCloexec(fd, c.arg(2)&linux.FD_CLOEXEC != 0))
	case linux.F_GETFL:
		of.Mu.Lock()
		defer of.Mu.Unlock()
		return ok(uint64(of.Flags))
	case linux.F_SETFL:
		of.Mu.Lock()
		of.Flags = of.Flags&^(linux.O_NONBLOCK|linux.O_APPEND) | uint32(c.arg(2))&(linux.O_NONBLOCK|linux.O_APPEND)
		of.Mu.Unlock()
		return ok0()
	case linux.F_DUPFD, linux.F_DUPFD_CLOEXEC:
		if c.arg(2) >= kfile.MaxFDs { // negative or past RLIMIT_NOFILE: EINVAL, as Linux
			return fail(errno.EINVAL)
		}
		nfd, e := t.Install(of.Retain(), int32(c.arg(2)), c.arg(1) == linux.F_DUPFD_CLOEXEC)
		if e != 0 {
			of.Drop()
			return fail(e)
		}
		return ok(uint64(nfd))
	}
	return fail(errno.EINVAL)
}

// sysPipe2 implements pipe2(2).
func sysPipe2(c *call) result {
	flags := uint32(c.arg(1))
	if flags&^(linux.O_CLOEXEC|linux.O_NONBLOCK) != 0 {
		return fail(errno.EINVAL)
	}
	if e := admitObject(pipe.Capacity); e != 0 {
		return fail(e) // its buffer may grow to pipe.Capacity of kernel heap
	}
	r, w := newPipe(c.p.acct)
	ro := kfile.NewOpenFile(r, linux.O_RDONLY|flags&linux.O_NONBLOCK, "pipe:")
	wo := kfile.NewOpenFile(w, linux.O_WRONLY|flags&linux.O_NONBLOCK, "pipe:")
	t := c.p.fdTable()
	rfd, e := t.Install(ro, 0, flags&linux.O_CLOEXEC != 0)
	if e != 0 {
		ro.Drop()
		wo.Drop()
		return fail(e)
	}
	wfd, e := t.Install(wo, 0, flags&linux.O_CLOEXEC != 0)
	if e != 0 {
		t.Close(rfd)
		wo.Drop()
		return fail(e)
	}
	var b [8]byte
	binary.LittleEndian.PutUint32(b[:], uint32(rfd))
	binary.LittleEndian.PutUint32(b[4:], uint32(wfd))
	if err := c.as().CopyOut(c.arg(0), b[:]); err != nil {
		t.Close(rfd)
		t.Close(wfd)
		return fail(errno.EFAULT)
	}
	return ok0()
}

// sysPipe implements pipe(2).
func sysPipe(c *call) result {
	c.args[1] = 0
	return sysPipe2(c)
}

// sysFstat implements fstat(2).
func sysFstat(c *call) result {
	of, e := c.file(0)
	if e != 0 {
		return fail(e)
	}
	defer of.Drop()
	st, e := kfile.StatOf(c.t, of.File)
	if e != 0 {
		return fail(e)
	}
	return writeStat(c, c.arg(1), st)
}

func direntType(n *node) byte {
	switch n.kind {
	case kindDir:
		return linux.DT_DIR
	case kindSymlink:
		return linux.DT_LNK
	case kindDevice:
		return linux.DT_CHR
	}
	return linux.DT_REG
}

// sysIoctl implements the terminal ioctls on the console (sys_tty.go)
// and the interface ioctls on sockets (sockIoctl); anything else is
// ENOTTY, as for a file.
func sysIoctl(c *call) result {
	of, e := c.file(0)
	if e != 0 {
		return fail(e)
	}
	defer of.Drop()
	if r, handled := sockIoctl(c, of); handled {
		return r
	}
	if con, isTTY := terminal(of.File); isTTY {
		return ttyIoctl(c, of, con)
	}
	return fail(errno.ENOTTY)
}

func copyOutStruct(c *call, addr uint64, b []byte) result {
	if err := c.as().CopyOut(addr, b); err != nil {
		return fail(errno.EFAULT)
	}
	return ok0()
}

// newPipe makes a pipe whose buffer is charged to acct (nil: to no
// one), numbered in the kernel tree's inode space.
func newPipe(acct *account) (r, w *pipe.End) {
	root.mu.Lock()
	root.ino++
	ino := root.ino
	root.mu.Unlock()
	var charge *atomic.Int64
	if acct != nil {
		charge = &acct.pipeBytes
	}
	return pipe.New(ino, charge, mm.KernelCanGrow)
}

// sysEventfd2 implements eventfd2(2).
func sysEventfd2(c *call) result {
	flags := uint32(c.arg(1))
	if flags&^(linux.EFD_CLOEXEC|linux.EFD_NONBLOCK|linux.EFD_SEMAPHORE) != 0 {
		return fail(errno.EINVAL)
	}
	f := epoll.NewEventFD(uint64(uint32(c.arg(0))), flags&linux.EFD_SEMAPHORE != 0)
	of := kfile.NewOpenFile(f, linux.O_RDWR|flags&linux.O_NONBLOCK, "anon_inode:[eventfd]")
	fd, e := c.p.fdTable().Install(of, 0, flags&linux.EFD_CLOEXEC != 0)
	if e != 0 {
		of.Drop()
		return fail(e)
	}
	return ok(uint64(fd))
}

// sysEpollCreate1 implements epoll_create1(2).
func sysEpollCreate1(c *call) result {
	if c.arg(0)&^linux.EPOLL_CLOEXEC != 0 {
		return fail(errno.EINVAL)
	}
	of := kfile.NewOpenFile(epoll.New(), linux.O_RDWR, "anon_inode:[eventpoll]")
	fd, e := c.p.fdTable().Install(of, 0, c.arg(0)&linux.EPOLL_CLOEXEC != 0)
	if e != 0 {
		of.Drop()
		return fail(e)
	}
	return ok(uint64(fd))
}

func sysEpollCreate(c *call) result {
	if c.iarg(0) <= 0 {
		return fail(errno.EINVAL)
	}
	c.args[0] = 0
	return sysEpollCreate1(c)
}

// sysEpollCtl implements epoll_ctl(2).
func sysEpollCtl(c *call) result {
	eof, e := c.file(0)
	if e != 0 {
		return fail(e)
	}
	defer eof.Drop()
	ep, isEpoll := eof.File.(*epoll.Instance)
	if !isEpoll {
		return fail(errno.EINVAL)
	}
	fd := c.i32(2)
	target, e := c.file(2)
	if e != 0 {
		return fail(e)
	}
	if target == eof || target.File == eof.File {
		target.Drop()
		return fail(errno.EINVAL)
	}
	if c.arg(1) == linux.EPOLL_CTL_ADD && target.FS != nil {
		// Files and directories of a filesystem are always ready:
		// Linux refuses to watch them (EPERM), and Go relies on it to
		// tell pollable descriptors from the rest.
		if _, isDev := target.File.(device); !isDev {
			target.Drop()
			return fail(errno.EPERM)
		}
	}
	var events uint32
	var data uint64
	if c.arg(1) != linux.EPOLL_CTL_DEL {
		b := make([]byte, 12)
		if err := c.as().CopyIn(c.arg(3), b); err != nil {
			target.Drop()
			return fail(errno.EFAULT)
		}
		events, data = binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint64(b[4:])
	}
	return result{err: ep.Ctl(c.arg(1), fd, target, events, data)}
}

// sysEpollPwait implements epoll_pwait(2) and epoll_wait(2) (the signal
// mask argument is not applied).
func sysEpollPwait(c *call) result {
	of, e := c.file(0)
	if e != 0 {
		return fail(e)
	}
	defer of.Drop()
	ep, isEpoll := of.File.(*epoll.Instance)
	if !isEpoll {
		return fail(errno.EINVAL)
	}
	max := c.i32(2)
	if max <= 0 || max > 1<<16 {
		return fail(errno.EINVAL)
	}
	timeout := time.Duration(-1)
	if ms := c.i32(3); ms >= 0 {
		timeout = time.Duration(ms) * time.Millisecond
	}
	evs, e := ep.Wait(c.t, int(max), timeout)
	if e != 0 {
		return fail(e)
	}
	if err := c.as().CopyOut(c.arg(1), epoll.EventsBytes(evs)); err != nil {
		return fail(errno.EFAULT)
	}
	return ok(uint64(len(evs)))
}

// atFDCWD is AT_FDCWD as a system call argument.
var atFDCWD = uint64(0xFFFFFFFFFFFFFF9C) // -100

// writeStat copies a struct stat to user memory.
func writeStat(c *call, addr uint64, st linux.Stat) result {
	return copyOutStruct(c, addr, statBytes(&st))
}

// userRange reports whether [addr, addr+n) lies in the user half (as
// Linux's access_ok): calls check it before doing anything that cannot be
// undone; whether the pages are mapped is found out when copying.
func userRange(addr, n uint64) bool {
	return n == 0 || addr >= mm.UserMin && addr+n >= addr && addr+n <= mm.UserMax
}
