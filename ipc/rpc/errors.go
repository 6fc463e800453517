package rpc

import (
	"context"
	"errors"
	"syscall"
	"unicode/utf8"
)

// An Error is a server's failure as the client sees it. It travels in
// the reply: the header's Status holds Code (never 0, which means
// success) and the data holds the encoded Error.
//
// Codes are Linux errno numbers, the same numbers the kernel's own calls
// return, so a file server can answer ENOENT and the Linux-ABI layer can
// hand it to the program as is. errors.Is matches an Error against
// another Error by code alone (so against the sentinels below, whatever
// the message), and against the syscall.Errno of the same number, except
// EOWNERDEAD: that means the peer itself died, which only the transport
// can say.
type Error struct {
	Code int32
	Msg  string
}

// Errors the rpc layer answers with by itself.
var (
	// ErrUnknownMethod: the server has no method with the request's label
	// (ENOSYS).
	ErrUnknownMethod = &Error{Code: int32(syscall.ENOSYS), Msg: "unknown method"}
	// ErrBadRequest: the request was not a valid encoding of the method's
	// request type (EBADMSG).
	ErrBadRequest = &Error{Code: int32(syscall.EBADMSG), Msg: "malformed request"}
)

func (e *Error) Error() string {
	if e.Msg != "" {
		return e.Msg
	}
	return syscall.Errno(e.Code).Error()
}

// Is reports whether target is an Error with the same code, or the same
// errno (other than EOWNERDEAD).
func (e *Error) Is(target error) bool {
	switch t := target.(type) {
	case *Error:
		return t.Code == e.Code
	case syscall.Errno:
		return t != syscall.EOWNERDEAD && int32(t) == e.Code
	}
	return false
}

// maxMsg bounds the message of an error reply, so that any error fits in
// a message with room to spare.
const maxMsg = 1024

// toError turns the error of a handler (or of the dispatch around it)
// into what the client will see. A handler chooses the code by returning
// (or wrapping) an *Error or a syscall.Errno; a context error becomes
// ETIMEDOUT or ECANCELED; anything else is EIO. The message is the whole
// text of err, so the context added by wrapping reaches the client.
func toError(err error) *Error {
	var (
		re    *Error
		errno syscall.Errno
		e     Error
	)
	switch {
	case errors.As(err, &re):
		e.Code = re.Code
	case errors.As(err, &errno):
		e.Code = int32(errno)
	case errors.Is(err, context.DeadlineExceeded):
		e.Code = int32(syscall.ETIMEDOUT)
	case errors.Is(err, context.Canceled):
		e.Code = int32(syscall.ECANCELED)
	}
	// A server relaying the death of its own peer must not make its
	// client think the server died: EOWNERDEAD is the transport's word.
	if e.Code == 0 || e.Code == int32(syscall.EOWNERDEAD) {
		e.Code = int32(syscall.EIO)
	}
	e.Msg = truncate(err.Error(), maxMsg)
	return &e
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
