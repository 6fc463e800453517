package rpc

import (
	"context"
	"fmt"
	"reflect"
	"syscall"

	"valence.dev/ipc"
	"valence.dev/ipc/codec"
)

// A handler serves one method: it decodes req, runs the method and
// encodes the reply into rep, or returns the error to answer with.
type handler func(ctx context.Context, req, rep *ipc.Message) error

// A Server dispatches the calls of one protocol to its handlers. Register
// every handler with Handle before calling Serve; after that the Server
// is read-only, and several goroutines may Serve at once.
type Server struct {
	proto    *Protocol
	handlers map[uint64]handler

	// OnNotify, if set, receives the bits of every notification that the
	// transport delivers (a notification bound to the endpoint, as for
	// IRQs and timers). It runs in the serving goroutine, between calls.
	OnNotify func(bits uint64)
}

// NewServer returns a Server for p with no handlers yet.
func NewServer(p *Protocol) *Server {
	return &Server{proto: p, handlers: make(map[uint64]handler)}
}

// Handle registers h as the implementation of m. It panics if m is not a
// method of the server's protocol (with the same name and types) or
// already has a handler: both are programmer errors.
//
// h gets the badge of the capability the caller called through, which
// is how a server tells its clients apart. Its error goes back to the
// caller as an *Error, with a code chosen as the package documentation
// describes.
func Handle[Req, Rep any](s *Server, m Method[Req, Rep], h func(ctx context.Context, badge uint64, req Req) (Rep, error)) {
	def, ok := s.proto.Lookup(m.Label)
	if !ok || def != m.Def() {
		panic(fmt.Sprintf("rpc: Handle: %s (label %d) is not a method of protocol %s", m.Name, m.Label, s.proto.Name))
	}
	if _, dup := s.handlers[m.Label]; dup {
		panic(fmt.Sprintf("rpc: Handle: %s.%s registered twice", s.proto.Name, m.Name))
	}
	s.handlers[m.Label] = func(ctx context.Context, req, rep *ipc.Message) error {
		var in Req
		if err := codec.Unmarshal(req, &in); err != nil {
			return &Error{Code: ErrBadRequest.Code, Msg: truncate(m.Name+": "+err.Error(), maxMsg)}
		}
		out, err := h(ctx, req.Badge, in)
		if err != nil {
			return err
		}
		if err := codec.Marshal(&out, rep); err != nil {
			return &Error{Code: int32(syscall.EMSGSIZE), Msg: truncate(m.Name+": reply: "+err.Error(), maxMsg)}
		}
		return nil
	}
}

// Serve receives calls from t and answers each until receiving fails:
// ctx ends, or the endpoint is closed. It returns that error, wrapped.
//
// A bad call never stops the loop: an unknown label is answered with
// ErrUnknownMethod, a malformed request with ErrBadRequest, a handler's
// error with its code. Nor does a caller that went away before its
// reply: the failed Reply concerns that caller only. A handler that
// panics is a bug and brings the server down, to be restarted by its
// supervisor with clean state.
func (s *Server) Serve(ctx context.Context, t ServerTransport) error {
	x := new(exchange)
	for {
		to, err := t.Receive(ctx, &x.req)
		if err != nil {
			return fmt.Errorf("rpc: serve %s: %w", s.proto.Name, err)
		}
		if x.req.Flags&ipc.MsgNotification != 0 {
			if s.OnNotify != nil {
				s.OnNotify(x.req.Label)
			}
			continue
		}
		s.dispatch(ctx, &x.req, &x.rep)
		// An error here is about this caller (it died, or gave up
		// waiting); the next Receive will tell if the endpoint is gone.
		_ = t.Reply(to, &x.rep)
	}
}

// dispatch runs the handler of req's label and leaves the reply in rep.
func (s *Server) dispatch(ctx context.Context, req, rep *ipc.Message) {
	rep.Header = ipc.Header{Label: req.Label}
	h, ok := s.handlers[req.Label]
	var err error
	switch {
	case ok:
		err = h(ctx, req, rep)
	case s.isMethod(req.Label):
		err = &Error{Code: ErrUnknownMethod.Code, Msg: fmt.Sprintf("%s: method with label %d not implemented", s.proto.Name, req.Label)}
	default:
		err = &Error{Code: ErrUnknownMethod.Code, Msg: fmt.Sprintf("%s: unknown method label %d", s.proto.Name, req.Label)}
	}
	if err != nil {
		writeError(rep, toError(err))
	}
}

func (s *Server) isMethod(label uint64) bool {
	_, ok := s.proto.Lookup(label)
	return ok
}

// writeError makes rep an error reply carrying e.
func writeError(rep *ipc.Message, e *Error) {
	rep.Header = ipc.Header{Label: rep.Label, Status: e.Code}
	if err := codec.Marshal(e, rep); err != nil {
		// Cannot happen: the message is bounded by maxMsg. The Status
		// alone still tells the client what went wrong.
		rep.DataLen = 0
	}
}

func init() {
	// Error replies are encoded with the codec like everything else; a
	// change to Error it cannot carry should fail at once.
	if err := codec.Check(reflect.TypeFor[Error]()); err != nil {
		panic("rpc: " + err.Error())
	}
}
