package proc

import (
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/rt"
)

// regularFile is a file of the initfs: read-only, positional.
type regularFile struct{ n *node }

func (f *regularFile) read(t *Thread, b []byte, off int64, nonblock bool) (int, errno.Errno) {
	if off >= int64(len(f.n.data)) {
		return 0, 0
	}
	return copy(b, f.n.data[off:]), 0
}

func (f *regularFile) write(*Thread, []byte, int64, bool) (int, errno.Errno) {
	return 0, errno.EBADF
}
func (f *regularFile) seekable() bool         { return true }
func (f *regularFile) stat() linux.Stat       { return nodeStat(f.n) }
func (f *regularFile) poll() (uint32, *event) { return linux.EPOLLIN | linux.EPOLLOUT, nil }
func (f *regularFile) release()               {}

// dirFile is an open directory; getdents64 reads its entries.
type dirFile struct{ n *node }

func (f *dirFile) read(*Thread, []byte, int64, bool) (int, errno.Errno)  { return 0, errno.EISDIR }
func (f *dirFile) write(*Thread, []byte, int64, bool) (int, errno.Errno) { return 0, errno.EBADF }
func (f *dirFile) seekable() bool                                        { return true }
func (f *dirFile) stat() linux.Stat                                      { return nodeStat(f.n) }
func (f *dirFile) poll() (uint32, *event)                                { return linux.EPOLLIN, nil }
func (f *dirFile) release()                                              {}

// nodeStat describes a namespace node as stat(2) does.
func nodeStat(n *node) linux.Stat {
	st := linux.Stat{Dev: 1, Ino: n.ino, Nlink: 1, Blksize: 4096}
	switch n.kind {
	case kindDir:
		st.Mode = linux.S_IFDIR | uint32(n.mode.Perm())
		st.Nlink = 2
		st.Size = 4096
	case kindFile:
		st.Mode = linux.S_IFREG | uint32(n.mode.Perm())
		st.Size = int64(len(n.data))
	case kindSymlink:
		st.Mode = linux.S_IFLNK | 0o777
		st.Size = int64(len(n.link))
	case kindDevice:
		st.Mode = linux.S_IFCHR | uint32(n.mode.Perm())
		st.Rdev = n.dev.rdev()
	}
	st.Blocks = (st.Size + 511) / 512
	return st
}

// device is a character device under /dev.
type device interface {
	file
	rdev() uint64
}

func devices() map[string]device {
	return map[string]device{
		"null":    nullDev{},
		"zero":    zeroDev{},
		"full":    fullDev{},
		"random":  randomDev{},
		"urandom": randomDev{},
		"console": theConsole,
		"tty":     theConsole,
	}
}

func mkdev(major, minor uint64) uint64 { return major<<8 | minor }

type nullDev struct{}

func (nullDev) read(*Thread, []byte, int64, bool) (int, errno.Errno)          { return 0, 0 }
func (nullDev) write(_ *Thread, b []byte, _ int64, _ bool) (int, errno.Errno) { return len(b), 0 }
func (nullDev) seekable() bool                                                { return false }
func (d nullDev) stat() linux.Stat                                            { return devStat(d) }
func (nullDev) poll() (uint32, *event)                                        { return linux.EPOLLIN | linux.EPOLLOUT, nil }
func (nullDev) release()                                                      {}
func (nullDev) rdev() uint64                                                  { return mkdev(1, 3) }

type zeroDev struct{}

func (zeroDev) read(_ *Thread, b []byte, _ int64, _ bool) (int, errno.Errno) {
	clear(b)
	return len(b), 0
}
func (zeroDev) write(_ *Thread, b []byte, _ int64, _ bool) (int, errno.Errno) { return len(b), 0 }
func (zeroDev) seekable() bool                                                { return false }
func (d zeroDev) stat() linux.Stat                                            { return devStat(d) }
func (zeroDev) poll() (uint32, *event)                                        { return linux.EPOLLIN | linux.EPOLLOUT, nil }
func (zeroDev) release()                                                      {}
func (zeroDev) rdev() uint64                                                  { return mkdev(1, 5) }

// fullDev is /dev/full: reads give zeros, writes fail with ENOSPC, so a
// program can be tried against a full disk.
type fullDev struct{}

func (fullDev) read(_ *Thread, b []byte, _ int64, _ bool) (int, errno.Errno) {
	clear(b)
	return len(b), 0
}
func (fullDev) write(_ *Thread, b []byte, _ int64, _ bool) (int, errno.Errno) {
	if len(b) == 0 {
		return 0, 0
	}
	return 0, errno.ENOSPC
}
func (fullDev) seekable() bool         { return false }
func (d fullDev) stat() linux.Stat     { return devStat(d) }
func (fullDev) poll() (uint32, *event) { return linux.EPOLLIN | linux.EPOLLOUT, nil }
func (fullDev) release()               {}
func (fullDev) rdev() uint64           { return mkdev(1, 7) }

type randomDev struct{}

func (randomDev) read(_ *Thread, b []byte, _ int64, _ bool) (int, errno.Errno) {
	rt.RandomBytes(b)
	return len(b), 0
}
func (randomDev) write(_ *Thread, b []byte, _ int64, _ bool) (int, errno.Errno) { return len(b), 0 }
func (randomDev) seekable() bool                                                { return false }
func (d randomDev) stat() linux.Stat                                            { return devStat(d) }
func (randomDev) poll() (uint32, *event)                                        { return linux.EPOLLIN | linux.EPOLLOUT, nil }
func (randomDev) release()                                                      {}
func (randomDev) rdev() uint64                                                  { return mkdev(1, 9) }

func devStat(d device) linux.Stat {
	return linux.Stat{Dev: 1, Mode: linux.S_IFCHR | 0o666, Nlink: 1, Rdev: d.rdev(), Blksize: 4096}
}
