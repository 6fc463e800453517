package rpc

import (
	"context"
	"fmt"
	"sync"

	"valence.dev/ipc"
	"valence.dev/ipc/codec"
)

// exchange is the pair of messages one call uses. They are 8 KiB
// together, so they are pooled rather than made per call.
type exchange struct {
	req, rep ipc.Message
}

var exchanges = sync.Pool{New: func() any { return new(exchange) }}

// Call calls method m with req over t and returns the reply. The error is
// one of:
//
//   - the transport's error, wrapped: errors.Is(err, syscall.EOWNERDEAD)
//     says the server died, errors.Is(err, context.Canceled) that ctx
//     ended;
//   - the server's *Error (errors.As, or errors.Is against a sentinel
//     such as ErrUnknownMethod or an errno);
//   - a codec error (codec.ErrTooBig for a request over the limits,
//     codec.ErrMalformed for a reply the client cannot decode).
func Call[Req, Rep any](ctx context.Context, t Transport, m Method[Req, Rep], req Req) (Rep, error) {
	var rep Rep
	x := exchanges.Get().(*exchange)
	defer exchanges.Put(x)

	x.req.Header = ipc.Header{Label: m.Label}
	if err := codec.Marshal(&req, &x.req); err != nil {
		return rep, fmt.Errorf("rpc: %s: request: %w", m.Name, err)
	}
	x.rep.Header = ipc.Header{}
	if err := t.Call(ctx, &x.req, &x.rep); err != nil {
		return rep, fmt.Errorf("rpc: %s: %w", m.Name, err)
	}
	if x.rep.Status != 0 {
		return rep, fmt.Errorf("rpc: %s: %w", m.Name, errorFrom(&x.rep))
	}
	if err := codec.Unmarshal(&x.rep, &rep); err != nil {
		return rep, fmt.Errorf("rpc: %s: reply: %w", m.Name, err)
	}
	return rep, nil
}

// errorFrom decodes the Error of a reply whose Status is not 0. The
// header's Status is the code even if the data disagrees or is not an
// Error at all: a server that cannot encode its message still has a code.
func errorFrom(rep *ipc.Message) *Error {
	var e Error
	if err := codec.Unmarshal(rep, &e); err != nil {
		e = Error{}
	}
	e.Code = rep.Status
	return &e
}
