package fsd

import (
	"errors"
	"fmt"
	"syscall"

	"valence.dev/ipc/rpc"
	"valence.dev/servers/fs/fs"
)

// errno returns an error with Linux error code e, for the client.
func errno(e syscall.Errno, format string, args ...any) error {
	return &rpc.Error{Code: int32(e), Msg: "fsd: " + fmt.Sprintf(format, args...)}
}

// errnos maps the filesystem's errors to Linux's, first match wins.
var errnos = []struct {
	err error
	no  syscall.Errno
}{
	{fs.ErrStopped, syscall.EIO},
	{fs.ErrCorrupt, syscall.EUCLEAN},
	{fs.ErrNotExist, syscall.ENOENT},
	{fs.ErrExist, syscall.EEXIST},
	{fs.ErrNotDir, syscall.ENOTDIR},
	{fs.ErrIsDir, syscall.EISDIR},
	{fs.ErrNotEmpty, syscall.ENOTEMPTY},
	{fs.ErrNameTooLong, syscall.ENAMETOOLONG},
	{fs.ErrLoop, syscall.ELOOP},
	{fs.ErrNoSpace, syscall.ENOSPC},
	{fs.ErrTooLarge, syscall.EFBIG},
	{fs.ErrTooManyLinks, syscall.EMLINK},
	{fs.ErrReadOnly, syscall.EROFS},
	{fs.ErrClosed, syscall.EBADF},
	{fs.ErrInvalid, syscall.EINVAL},
}

// fsErr turns an error of the filesystem into one for the client. What
// the filesystem does not name (a device error) is EIO.
func fsErr(err error) error {
	if err == nil {
		return nil
	}
	var re *rpc.Error
	if errors.As(err, &re) {
		return err
	}
	for _, m := range errnos {
		if errors.Is(err, m.err) {
			return &rpc.Error{Code: int32(m.no), Msg: "fsd: " + err.Error()}
		}
	}
	return &rpc.Error{Code: int32(syscall.EIO), Msg: "fsd: " + err.Error()}
}
