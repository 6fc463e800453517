package rpc_test

import (
	"errors"
	"fmt"
	"syscall"
	"testing"

	"valence.dev/ipc/rpc"
)

func TestErrorIs(t *testing.T) {
	enoent := &rpc.Error{Code: int32(syscall.ENOENT), Msg: "gone"}
	tests := []struct {
		name   string
		err    error
		target error
		want   bool
	}{
		{"same code, other message", enoent, &rpc.Error{Code: int32(syscall.ENOENT)}, true},
		{"other code", enoent, &rpc.Error{Code: int32(syscall.EIO)}, false},
		{"errno", enoent, syscall.ENOENT, true},
		{"other errno", enoent, syscall.EIO, false},
		{"wrapped", fmt.Errorf("rpc: Open: %w", enoent), syscall.ENOENT, true},
		{"sentinel", &rpc.Error{Code: int32(syscall.ENOSYS), Msg: "x: unknown"}, rpc.ErrUnknownMethod, true},
		{"sentinel mismatch", enoent, rpc.ErrBadRequest, false},
		{"never EOWNERDEAD", &rpc.Error{Code: int32(syscall.EOWNERDEAD)}, syscall.EOWNERDEAD, false},
		{"not a plain error", enoent, errors.New("gone"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := errors.Is(tt.err, tt.target); got != tt.want {
				t.Errorf("errors.Is(%v, %v) = %v, want %v", tt.err, tt.target, got, tt.want)
			}
		})
	}
}

func TestErrorText(t *testing.T) {
	tests := []struct {
		err  *rpc.Error
		want string
	}{
		{&rpc.Error{Code: int32(syscall.ENOENT), Msg: "open x: gone"}, "open x: gone"},
		{&rpc.Error{Code: int32(syscall.ENOENT)}, "no such file or directory"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("%#v.Error() = %q, want %q", tt.err, got, tt.want)
		}
	}
}
