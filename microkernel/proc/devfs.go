package proc

import (
	"sort"
	"strings"
	"sync"

	"gvisor.dev/gvisor/pkg/abi/linux"
	"gvisor.dev/gvisor/pkg/abi/linux/errno"

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
	attached   = map[string]*remoteMount{}
)

// maxAttached bounds the attached devices (each costs the kernel a map
// entry and a mount's buffers).
const maxAttached = 64

// attachedName returns the name of the device rel (a path relative to
// the initfs root, "dev/NAME") if NAME is attached.
func attachedName(rel string) (*remoteMount, bool) {
	name, ok := strings.CutPrefix(rel, devTree+"/")
	if !ok || name == "" || strings.Contains(name, "/") {
		return nil, false
	}
	attachedMu.Lock()
	defer attachedMu.Unlock()
	m := attached[name]
	return m, m != nil
}

// attachDevice attaches the server behind m at /dev/name; replace gives
// an attached name a new server instead.
func attachDevice(name string, m *remoteMount, replace bool) errno.Errno {
	if name == "" || name == "." || name == ".." || strings.Contains(name, "/") || len(name) > fileproto.MaxNameLen {
		return errno.EINVAL
	}
	attachedMu.Lock()
	defer attachedMu.Unlock()
	if old := attached[name]; old != nil {
		if !replace {
			return errno.EEXIST
		}
		ep, badge, _ := m.current()
		old.replace(ep, badge)
		return 0
	}
	if replace {
		return errno.EINVAL
	}
	if _, e := (nodeFS{}).walk(fsAt{rel: devTree + "/" + name}, false); e == 0 {
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
	if attached[name] == nil {
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
func (devFS) route(at fsAt) (filesystem, fsAt) {
	if at.f != nil {
		switch f := at.f.(type) {
		case *remoteFile:
			return f.fs, at
		case *devDir:
			return nodeFS{}, fsAt{f: f.dirFile}
		}
		return nodeFS{}, at
	}
	if m, ok := attachedName(at.rel); ok {
		return remoteFS{m: m}, fsAt{}
	}
	return nodeFS{}, at
}

func (d devFS) open(c *call, at fsAt, flags, mode uint32) (file, errno.Errno) {
	fs, at := d.route(at)
	f, e := fs.open(c, at, flags, mode)
	if e != 0 {
		return nil, e
	}
	if df, isDir := f.(*dirFile); isDir && df.n == devNode() {
		return &devDir{dirFile: df}, 0
	}
	return f, 0
}

func (d devFS) stat(c *call, at fsAt, flags uint32) (linux.Stat, errno.Errno) {
	fs, at := d.route(at)
	return fs.stat(c, at, flags)
}

func (d devFS) readlink(c *call, at fsAt) (string, errno.Errno) {
	fs, at := d.route(at)
	return fs.readlink(c, at)
}

func (d devFS) access(c *call, at fsAt, mode, flags uint32) errno.Errno {
	fs, at := d.route(at)
	return fs.access(c, at, mode, flags)
}

// The names in /dev are the kernel's and the attached servers': nothing
// is created, removed or renamed there.

func (d devFS) mkdir(c *call, at fsAt, mode uint32) errno.Errno {
	if _, ok := attachedName(at.rel); ok {
		return errno.EEXIST
	}
	return nodeFS{}.mkdir(c, at, mode)
}

func (d devFS) symlink(c *call, target string, at fsAt) errno.Errno {
	if _, ok := attachedName(at.rel); ok {
		return errno.EEXIST
	}
	return nodeFS{}.symlink(c, target, at)
}

func (d devFS) unlink(c *call, at fsAt, flags uint32) errno.Errno {
	if _, ok := attachedName(at.rel); ok {
		return errno.EPERM
	}
	return nodeFS{}.unlink(c, at, flags)
}

func (d devFS) rename(c *call, from, to fsAt, flags uint32) errno.Errno {
	_, a := attachedName(from.rel)
	_, b := attachedName(to.rel)
	if a || b {
		return errno.EPERM
	}
	return nodeFS{}.rename(c, from, to, flags)
}

func (d devFS) link(c *call, from, to fsAt, flags uint32) errno.Errno {
	if _, ok := attachedName(to.rel); ok {
		return errno.EEXIST
	}
	if _, ok := attachedName(from.rel); ok {
		return errno.EXDEV
	}
	return nodeFS{}.link(c, from, to, flags)
}

func (d devFS) chmod(c *call, at fsAt, mode, flags uint32) errno.Errno {
	fs, at := d.route(at)
	return fs.chmod(c, at, mode, flags)
}

func (d devFS) chown(c *call, at fsAt, uid, gid, flags uint32) errno.Errno {
	fs, at := d.route(at)
	return fs.chown(c, at, uid, gid, flags)
}

func (d devFS) utimens(c *call, at fsAt, atime, mtime fileproto.Timespec, flags uint32) errno.Errno {
	fs, at := d.route(at)
	return fs.utimens(c, at, atime, mtime, flags)
}

func (d devFS) truncate(c *call, at fsAt, size int64) errno.Errno {
	fs, at := d.route(at)
	return fs.truncate(c, at, size)
}

func (d devFS) fsync(c *call, f file) errno.Errno {
	fs, _ := d.route(fsAt{f: f})
	return fs.fsync(c, f)
}

func (devFS) statfs(c *call) (linux.Statfs, errno.Errno) { return nodeFS{}.statfs(c) }

// sync flushes every attached device: sync(2) makes what was written to
// /dev/vda durable too.
func (devFS) sync(c *call) errno.Errno {
	var first errno.Errno
	for _, name := range attachedNames() {
		if m, ok := attachedName(devTree + "/" + name); ok {
			if e := (remoteFS{m: m}).sync(c); e != 0 && first == 0 {
				first = e
			}
		}
	}
	return first
}

// devNode is the initfs tree's dev directory.
func devNode() *node {
	n, e := nodeFS{}.walk(fsAt{rel: devTree}, true)
	if e != 0 {
		return nil
	}
	return n
}

// devDir is /dev opened: the tree's entries, then the attached names.
type devDir struct{ *dirFile }

func (d *devDir) readdir(c *call, pos int64) ([]dirent, errno.Errno) {
	own, e := d.dirFile.readdir(c, 0)
	if e != 0 {
		return nil, e
	}
	n := int64(len(own))
	if pos < n {
		return own[pos:], 0
	}
	var out []dirent
	names := attachedNames()
	for i := pos - n; i < int64(len(names)); i++ {
		// The type is left unknown: the server knows it (a block
		// device, as a rule) and a lister that cares stats the name.
		out = append(out, dirent{ino: 1<<40 + uint64(i), next: n + i + 1, typ: linux.DT_UNKNOWN, name: names[i]})
	}
	return out, 0
}
