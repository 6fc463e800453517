package fs

import (
	"errors"
	"io"
	"os"
)

// File is an open file or directory: a handle on an inode, which keeps
// it alive (as an orphan) if its last name is removed while open.
// Methods are safe for concurrent use, but Read, Write and Seek share one
// offset.
type File struct {
	fs     *FS
	ino    uint64
	path   string
	flag   int
	off    int64
	cookie uint64 // directory reading position
	closed bool
}

// Ino returns the inode number of the open file.
func (h *File) Ino() uint64 { return h.ino }

// Name returns the path the file was opened with.
func (h *File) Name() string { return h.path }

// lock takes the filesystem lock and checks the handle is open.
func (h *File) lock() error {
	h.fs.mu.Lock()
	if h.closed {
		h.fs.mu.Unlock()
		return ErrClosed
	}
	return nil
}

// ReadAt reads len(p) bytes at off, as io.ReaderAt: fewer only at the
// end of the file, with io.EOF.
func (h *File) ReadAt(p []byte, off int64) (int, error) {
	if err := h.lock(); err != nil {
		return 0, pathErr("read", h.path, err)
	}
	defer h.fs.mu.Unlock()
	n, err := h.readAt(p, off)
	if err != nil && err != io.EOF {
		err = pathErr("read", h.path, err)
	}
	return n, err
}

func (h *File) readAt(p []byte, off int64) (int, error) {
	if h.flag&accessMode == os.O_WRONLY || off < 0 {
		return 0, ErrInvalid
	}
	in, err := h.fs.inode(h.ino)
	if err != nil {
		return 0, err
	}
	if in.IsDir() {
		return 0, ErrIsDir
	}
	if uint64(off) >= in.Size {
		if len(p) == 0 {
			return 0, nil
		}
		return 0, io.EOF
	}
	n := min(uint64(len(p)), in.Size-uint64(off))
	if err := h.fs.readData(h.ino, p[:n], uint64(off)); err != nil {
		return 0, err
	}
	if n < uint64(len(p)) {
		return int(n), io.EOF
	}
	return int(n), nil
}

// writeChunk bounds what one reservation covers; a larger write is done
// in several steps, like a series of write calls.
const writeChunk = 16 << 20

// WriteAt writes p at off, growing the file if it ends past the end;
// writing past the end leaves a hole, which takes no space.
func (h *File) WriteAt(p []byte, off int64) (int, error) {
	if err := h.lock(); err != nil {
		return 0, pathErr("write", h.path, err)
	}
	defer h.fs.mu.Unlock()
	n, err := h.writeAt(p, off)
	return n, pathErr("write", h.path, err)
}

func (h *File) writeAt(p []byte, off int64) (int, error) {
	if h.flag&accessMode == os.O_RDONLY || off < 0 {
		return 0, ErrInvalid
	}
	if uint64(off)+uint64(len(p)) > MaxFileSize {
		return 0, ErrTooLarge
	}
	done := 0
	for done < len(p) {
		chunk := p[done:min(len(p), done+writeChunk)]
		if err := h.writeChunk(chunk, uint64(off)+uint64(done)); err != nil {
			return done, err
		}
		done += len(chunk)
	}
	return done, nil
}

func (h *File) writeChunk(p []byte, off uint64) error {
	f := h.fs
	in, err := f.inode(h.ino)
	if err != nil {
		return err
	}
	if !in.IsRegular() {
		return ErrInvalid
	}
	if err := f.prepare(f.writeCost(off, uint64(len(p)))); err != nil {
		return err
	}
	return f.apply(func() error {
		if err := f.writeData(h.ino, &in, p, off); err != nil {
			return err
		}
		in.Size = max(in.Size, off+uint64(len(p)))
		in.Mtime = f.now()
		in.Ctime = in.Mtime
		return f.putInode(h.ino, &in)
	})
}

// Read reads from the file offset, as io.Reader.
func (h *File) Read(p []byte) (int, error) {
	if err := h.lock(); err != nil {
		return 0, pathErr("read", h.path, err)
	}
	defer h.fs.mu.Unlock()
	n, err := h.readAt(p, h.off)
	h.off += int64(n)
	if n > 0 && err == io.EOF {
		err = nil
	}
	if err != nil && err != io.EOF {
		err = pathErr("read", h.path, err)
	}
	return n, err
}

