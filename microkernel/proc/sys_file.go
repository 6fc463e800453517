package proc

import (
	"encoding/binary"
	"path"
	"strings"
	"time"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/mm"
)

// maxIO bounds one read or write, so a huge count cannot make the kernel
// allocate without limit.
const maxIO = 1 << 20

func (c *call) file(i int) (*openFile, errno.Errno) {
	of, ok := c.p.fdTable().get(c.i32(i))
	if !ok {
		return nil, errno.EBADF
	}
	return of, 0
}

func (p *Process) fdTable() *FDTable {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.files == nil {
		return newFDTable()
	}
	return p.files
}

// doRead reads into user memory at buf, at the file offset (advancing it)
// or at off when positional.
func doRead(c *call, of *openFile, buf, count uint64, off int64, positional bool) result {
	if of.flags&linux.O_ACCMODE == linux.O_WRONLY {
		return fail(errno.EBADF)
	}
	if count > maxIO {
		count = maxIO
	}
	if !userRange(buf, count) {
		return fail(errno.EFAULT) // before blocking: the data would be lost
	}
	b := make([]byte, count)
	useOff := of.f.seekable()
	of.mu.Lock()
	if !positional {
		off = of.off
	}
	of.mu.Unlock()
	if positional && !useOff {
		return fail(errno.ESPIPE)
	}
	n, e := of.f.read(c.t, b, off, of.nonblock())
	if e != 0 {
		return fail(e)
	}
	if err := c.as().CopyOut(buf, b[:n]); err != nil {
		return fail(errno.EFAULT)
	}
	if useOff && !positional {
		of.mu.Lock()
		of.off = off + int64(n)
		of.mu.Unlock()
	}
	return ok(uint64(n))
}

