package fs

import (
	"io"
	"os"
)

// OpenFile opens the file at path. flag combines os.O_RDONLY, O_WRONLY
// or O_RDWR with O_CREATE, O_EXCL, O_TRUNC and O_APPEND, which mean what
// they mean in open(2); perm is the permission of a created file.
func (f *FS) OpenFile(path string, flag int, perm uint32) (*File, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ino, err := f.openInode(path, flag, perm)
	if err != nil {
		return nil, pathErr("open", path, err)
	}
	f.open[ino]++
	return &File{fs: f, ino: ino, path: path, flag: flag}, nil
}

// Open opens the file at path for reading.
func (f *FS) Open(path string) (*File, error) { return f.OpenFile(path, os.O_RDONLY, 0) }

// Create creates or truncates the file at path and opens it for reading
// and writing.
func (f *FS) Create(path string) (*File, error) {
	return f.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o666)
}

const accessMode = os.O_RDONLY | os.O_WRONLY | os.O_RDWR

func (f *FS) openInode(path string, flag int, perm uint32) (uint64, error) {
	writes := flag&accessMode != os.O_RDONLY
	r, err := f.resolve(path, true)
	if notExist(err) && flag&os.O_CREATE != 0 {
		return f.create(path, perm)
	}
	switch {
	case err != nil:
		return 0, err
	case flag&os.O_CREATE != 0 && flag&os.O_EXCL != 0:
		return 0, ErrExist
	case r.in.IsDir() && (writes || flag&os.O_TRUNC != 0):
		return 0, ErrIsDir
	case r.in.IsSpecial():
		return 0, ErrInvalid // a socket or FIFO has no data to open
	}
	if flag&os.O_TRUNC != 0 && writes && r.in.Size > 0 {
		if err := f.truncate(r.ino, &r.in, 0); err != nil {
			return 0, err
		}
	}
	return r.ino, nil
}

// Mknod makes a special file at path: mode is ModeSocket or ModeFIFO
// with permission bits (ErrInvalid for any other type). It has no data;
// whoever serves it (the kernel, for a socket) knows it by its inode.
func (f *FS) Mknod(path string, mode uint32) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !IsSpecialMode(mode) {
		return pathErr("mknod", path, ErrInvalid)
	}
	return pathErr("mknod", path, f.mknod(path, mode&(ModeType|ModePerm)))
}

func (f *FS) mknod(path string, mode uint32) error {
	dir, _, name, err := f.newName(path)
	if err != nil {
		return err
	}
	if err := f.prepare(f.treeCost(3)); err != nil {
		return err
	}
	return f.apply(func() error {
		now := f.now()
		in := Inode{Mode: mode, Nlink: 1, Atime: now, Mtime: now, Ctime: now}
		ino, err := f.newInode(&in)
		if err != nil {
			return err
		}
		if err := f.addEntry(dir, name, ino, in.Mode); err != nil {
			return err
		}
		return f.touchDir(dir, 0, now)
	})
}

// create makes an empty regular file at path.
func (f *FS) create(path string, perm uint32) (uint64, error) {
	dir, _, name, err := f.newName(path)
	if err != nil {
		return 0, err
	}
	if err := f.prepare(f.treeCost(3)); err != nil {
		return 0, err
	}
	var ino uint64
	err = f.apply(func() error {
		now := f.now()
		in := Inode{Mode: ModeRegular | perm&ModePerm, Nlink: 1, Atime: now, Mtime: now, Ctime: now}
		var err error
		if ino, err = f.newInode(&in); err != nil {
			return err
		}
		if err := f.addEntry(dir, name, ino, in.Mode); err != nil {
			return err
		}
		return f.touchDir(dir, 0, now)
	})
	return ino, err
}

// ReadFile returns the contents of the file at path.
func (f *FS) ReadFile(path string) ([]byte, error) {
	h, err := f.Open(path)
	if err != nil {
		return nil, err
	}
	defer h.Close()
	st, err := h.Stat()
	if err != nil {
		return nil, err
	}
	// Read in pieces rather than trusting the size for one allocation:
	// a damaged inode may claim a petabyte.
	var out []byte
	buf := make([]byte, min(st.Size, 1<<20))
	for off := int64(0); off < st.Size; {
		n, err := h.ReadAt(buf, off)
		out = append(out, buf[:n]...)
		off += int64(n)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// WriteFile creates or truncates the file at path and writes data to it.
func (f *FS) WriteFile(path string, data []byte, perm uint32) error {
	h, err := f.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	if _, err := h.WriteAt(data, 0); err != nil {
		h.Close()
		return err
	}
	return h.Close()
}
