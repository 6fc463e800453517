package proc

import (
	"encoding/binary"
	"fmt"
	"path"
	"strings"
	"time"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/arch/amd64"
	"valence.dev/microkernel/clock"
	"valence.dev/microkernel/kfile"
	"valence.dev/microkernel/mm"
	"valence.dev/microkernel/pipe"
	"valence.dev/microkernel/procfs"
	"valence.dev/microkernel/tty"
	"valence.dev/microkernel/vfs"
)

// /proc, served by the kernel: package procfs renders the files from a
// snapshot of the process table that procSource takes on each lookup.
// Files are rendered whole when opened, so a program reading one in
// pieces sees one consistent snapshot.

// procFS is the filesystem mounted at /proc.
type procFS struct{ readOnly }

// procDev is the device number /proc's files report.
const procDev = 3

func (procFS) lookup(c kfile.Caller, at kfile.At) (procfs.Node, errno.Errno) {
	switch f := at.File.(type) {
	case nil:
	case *procFile:
		return f.n, 0
	case *procDir:
		return f.n, 0
	default:
		return procfs.Node{}, errno.EINVAL
	}
	self := 0
	if c != nil {
		self = c.PID()
	}
	rel := strings.TrimSuffix(strings.TrimSuffix(at.Rel, "/."), "/")
	return procfs.Lookup(procSource{p: procOf(c), c: c}, self, rel)
}

// walk follows symlinks inside /proc (self, fd/N, exe), at most 40; a
// link that leaves /proc is reported as a link (follow false) or as
// ELOOP-free ENOENT past it, since /proc cannot resolve other mounts.
func (fs procFS) walk(c kfile.Caller, at kfile.At, follow bool) (procfs.Node, errno.Errno) {
	n, e := fs.lookup(c, at)
	for i := 0; e == 0 && follow && n.Kind == procfs.Symlink; i++ {
		if i == 40 {
			return n, errno.ELOOP
		}
		target := n.Link
		if !strings.HasPrefix(target, "/") {
			target = path.Join(path.Dir("/proc/"+at.Rel), target)
		}
		rel, inside := strings.CutPrefix(path.Clean(target), "/proc/")
		if !inside {
			return n, errno.ENOENT
		}
		at = kfile.At{Rel: rel}
		n, e = fs.lookup(c, at)
	}
	return n, e
}

func (fs procFS) Open(c kfile.Caller, at kfile.At, flags, mode uint32) (kfile.File, errno.Errno) {
	n, e := fs.walk(c, at, flags&linux.O_NOFOLLOW == 0)
	if e != 0 {
		if e == errno.ENOENT && flags&linux.O_CREAT != 0 {
			return nil, errno.EACCES
		}
		return nil, e
	}
	if flags&linux.O_ACCMODE != linux.O_RDONLY || flags&linux.O_TRUNC != 0 {
		if n.Kind == procfs.Dir {
			return nil, errno.EISDIR
		}
		return nil, errno.EACCES
	}
	switch n.Kind {
	case procfs.Symlink:
		return nil, errno.ELOOP
	case procfs.Dir:
		return &procDir{procFile{n: n}}, 0
	}
	if flags&linux.O_DIRECTORY != 0 {
		return nil, errno.ENOTDIR
	}
	return &procFile{n: n}, 0
}

func (fs procFS) Stat(c kfile.Caller, at kfile.At, flags uint32) (linux.Stat, errno.Errno) {
	n, e := fs.walk(c, at, flags&linux.AT_SYMLINK_NOFOLLOW == 0)
	if e != 0 {
		return linux.Stat{}, e
	}
	return procStat(n), 0
}

func (fs procFS) Readlink(c kfile.Caller, at kfile.At) (string, errno.Errno) {
	n, e := fs.lookup(c, at)
	if e != 0 {
		return "", e
	}
	if n.Kind != procfs.Symlink {
		return "", errno.EINVAL
	}
	return n.Link, 0
}

func (fs procFS) Access(c kfile.Caller, at kfile.At, mode, flags uint32) errno.Errno {
	n, e := fs.walk(c, at, flags&linux.AT_SYMLINK_NOFOLLOW == 0)
	if e != 0 {
		return e
	}
	if mode&2 != 0 {
		return errno.EACCES
	}
	if mode&1 != 0 && n.Mode&0o111 == 0 {
		return errno.EACCES
	}
	return 0
}

