package rootdisk

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"time"

	"valence.dev/servers/fs/blockdev"
	vfs "valence.dev/servers/fs/fs"
	"valence.dev/servers/fs/fsck"
	"valence.dev/servers/fs/hostcopy"
	"valence.dev/tools/mkimage/initfs"
)

// DefaultSize is the disk size when the caller gives none: room to work
// in beyond the image's own files. The file is sparse, so unused space
// costs the host nothing.
const DefaultSize = 256 << 20

// Options says how to write the disk.
type Options struct {
	Size    uint64    // bytes; 0 means the larger of DefaultSize and Need
	ModTime time.Time // every timestamp; zero means the Unix epoch
}

// Stats summarizes a written disk.
type Stats struct {
	Size      uint64 // bytes
	UsedBytes uint64 // blocks in use, in bytes
	Files     int
	Dirs      int // not counting the root
	Symlinks  int
}

// MountPoints are the directories a root disk has whatever the image
// holds, because something is mounted on them at boot (init, the
// first process, docs/filesystems.md): the initfs at /boot, the kernel's
// /dev and /proc; and /tmp, everyone's scratch space, sticky and
// world-writable as on Linux. Write adds those the tree lacks; one the
// tree has keeps the tree's mode, but must be a directory.
var MountPoints = []initfs.Entry{
	{Name: "boot", Mode: fs.ModeDir | 0o755, From: "root disk mount point"},
	{Name: "dev", Mode: fs.ModeDir | 0o755, From: "root disk mount point"},
	{Name: "proc", Mode: fs.ModeDir | 0o755, From: "root disk mount point"},
	{Name: "tmp", Mode: fs.ModeDir | fs.ModeSticky | 0o777, From: "root disk mount point"},
}

// withMountPoints returns entries with the MountPoints they lack in
// front (their parent is the root, so parents still come first).
func withMountPoints(entries []initfs.Entry) ([]initfs.Entry, error) {
	have := make(map[string]initfs.Entry, len(entries))
	for _, e := range entries {
		have[e.Name] = e
	}
	var out []initfs.Entry
	for _, mp := range MountPoints {
		e, ok := have[mp.Name]
		switch {
		case !ok:
			out = append(out, mp)
		case !e.Mode.IsDir():
			return nil, fmt.Errorf("rootdisk: /%s (from %s) must be a directory: it is a mount point of the root disk", e.Name, e.From)
		}
	}
	return append(out, entries...), nil
}

// Need is the smallest disk size Write accepts for entries: their data
// blocks, the tree and allocation metadata for them (and for the
// MountPoints), and room for the filesystem's own fixed area and
// copy-on-write headroom.
func Need(entries []initfs.Entry) uint64 {
	blocks := uint64(2048)                 // fixed area, bitmaps and commit headroom: 8 MiB
	blocks += 2 * uint64(len(MountPoints)) // at most this many added
	for _, e := range entries {
		blocks += 2 // its share of inode, entry and extent items
		if e.Mode.IsRegular() {
			blocks += (uint64(e.Size) + blockdev.BlockSize - 1) / blockdev.BlockSize
		}
	}
	blocks += blocks / 4
	return blocks * blockdev.BlockSize
}

// Write creates the disk image file at p holding entries and the
// MountPoints.
func Write(p string, entries []initfs.Entry, o Options) (Stats, error) {
	need := Need(entries)
	entries, err := withMountPoints(entries)
	if err != nil {
		return Stats{}, err
	}
	size := o.Size
	switch {
	case size == 0:
		size = max(DefaultSize, need)
	case size < need:
		return Stats{}, fmt.Errorf("rootdisk: %d bytes is too small for the image's %d entries; it needs at least %d (%d MiB)",
			size, len(entries), need, (need+(1<<20)-1)>>20)
	}
	mtime := o.ModTime
	if mtime.IsZero() {
		mtime = time.Unix(0, 0)
	}
	now := func() time.Time { return mtime }

	dev, err := blockdev.CreateFile(p, size/blockdev.BlockSize)
	if err != nil {
		return Stats{}, fmt.Errorf("rootdisk: %w", err)
	}
	st, err := fill(dev, entries, now)
	if err == nil {
		err = dev.Flush()
	}
	if err == nil {
		err = check(dev)
	}
	if err = errors.Join(err, dev.Close()); err != nil {
		return Stats{}, fmt.Errorf("rootdisk: %w", err)
	}
	st.Size = size
	return st, nil
}

// fill makes the filesystem on dev and copies entries into it.
func fill(dev blockdev.Device, entries []initfs.Entry, now func() time.Time) (Stats, error) {
	if err := vfs.Mkfs(dev, vfs.MkfsOptions{Now: now}); err != nil {
		return Stats{}, err
	}
	f, err := vfs.Mount(dev, vfs.Options{Now: now})
	if err != nil {
		return Stats{}, err
	}
	var st Stats
	for _, e := range entries {
		if err := add(f, e, &st); err != nil {
			return Stats{}, errors.Join(fmt.Errorf("/%s (from %s): %w", e.Name, e.From, err), f.Unmount())
		}
	}
	fst := f.StatFS()
	st.UsedBytes = (fst.Blocks - fst.FreeBlocks) * blockdev.BlockSize
	return st, f.Unmount()
}

// add creates one entry. Parents come first (initfs guarantees it), and
// directories created later leave their parents' times at now, which is
// the one time the image uses.
func add(f *vfs.FS, e initfs.Entry, st *Stats) error {
	p := path.Join("/", e.Name)
	perm := hostcopy.Perm(e.Mode)
	switch {
	case e.Mode.IsDir():
		st.Dirs++
		return f.Mkdir(p, perm)
	case e.Mode&os.ModeSymlink != 0:
		st.Symlinks++
		return f.Symlink(e.Link, p)
	}
	st.Files++
	src, err := os.Open(e.Host)
	if err != nil {
		return err
	}
	defer src.Close()
	h, err := f.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	// Exactly the size initfs recorded, so both images agree even if the
	// host file changes underneath.
	_, err = io.CopyBuffer(h, io.LimitReader(src, e.Size), make([]byte, 1<<20))
	if err = errors.Join(err, h.Close()); err != nil {
		return err
	}
	if fi, err := f.Stat(p); err != nil {
		return err
	} else if fi.Size != e.Size {
		return fmt.Errorf("file shrank while being copied (%d of %d bytes)", fi.Size, e.Size)
	}
	return f.Chmod(p, perm) // OpenFile applies the permission bits only
}

// check runs fsck over the finished image.
func check(dev blockdev.Device) error {
	if _, err := fsck.Check(dev); err != nil {
		return fmt.Errorf("the written image fails fsck: %w", err)
	}
	return nil
}
