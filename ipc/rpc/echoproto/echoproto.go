package echoproto

import (
	"syscall"

	"valence.dev/ipc"
	"valence.dev/ipc/rpc"
)

// Requests and replies.

// AddRequest asks for A + B.
type AddRequest struct {
	A, B int64
}

// HandleRequest passes a handle to the server.
type HandleRequest struct {
	H    ipc.Handle
	Note string
}

// HandleReply passes handles back: the one the server received and one
// of its own.
type HandleReply struct {
	Received ipc.Handle
	Own      ipc.Handle
	Note     string
}

// StatRequest asks for the server's statistics.
type StatRequest struct {
	// Methods asks for per-method statistics too.
	Methods bool
}

// Stats describes a server.
type Stats struct {
	Name    string
	Calls   uint64
	Methods []MethodStats
	// Latency holds a histogram per method: Latency[i][j] calls of
	// method i took between 2^j and 2^(j+1) microseconds.
	Latency [][]uint32
	Owner   *Owner // nil if unknown
}

// MethodStats counts the calls of one method.
type MethodStats struct {
	Name   string
	Calls  uint64
	Errors uint64
	Labels []string
}

// Owner is the process that runs a server.
type Owner struct {
	PID  uint32
	Name string
}

// The methods. Labels are the wire identity of a method: never reuse one.
var (
	Echo       = rpc.Method[string, string]{Label: 1, Name: "Echo"}
	Add        = rpc.Method[AddRequest, int64]{Label: 2, Name: "Add"}
	PassHandle = rpc.Method[HandleRequest, HandleReply]{Label: 3, Name: "PassHandle"}
	Stat       = rpc.Method[StatRequest, Stats]{Label: 4, Name: "Stat"}
)

// Protocol is the echo protocol.
var Protocol = rpc.NewProtocol("echo",
	Echo.Def(),
	Add.Def(),
	PassHandle.Def(),
	Stat.Def(),
)

// ErrOverflow is Add's answer when the sum does not fit an int64.
var ErrOverflow = &rpc.Error{Code: int32(syscall.ERANGE), Msg: "echo: sum overflows int64"}
