package block

import (
	"context"

	"valence.dev/ipc/rpc"
)

// Client calls a block server over a transport. Its methods may be called
// from many goroutines at once: each call is one request in flight.
type Client struct {
	T rpc.Transport
}

// Identify returns the disk's description.
func (c Client) Identify(ctx context.Context) (Info, error) {
	return rpc.Call(ctx, c.T, Identify, Empty{})
}

// Attach asks for a shared buffer of size bytes; map reply.Mem to use it.
func (c Client) Attach(ctx context.Context, size uint64) (AttachReply, error) {
	return rpc.Call(ctx, c.T, Attach, AttachRequest{Size: size})
}

// Detach gives buffer id back.
func (c Client) Detach(ctx context.Context, id uint32) error {
	_, err := rpc.Call(ctx, c.T, Detach, DetachRequest{ID: id})
	return err
}

// Read reads count blocks at lba into buffer id at byte off.
func (c Client) Read(ctx context.Context, id uint32, off, lba uint64, count uint32) error {
	_, err := rpc.Call(ctx, c.T, Read, IO{ID: id, Off: off, LBA: lba, Count: count})
	return err
}

// Write writes count blocks at lba from buffer id at byte off.
func (c Client) Write(ctx context.Context, id uint32, off, lba uint64, count uint32) error {
	_, err := rpc.Call(ctx, c.T, Write, IO{ID: id, Off: off, LBA: lba, Count: count})
	return err
}

// Flush makes written blocks durable.
func (c Client) Flush(ctx context.Context) error {
	_, err := rpc.Call(ctx, c.T, Flush, Empty{})
	return err
}
