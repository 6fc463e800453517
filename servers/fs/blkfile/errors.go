package blkfile

import (
	"fmt"
	"syscall"

	"valence.dev/ipc/rpc"
)

// errno returns an error with Linux error code e, for the client.
func (s *Server) errno(e syscall.Errno, format string, args ...any) error {
	return &rpc.Error{Code: int32(e), Msg: "blkfile " + s.opts.Name + ": " + fmt.Sprintf(format, args...)}
}

// deviceErr is a failure of the device as the client sees it: EIO, with
// the device's own message.
func (s *Server) deviceErr(err error) error {
	return s.errno(syscall.EIO, "%v", err)
}
