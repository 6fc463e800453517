package mountproto

import (
	"context"

	"valence.dev/ipc/rpc"
)

// Handler is what a mounter implements. badge names the client (the
// kernel's capability).
type Handler interface {
	Mount(ctx context.Context, badge uint64, req MountRequest) (MountReply, error)
	Unmount(ctx context.Context, badge uint64, req UnmountRequest) (Empty, error)
}

// NewServer returns an rpc.Server that serves the mount protocol with h.
func NewServer(h Handler) *rpc.Server {
	s := rpc.NewServer(Protocol)
	rpc.Handle(s, Mount, h.Mount)
	rpc.Handle(s, Unmount, h.Unmount)
	return s
}

// Client calls a mounter over a transport.
type Client struct {
	T rpc.Transport
}

// Mount asks for a server for req.
func (c Client) Mount(ctx context.Context, req MountRequest) (MountReply, error) {
	return rpc.Call(ctx, c.T, Mount, req)
}

// Unmount says mount id is gone.
func (c Client) Unmount(ctx context.Context, id uint64) error {
	_, err := rpc.Call(ctx, c.T, Unmount, UnmountRequest{ID: id})
	return err
}
