package initfs

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
)

// MaxEntries bounds the number of entries in an archive.
const MaxEntries = 16384

// File is one entry of the initfs.
type File struct {
	Name string // clean, relative, e.g. "bin/init"
	Mode fs.FileMode
	Size int64
	Data []byte // regular files only
	Link string // symlinks only
}

// FS is a loaded initfs.
type FS struct {
	files map[string]*File
	names []string // sorted
	bytes int64
}

// ErrBadArchive is wrapped by every error about the archive's contents.
var ErrBadArchive = errors.New("initfs: bad archive")

// Load parses a tar archive held in data.
func Load(data []byte) (*FS, error) {
	f := &FS{files: map[string]*File{}}
	r := bytes.NewReader(data)
	tr := tar.NewReader(r)
	for n := 0; ; n++ {
		h, err := tr.Next()
		pos := int64(len(data)) - int64(r.Len()) // where this entry's data starts
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: entry %d: %v", ErrBadArchive, n, err)
		}
		if n >= MaxEntries {
			return nil, fmt.Errorf("%w: more than %d entries", ErrBadArchive, MaxEntries)
		}
		name, err := cleanName(h.Name)
		if err != nil {
			return nil, fmt.Errorf("%w: entry %d %q: %v", ErrBadArchive, n, h.Name, err)
		}
		if _, dup := f.files[name]; dup {
			return nil, fmt.Errorf("%w: %q appears twice", ErrBadArchive, name)
		}
		e := &File{Name: name, Mode: h.FileInfo().Mode()}
		switch h.Typeflag {
		case tar.TypeReg:
			if h.Size < 0 || h.Size > int64(len(data)) {
				return nil, fmt.Errorf("%w: %q: size %d larger than the archive", ErrBadArchive, name, h.Size)
			}
			// Read through the tar reader to validate the length; then point
			// at the same bytes in the archive instead of keeping the copy.
			body, err := io.ReadAll(io.LimitReader(tr, h.Size+1))
			if err != nil || int64(len(body)) != h.Size {
				return nil, fmt.Errorf("%w: %q: truncated contents", ErrBadArchive, name)
			}
			e.Size = h.Size
			e.Data = locate(data, pos, body)
			f.bytes += h.Size
		case tar.TypeDir:
			e.Mode |= fs.ModeDir
		case tar.TypeSymlink:
			if h.Linkname == "" || len(h.Linkname) > 4096 {
				return nil, fmt.Errorf("%w: %q: bad symlink target", ErrBadArchive, name)
			}
			e.Link = h.Linkname
			e.Mode |= fs.ModeSymlink
		default:
			return nil, fmt.Errorf("%w: %q: unsupported entry type %q", ErrBadArchive, name, h.Typeflag)
		}
		if name == "." {
			continue
		}
		f.files[name] = e
		f.names = append(f.names, name)
	}
	sort.Strings(f.names)
	return f, nil
}

// locate returns the bytes of archive at pos if they equal body (they do
// for an ordinary entry), so that file data refers to the module's memory
// rather than a heap copy; otherwise (a PAX or sparse layout) the copy.
func locate(archive []byte, pos int64, body []byte) []byte {
	if len(body) == 0 {
		return nil
	}
	end := pos + int64(len(body))
	if pos >= 0 && end <= int64(len(archive)) && bytes.Equal(archive[pos:end], body) {
		return archive[pos:end:end]
	}
	return body
}

func cleanName(n string) (string, error) {
	n = strings.TrimPrefix(n, "./")
	n = strings.TrimLeft(n, "/")
	n = strings.TrimSuffix(n, "/")
	if n == "" || n == "." {
		return ".", nil
	}
	if len(n) > 4096 {
		return "", errors.New("name too long")
	}
	if strings.ContainsRune(n, 0) {
		return "", errors.New("NUL in name")
	}
	for _, part := range strings.Split(n, "/") {
		if part == ".." {
			return "", errors.New(`".." in name`)
		}
	}
	if c := path.Clean(n); c != n {
		return "", fmt.Errorf("name is not clean (%q)", c)
	}
	return n, nil
}

// Lookup returns the entry for a path ("/bin/init" or "bin/init").
func (f *FS) Lookup(p string) (*File, bool) {
	p = strings.TrimPrefix(path.Clean("/"+p), "/")
	e, ok := f.files[p]
	return e, ok
}

// Names returns every entry's name, sorted.
func (f *FS) Names() []string { return f.names }

// Len is the number of entries.
func (f *FS) Len() int { return len(f.names) }

// Bytes is the total size of the regular files.
func (f *FS) Bytes() int64 { return f.bytes }