func (fs procFS) Mkdir(c kfile.Caller, at kfile.At, mode uint32) errno.Errno { return errno.EACCES }
func (fs procFS) Symlink(c kfile.Caller, target string, at kfile.At) errno.Errno {
	return errno.EACCES
}
func (fs procFS) Unlink(c kfile.Caller, at kfile.At, flags uint32) errno.Errno {
	if _, e := fs.lookup(c, at); e != 0 {
		return e
	}
	return errno.EACCES
}

func (procFS) Statfs(c kfile.Caller) (linux.Statfs, errno.Errno) {
	return linux.Statfs{Type: linux.PROC_SUPER_MAGIC, BlockSize: 4096, NameLength: 255, FragmentSize: 4096,
		Flags: linux.ST_NOSUID | linux.ST_NODEV | linux.ST_NOEXEC}, 0
}

func procStat(n procfs.Node) linux.Stat {
	st := linux.Stat{Dev: procDev, Ino: n.Ino, Nlink: 1, UID: n.UID, GID: n.GID, Blksize: 4096}
	switch n.Kind {
	case procfs.Dir:
		st.Mode = linux.S_IFDIR | n.Mode
		st.Nlink = 2
	case procfs.Symlink:
		st.Mode = linux.S_IFLNK | n.Mode
		st.Size = int64(len(n.Link))
	default:
		st.Mode = linux.S_IFREG | n.Mode // size 0, as Linux's /proc files
	}
	return st
}

// procFile is an open /proc file: its content as it was when opened.
type procFile struct{ n procfs.Node }

func (f *procFile) Read(_ kfile.Caller, b []byte, off int64, _ bool) (int, errno.Errno) {
	if f.n.Kind == procfs.Dir {
		return 0, errno.EISDIR
	}
	if off >= int64(len(f.n.Data)) {
		return 0, 0
	}
	return copy(b, f.n.Data[off:]), 0
}
func (f *procFile) Write(kfile.Caller, []byte, int64, bool) (int, errno.Errno) { return 0, errno.EBADF }
func (f *procFile) Seekable() bool                                             { return true }
func (f *procFile) Stat() linux.Stat                                           { return procStat(f.n) }
func (f *procFile) Poll() (uint32, *kfile.Event)                               { return linux.EPOLLIN, nil }
func (f *procFile) Release()                                                   {}

// procDir is an open /proc directory.
type procDir struct{ procFile }

func (d *procDir) Readdir(c kfile.Caller, pos int64) ([]kfile.Dirent, errno.Errno) {
	ents := append([]procfs.Entry{{Name: ".", Kind: procfs.Dir, Ino: d.n.Ino}, {Name: "..", Kind: procfs.Dir, Ino: 1}},
		d.n.Entries...)
	if pos < 0 || pos >= int64(len(ents)) {
		return nil, 0
	}
	out := make([]kfile.Dirent, 0, len(ents)-int(pos))
	for i := int(pos); i < len(ents); i++ {
		typ := uint8(linux.DT_REG)
		switch ents[i].Kind {
		case procfs.Dir:
			typ = linux.DT_DIR
		case procfs.Symlink:
			typ = linux.DT_LNK
		}
		out = append(out, kfile.Dirent{Ino: ents[i].Ino, Next: int64(i + 1), Type: typ, Name: ents[i].Name})
	}
	return out, 0
}

// procSource is the kernel's state as procfs asks for it, for the
// process p's (its mount table is /proc/mounts), whose thread c looks
// (the network server's status is asked for on its behalf: procnet.go).
type procSource struct {
	p *Process
	c kfile.Caller
}

func (s procSource) PIDs() []int {
	tableMu.Lock()
	defer tableMu.Unlock()
	pids := make([]int, 0, len(procs))
	for pid, p := range procs {
		// A nil entry reserves a thread's ID (thread.go): not a
		// process, so not listed, as Linux lists only processes.
		if p != nil {
			pids = append(pids, pid)
		}
	}
	return pids
}

