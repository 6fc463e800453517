package fileproto

import (
	"context"

	"valence.dev/ipc/rpc"
)

// Handler is what a file server implements. badge names the client.
type Handler interface {
	Attach(ctx context.Context, badge uint64, req AttachRequest) (AttachReply, error)
	Detach(ctx context.Context, badge uint64, req DetachRequest) (Empty, error)
	Open(ctx context.Context, badge uint64, req OpenRequest) (OpenReply, error)
	Close(ctx context.Context, badge uint64, req FidRequest) (Empty, error)
	Read(ctx context.Context, badge uint64, req ReadRequest) (ReadReply, error)
	Write(ctx context.Context, badge uint64, req WriteRequest) (WriteReply, error)
	Stat(ctx context.Context, badge uint64, req StatRequest) (Stat, error)
	Fstat(ctx context.Context, badge uint64, req FidRequest) (Stat, error)
	Getdents(ctx context.Context, badge uint64, req GetdentsRequest) (GetdentsReply, error)
	Mkdir(ctx context.Context, badge uint64, req MkdirRequest) (Empty, error)
	Unlink(ctx context.Context, badge uint64, req UnlinkRequest) (Empty, error)
	Rename(ctx context.Context, badge uint64, req RenameRequest) (Empty, error)
	Link(ctx context.Context, badge uint64, req LinkRequest) (Empty, error)
	Symlink(ctx context.Context, badge uint64, req SymlinkRequest) (Empty, error)
	Readlink(ctx context.Context, badge uint64, req PathRequest) (ReadlinkReply, error)
	Chmod(ctx context.Context, badge uint64, req ChmodRequest) (Empty, error)
	Chown(ctx context.Context, badge uint64, req ChownRequest) (Empty, error)
	Utimens(ctx context.Context, badge uint64, req UtimensRequest) (Empty, error)
	Truncate(ctx context.Context, badge uint64, req TruncateRequest) (Empty, error)
	Fsync(ctx context.Context, badge uint64, req FidRequest) (Empty, error)
	Mknod(ctx context.Context, badge uint64, req MknodRequest) (Empty, error)
	Sync(ctx context.Context, badge uint64, req Empty) (Empty, error)
	Statfs(ctx context.Context, badge uint64, req Empty) (Statfs, error)
	Access(ctx context.Context, badge uint64, req AccessRequest) (Empty, error)
	Forget(ctx context.Context, badge uint64, req Empty) (Empty, error)
}

// NewServer returns an rpc.Server that serves the file protocol with h.
func NewServer(h Handler) *rpc.Server {
	s := rpc.NewServer(Protocol)
	rpc.Handle(s, Attach, h.Attach)
	rpc.Handle(s, Detach, h.Detach)
	rpc.Handle(s, Open, h.Open)
	rpc.Handle(s, Close, h.Close)
	rpc.Handle(s, Read, h.Read)
	rpc.Handle(s, Write, h.Write)
	rpc.Handle(s, StatAt, h.Stat)
	rpc.Handle(s, Fstat, h.Fstat)
	rpc.Handle(s, Getdents, h.Getdents)
	rpc.Handle(s, Mkdir, h.Mkdir)
	rpc.Handle(s, Mknod, h.Mknod)
	rpc.Handle(s, Unlink, h.Unlink)
	rpc.Handle(s, Rename, h.Rename)
	rpc.Handle(s, Link, h.Link)
	rpc.Handle(s, Symlink, h.Symlink)
	rpc.Handle(s, Readlink, h.Readlink)
	rpc.Handle(s, Chmod, h.Chmod)
	rpc.Handle(s, Chown, h.Chown)
	rpc.Handle(s, Utimens, h.Utimens)
	rpc.Handle(s, Truncate, h.Truncate)
	rpc.Handle(s, Fsync, h.Fsync)
	rpc.Handle(s, Sync, h.Sync)
	rpc.Handle(s, StatFS, h.Statfs)
	rpc.Handle(s, Access, h.Access)
	rpc.Handle(s, Forget, h.Forget)
	return s
}
