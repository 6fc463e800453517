package sockproto

import (
	"context"

	"valence.dev/ipc/rpc"
)

// Handler is what a socket server (netd) implements. badge names the
// client.
type Handler interface {
	Attach(ctx context.Context, badge uint64, req AttachRequest) (AttachReply, error)
	Detach(ctx context.Context, badge uint64, req DetachRequest) (Empty, error)
	Socket(ctx context.Context, badge uint64, req SocketRequest) (SockReply, error)
	Close(ctx context.Context, badge uint64, req SockRequest) (Empty, error)
	Bind(ctx context.Context, badge uint64, req AddrRequest) (Empty, error)
	Listen(ctx context.Context, badge uint64, req ListenRequest) (Empty, error)
	Accept(ctx context.Context, badge uint64, req SockRequest) (AcceptReply, error)
	Connect(ctx context.Context, badge uint64, req AddrRequest) (Empty, error)
	Send(ctx context.Context, badge uint64, req SendRequest) (SendReply, error)
	Recv(ctx context.Context, badge uint64, req RecvRequest) (RecvReply, error)
	Shutdown(ctx context.Context, badge uint64, req ShutdownRequest) (Empty, error)
	Name(ctx context.Context, badge uint64, req NameRequest) (Addr, error)
	SetOpt(ctx context.Context, badge uint64, req OptRequest) (Empty, error)
	GetOpt(ctx context.Context, badge uint64, req OptRequest) (OptReply, error)
	Wait(ctx context.Context, badge uint64, req WaitRequest) (WaitReply, error)
	Forget(ctx context.Context, badge uint64, req Empty) (Empty, error)
	Status(ctx context.Context, badge uint64, req StatusRequest) (StatusReply, error)
}

// NewServer returns an rpc.Server that serves the socket protocol with h.
// Serve it from several goroutines: Wait holds one of them per client.
func NewServer(h Handler) *rpc.Server {
	s := rpc.NewServer(Protocol)
	rpc.Handle(s, Attach, h.Attach)
	rpc.Handle(s, Detach, h.Detach)
	rpc.Handle(s, Socket, h.Socket)
	rpc.Handle(s, Close, h.Close)
	rpc.Handle(s, Bind, h.Bind)
	rpc.Handle(s, Listen, h.Listen)
	rpc.Handle(s, Accept, h.Accept)
	rpc.Handle(s, Connect, h.Connect)
	rpc.Handle(s, Send, h.Send)
	rpc.Handle(s, Recv, h.Recv)
	rpc.Handle(s, Shutdown, h.Shutdown)
	rpc.Handle(s, Name, h.Name)
	rpc.Handle(s, SetOpt, h.SetOpt)
	rpc.Handle(s, GetOpt, h.GetOpt)
	rpc.Handle(s, Wait, h.Wait)
	rpc.Handle(s, Forget, h.Forget)
	rpc.Handle(s, Status, h.Status)
	return s
}
