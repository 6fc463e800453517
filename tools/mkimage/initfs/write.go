package initfs

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"time"

	"valence.dev/servers/fs/hostcopy"
)

// Options says what to archive.
type Options struct {
	ImageDir string    // directory to archive recursively; "" for none
	Adds     []Add     // files to add, in command-line order
	ModTime  time.Time // timestamp for every entry; zero means the Unix epoch
}

// Stats summarizes a written archive.
type Stats struct {
	Files    int   // regular files
	Dirs     int   // directories, including implied parents
	Symlinks int   // symbolic links
	Bytes    int64 // archive size
}

// Write writes the archive described by opt to w.
func Write(w io.Writer, opt Options) (Stats, error) {
	entries, err := collect(opt)
	if err != nil {
		return Stats{}, err
	}
	mtime := opt.ModTime
	if mtime.IsZero() {
		mtime = time.Unix(0, 0)
	}
	cw := &countingWriter{w: w}
	tw := tar.NewWriter(cw)
	var st Stats
	for _, e := range entries {
		h := &tar.Header{
			Name:    e.name,
			Mode:    tarMode(e.mode),
			ModTime: mtime.Truncate(time.Second),
		}
		switch e.kind {
		case kindDir:
			h.Typeflag, h.Name = tar.TypeDir, e.name+"/"
			st.Dirs++
		case kindSymlink:
			h.Typeflag, h.Linkname = tar.TypeSymlink, e.link
			st.Symlinks++
		case kindFile:
			h.Typeflag, h.Size = tar.TypeReg, e.size
			st.Files++
		}
		if err := tw.WriteHeader(h); err != nil {
			return Stats{}, fmt.Errorf("initfs: writing %s (from %s): %w", h.Name, e.from, err)
		}
		if e.kind == kindFile {
			if err := copyFile(tw, e); err != nil {
				return Stats{}, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return Stats{}, fmt.Errorf("initfs: finishing archive: %w", err)
	}
	st.Bytes = cw.n
	return st, nil
}

// copyFile copies exactly the size recorded in the header, so a file that
// changes while we read it is an error instead of a corrupt archive.
func copyFile(w io.Writer, e *entry) error {
	f, err := os.Open(e.host)
	if err != nil {
		return fmt.Errorf("initfs: %s: %w", e.from, err)
	}
	defer f.Close()
	if _, err := io.CopyN(w, f, e.size); err != nil {
		if errors.Is(err, io.EOF) {
			err = errors.New("file shrank while being archived")
		}
		return fmt.Errorf("initfs: %s: %w", e.from, err)
	}
	return nil
}

// tarMode converts Go's mode bits to the Unix ones tar stores, as the
// root disk stores them too.
func tarMode(m fs.FileMode) int64 { return int64(hostcopy.Perm(m)) }

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
