package echoproto

import (
	"context"

	"valence.dev/ipc"
	"valence.dev/ipc/rpc"
)

// Client calls the echo protocol over a transport.
type Client struct {
	T rpc.Transport
}

// Echo returns s, from the server.
func (c Client) Echo(ctx context.Context, s string) (string, error) {
	return rpc.Call(ctx, c.T, Echo, s)
}

// Add returns a + b, computed by the server.
func (c Client) Add(ctx context.Context, a, b int64) (int64, error) {
	return rpc.Call(ctx, c.T, Add, AddRequest{A: a, B: b})
}

// PassHandle gives h to the server and returns what it gives back.
func (c Client) PassHandle(ctx context.Context, h ipc.Handle, note string) (HandleReply, error) {
	return rpc.Call(ctx, c.T, PassHandle, HandleRequest{H: h, Note: note})
}

// Stat returns the server's statistics.
func (c Client) Stat(ctx context.Context, methods bool) (Stats, error) {
	return rpc.Call(ctx, c.T, Stat, StatRequest{Methods: methods})
}

// Handler is what a server of the echo protocol implements. badge is the
// badge of the capability the caller called through.
type Handler interface {
	Echo(ctx context.Context, badge uint64, s string) (string, error)
	Add(ctx context.Context, badge uint64, req AddRequest) (int64, error)
	PassHandle(ctx context.Context, badge uint64, req HandleRequest) (HandleReply, error)
	Stat(ctx context.Context, badge uint64, req StatRequest) (Stats, error)
}

// NewServer returns an rpc.Server that serves the echo protocol with h.
func NewServer(h Handler) *rpc.Server {
	s := rpc.NewServer(Protocol)
	rpc.Handle(s, Echo, h.Echo)
	rpc.Handle(s, Add, h.Add)
	rpc.Handle(s, PassHandle, h.PassHandle)
	rpc.Handle(s, Stat, h.Stat)
	return s
}
