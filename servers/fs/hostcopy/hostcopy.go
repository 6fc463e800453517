package hostcopy

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"valence.dev/servers/fs/blockdev"
	vfs "valence.dev/servers/fs/fs"
)

// Create makes a filesystem image file at path of size bytes (0: SizeFor
// the tree, or 64 MiB without one) and, if from is not empty, copies the
// host tree from into it; warnings about skipped files go to warn.
func Create(path string, size uint64, from string, warn io.Writer) error {
	if size == 0 {
		var err error
		if size, err = SizeFor(from); err != nil {
			return err
		}
	}
	dev, err := blockdev.CreateFile(path, size/blockdev.BlockSize)
	if err != nil {
		return err
	}
	if err := vfs.Mkfs(dev, vfs.MkfsOptions{}); err != nil {
		dev.Close()
		return err
	}
	if from == "" {
		return dev.Close()
	}
	f, err := vfs.Mount(dev, vfs.Options{})
	if err != nil {
		dev.Close()
		return err
	}
	err = Tree(f, from, warn)
	return errors.Join(err, f.Unmount(), dev.Close())
}

// SizeFor is a sensible image size for copying the host tree at from: a
// quarter more than the tree needs and at least 16 MiB; 64 MiB when from
// is empty.
func SizeFor(from string) (uint64, error) {
	if from == "" {
		return 64 << 20, nil
	}
	var blocks uint64
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		blocks += 2 // its share of inode and entry items, and of symlink targets
		if d.Type().IsRegular() {
			fi, err := d.Info()
			if err != nil {
				return err
			}
			blocks += (uint64(fi.Size()) + blockdev.BlockSize - 1) / blockdev.BlockSize
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return max(16<<20, (blocks+blocks/4+1024)*blockdev.BlockSize), nil
}

// Tree copies the host directory root into the filesystem's root,
// keeping modes, owners, times, symlinks and hard links.
// Directory times are set last, since adding entries changes them.
func Tree(f *vfs.FS, root string, warn io.Writer) error {
	links := map[[2]uint64]string{} // host (device, inode) -> first path
	var dirs []string
	var dirInfo []fs.FileInfo
	err := filepath.WalkDir(root, func(host string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, host)
		if err != nil {
			return err
		}
		p := "/" + filepath.ToSlash(rel)
		fi, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			if rel == "." {
				p = "/"
				if err := f.Chmod(p, Perm(fi.Mode())); err != nil {
					return err
				}
			} else if err := f.Mkdir(p, Perm(fi.Mode())); err != nil {
				return err
			}
			dirs, dirInfo = append(dirs, p), append(dirInfo, fi)
			return chown(f, p, fi)
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(host)
			if err != nil {
				return err
			}
			return f.Symlink(target, p)
		case d.Type().IsRegular():
			return copyFile(f, host, p, fi, links)
		}
		fmt.Fprintf(warn, "skipping %s: %s files are not supported\n", host, fi.Mode().Type())
		return nil
	})
	if err != nil {
		return err
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := f.SetTimes(dirs[i], dirInfo[i].ModTime(), dirInfo[i].ModTime()); err != nil {
			return err
		}
	}
	return nil
}

// copyFile copies one regular file, or links it if the host file is a
// hard link of one already copied.
func copyFile(f *vfs.FS, host, p string, fi fs.FileInfo, links map[[2]uint64]string) error {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Nlink > 1 {
		id := [2]uint64{uint64(st.Dev), uint64(st.Ino)}
		if first, ok := links[id]; ok {
			return f.Link(first, p)
		}
		links[id] = p
	}
	src, err := os.Open(host)
	if err != nil {
		return err
	}
	defer src.Close()
	if err := File(f, src, p, fi); err != nil {
		return err
	}
	return chown(f, p, fi)
}

// chown keeps the host owner where the host reports one.
func chown(f *vfs.FS, p string, fi fs.FileInfo) error {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return f.Chown(p, st.Uid, st.Gid)
	}
	return nil
}

// File copies the host file src, described by fi, to p, keeping its
// mode and times.
func File(f *vfs.FS, src io.Reader, p string, fi os.FileInfo) error {
	h, err := f.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, Perm(fi.Mode()))
	if err != nil {
		return err
	}
	_, err = io.CopyBuffer(h, src, make([]byte, 1<<20))
	if err = errors.Join(err, h.Close()); err != nil {
		return err
	}
	if err := f.Chmod(p, Perm(fi.Mode())); err != nil {
		return err
	}
	return f.SetTimes(p, fi.ModTime(), fi.ModTime())
}

// Perm converts the permission bits of an os.FileMode to Unix ones.
func Perm(m os.FileMode) uint32 {
	p := uint32(m.Perm())
	if m&os.ModeSetuid != 0 {
		p |= 0o4000
	}
	if m&os.ModeSetgid != 0 {
		p |= 0o2000
	}
	if m&os.ModeSticky != 0 {
		p |= 0o1000
	}
	return p
}
