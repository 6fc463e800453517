package devreg

import (
	"context"

	"valence.dev/ipc"
	"valence.dev/ipc/rpc"
)

// Client calls pcid's registry.
type Client struct {
	T rpc.Transport
}

// Register offers server under name.
func (c Client) Register(ctx context.Context, name, kind string, server ipc.Handle) error {
	_, err := rpc.Call(ctx, c.T, Register, RegisterRequest{Name: name, Kind: kind, Server: server})
	return err
}

// Lookup returns a client capability on the driver registered as name.
func (c Client) Lookup(ctx context.Context, name string) (LookupReply, error) {
	return rpc.Call(ctx, c.T, Lookup, LookupRequest{Name: name})
}

// List returns every function pcid found.
func (c Client) List(ctx context.Context) ([]Function, error) {
	r, err := rpc.Call(ctx, c.T, List, Empty{})
	return r.Functions, err
}
