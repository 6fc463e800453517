package fs

import (
	"errors"
	"fmt"
	iofs "io/fs"

	"valence.dev/servers/fs/alloc"
	"valence.dev/servers/fs/btree"
	"valence.dev/servers/fs/seal"
)

// The errors operations return, wrapped with the operation and path in
// an *io/fs.PathError. Test them with errors.Is. The Linux-ABI edge in
// fsd maps them to errnos; nothing here knows errno numbers.
var (
	ErrNotExist     = iofs.ErrNotExist
	ErrExist        = iofs.ErrExist
	ErrInvalid      = iofs.ErrInvalid
	ErrClosed       = iofs.ErrClosed
	ErrNotDir       = errors.New("not a directory")
	ErrIsDir        = errors.New("is a directory")
	ErrNotEmpty     = errors.New("directory not empty")
	ErrNameTooLong  = errors.New("file name too long")
	ErrLoop         = errors.New("too many levels of symbolic links")
	ErrNoSpace      = errors.New("no space left on device")
	ErrTooLarge     = errors.New("file too large")
	ErrTooManyLinks = errors.New("too many links")
	ErrReadOnly     = errors.New("read-only filesystem")

	// ErrCorrupt reports damage found in the image: a block that fails
	// its checksum, or structures that contradict each other.
	ErrCorrupt = errors.New("filesystem image is corrupt")
	// ErrNoFilesystem reports a device with no intact superblock.
	ErrNoFilesystem = errors.New("no valid Valence filesystem superblock")
	// ErrTruncated reports a device shorter than its superblock says.
	ErrTruncated = errors.New("image is truncated")
	// ErrStopped reports a filesystem that stopped after an error in the
	// middle of a change (see FS). The durable image is as of the last
	// commit; unmount and mount again.
	ErrStopped = errors.New("filesystem stopped after an earlier error; remount")
)

// isCorruption reports whether err comes from checking on-disk
// structures rather than from the device or the caller.
func isCorruption(err error) bool {
	for _, e := range []error{ErrCorrupt, btree.ErrCorrupt, alloc.ErrCorrupt, alloc.ErrBitmap, seal.ErrChecksum, seal.ErrHeader} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// pathErr wraps err for an operation on a path, marking damage found in
// the image as ErrCorrupt so callers need test for one error only.
func pathErr(op, path string, err error) error {
	if err == nil {
		return nil
	}
	if isCorruption(err) && !errors.Is(err, ErrCorrupt) {
		err = fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return &iofs.PathError{Op: op, Path: path, Err: err}
}
