package proc

import (
	"sort"
	"strings"
	"sync"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/fsclient"
	"valence.dev/microkernel/kfile"
	"valence.dev/microkernel/obj"
	"valence.dev/servers/fs/fileproto"
)

// devFS is /dev: the kernel's character devices (the initfs tree's dev/
// directory, nodefs.go and files.go) and the device files that servers
// attach to it, such as the block devices /dev/nvme0n1 and /dev/vda that
// bootstrap serves over each disk driver (servers/fs/blkfile).
//
// An attached device is a server of the file protocol whose root is the
// device file itself; the first process attaches it with valence_mount
// and ipc.MountDevice at /dev/NAME, a name the kernel's own /dev does not
// have. Unlike a mount, an attachment is global, as Linux's devtmpfs is:
// every namespace that has the kernel's /dev sees it. Calls on an
// attached name are forwarded to its server (with an empty path: the
// root); everything else is the kernel's tree. Listing /dev gives the
// tree's entries and then the attached names, in name order.
type devFS struct{}

// devTree is where devFS lives in the initfs tree.
const devTree = "dev"

// Attached devices by name.
var (
	attachedMu sync.Mutex
	attached   = map[string]fsclient.FS{}
)

// maxAttached bounds the attached devices (each costs the kernel a map
// entry and a mount's buffers).
const maxAttached = 64

// attachedName returns the name of the device rel (a path relative to
// the initfs root, "dev/NAME") if NAME is attached.
func attachedName(rel string) (fsclient.FS, bool) {
	name, ok := strings.CutPrefix(rel, devTree+"/")
	if !ok || name == "" || strings.Contains(name, "/") {
		return fsclient.FS{}, false
	}
	attachedMu.Lock()
	defer attachedMu.Unlock()
	m, ok := attached[name]
	return m, ok
}

// attachDevice attaches the server behind m at /dev/name; replace gives
// an attached name a new server instead.
func attachDevice(name string, m fsclient.FS, ep *obj.Endpoint, badge uint64, replace bool) errno.Errno {
	if name == "" || name == "." || name == ".." || strings.Contains(name, "/") || len(name) > fileproto.MaxNameLen {
		return errno.EINVAL
	}
	attachedMu.Lock()
	defer attachedMu.Unlock()
	if old, ok := attached[name]; ok {
		if !replace {
			return errno.EEXIST
		}
		old.Replace(ep, badge)
		return 0
	}
	if replace {
		return errno.EINVAL
	}
	if _, e := (nodeFS{}).walk(kfile.At{Rel: devTree + "/" + name}, false); e == 0 {
		return errno.EEXIST // one of the kernel's own devices
	}
	if len(attached) >= maxAttached {
		return errno.ENOSPC
	}
	attached[name] = m
	return 0
}

// detachDevice removes /dev/name.
func detachDevice(name string) errno.Errno {
	attachedMu.Lock()
	defer attachedMu.Unlock()
	if _, ok := attached[name]; !ok {
		return errno.EINVAL
	}
	delete(attached, name)
	return 0
}