// Write writes at the file offset, or at the end with O_APPEND, as
// io.Writer.
func (h *File) Write(p []byte) (int, error) {
	if err := h.lock(); err != nil {
		return 0, pathErr("write", h.path, err)
	}
	defer h.fs.mu.Unlock()
	if h.flag&os.O_APPEND != 0 {
		in, err := h.fs.inode(h.ino)
		if err != nil {
			return 0, pathErr("write", h.path, err)
		}
		h.off = int64(in.Size)
	}
	n, err := h.writeAt(p, h.off)
	h.off += int64(n)
	return n, pathErr("write", h.path, err)
}

// Seek sets the file offset, as io.Seeker.
func (h *File) Seek(offset int64, whence int) (int64, error) {
	if err := h.lock(); err != nil {
		return 0, pathErr("seek", h.path, err)
	}
	defer h.fs.mu.Unlock()
	base := int64(0)
	switch whence {
	case io.SeekCurrent:
		base = h.off
	case io.SeekEnd:
		in, err := h.fs.inode(h.ino)
		if err != nil {
			return 0, pathErr("seek", h.path, err)
		}
		base = int64(in.Size)
	case io.SeekStart:
	default:
		return 0, pathErr("seek", h.path, ErrInvalid)
	}
	if base+offset < 0 {
		return 0, pathErr("seek", h.path, ErrInvalid)
	}
	h.off = base + offset
	return h.off, nil
}

// Truncate sets the file's size.
func (h *File) Truncate(size int64) error {
	if err := h.lock(); err != nil {
		return pathErr("truncate", h.path, err)
	}
	defer h.fs.mu.Unlock()
	if h.flag&accessMode == os.O_RDONLY {
		return pathErr("truncate", h.path, ErrInvalid)
	}
	in, err := h.fs.inode(h.ino)
	if err == nil {
		err = h.fs.truncate(h.ino, &in, size)
	}
	return pathErr("truncate", h.path, err)
}

// Stat describes the open file.
func (h *File) Stat() (Stat, error) {
	if err := h.lock(); err != nil {
		return Stat{}, pathErr("stat", h.path, err)
	}
	defer h.fs.mu.Unlock()
	in, err := h.fs.inode(h.ino)
	if err != nil {
		return Stat{}, pathErr("stat", h.path, err)
	}
	return statOf(h.ino, &in), nil
}

// Sync commits the filesystem (fsync).
func (h *File) Sync() error {
	if err := h.lock(); err != nil {
		return pathErr("sync", h.path, err)
	}
	h.fs.mu.Unlock()
	return h.fs.Sync()
}

// ReadDir reads the next n entries of an open directory in the
// directory's own (hash) order, as os.File.ReadDir: with n > 0 at most
// n, and io.EOF once there are no more; with n <= 0 all that remain.
// Entries added or removed while reading may or may not be seen; every
// entry present throughout is seen exactly once. Names whose hashes
// collide are returned together, so in that rare case a call may return
// a few more than n.
func (h *File) ReadDir(n int) ([]DirEntry, error) {
	if err := h.lock(); err != nil {
		return nil, pathErr("readdir", h.path, err)
	}
	defer h.fs.mu.Unlock()
	in, err := h.fs.inode(h.ino)
	if err == nil && !in.IsDir() {
		err = ErrNotDir
	}
	if err != nil {
		return nil, pathErr("readdir", h.path, err)
	}
	if h.cookie == cookieEnd {
		if n > 0 {
			return nil, io.EOF
		}
		return nil, nil
	}
	ents, next, err := h.fs.readdir(h.ino, h.cookie, n)
	if err != nil {
		return nil, pathErr("readdir", h.path, err)
	}
	h.cookie = next
	out := make([]DirEntry, len(ents))
	for i, e := range ents {
		out[i] = direntOut(e)
	}
	if len(out) == 0 && n > 0 {
		return nil, io.EOF
	}
	return out, nil
}

// Close releases the handle. If the file has no names left, this was
// its last handle, and the filesystem is writable, the file is freed.
func (h *File) Close() error {
	if err := h.lock(); err != nil {
		return pathErr("close", h.path, err)
	}
	defer h.fs.mu.Unlock()
	h.closed = true
	f := h.fs
	if f.open[h.ino]--; f.open[h.ino] > 0 {
		return nil
	}
	delete(f.open, h.ino)
	if f.opts.ReadOnly || f.stopped != nil {
		return nil
	}
	err := f.closeInode(h.ino)
	if errors.Is(err, ErrNotExist) {
		err = nil
	}
	return pathErr("close", h.path, err)
}
