package main

import (
	"fmt"

	"valence.dev/servers/fs/blockdev"
	"valence.dev/servers/fs/fs"
)

// image is a mounted image file.
type image struct {
	dev *blockdev.File
	fs  *fs.FS
}

// openImage mounts the image at path, read-only unless writable.
func openImage(path string, writable bool) (*image, error) {
	dev, err := blockdev.OpenFile(path, !writable)
	if err != nil {
		return nil, err
	}
	f, err := fs.Mount(dev, fs.Options{ReadOnly: !writable})
	if err != nil {
		dev.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &image{dev: dev, fs: f}, nil
}

// close commits (if writable) and closes the image; err is the
// command's own error, which wins.
func (im *image) close(err error) error {
	uerr := im.fs.Unmount()
	cerr := im.dev.Close()
	switch {
	case err != nil:
		return err
	case uerr != nil:
		return uerr
	}
	return cerr
}

// withImage mounts the image at path, runs do on it, and closes it,
// committing do's changes when writable.
func withImage(path string, writable bool, do func(f *fs.FS) error) error {
	im, err := openImage(path, writable)
	if err != nil {
		return err
	}
	return im.close(do(im.fs))
}
