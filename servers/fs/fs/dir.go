package fs

import (
	"errors"
	"fmt"

	"valence.dev/servers/fs/btree"
)

// A directory's entries are items (dir, kindDirent, nameHash(name)). The
// value is a bucket: every entry whose name has that hash, almost always
// one. So a lookup is one B+tree search whatever the directory's size,
// and readdir walks the directory's items in hash order, resuming from
// a hash (the cookie) when it is called again.

// bucket returns the entries stored under name's hash, or nil.
func (f *FS) bucket(dir uint64, name string) ([]Dirent, error) {
	h := nameHash(name)
	b, err := f.tree.Get(direntKey(dir, h))
	if errors.Is(err, btree.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return DecodeBucket(b, h)
}

// lookup returns the entry for name in directory dir, or ErrNotExist.
func (f *FS) lookup(dir uint64, name string) (Dirent, error) {
	ents, err := f.bucket(dir, name)
	if err != nil {
		return Dirent{}, fmt.Errorf("directory %d: %w", dir, err)
	}
	for _, e := range ents {
		if e.Name == name {
			return e, nil
		}
	}
	return Dirent{}, ErrNotExist
}

// canAdd checks, without changing anything, that name can be added to
// directory dir: it is valid and its bucket has room.
func (f *FS) canAdd(dir uint64, name string) error {
	if err := validName(name); err != nil {
		return err
	}
	ents, err := f.bucket(dir, name)
	if err != nil {
		return err
	}
	if len(EncodeBucket(ents))+direntSize(name) > btree.MaxValue {
		return fmt.Errorf("%d names share the hash of %q: %w", len(ents), name, ErrNoSpace)
	}
	return nil
}

// addEntry adds name -> ino to directory dir. The caller has checked it
// with canAdd and that the name is not there.
func (f *FS) addEntry(dir uint64, name string, ino uint64, mode uint32) error {
	ents, err := f.bucket(dir, name)
	if err != nil {
		return err
	}
	ents = append(ents, Dirent{Name: name, Ino: ino, Type: TypeOf(mode)})
	return f.tree.Put(direntKey(dir, nameHash(name)), EncodeBucket(ents))
}

// removeEntry removes name from directory dir.
func (f *FS) removeEntry(dir uint64, name string) error {
	ents, err := f.bucket(dir, name)
	if err != nil {
		return err
	}
	for i, e := range ents {
		if e.Name != name {
			continue
		}
		ents = append(ents[:i], ents[i+1:]...)
		k := direntKey(dir, nameHash(name))
		if len(ents) == 0 {
			return f.tree.Delete(k)
		}
		return f.tree.Put(k, EncodeBucket(ents))
	}
	return fmt.Errorf("directory %d: entry %q vanished: %w", dir, name, ErrCorrupt)
}

// isEmpty reports whether directory dir has no entries.
func (f *FS) isEmpty(dir uint64) (bool, error) {
	c := f.tree.Seek(direntKey(dir, 0))
	if c.Valid() && isKind(c.Key(), dir, kindDirent) {
		return false, nil
	}
	return true, c.Err()
}

// readdir returns up to max entries of directory dir (all if max <= 0)
// in hash order, starting at cookie (0 at first), and the cookie to
// continue from, which is cookieEnd when the directory is exhausted.
func (f *FS) readdir(dir, cookie uint64, max int) ([]Dirent, uint64, error) {
	var out []Dirent
	c := f.tree.Seek(direntKey(dir, cookie))
	for ; c.Valid() && isKind(c.Key(), dir, kindDirent); c.Next() {
		if max > 0 && len(out) >= max {
			return out, c.Key().Off, nil
		}
		ents, err := DecodeBucket(c.Value(), c.Key().Off)
		if err != nil {
			return nil, 0, fmt.Errorf("directory %d: %w", dir, err)
		}
		out = append(out, ents...)
	}
	return out, cookieEnd, c.Err()
}

// cookieEnd is the readdir cookie past every entry: hashes are below 2^63.
const cookieEnd = ^uint64(0)

// isAncestor reports whether directory a is dir or one of its
// ancestors. A damaged image could make the parent chain loop, so the
// walk gives up after more steps than any real tree has levels.
func (f *FS) isAncestor(a, dir uint64) (bool, error) {
	for range 1 << 16 {
		if dir == a {
			return true, nil
		}
		if dir == RootIno {
			return false, nil
		}
		in, err := f.linkedInode(dir)
		if err != nil {
			return false, err
		}
		if !in.IsDir() {
			return false, fmt.Errorf("inode %d is the parent of a directory: %w", dir, ErrCorrupt)
		}
		dir = in.Parent
	}
	return false, fmt.Errorf("directory parents loop: %w", ErrCorrupt)
}
