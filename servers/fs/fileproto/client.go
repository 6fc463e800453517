package fileproto

import (
	"context"

	"valence.dev/ipc/rpc"
)

// Client calls a file server over a transport. Its methods may be
// called from many goroutines at once.
type Client struct {
	T rpc.Transport
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

// Open opens a file.
func (c Client) Open(ctx context.Context, req OpenRequest) (OpenReply, error) {
	return rpc.Call(ctx, c.T, Open, req)
}

// Close closes fid.
func (c Client) Close(ctx context.Context, fid uint32) error {
	_, err := rpc.Call(ctx, c.T, Close, FidRequest{Fid: fid})
	return err
}

// Read reads.
func (c Client) Read(ctx context.Context, req ReadRequest) (ReadReply, error) {
	return rpc.Call(ctx, c.T, Read, req)
}

// Write writes.
func (c Client) Write(ctx context.Context, req WriteRequest) (WriteReply, error) {
	return rpc.Call(ctx, c.T, Write, req)
}

// Stat describes a file by path.
func (c Client) Stat(ctx context.Context, req StatRequest) (Stat, error) {
	return rpc.Call(ctx, c.T, StatAt, req)
}

// Fstat describes an open file.
func (c Client) Fstat(ctx context.Context, fid uint32) (Stat, error) {
	return rpc.Call(ctx, c.T, Fstat, FidRequest{Fid: fid})
}

// Getdents reads directory entries.
func (c Client) Getdents(ctx context.Context, req GetdentsRequest) (GetdentsReply, error) {
	return rpc.Call(ctx, c.T, Getdents, req)
}

// Mkdir makes a directory.
func (c Client) Mkdir(ctx context.Context, req MkdirRequest) error {
	_, err := rpc.Call(ctx, c.T, Mkdir, req)
	return err
}

// Mknod makes a special file.
func (c Client) Mknod(ctx context.Context, req MknodRequest) error {
	_, err := rpc.Call(ctx, c.T, Mknod, req)
	return err
}

// Unlink removes a name.
func (c Client) Unlink(ctx context.Context, req UnlinkRequest) error {
	_, err := rpc.Call(ctx, c.T, Unlink, req)
	return err
}

// Rename renames.
func (c Client) Rename(ctx context.Context, req RenameRequest) error {
	_, err := rpc.Call(ctx, c.T, Rename, req)
	return err
}

// Link makes a hard link.
func (c Client) Link(ctx context.Context, req LinkRequest) error {
	_, err := rpc.Call(ctx, c.T, Link, req)
	return err
}

// Symlink makes a symlink.
func (c Client) Symlink(ctx context.Context, req SymlinkRequest) error {
	_, err := rpc.Call(ctx, c.T, Symlink, req)
	return err
}

// Readlink returns a symlink's target.
func (c Client) Readlink(ctx context.Context, req PathRequest) (string, error) {
	rep, err := rpc.Call(ctx, c.T, Readlink, req)
	return rep.Target, err
}

// Chmod sets permission bits.
func (c Client) Chmod(ctx context.Context, req ChmodRequest) error {
	_, err := rpc.Call(ctx, c.T, Chmod, req)
	return err
}

// Chown sets the owner and group.
func (c Client) Chown(ctx context.Context, req ChownRequest) error {
	_, err := rpc.Call(ctx, c.T, Chown, req)
	return err
}

// Utimens sets times.
func (c Client) Utimens(ctx context.Context, req UtimensRequest) error {
	_, err := rpc.Call(ctx, c.T, Utimens, req)
	return err
}

// Truncate sets a file's size.
func (c Client) Truncate(ctx context.Context, req TruncateRequest) error {
	_, err := rpc.Call(ctx, c.T, Truncate, req)
	return err
}

// Fsync makes everything written durable.
func (c Client) Fsync(ctx context.Context, fid uint32) error {
	_, err := rpc.Call(ctx, c.T, Fsync, FidRequest{Fid: fid})
	return err
}

// Sync makes everything written durable.
func (c Client) Sync(ctx context.Context) error {
	_, err := rpc.Call(ctx, c.T, Sync, Empty{})
	return err
}

// Statfs describes the filesystem.
func (c Client) Statfs(ctx context.Context) (Statfs, error) {
	return rpc.Call(ctx, c.T, StatFS, Empty{})
}

// Access checks permissions.
func (c Client) Access(ctx context.Context, req AccessRequest) error {
	_, err := rpc.Call(ctx, c.T, Access, req)
	return err
}

// Forget closes everything the caller holds.
func (c Client) Forget(ctx context.Context) error {
	_, err := rpc.Call(ctx, c.T, Forget, Empty{})
	return err
}
