package libos

import (
	"context"

	"valence.dev/ipc"
	"valence.dev/ipc/rpc"
)

// Endpoint is the client side of a kernel endpoint as an rpc.Transport:
// typed protocol clients (such as echoproto.Client) call servers through
// it.
type Endpoint struct{ H ipc.Handle }

// Call implements rpc.Transport with the kernel's endpoint call. The
// kernel call itself cannot be cancelled (a request the server may have
// acted on is not withdrawn), so ctx is checked only before sending.
func (e Endpoint) Call(ctx context.Context, req, rep *ipc.Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return Call(e.H, req, rep)
}

// ServerEndpoint is the server side of a kernel endpoint as an
// rpc.ServerTransport, for rpc.Server.Serve.
type ServerEndpoint struct{ H ipc.Handle }

// Receive implements rpc.ServerTransport.
func (s ServerEndpoint) Receive(ctx context.Context, m *ipc.Message) (rpc.ReplyTo, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	tok, err := Recv(s.H, m)
	return rpc.ReplyTo(tok), err
}

// Reply implements rpc.ServerTransport.
func (s ServerEndpoint) Reply(to rpc.ReplyTo, m *ipc.Message) error {
	return Reply(s.H, uint64(to), m)
}

var (
	_ rpc.Transport       = Endpoint{}
	_ rpc.ServerTransport = ServerEndpoint{}
)
