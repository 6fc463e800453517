package vfs

import (
	"path"
	"sort"
	"strings"
)

// Mount is one entry of a mount table.
type Mount struct {
	Target string // where it is mounted: a clean absolute path
	FS     any    // what serves it
	Root   string // the directory of FS that is mounted: a clean relative path, "" for its root
	Source string // what /proc/mounts shows as the source ("nvme0", "initfs", ...)
	Type   string // the filesystem type /proc/mounts shows ("valfs", "initfs", "proc", ...)
}

// Table is a mount table. The zero Table has no mounts.
type Table struct {
	mounts []*Mount // sorted by target, longest first among prefixes (see sortMounts)
}

// New returns a table with root mounted at "/".
func New(root *Mount) *Table {
	m := *root
	m.Target = "/"
	return &Table{mounts: []*Mount{&m}}
}

// MaxMounts bounds one table: each mount is kernel memory charged to
// nobody, and a process could otherwise bind in a loop.
const MaxMounts = 256

// Clean returns the clean absolute form of p (relative paths are taken
// from "/"), as Find matches it.
func Clean(p string) string {
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	return path.Clean(p)
}

// Find returns the mount serving abs and abs's path inside that mount's
// filesystem (joined with the mount's Root; "" for the filesystem's
// root). It returns nil if no mount covers abs (a table without "/").
func (t *Table) Find(abs string) (*Mount, string) {
	abs = Clean(abs)
	for _, m := range t.mounts {
		rest, ok := under(abs, m.Target)
		if !ok {
			continue
		}
		return m, join(m.Root, rest)
	}
	return nil, ""
}

// under reports whether p is target or below it, and the rest of p.
func under(p, target string) (string, bool) {
	if target == "/" {
		return strings.TrimPrefix(p, "/"), true
	}
	if p == target {
		return "", true
	}
	if strings.HasPrefix(p, target) && p[len(target)] == '/' {
		return p[len(target)+1:], true
	}
	return "", false
}

func join(root, rest string) string {
	switch {
	case root == "":
		return rest
	case rest == "":
		return root
	}
	return root + "/" + rest
}

// Lookup returns the mount whose target is exactly target, if any.
func (t *Table) Lookup(target string) (*Mount, bool) {
	target = Clean(target)
	for _, m := range t.mounts {
		if m.Target == target {
			return m, true
		}
	}
	return nil, false
}

// With returns a table with m added at m.Target (made clean), replacing
// a mount already there. ok is false if the table is full.
func (t *Table) With(m *Mount) (*Table, bool) {
	nm := *m
	nm.Target = Clean(m.Target)
	nm.Root = strings.Trim(path.Clean("/"+m.Root), "/")
	out := &Table{mounts: make([]*Mount, 0, len(t.mounts)+1)}
	for _, old := range t.mounts {
		if old.Target != nm.Target {
			out.mounts = append(out.mounts, old)
		}
	}
	if len(out.mounts) >= MaxMounts {
		return t, false
	}
	out.mounts = append(out.mounts, &nm)
	sortMounts(out.mounts)
	return out, true
}

// Without returns a table without the mount at target, and whether there
// was one.
func (t *Table) Without(target string) (*Table, bool) {
	target = Clean(target)
	out := &Table{}
	found := false
	for _, m := range t.mounts {
		if m.Target == target {
			found = true
			continue
		}
		out.mounts = append(out.mounts, m)
	}
	if !found {
		return t, false
	}
	return out, true
}

// Mounts returns the mounts in the order /proc/mounts lists them: by
// target, parents before what is mounted below them.
func (t *Table) Mounts() []*Mount {
	out := append([]*Mount(nil), t.mounts...)
	sort.Slice(out, func(i, j int) bool { return out[i].Target < out[j].Target })
	return out
}

// Each calls f for every mount (in no particular order).
func (t *Table) Each(f func(*Mount)) {
	for _, m := range t.mounts {
		f(m)
	}
}

// sortMounts orders mounts so that the first match in Find is the
// longest target: longer targets first.
func sortMounts(ms []*Mount) {
	sort.SliceStable(ms, func(i, j int) bool {
		if len(ms[i].Target) != len(ms[j].Target) {
			return len(ms[i].Target) > len(ms[j].Target)
		}
		return ms[i].Target < ms[j].Target
	})
}
