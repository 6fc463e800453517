package initfs

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// MaxFileSize bounds each archived file.
const MaxFileSize = 256 << 20

type kind int

const (
	kindDir kind = iota
	kindFile
	kindSymlink
)

// entry is one archive member before it is written.
type entry struct {
	name string // clean relative path without a trailing slash
	kind kind
	mode fs.FileMode // permission and setuid/setgid/sticky bits
	size int64       // for files
	host string      // for files: where to read the contents
	link string      // for symlinks: the target, verbatim
	from string      // where the entry came from, for error messages
}

// collect gathers the entries of opt and returns them in archive order.
func collect(opt Options) ([]*entry, error) {
	m := make(map[string]*entry)
	if opt.ImageDir != "" {
		if err := walkImage(opt.ImageDir, m); err != nil {
			return nil, err
		}
	}
	for _, a := range opt.Adds {
		e, err := addEntry(a)
		if err != nil {
			return nil, err
		}
		if old, ok := m[e.name]; ok && old.kind == kindDir {
			return nil, fmt.Errorf("initfs: %s would replace directory %s from %s", e.from, a.Guest, old.from)
		}
		m[e.name] = e
	}

	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	slices.SortFunc(names, comparePaths)
	// Check (and complete) every entry's chain of parent directories.
	for _, name := range names {
		for dir := path.Dir(name); dir != "."; dir = path.Dir(dir) {
			p, ok := m[dir]
			if !ok {
				m[dir] = &entry{name: dir, kind: kindDir, mode: 0o755, from: "implied parent"}
				continue
			}
			if p.kind != kindDir {
				return nil, fmt.Errorf("initfs: /%s (from %s) is below /%s, which is not a directory (from %s)",
					name, m[name].from, dir, p.from)
			}
		}
	}

	entries := make([]*entry, 0, len(m))
	for _, e := range m {
		entries = append(entries, e)
	}
	slices.SortFunc(entries, func(a, b *entry) int { return comparePaths(a.name, b.name) })
	return entries, nil
}

// comparePaths orders paths component by component, which is byte order
// with '/' sorting before every other byte. That puts each directory's
// subtree directly after it ("a", "a/b", "a-b") and parents first.
func comparePaths(a, b string) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		ca, cb := a[i], b[i]
		if ca == cb {
			continue
		}
		if ca == '/' {
			return -1
		}
		if cb == '/' {
			return 1
		}
		return int(ca) - int(cb)
	}
	return len(a) - len(b)
}

// walkImage adds the tree under root to m.
func walkImage(root string, m map[string]*entry) error {
	// Resolve root itself so an image directory reached through a symlink
	// is walked; links inside it are archived, not followed.
	real, err := filepath.EvalSymlinks(root)
	if err != nil {
		return fmt.Errorf("initfs: image directory: %w", err)
	}
	if fi, err := os.Stat(real); err != nil {
		return fmt.Errorf("initfs: image directory: %w", err)
	} else if !fi.IsDir() {
		return fmt.Errorf("initfs: image directory %s is not a directory", root)
	}
	return filepath.WalkDir(real, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("initfs: reading image directory: %w", err)
		}
		if p == real {
			return nil
		}
		if d.Name() == ".keep" && !d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(real, p)
		if err != nil {
			return fmt.Errorf("initfs: image directory: %w", err)
		}
		shown := filepath.Join(root, rel)
		info, err := d.Info()
		if err != nil {
			return fmt.Errorf("initfs: image file %s: %w", shown, err)
		}
		e := &entry{name: filepath.ToSlash(rel), mode: modeBits(info.Mode()), from: "image file " + shown}
		switch t := info.Mode().Type(); {
		case t == fs.ModeDir:
			e.kind = kindDir
		case t == fs.ModeSymlink:
			e.kind = kindSymlink
			if e.link, err = os.Readlink(p); err != nil {
				return fmt.Errorf("initfs: image file %s: %w", shown, err)
			}
		case t.IsRegular():
			e.kind, e.host, e.size = kindFile, p, info.Size()
			if err := checkFile(p, info.Size()); err != nil {
				return fmt.Errorf("initfs: image file %s: %w", shown, err)
			}
		default:
			return fmt.Errorf("initfs: image file %s: unsupported file type %v (only files, directories and symlinks)", shown, t)
		}
		if strings.IndexByte(e.name, 0) >= 0 {
			return fmt.Errorf("initfs: image file %s: name contains a NUL byte", shown)
		}
		m[e.name] = e
		return nil
	})
}

// addEntry turns an -add argument into an entry, following symlinks.
func addEntry(a Add) (*entry, error) {
	from := "-add " + a.Host + ":" + a.Guest
	guest, err := CleanGuest(a.Guest)
	if err != nil {
		return nil, fmt.Errorf("initfs: %s: %w", from, err)
	}
	fi, err := os.Stat(a.Host)
	if err != nil {
		return nil, fmt.Errorf("initfs: %s: %w", from, err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("initfs: %s: %s is not a regular file (%v)", from, a.Host, fi.Mode().Type())
	}
	if err := checkFile(a.Host, fi.Size()); err != nil {
		return nil, fmt.Errorf("initfs: %s: %w", from, err)
	}
	return &entry{name: guest[1:], kind: kindFile, mode: modeBits(fi.Mode()),
		size: fi.Size(), host: a.Host, from: from}, nil
}

// checkFile refuses oversized files and opens p once, so an unreadable
// input fails before any output is written.
func checkFile(p string, size int64) error {
	if size > MaxFileSize {
		return fmt.Errorf("%d bytes is over the %d MiB limit", size, MaxFileSize>>20)
	}
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	return f.Close()
}

// modeBits keeps what tar can carry: permissions and setuid/setgid/sticky.
func modeBits(m fs.FileMode) fs.FileMode {
	return m & (fs.ModePerm | fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky)
}

// Entry is one member of the tree, for writers other than the archive
// (mkimage's root disk): the same tree, in the same order.
type Entry struct {
	Name string      // clean relative path ("bin/hello"), parents first
	Mode fs.FileMode // type (fs.ModeDir, fs.ModeSymlink or 0) and permission bits
	Size int64       // regular files: the size to copy, exactly
	Host string      // regular files: the host file holding the contents
	Link string      // symlinks: the target, verbatim
	From string      // where the entry came from, for error messages
}

// Entries returns the tree opt describes, checked as Write checks it.
func Entries(opt Options) ([]Entry, error) {
	entries, err := collect(opt)
	if err != nil {
		return nil, err
	}
	out := make([]Entry, len(entries))
	for i, e := range entries {
		mode := e.mode
		switch e.kind {
		case kindDir:
			mode |= fs.ModeDir
		case kindSymlink:
			mode |= fs.ModeSymlink
		}
		out[i] = Entry{Name: e.name, Mode: mode, Size: e.size, Host: e.host, Link: e.link, From: e.from}
	}
	return out, nil
}
