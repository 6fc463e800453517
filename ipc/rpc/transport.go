package rpc

import (
	"context"

	"valence.dev/ipc"
)

// Transport carries one synchronous call from a client to a server: it
// sends req and fills rep with the reply. In the OS it is the kernel's
// endpoint call (libos provides it); in tests, memtransport.
//
// Call must not keep or touch req or rep after it returns: the rpc layer
// reuses them. It returns the transport's own errors (the peer died, the
// handle is bad, ctx ended) as they are, so that callers can errors.Is
// them; the server's answer, good or bad, is in rep.
type Transport interface {
	Call(ctx context.Context, req, rep *ipc.Message) error
}

// ServerTransport is the server's side of an endpoint. Receive blocks for
// the next call or notification and fills m with it; the ReplyTo it
// returns names the caller for the one Reply that answers it.
// Notifications (m.Flags has ipc.MsgNotification, the bits are in
// m.Label) take no reply. Several goroutines may Receive and Reply on
// one ServerTransport at once.
type ServerTransport interface {
	Receive(ctx context.Context, m *ipc.Message) (ReplyTo, error)
	Reply(to ReplyTo, m *ipc.Message) error
}

// ReplyTo is an opaque token naming a caller that awaits a reply. It is
// good for one Reply.
type ReplyTo uint64
