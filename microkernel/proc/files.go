package proc

import (
	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/kfile"
	"valence.dev/microkernel/rt"
)

// regularFile is a file of the initfs: read-only, positional.
type regularFile struct{ n *node }

func (f *regularFile) Read(t kfile.Caller, b []byte, off int64, nonblock bool) (int, errno.Errno) {
	if off >= int64(len(f.n.data)) {
		return 0, 0
	}
	return copy(b, f.n.data[off:]), 0
}

func (f *regularFile) Write(kfile.Caller, []byte, int64, bool) (int, errno.Errno) {
	return 0, errno.EBADF
}
func (f *regularFile) Seekable() bool               { return true }
func (f *regularFile) Stat() linux.Stat             { return nodeStat(f.n) }
func (f *regularFile) Poll() (uint32, *kfile.Event) { return linux.EPOLLIN | linux.EPOLLOUT, nil }
func (f *regularFile) Release()                     {}

// dirFile is an open directory; getdents64 reads its entries.
type dirFile struct{ n *node }

func (f *dirFile) Read(kfile.Caller, []byte, int64, bool) (int, errno.Errno)  { return 0, errno.EISDIR }
func (f *dirFile) Write(kfile.Caller, []byte, int64, bool) (int, errno.Errno) { return 0, errno.EBADF }
func (f *dirFile) Seekable() bool                                             { return true }
func (f *dirFile) Stat() linux.Stat                                           { return nodeStat(f.n) }
func (f *dirFile) Poll() (uint32, *kfile.Event)                               { return linux.EPOLLIN, nil }
func (f *dirFile) Release()                                                   {}

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
		st.Rdev = n.dev.Rdev()
	}
	st.Blocks = (st.Size + 511) / 512
	return st
}

// device is a character device under /dev.
type device interface {
	kfile.File
	Rdev() uint64
}

func devices() map[string]device {
	return map[string]device{
		"null":    nullDev{},
		"zero":    zeroDev{},
		"full":    fullDev{},
		"random":  randomDev{},
		"urandom": randomDev{},
		"console": theConsole,
		"tty":     ttyDev{theConsole},
	}
}

func mkdev(major, minor uint64) uint64 { return major<<8 | minor }

type nullDev struct{}

func (nullDev) Read(kfile.Caller, []byte, int64, bool) (int, errno.Errno)          { return 0, 0 }
func (nullDev) Write(_ kfile.Caller, b []byte, _ int64, _ bool) (int, errno.Errno) { return len(b), 0 }
func (nullDev) Seekable() bool                                                     { return false }
func (d nullDev) Stat() linux.Stat                                                 { return devStat(d) }
func (nullDev) Poll() (uint32, *kfile.Event)                                       { return linux.EPOLLIN | linux.EPOLLOUT, nil }
func (nullDev) Release()                                                           {}
func (nullDev) Rdev() uint64                                                       { return mkdev(1, 3) }

type zeroDev struct{}

func (zeroDev) Read(_ kfile.Caller, b []byte, _ int64, _ bool) (int, errno.Errno) {
	clear(b)
	return len(b), 0
}
func (zeroDev) Write(_ kfile.Caller, b []byte, _ int64, _ bool) (int, errno.Errno) { return len(b), 0 }
func (zeroDev) Seekable() bool                                                     { return false }
func (d zeroDev) Stat() linux.Stat                                                 { return devStat(d) }
func (zeroDev) Poll() (uint32, *kfile.Event)                                       { return linux.EPOLLIN | linux.EPOLLOUT, nil }
func (zeroDev) Release()                                                           {}
func (zeroDev) Rdev() uint64                                                       { return mkdev(1, 5) }

// fullDev is /dev/full: reads give zeros, writes fail with ENOSPC, so a
// program can be tried against a full disk.
type fullDev struct{}

func (fullDev) Read(_ kfile.Caller, b []byte, _ int64, _ bool) (int, errno.Errno) {
	clear(b)
	return len(b), 0
}
func (fullDev) Write(_ kfile.Caller, b []byte, _ int64, _ bool) (int, errno.Errno) {
	if len(b) == 0 {
		return 0, 0
	}
	return 0, errno.ENOSPC
}
func (fullDev) Seekable() bool               { return false }
func (d fullDev) Stat() linux.Stat           { return devStat(d) }
func (fullDev) Poll() (uint32, *kfile.Event) { return linux.EPOLLIN | linux.EPOLLOUT, nil }
func (fullDev) Release()                     {}
func (fullDev) Rdev() uint64                 { return mkdev(1, 7) }

type randomDev struct{}

func (randomDev) Read(_ kfile.Caller, b []byte, _ int64, _ bool) (int, errno.Errno) {
	rt.RandomBytes(b)
	return len(b), 0
}
func (randomDev) Write(_ kfile.Caller, b []byte, _ int64, _ bool) (int, errno.Errno) {
	return len(b), 0
}
func (randomDev) Seekable() bool               { return false }
func (d randomDev) Stat() linux.Stat           { return devStat(d) }
func (randomDev) Poll() (uint32, *kfile.Event) { return linux.EPOLLIN | linux.EPOLLOUT, nil }
func (randomDev) Release()                     {}
func (randomDev) Rdev() uint64                 { return mkdev(1, 9) }

func devStat(d device) linux.Stat {
	return linux.Stat{Dev: 1, Mode: linux.S_IFCHR | 0o666, Nlink: 1, Rdev: d.Rdev(), Blksize: 4096}
}
