package caps

import (
	"errors"
	"fmt"

	"valence.dev/ipc"
)

// Sentinel errors. Every method wraps one of them in an *OpError.
var (
	// ErrBadHandle: the value names no capability of this table. It is
	// zero, out of range, forged, or its capability was closed, moved or
	// revoked and the slot has not been reused. EBADF.
	ErrBadHandle = errors.New("not a handle of this table")

	// ErrStale: the value's slot now holds a newer capability; the
	// handle's own capability is gone. ESTALE.
	ErrStale = errors.New("stale handle: its slot was reused")

	// ErrRights: the capability lacks a right the operation needs. EACCES.
	ErrRights = errors.New("capability lacks a needed right")

	// ErrAttenuate: the requested rights are not a subset of those held,
	// or the requested badge differs from a badge already minted. EINVAL.
	ErrAttenuate = errors.New("rights or badge would not be an attenuation")

	// ErrFull: the table already holds its limit of capabilities. ENOSPC.
	ErrFull = errors.New("handle table is full")

	// ErrDead: the table was destroyed.
	ErrDead = errors.New("handle table destroyed")

	// ErrDuplicate: a batch names the same capability twice (MoveAll).
	// EINVAL.
	ErrDuplicate = errors.New("the same capability named twice")

	// ErrBadObject: Insert was given a nil or non-comparable object. EINVAL.
	ErrBadObject = errors.New("object is nil or not comparable")

	// ErrForeign: the destination table is nil or belongs to another
	// System.
	ErrForeign = errors.New("table of another system")
)

// OpError records a failed operation: which, on which handle, and why.
// Err is one of the sentinel errors.
type OpError struct {
	Op     string     // "insert", "lookup", "duplicate", ...
	Handle ipc.Handle // the handle operated on; 0 for Insert
	Err    error
}

func (e *OpError) Error() string {
	if e.Handle == 0 && e.Op == "insert" {
		return "caps: insert: " + e.Err.Error()
	}
	return fmt.Sprintf("caps: %s handle %#x: %v", e.Op, uint64(e.Handle), e.Err)
}

func (e *OpError) Unwrap() error { return e.Err }

// fail wraps a sentinel error for the exported methods.
func fail(op string, h ipc.Handle, err error) error {
	return &OpError{Op: op, Handle: h, Err: err}
}
