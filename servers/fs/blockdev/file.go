package blockdev

import (
	"fmt"
	"os"
)

// File is a Device backed by a host file (an image). Its size is the
// file's size rounded down to whole blocks, fixed when it is opened.
type File struct {
	f      *os.File
	blocks uint64
}

// OpenFile opens an existing image. With readOnly the file is opened
// for reading and every write fails.
func OpenFile(path string, readOnly bool) (*File, error) {
	flag := os.O_RDWR
	if readOnly {
		flag = os.O_RDONLY
	}
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		return nil, fmt.Errorf("blockdev: %w", err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("blockdev: %w", err)
	}
	if !fi.Mode().IsRegular() {
		f.Close()
		return nil, fmt.Errorf("blockdev: %s is not a regular file", path)
	}
	return &File{f: f, blocks: uint64(fi.Size()) / BlockSize}, nil
}

// CreateFile creates (or truncates) an image of the given number of
// blocks. The file is sparse: blocks never written take no host space.
func CreateFile(path string, blocks uint64) (*File, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return nil, fmt.Errorf("blockdev: %w", err)
	}
	if err := f.Truncate(int64(blocks * BlockSize)); err != nil {
		f.Close()
		return nil, fmt.Errorf("blockdev: size %s: %w", path, err)
	}
	return &File{f: f, blocks: blocks}, nil
}

// ReadAt implements Device.
func (d *File) ReadAt(p []byte, block uint64) error {
	if err := check(p, block, d.blocks); err != nil {
		return err
	}
	if _, err := d.f.ReadAt(p, int64(block*BlockSize)); err != nil {
		return fmt.Errorf("blockdev: read block %d: %w", block, err)
	}
	return nil
}

// WriteAt implements Device.
func (d *File) WriteAt(p []byte, block uint64) error {
	if err := check(p, block, d.blocks); err != nil {
		return err
	}
	if _, err := d.f.WriteAt(p, int64(block*BlockSize)); err != nil {
		return fmt.Errorf("blockdev: write block %d: %w", block, err)
	}
	return nil
}

// Flush implements Device: it makes every completed write durable on
// the host, including the host disk's volatile write cache (see
// syncData).
func (d *File) Flush() error {
	if err := syncData(d.f); err != nil {
		return fmt.Errorf("blockdev: flush: %w", err)
	}
	return nil
}

// Blocks implements Device.
func (d *File) Blocks() uint64 { return d.blocks }

// Close closes the image file. It does not flush.
func (d *File) Close() error { return d.f.Close() }