func (s procSource) Process(pid int) (procfs.Proc, bool) {
	tableMu.Lock()
	p := procs[pid]
	tableMu.Unlock()
	if p == nil {
		return procfs.Proc{}, false
	}
	jobMu.Lock()
	info := procfs.Proc{PID: p.PID, PGID: p.pgid, SID: p.sid, TPGID: -1}
	if con := p.ctty; con != nil {
		// tty_nr as Linux's new_encode_dev: minor's low byte, major,
		// the minor's other bits above.
		rdev := con.Rdev()
		major, minor := rdev>>8, rdev&0xff
		info.TTY = minor&0xff | major<<8 | (minor&^0xff)<<12
		_, info.TPGID = con.Session()
	}
	jobMu.Unlock()
	p.mu.Lock()
	info.Name, info.State = p.Name, 'S'
	info.Cmdline = append([]string(nil), p.args...)
	info.Exe, info.Cwd = p.exe, p.cwd
	info.Threads, info.Umask, info.Start = len(p.threads), p.umask, time.Duration(p.started)
	if p.parent != nil {
		info.PPID = p.parent.PID
	}
	switch {
	case p.zombie:
		info.State = 'Z'
	case p.stopped:
		info.State = 'T'
	}
	as, files := p.as, p.files
	p.mu.Unlock()
	if as != nil && info.State != 'Z' {
		info.RSS = uint64(as.Pages()) * mm.PageSize
		info.VSize = info.RSS
	}
	if files != nil {
		info.FDs = describe(files)
	}
	return info, true
}

func (s procSource) Mem() procfs.Mem {
	fl := mm.Lock()
	st := mm.FrameStats()
	mm.Unlock(fl)
	free := st.Free * mm.PageSize
	return procfs.Mem{Total: st.Managed * mm.PageSize, Free: free,
		Available: free - min(free, mm.ReserveBytes()), Kernel: mm.HeapCommitted()}
}

func (s procSource) Uptime() (time.Duration, time.Duration) {
	return time.Duration(clock.Monotonic()), 0
}

func (s procSource) Mounts() []procfs.Mount {
	var ns *vfs.Table
	if s.p != nil {
		ns = s.p.mounts()
	} else {
		ns = initialNS()
	}
	var out []procfs.Mount
	for _, m := range ns.Mounts() {
		opts := "rw"
		switch m.FS.(type) {
		case nodeFS, procFS, devFS:
			opts = "ro"
		}
		out = append(out, procfs.Mount{Source: m.Source, Target: m.Target, FSType: m.Type, Options: opts})
	}
	return out
}

func (s procSource) CPUs() []procfs.CPU {
	_, b, c, d := amd64.Cpuid(0, 0)
	var v [12]byte
	binary.LittleEndian.PutUint32(v[0:], b)
	binary.LittleEndian.PutUint32(v[4:], d)
	binary.LittleEndian.PutUint32(v[8:], c)
	var brand []byte
	for leaf := uint32(0x80000002); leaf <= 0x80000004; leaf++ {
		a, b, c, d := amd64.Cpuid(leaf, 0)
		for _, r := range []uint32{a, b, c, d} {
			brand = binary.LittleEndian.AppendUint32(brand, r)
		}
	}
	sig, _, _, _ := amd64.Cpuid(1, 0)
	family := int(sig>>8&0xf + sig>>20&0xff)
	model := int(sig>>4&0xf | sig>>12&0xf0)
	return []procfs.CPU{{Vendor: string(v[:]), Model: strings.TrimSpace(strings.TrimRight(string(brand), "\x00")),
		MHz: float64(clock.TSCHz()) / 1e6, Family: family, ModelNum: model, Stepping: int(sig & 0xf)}}
}

func (s procSource) Boot() time.Time {
	return time.Unix(0, clock.Wall()-clock.Monotonic())
}

// describe lists the table's descriptors as /proc/<pid>/fd shows them.
func describe(t *kfile.FDTable) []procfs.FD {
	var out []procfs.FD
	t.Each(func(i int, of *kfile.OpenFile) {
		p := of.Path
		if p == "" {
			p = fmt.Sprintf("anon_inode:[%T]", of.File)
			switch f := of.File.(type) {
			case *pipe.End:
				p = fmt.Sprintf("pipe:[%d]", f.Ino())
			case *tty.Console:
				p = "/dev/console"
			}
		}
		out = append(out, procfs.FD{Num: i, Path: p})
	})
	return out
}