func doWrite(c *call, of *openFile, buf, count uint64, off int64, positional bool) result {
	if of.flags&linux.O_ACCMODE == linux.O_RDONLY {
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
	if positional && !of.f.seekable() {
		return fail(errno.ESPIPE)
	}
	n, e := of.f.write(c.t, b, off, of.nonblock())
	if e != 0 {
		return fail(e)
	}
	return ok(uint64(n))
}

// sysRead implements read(2).
func sysRead(c *call) result {
	of, e := c.file(0)
	if e != 0 {
		return fail(e)
	}
	defer of.drop()
	return doRead(c, of, c.arg(1), c.arg(2), 0, false)
}

// sysWrite implements write(2).
func sysWrite(c *call) result {
	of, e := c.file(0)
	if e != 0 {
		return fail(e)
	}
	defer of.drop()
	return doWrite(c, of, c.arg(1), c.arg(2), 0, false)
}

// sysPread64 implements pread64(2).
func sysPread64(c *call) result {
	of, e := c.file(0)
	if e != 0 {
		return fail(e)
	}
	defer of.drop()
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
	defer of.drop()
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
	return vectored(c, func(of *openFile, base, n uint64) result { return doRead(c, of, base, n, 0, false) })
}

// sysWritev implements writev(2).
func sysWritev(c *call) result {
	return vectored(c, func(of *openFile, base, n uint64) result { return doWrite(c, of, base, n, 0, false) })
}

func vectored(c *call, op func(of *openFile, base, n uint64) result) result {
	of, e := c.file(0)
	if e != 0 {
		return fail(e)
	}
	defer of.drop()
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
	defer of.drop()
	if !of.f.seekable() {
		return fail(errno.ESPIPE)
	}
	off := c.iarg(1)
	of.mu.Lock()
	defer of.mu.Unlock()
	switch c.arg(2) {
	case linux.SEEK_SET:
	case linux.SEEK_CUR:
		off += of.off
	case linux.SEEK_END:
		off += of.f.stat().Size
	default:
		return fail(errno.EINVAL)
	}
	if off < 0 {
		return fail(errno.EINVAL)
	}
	of.off = off
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

// dirOf returns the directory a *at call resolves relative paths in.
func dirOf(c *call, dirfd int32, p string) (string, errno.Errno) {
	if strings.HasPrefix(p, "/") || dirfd == linux.AT_FDCWD {
		c.p.mu.Lock()
		defer c.p.mu.Unlock()
		return c.p.cwd, 0
	}
	of, ok := c.p.fdTable().get(dirfd)
	if !ok {
		return "", errno.EBADF
	}
	defer of.drop()
	if _, isDir := of.f.(*dirFile); !isDir {
		return "", errno.ENOTDIR
	}
	return of.path, 0
}

// open opens a path in the namespace.
func open(c *call, dirfd int32, p string, flags uint32) (*openFile, errno.Errno) {
	dir, e := dirOf(c, dirfd, p)
	if e != 0 {
		return nil, e
	}
	n, full, e := root.resolve(dir, p, flags&linux.O_NOFOLLOW == 0)
	if e != 0 {
		if e == errno.ENOENT && flags&linux.O_CREAT != 0 {
			return nil, errno.EROFS
		}
		return nil, e
	}
	if flags&(linux.O_CREAT|linux.O_EXCL) == linux.O_CREAT|linux.O_EXCL {
		return nil, errno.EEXIST
	}
	acc := flags & linux.O_ACCMODE
	var f file
	switch n.kind {
	case kindDir:
		if acc != linux.O_RDONLY {
			return nil, errno.EISDIR
		}
		f = &dirFile{n: n}
	case kindFile:
		if acc != linux.O_RDONLY || flags&linux.O_TRUNC != 0 {
			return nil, errno.EROFS // the initfs is read-only
		}
		f = &regularFile{n: n}
	case kindSymlink:
		return nil, errno.ELOOP // O_NOFOLLOW on a symlink
	case kindDevice:
		f = n.dev
	}
	if flags&linux.O_DIRECTORY != 0 && n.kind != kindDir {
		return nil, errno.ENOTDIR
	}
	return newOpenFile(f, flags&(linux.O_ACCMODE|linux.O_NONBLOCK|linux.O_APPEND), full), 0
}

// sysOpenat implements openat(2) (read-only initfs files, directories and
// devices; creating or writing files fails with EROFS).
func sysOpenat(c *call) result {
	p, e := userPath(c, c.arg(1))
	if e != 0 {
		return fail(e)
	}
	flags := uint32(c.arg(2))
	of, e := open(c, c.i32(0), p, flags)
	if e != 0 {
		return fail(e)
	}
	fd, e := c.p.fdTable().install(of, 0, flags&linux.O_CLOEXEC != 0)
	if e != 0 {
		of.drop()
		return fail(e)
	}
	return ok(uint64(fd))
}

// sysOpen implements open(2).
func sysOpen(c *call) result {
	c.args = [6]uint64{atFDCWD, c.args[0], c.args[1], c.args[2]}
	return sysOpenat(c)
}

// sysClose implements close(2).
func sysClose(c *call) result {
	if e := c.p.fdTable().close(c.i32(0)); e != 0 {
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
	fd, e := c.p.fdTable().install(of, 0, false)
	if e != 0 {
		of.drop()
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
			of.drop()
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
	if e := c.p.fdTable().installAt(of, c.i32(1), cloexec); e != 0 {
		of.drop()
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
	defer of.drop()
	t := c.p.fdTable()
	switch c.arg(1) {
	case linux.F_GETFD:
		if t.cloexec(fd) {
			return ok(linux.FD_CLOEXEC)
		}
		return ok0()
	case linux.F_SETFD:
		return fail(t.setCloexec(fd, c.arg(2)&linux.FD_CLOEXEC != 0))
	case linux.F_GETFL:
		of.mu.Lock()
		defer of.mu.Unlock()
		return ok(uint64(of.flags))
	case linux.F_SETFL:
		of.mu.Lock()
		of.flags = of.flags&^(linux.O_NONBLOCK|linux.O_APPEND) | uint32(c.arg(2))&(linux.O_NONBLOCK|linux.O_APPEND)
		of.mu.Unlock()
		return ok0()
	case linux.F_DUPFD, linux.F_DUPFD_CLOEXEC:
		if c.arg(2) >= maxFDs { // negative or past RLIMIT_NOFILE: EINVAL, as Linux
			return fail(errno.EINVAL)
		}
		nfd, e := t.install(of.retain(), int32(c.arg(2)), c.arg(1) == linux.F_DUPFD_CLOEXEC)
		if e != 0 {
			of.drop()
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
	if e := admitObject(pipeCapacity); e != 0 {
		return fail(e) // its buffer may grow to pipeCapacity of kernel heap
	}
	r, w := newPipe(c.p.acct)
	ro := newOpenFile(r, linux.O_RDONLY|flags&linux.O_NONBLOCK, "pipe:")
	wo := newOpenFile(w, linux.O_WRONLY|flags&linux.O_NONBLOCK, "pipe:")
	t := c.p.fdTable()
	rfd, e := t.install(ro, 0, flags&linux.O_CLOEXEC != 0)
	if e != 0 {
		ro.drop()
		wo.drop()
		return fail(e)
	}
	wfd, e := t.install(wo, 0, flags&linux.O_CLOEXEC != 0)
	if e != 0 {
		t.close(rfd)
		wo.drop()
		return fail(e)
	}
	var b [8]byte
	binary.LittleEndian.PutUint32(b[:], uint32(rfd))
	binary.LittleEndian.PutUint32(b[4:], uint32(wfd))
	if err := c.as().CopyOut(c.arg(0), b[:]); err != nil {
		t.close(rfd)
		t.close(wfd)
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
	defer of.drop()
	return writeStat(c, c.arg(1), of.f.stat())
}

// sysNewfstatat implements newfstatat(2) (fstatat).
func sysNewfstatat(c *call) result {
	flags := c.arg(3)
	if flags&linux.AT_EMPTY_PATH != 0 {
		if s, err := c.as().ReadString(c.arg(1), 1); err == nil && s == "" {
			c.args[1] = c.args[2]
			return sysFstat(c)
		}
	}
	p, e := userPath(c, c.arg(1))
	if e != 0 {
		return fail(e)
	}
	dir, e := dirOf(c, c.i32(0), p)
	if e != 0 {
		return fail(e)
	}
	n, _, e := root.resolve(dir, p, flags&linux.AT_SYMLINK_NOFOLLOW == 0)
	if e != 0 {
		return fail(e)
	}
	return writeStat(c, c.arg(2), nodeStat(n))
}

// sysStat implements stat(2); sysLstat, lstat(2).
func sysStat(c *call) result {
	c.args = [6]uint64{atFDCWD, c.args[0], c.args[1], 0}
	return sysNewfstatat(c)
}

func sysLstat(c *call) result {
	c.args = [6]uint64{atFDCWD, c.args[0], c.args[1], linux.AT_SYMLINK_NOFOLLOW}
	return sysNewfstatat(c)
}

// sysFaccessat implements faccessat(2) and access(2): everything exists
// is readable; only executables and directories are executable; nothing
// is writable but devices.
func sysFaccessat(c *call) result {
	p, e := userPath(c, c.arg(1))
	if e != 0 {
		return fail(e)
	}
	dir, e := dirOf(c, c.i32(0), p)
	if e != 0 {
		return fail(e)
	}
	n, _, e := root.resolve(dir, p, true)
	if e != 0 {
		return fail(e)
	}
	mode := c.arg(2)
	if mode&2 != 0 && n.kind != kindDevice {
		return fail(errno.EROFS)
	}
	if mode&1 != 0 && n.mode&0o111 == 0 {
		return fail(errno.EACCES)
	}
	return ok0()
}

func sysAccess(c *call) result {
	c.args = [6]uint64{atFDCWD, c.args[0], c.args[1]}
	return sysFaccessat(c)
}

// sysReadlinkat implements readlinkat(2).
func sysReadlinkat(c *call) result {
	p, e := userPath(c, c.arg(1))
	if e != 0 {
		return fail(e)
	}
	if p == "/proc/self/exe" {
		c.p.mu.Lock()
		exe := "/bin/" + c.p.Name
		if len(c.p.args) > 0 && strings.HasPrefix(c.p.args[0], "/") {
			exe = c.p.args[0]
		}
		c.p.mu.Unlock()
		return copyLink(c, exe)
	}
	dir, e := dirOf(c, c.i32(0), p)
	if e != 0 {
		return fail(e)
	}
	n, _, e := root.resolve(dir, p, false)
	if e != 0 {
		return fail(e)
	}
	if n.kind != kindSymlink {
		return fail(errno.EINVAL)
	}
	return copyLink(c, n.link)
}

func copyLink(c *call, target string) result {
	b := []byte(target)
	if uint64(len(b)) > c.arg(3) {
		b = b[:c.arg(3)]
	}
	if err := c.as().CopyOut(c.arg(2), b); err != nil {
		return fail(errno.EFAULT)
	}
	return ok(uint64(len(b)))
}

func sysReadlink(c *call) result {
	c.args = [6]uint64{atFDCWD, c.args[0], c.args[1], c.args[2]}
	return sysReadlinkat(c)
}

// sysGetdents64 implements getdents64(2).
func sysGetdents64(c *call) result {
	of, e := c.file(0)
	if e != 0 {
		return fail(e)
	}
	defer of.drop()
	d, isDir := of.f.(*dirFile)
	if !isDir {
		return fail(errno.ENOTDIR)
	}
	names := append([]string{".", ".."}, d.n.sorted...)
	of.mu.Lock()
	defer of.mu.Unlock()
	var out []byte
	i := int(of.off)
	for ; i < len(names); i++ {
		name := names[i]
		var child *node
		switch name {
		case ".":
			child = d.n
		case "..":
			child = d.n.parent
		default:
			child = d.n.children[name]
		}
		reclen := (19 + len(name) + 1 + 7) &^ 7
		if uint64(len(out)+reclen) > c.arg(2) {
			break
		}
		rec := make([]byte, reclen)
		binary.LittleEndian.PutUint64(rec[0:], child.ino)
		binary.LittleEndian.PutUint64(rec[8:], uint64(i+1))
		binary.LittleEndian.PutUint16(rec[16:], uint16(reclen))
		rec[18] = direntType(child)
		copy(rec[19:], name)
		out = append(out, rec...)
	}
	if len(out) == 0 && i < len(names) {
		return fail(errno.EINVAL) // buffer too small for one entry
	}
	if err := c.as().CopyOut(c.arg(1), out); err != nil {
		return fail(errno.EFAULT)
	}
	of.off = int64(i)
	return ok(uint64(len(out)))
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

// sysIoctl implements the terminal ioctls on the console (TCGETS,
// TIOCGWINSZ); anything else is ENOTTY, as for a file.
func sysIoctl(c *call) result {
	of, e := c.file(0)
	if e != 0 {
		return fail(e)
	}
	defer of.drop()
	con, isTTY := of.f.(*consoleTTY)
	switch c.arg(1) {
	case linux.TCGETS:
		if !isTTY {
			return fail(errno.ENOTTY)
		}
		t := con.termios()
		return copyOutStruct(c, c.arg(2), termiosBytes(&t))
	case linux.TIOCGWINSZ:
		if !isTTY {
			return fail(errno.ENOTTY)
		}
		var ws [8]byte
		binary.LittleEndian.PutUint16(ws[0:], 24)
		binary.LittleEndian.PutUint16(ws[2:], 80)
		return copyOutStruct(c, c.arg(2), ws[:])
	case linux.TCSETS, linux.TCSETSW, linux.TCSETSF:
		if !isTTY {
			return fail(errno.ENOTTY)
		}
		return ok0() // settings are fixed: canonical mode
	}
	return fail(errno.ENOTTY)
}

func copyOutStruct(c *call, addr uint64, b []byte) result {
	if err := c.as().CopyOut(addr, b); err != nil {
		return fail(errno.EFAULT)
	}
	return ok0()
}

// sysGetcwd implements getcwd(2).
func sysGetcwd(c *call) result {
	c.p.mu.Lock()
	cwd := c.p.cwd
	c.p.mu.Unlock()
	b := append([]byte(cwd), 0)
	if uint64(len(b)) > c.arg(1) {
		return fail(errno.ERANGE)
	}
	if err := c.as().CopyOut(c.arg(0), b); err != nil {
		return fail(errno.EFAULT)
	}
	return ok(uint64(len(b)))
}

// sysChdir implements chdir(2).
func sysChdir(c *call) result {
	p, e := userPath(c, c.arg(0))
	if e != 0 {
		return fail(e)
	}
	c.p.mu.Lock()
	cwd := c.p.cwd
	c.p.mu.Unlock()
	n, full, e := root.resolve(cwd, p, true)
	if e != 0 {
		return fail(e)
	}
	if !n.isDir() {
		return fail(errno.ENOTDIR)
	}
	c.p.mu.Lock()
	c.p.cwd = path.Clean(full)
	c.p.mu.Unlock()
	return ok0()
}

// sysEventfd2 implements eventfd2(2).
func sysEventfd2(c *call) result {
	flags := uint32(c.arg(1))
	if flags&^(linux.EFD_CLOEXEC|linux.EFD_NONBLOCK|linux.EFD_SEMAPHORE) != 0 {
		return fail(errno.EINVAL)
	}
	f := &eventFD{count: uint64(uint32(c.arg(0))), semaphore: flags&linux.EFD_SEMAPHORE != 0, ev: newEvent()}
	of := newOpenFile(f, linux.O_RDWR|flags&linux.O_NONBLOCK, "anon_inode:[eventfd]")
	fd, e := c.p.fdTable().install(of, 0, flags&linux.EFD_CLOEXEC != 0)
	if e != 0 {
		of.drop()
		return fail(e)
	}
	return ok(uint64(fd))
}

// sysEpollCreate1 implements epoll_create1(2).
func sysEpollCreate1(c *call) result {
	if c.arg(0)&^linux.EPOLL_CLOEXEC != 0 {
		return fail(errno.EINVAL)
	}
	of := newOpenFile(newEpoll(), linux.O_RDWR, "anon_inode:[eventpoll]")
	fd, e := c.p.fdTable().install(of, 0, c.arg(0)&linux.EPOLL_CLOEXEC != 0)
	if e != 0 {
		of.drop()
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
	defer eof.drop()
	ep, isEpoll := eof.f.(*epollFile)
	if !isEpoll {
		return fail(errno.EINVAL)
	}
	fd := c.i32(2)
	target, e := c.file(2)
	if e != 0 {
		return fail(e)
	}
	if target == eof || target.f == eof.f {
		target.drop()
		return fail(errno.EINVAL)
	}
	var ev linux.EpollEvent
	if c.arg(1) != linux.EPOLL_CTL_DEL {
		b := make([]byte, 12)
		if err := c.as().CopyIn(c.arg(3), b); err != nil {
			target.drop()
			return fail(errno.EFAULT)
		}
		ev = epollEvent(binary.LittleEndian.Uint32(b), binary.LittleEndian.Uint64(b[4:]))
	}
	ep.mu.Lock()
	old, exists := ep.watch[fd]
	var drop *openFile
	res := ok0()
	switch c.arg(1) {
	case linux.EPOLL_CTL_ADD:
		if exists {
			res, drop = fail(errno.EEXIST), target
		} else {
			ep.watch[fd] = &interest{of: target, events: ev.Events, data: epollData(&ev), fresh: true}
		}
	case linux.EPOLL_CTL_MOD:
		if !exists {
			res, drop = fail(errno.ENOENT), target
		} else {
			ep.watch[fd] = &interest{of: target, events: ev.Events, data: epollData(&ev), fresh: true}
			drop = old.of
		}
	case linux.EPOLL_CTL_DEL:
		drop = target
		if !exists {
			res = fail(errno.ENOENT)
		} else {
			delete(ep.watch, fd)
			old.of.drop()
		}
	default:
		res, drop = fail(errno.EINVAL), target
	}
	ep.mu.Unlock()
	if drop != nil {
		drop.drop()
	}
	ep.ev.Signal()
	return res
}

// sysEpollPwait implements epoll_pwait(2) and epoll_wait(2) (the signal
// mask argument is not applied).
func sysEpollPwait(c *call) result {
	of, e := c.file(0)
	if e != 0 {
		return fail(e)
	}
	defer of.drop()
	ep, isEpoll := of.f.(*epollFile)
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
	evs, e := ep.wait(c.t, int(max), timeout)
	if e != 0 {
		return fail(e)
	}
	if err := c.as().CopyOut(c.arg(1), epollEventsBytes(evs)); err != nil {
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
