package proc

import (
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	"gvisor.dev/gvisor/pkg/abi/linux/errno"

	"valence.dev/microkernel/initfs"
)

// The file namespace user programs see, until the filesystem servers take
// it over: the initfs, read-only, with a few devices under /dev. Paths are
// resolved here, in the kernel, with symlinks followed (at most 40, as on
// Linux).

type nodeKind uint8

const (
	kindDir nodeKind = iota
	kindFile
	kindSymlink
	kindDevice
)

type node struct {
	name     string
	kind     nodeKind
	mode     fs.FileMode // permission bits
	ino      uint64
	data     []byte // files
	link     string // symlinks
	dev      device // devices
	parent   *node
	children map[string]*node
	sorted   []string // children names, sorted (directories)
}

func (n *node) isDir() bool { return n.kind == kindDir }

func (n *node) bytes() ([]byte, bool) {
	if n.kind != kindFile {
		return nil, false
	}
	return n.data, true
}

type namespace struct {
	mu   sync.Mutex
	root *node
	ino  uint64
}

var root = &namespace{}

func (ns *namespace) newNode(name string, kind nodeKind, mode fs.FileMode, parent *node) *node {
	ns.ino++
	n := &node{name: name, kind: kind, mode: mode, ino: ns.ino, parent: parent}
	if kind == kindDir {
		n.children = map[string]*node{}
	}
	return n
}

// SetRoot builds the namespace from the initfs.
func SetRoot(f *initfs.FS) {
	ns := &namespace{}
	ns.root = ns.newNode("/", kindDir, 0o755, nil)
	ns.root.parent = ns.root
	if f != nil {
		for _, name := range f.Names() {
			e, _ := f.Lookup(name)
			dir := ns.mkdirAll(path.Dir(name))
			base := path.Base(name)
			if old, ok := dir.children[base]; ok && old.isDir() && e.Mode.IsDir() {
				continue
			}
			var n *node
			switch {
			case e.Mode.IsDir():
				n = ns.mkdirAll(name)
			case e.Mode&fs.ModeSymlink != 0:
				n = ns.newNode(base, kindSymlink, 0o777, dir)
				n.link = e.Link
			default:
				n = ns.newNode(base, kindFile, e.Mode.Perm(), dir)
				n.data = e.Data
			}
			dir.children[base] = n
		}
	}
	dev := ns.mkdirAll("dev")
	for name, d := range devices() {
		n := ns.newNode(name, kindDevice, 0o666, dev)
		n.dev = d
		dev.children[name] = n
	}
	ns.mkdirAll("tmp")
	ns.mkdirAll("boot") // mount points (docs/filesystems.md)
	ns.mkdirAll("proc")
	ns.sortAll(ns.root)
	root.mu.Lock()
	root.root, root.ino = ns.root, ns.ino
	root.mu.Unlock()
	setInitialNS(buildInitialNS())
}

func (ns *namespace) mkdirAll(p string) *node {
	cur := ns.root
	if p == "." || p == "" {
		return cur
	}
	for _, part := range strings.Split(p, "/") {
		next, ok := cur.children[part]
		if !ok || !next.isDir() {
			next = ns.newNode(part, kindDir, 0o755, cur)
			cur.children[part] = next
		}
		cur = next
	}
	return cur
}

func (ns *namespace) sortAll(n *node) {
	if !n.isDir() {
		return
	}
	n.sorted = n.sorted[:0]
	for name, c := range n.children {
		n.sorted = append(n.sorted, name)
		if c != n {
			ns.sortAll(c)
		}
	}
	sort.Strings(n.sorted)
}

// resolve walks p (relative to cwd unless absolute); follow says whether
// a symlink as the last component is followed. It returns the node and the
// absolute path it was found at.
func (ns *namespace) resolve(cwd, p string, follow bool) (*node, string, errno.Errno) {
	ns.mu.Lock()
	r := ns.root
	ns.mu.Unlock()
	if r == nil {
		return nil, p, errno.ENOENT
	}
	if p == "" {
		return nil, p, errno.ENOENT
	}
	if len(p) > 4096 {
		return nil, p, errno.ENAMETOOLONG
	}
	if !strings.HasPrefix(p, "/") {
		p = cwd + "/" + p
	}
	links := 0
	for {
		clean := path.Clean(p)
		parts := strings.Split(strings.TrimPrefix(clean, "/"), "/")
		cur := r
		restart := false
		for i, part := range parts {
			if part == "" {
				continue
			}
			if !cur.isDir() {
				return nil, clean, errno.ENOTDIR
			}
			if part == ".." {
				cur = cur.parent
				continue
			}
			next, ok := cur.children[part]
			if !ok {
				return nil, clean, errno.ENOENT
			}
			last := i == len(parts)-1
			if next.kind == kindSymlink && (!last || follow) {
				links++
				if links > 40 {
					return nil, clean, errno.ELOOP
				}
				target := next.link
				if !strings.HasPrefix(target, "/") {
					target = path.Join(pathOf(cur), target)
				}
				p = path.Join(append([]string{target}, parts[i+1:]...)...)
				restart = true
				break
			}
			cur = next
		}
		if !restart {
			return cur, clean, 0
		}
	}
}

// pathOf returns the absolute path of a directory node.
func pathOf(n *node) string {
	var parts []string
	for n.parent != n {
		parts = append([]string{n.name}, parts...)
		n = n.parent
	}
	return "/" + strings.Join(parts, "/")
}
