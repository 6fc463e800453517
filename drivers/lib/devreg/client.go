package devreg

import (
	"context"
	"fmt"

	"valence.dev/ipc"
	"valence.dev/ipc/rpc"
	"valence.dev/libos"
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

// Serve serves srv on a new endpoint from n goroutines, registers a
// client capability on it with pcid's registry as name (of kind), and
// returns when a serving goroutine fails (its error) or ctx ends (nil).
// It is how a driver offers its protocol once its device is up.
func (d *Driver) Serve(ctx context.Context, name, kind string, srv *rpc.Server, n int) error {
	ep, err := libos.NewEndpoint()
	if err != nil {
		return err
	}
	client, err := libos.Dup(ep, ipc.RightWrite|ipc.RightGrant|ipc.RightDuplicate, 0)
	if err != nil {
		return err
	}
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() { errs <- srv.Serve(ctx, libos.ServerEndpoint{H: ep}) }()
	}
	reg := Client{T: libos.Endpoint{H: d.Registry}}
	if err := reg.Register(ctx, name, kind, client); err != nil {
		return fmt.Errorf("registering with pcid: %w", err)
	}
	select {
	case err = <-errs:
		return err
	case <-ctx.Done():
		return nil
	}
}
