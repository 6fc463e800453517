package netd

import (
	"errors"
	"fmt"
	"syscall"

	"valence.dev/ipc/rpc"
	"valence.dev/servers/net/socket"
)

// errno returns an error with Linux error code e, for the client.
func errno(e syscall.Errno, format string, args ...any) error {
	return &rpc.Error{Code: int32(e), Msg: "netd: " + fmt.Sprintf(format, args...)}
}

// errnos maps the stack's errors to Linux's (socket.Err*).
var errnos = []struct {
	err error
	no  syscall.Errno
}{
	{socket.ErrWouldBlock, syscall.EAGAIN},
	{socket.ErrClosed, syscall.EBADF},
	{socket.ErrNotConnected, syscall.ENOTCONN},
	{socket.ErrConnRefused, syscall.ECONNREFUSED},
	{socket.ErrConnReset, syscall.ECONNRESET},
	{socket.ErrConnAborted, syscall.ECONNABORTED},
	{socket.ErrTimeout, syscall.ETIMEDOUT},
	{socket.ErrAddrInUse, syscall.EADDRINUSE},
	// No route (no address yet, no gateway) is the network's fault;
	// an ICMP unreachable about the peer is the host's.
	{socket.ErrNoRoute, syscall.ENETUNREACH},
	{socket.ErrUnreachable, syscall.EHOSTUNREACH},
	{socket.ErrMessageSize, syscall.EMSGSIZE},
	{socket.ErrInvalid, syscall.EINVAL},
	{socket.ErrShutdown, syscall.EPIPE},
}

// errnoOf returns the errno for a stack error; EIO for one it does not
// know (a bug to fix here).
func errnoOf(err error) syscall.Errno {
	for _, m := range errnos {
		if errors.Is(err, m.err) {
			return m.no
		}
	}
	return syscall.EIO
}

// stackErr turns an error of the stack into one for the client.
func stackErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var re *rpc.Error
	if errors.As(err, &re) {
		return err
	}
	return &rpc.Error{Code: int32(errnoOf(err)), Msg: "netd: " + op + ": " + err.Error()}
}
