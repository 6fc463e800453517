package main

import (
	"context"
	"errors"
	"sync"

	"valence.dev/drivers/lib/devreg"
	"valence.dev/ipc"
	"valence.dev/ipc/codec"
	"valence.dev/ipc/rpc"
)

// NewServer returns the rpc.Server of the registry protocol over r.
// Refused registrations are logged through log, at most maxRefusalLogs
// times, so that a client cannot flood the console.
func NewServer(r *Registry, log func(format string, args ...any)) *rpc.Server {
	s := rpc.NewServer(devreg.Protocol)
	var mu sync.Mutex
	refusals := 0
	rpc.Handle(s, devreg.Register, func(ctx context.Context, badge uint64, req devreg.RegisterRequest) (devreg.Empty, error) {
		err := r.Register(badge, req)
		if err != nil {
			mu.Lock()
			refusals++
			n := refusals
			mu.Unlock()
			who := "a client"
			if drv, addr, ok := r.Owner(badge); ok {
				who = drv + " (" + addr + ")"
			}
			switch {
			case n < maxRefusalLogs:
				log("refused Register from %s (badge %d): %v", who, badge, err)
			case n == maxRefusalLogs:
				log("refused Register from %s (badge %d): %v; further refusals not logged", who, badge, err)
			}
		}
		return devreg.Empty{}, err
	})
	rpc.Handle(s, devreg.Lookup, func(ctx context.Context, badge uint64, req devreg.LookupRequest) (devreg.LookupReply, error) {
		return r.Lookup(req.Name)
	})
	rpc.Handle(s, devreg.List, func(ctx context.Context, badge uint64, req devreg.Empty) (devreg.ListReply, error) {
		return fitList(r.List()), nil
	})
	return s
}

const maxRefusalLogs = 16

// fitList makes l fit one message (ipc.MaxData bytes): if it is too big
// it drops the lspci lines (lspci rebuilds them from the IDs), then
// functions from the end. The protocol has no paging yet.
func fitList(l devreg.ListReply) devreg.ListReply {
	if fits(l) {
		return l
	}
	short := make([]devreg.Function, len(l.Functions))
	copy(short, l.Functions)
	for i := range short {
		short[i].Line = ""
	}
	for n := len(short); n >= 0; n-- {
		if c := (devreg.ListReply{Functions: short[:n]}); fits(c) {
			return c
		}
	}
	return devreg.ListReply{}
}

func fits(l devreg.ListReply) bool {
	var m ipc.Message
	return codec.Marshal(&l, &m) == nil
}

// handleKeeper is the server transport pcid serves on. It fixes the two
// ways the rpc layer would leak handles into pcid's table:
//
//   - handles that came with a request the registry did not keep (a
//     refused Register, a request that did not decode, an unknown
//     method, anything sent with handles it should not have) are closed
//     once the request is answered;
//   - handles in a reply that could not be delivered (the caller died
//     or gave up) are closed rather than left with pcid.
//
// keep says whether the reply rep to a request with label label means the
// handler took ownership of the request's handles.
type handleKeeper struct {
	t     rpc.ServerTransport
	close func(ipc.Handle) error
	keep  func(label uint64, rep *ipc.Message) bool

	mu      sync.Mutex
	pending map[rpc.ReplyTo]pendingReq
}

type pendingReq struct {
	label   uint64
	handles []ipc.Handle
}

func newHandleKeeper(t rpc.ServerTransport, close func(ipc.Handle) error) *handleKeeper {
	return &handleKeeper{t: t, close: close, keep: keepRegistered, pending: map[rpc.ReplyTo]pendingReq{}}
}

// keepRegistered: only a successful Register keeps its handle.
func keepRegistered(label uint64, rep *ipc.Message) bool {
	return label == devreg.Register.Label && rep.Status == 0
}

// Receive implements rpc.ServerTransport.
func (k *handleKeeper) Receive(ctx context.Context, m *ipc.Message) (rpc.ReplyTo, error) {
	to, err := k.t.Receive(ctx, m)
	if err != nil || m.Flags&ipc.MsgNotification != 0 {
		return to, err
	}
	n := min(int(m.NHandles), ipc.MaxHandles)
	var hs []ipc.Handle
	for _, h := range m.Handles[:n] {
		if h != 0 {
			hs = append(hs, h)
		}
	}
	k.mu.Lock()
	k.pending[to] = pendingReq{label: m.Label, handles: hs}
	k.mu.Unlock()
	return to, nil
}

// Reply implements rpc.ServerTransport.
func (k *handleKeeper) Reply(to rpc.ReplyTo, m *ipc.Message) error {
	k.mu.Lock()
	req := k.pending[to]
	delete(k.pending, to)
	k.mu.Unlock()
	if !k.keep(req.label, m) {
		for _, h := range req.handles {
			_ = k.close(h)
		}
	}
	err := k.t.Reply(to, m)
	if err != nil {
		n := min(int(m.NHandles), ipc.MaxHandles)
		for _, h := range m.Handles[:n] {
			if h != 0 {
				_ = k.close(h)
			}
		}
	}
	return err
}

// serveAll runs n Serve loops on t and returns the first error once all
// have ended.
func serveAll(ctx context.Context, s *rpc.Server, t rpc.ServerTransport, n int) error {
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		go func() { errs <- s.Serve(ctx, t) }()
	}
	var first error
	for i := 0; i < n; i++ {
		if err := <-errs; first == nil {
			first = err
		}
	}
	if first == nil {
		first = errors.New("serve loops ended")
	}
	return first
}
