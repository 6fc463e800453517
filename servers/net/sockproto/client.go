package sockproto

import (
	"context"

	"valence.dev/ipc/rpc"
)

// Client calls a socket server over a transport. Its methods may be
// called from many goroutines at once. Errors are as rpc.Call's: a
// refusal is an *rpc.Error with the errno to give the program
// (errors.Is(err, syscall.EAGAIN), ...).
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

// Socket makes a socket.
func (c Client) Socket(ctx context.Context, family, typ, protocol uint16) (uint32, error) {
	rep, err := rpc.Call(ctx, c.T, Socket, SocketRequest{Family: family, Type: typ, Protocol: protocol})
	return rep.Sock, err
}

// Open makes a socket from a whole request: Socket's arguments and
// whether the program may have a raw socket (NetRaw).
func (c Client) Open(ctx context.Context, req SocketRequest) (uint32, error) {
	rep, err := rpc.Call(ctx, c.T, Socket, req)
	return rep.Sock, err
}

// Close closes sock.
func (c Client) Close(ctx context.Context, sock uint32) error {
	_, err := rpc.Call(ctx, c.T, Close, SockRequest{Sock: sock})
	return err
}

// Bind binds sock to a.
func (c Client) Bind(ctx context.Context, sock uint32, a Addr) error {
	_, err := rpc.Call(ctx, c.T, Bind, AddrRequest{Sock: sock, Addr: a})
	return err
}

// Listen makes sock a listening socket.
func (c Client) Listen(ctx context.Context, sock uint32, backlog int32) error {
	_, err := rpc.Call(ctx, c.T, Listen, ListenRequest{Sock: sock, Backlog: backlog})
	return err
}

// Accept takes the next connection of listening socket sock.
func (c Client) Accept(ctx context.Context, sock uint32) (AcceptReply, error) {
	return rpc.Call(ctx, c.T, Accept, SockRequest{Sock: sock})
}

// Connect connects sock to a (EINPROGRESS for TCP: wait for EPOLLOUT,
// then ask SO_ERROR).
func (c Client) Connect(ctx context.Context, sock uint32, a Addr) error {
	_, err := rpc.Call(ctx, c.T, Connect, AddrRequest{Sock: sock, Addr: a})
	return err
}

// Send sends.
func (c Client) Send(ctx context.Context, req SendRequest) (uint32, error) {
	rep, err := rpc.Call(ctx, c.T, Send, req)
	return rep.N, err
}

// Recv receives.
func (c Client) Recv(ctx context.Context, req RecvRequest) (RecvReply, error) {
	return rpc.Call(ctx, c.T, Recv, req)
}

// Shutdown shuts down one or both directions of sock.
func (c Client) Shutdown(ctx context.Context, sock, how uint32) error {
	_, err := rpc.Call(ctx, c.T, Shutdown, ShutdownRequest{Sock: sock, How: how})
	return err
}

// Name returns sock's own address, or its peer's.
func (c Client) Name(ctx context.Context, sock uint32, peer bool) (Addr, error) {
	return rpc.Call(ctx, c.T, Name, NameRequest{Sock: sock, Peer: peer})
}

// SetOpt sets an option.
func (c Client) SetOpt(ctx context.Context, sock uint32, level, name int32, value []byte) error {
	_, err := rpc.Call(ctx, c.T, SetOpt, OptRequest{Sock: sock, Level: level, Name: name, Value: value})
	return err
}

// GetOpt reads an option into at most room bytes.
func (c Client) GetOpt(ctx context.Context, sock uint32, level, name int32, room int) ([]byte, error) {
	rep, err := rpc.Call(ctx, c.T, GetOpt, OptRequest{Sock: sock, Level: level, Name: name, Value: make([]byte, room)})
	return rep.Value, err
}

// Wait waits for readiness changes newer than seq.
func (c Client) Wait(ctx context.Context, seq uint64) (WaitReply, error) {
	return rpc.Call(ctx, c.T, Wait, WaitRequest{Seq: seq})
}

// Forget closes everything the caller holds.
func (c Client) Forget(ctx context.Context) error {
	_, err := rpc.Call(ctx, c.T, Forget, Empty{})
	return err
}

// Status describes the interfaces and the sockets from the from'th on.
func (c Client) Status(ctx context.Context, from uint32) (StatusReply, error) {
	return rpc.Call(ctx, c.T, Status, StatusRequest{From: from})
}