// attachedNames returns the attached names in order.
func attachedNames() []string {
	attachedMu.Lock()
	defer attachedMu.Unlock()
	names := make([]string, 0, len(attached))
	for n := range attached {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// route picks the filesystem that serves at: an attached device's
// server (at its root), or the kernel's tree.
func (devFS) route(at kfile.At) (kfile.FS, kfile.At) {
	if at.File != nil {
		if f, isDir := at.File.(*devDir); isDir {
			return nodeFS{}, kfile.At{File: f.dirFile}
		}
		if fs, remote := fsclient.FSOf(at.File); remote {
			return fs, at
		}
		return nodeFS{}, at
	}
	if m, ok := attachedName(at.Rel); ok {
		return m, kfile.At{}
	}
	return nodeFS{}, at
}

func (d devFS) Open(c kfile.Caller, at kfile.At, flags, mode uint32) (kfile.File, errno.Errno) {
	fs, at := d.route(at)
	f, e := fs.Open(c, at, flags, mode)
	if e != 0 {
		return nil, e
	}
	if df, isDir := f.(*dirFile); isDir && df.n == devNode() {
		return &devDir{dirFile: df}, 0
	}
	if e := openTerminal(c, f, flags); e != 0 {
		return nil, e
	}
	return f, 0
}

func (d devFS) Stat(c kfile.Caller, at kfile.At, flags uint32) (linux.Stat, errno.Errno) {
	fs, at := d.route(at)
	return fs.Stat(c, at, flags)
}

func (d devFS) Readlink(c kfile.Caller, at kfile.At) (string, errno.Errno) {
	fs, at := d.route(at)
	return fs.Readlink(c, at)
}

func (d devFS) Access(c kfile.Caller, at kfile.At, mode, flags uint32) errno.Errno {
	fs, at := d.route(at)
	return fs.Access(c, at, mode, flags)
}

// The names in /dev are the kernel's and the attached servers': nothing
// is created, removed or renamed there.

func (d devFS) Mkdir(c kfile.Caller, at kfile.At, mode uint32) errno.Errno {
	if _, ok := attachedName(at.Rel); ok {
		return errno.EEXIST
	}
	return nodeFS{}.Mkdir(c, at, mode)
}

func (d devFS) Symlink(c kfile.Caller, target string, at kfile.At) errno.Errno {
	if _, ok := attachedName(at.Rel); ok {
		return errno.EEXIST
	}
	return nodeFS{}.Symlink(c, target, at)
}

func (d devFS) Unlink(c kfile.Caller, at kfile.At, flags uint32) errno.Errno {
	if _, ok := attachedName(at.Rel); ok {
		return errno.EPERM
	}
	return nodeFS{}.Unlink(c, at, flags)
}

func (d devFS) Rename(c kfile.Caller, from, to kfile.At, flags uint32) errno.Errno {
	_, a := attachedName(from.Rel)
	_, b := attachedName(to.Rel)
	if a || b {
		return errno.EPERM
	}
	return nodeFS{}.Rename(c, from, to, flags)
}

func (d devFS) Link(c kfile.Caller, from, to kfile.At, flags uint32) errno.Errno {
	if _, ok := attachedName(to.Rel); ok {
		return errno.EEXIST
	}
	if _, ok := attachedName(from.Rel); ok {
		return errno.EXDEV
	}
	return nodeFS{}.Link(c, from, to, flags)
}

func (d devFS) Chmod(c kfile.Caller, at kfile.At, mode, flags uint32) errno.Errno {
	fs, at := d.route(at)
	return fs.Chmod(c, at, mode, flags)
}

func (d devFS) Chown(c kfile.Caller, at kfile.At, uid, gid, flags uint32) errno.Errno {
	fs, at := d.route(at)
	return fs.Chown(c, at, uid, gid, flags)
}

func (d devFS) Utimens(c kfile.Caller, at kfile.At, atime, mtime fileproto.Timespec, flags uint32) errno.Errno {
	fs, at := d.route(at)
	return fs.Utimens(c, at, atime, mtime, flags)
}

func (d devFS) Truncate(c kfile.Caller, at kfile.At, size int64) errno.Errno {
	fs, at := d.route(at)
	return fs.Truncate(c, at, size)
}

func (d devFS) Fsync(c kfile.Caller, f kfile.File) errno.Errno {
	fs, _ := d.route(kfile.At{File: f})
	return fs.Fsync(c, f)
}

func (devFS) Statfs(c kfile.Caller) (linux.Statfs, errno.Errno) { return nodeFS{}.Statfs(c) }

// sync flushes every attached device: sync(2) makes what was written to
// /dev/vda durable too.
func (devFS) Sync(c kfile.Caller) errno.Errno {
	var first errno.Errno
	for _, name := range attachedNames() {
		if m, ok := attachedName(devTree + "/" + name); ok {
			if e := m.Sync(c); e != 0 && first == 0 {
				first = e
			}
		}
	}
	return first
}

// devNode is the initfs tree's dev directory.
func devNode() *node {
	n, e := nodeFS{}.walk(kfile.At{Rel: devTree}, true)
	if e != 0 {
		return nil
	}
	return n
}

// devDir is /dev opened: the tree's entries, then the attached names.
type devDir struct{ *dirFile }

func (d *devDir) Readdir(c kfile.Caller, pos int64) ([]kfile.Dirent, errno.Errno) {
	own, e := d.dirFile.Readdir(c, 0)
	if e != 0 {
		return nil, e
	}
	n := int64(len(own))
	if pos < n {
		return own[pos:], 0
	}
	var out []kfile.Dirent
	names := attachedNames()
	for i := pos - n; i < int64(len(names)); i++ {
		// The type is left unknown: the server knows it (a block
		// device, as a rule) and a lister that cares stats the name.
		out = append(out, kfile.Dirent{Ino: 1<<40 + uint64(i), Next: n + i + 1, Type: linux.DT_UNKNOWN, Name: names[i]})
	}
	return out, 0
}
