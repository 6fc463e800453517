package rpc_test

import (
	"context"
	"reflect"
	"syscall"
	"testing"

	"valence.dev/ipc"
	"valence.dev/ipc/codec"
	"valence.dev/ipc/rpc"
	"valence.dev/ipc/rpc/echoproto"
)

// FuzzServe sends arbitrary messages to an echo server. Every one must
// be answered, with a reply the client can decode (the method's reply
// type, or an Error whose code matches Status), and the server must go
// on serving.
func FuzzServe(f *testing.F) {
	for _, seed := range []struct {
		label uint64
		v     any
	}{
		{echoproto.Echo.Label, "hi"},
		{echoproto.Add.Label, echoproto.AddRequest{A: 1, B: 2}},
		{echoproto.PassHandle.Label, echoproto.HandleRequest{H: 9, Note: "n"}},
		{echoproto.Stat.Label, echoproto.StatRequest{Methods: true}},
	} {
		var m ipc.Message
		if err := codec.Marshal(seed.v, &m); err != nil {
			f.Fatal(err)
		}
		f.Add(seed.label, m.Data[:m.DataLen], uint8(m.NHandles), uint64(m.Handles[0]))
	}
	f.Add(uint64(77), []byte{1, 2, 3}, uint8(0), uint64(0))

	s := serveWith(f, &echoServer{}, 1, nil) // no blocking Echo
	raw := s.end.Client(0)
	f.Fuzz(func(t *testing.T, label uint64, data []byte, nh uint8, h uint64) {
		req := &ipc.Message{}
		req.Label = label
		req.DataLen = uint32(copy(req.Data[:], data))
		req.NHandles = uint32(nh % (ipc.MaxHandles + 1))
		for i := range req.NHandles {
			req.Handles[i] = ipc.Handle(h + uint64(i))
		}
		var rep ipc.Message
		if err := raw.Call(context.Background(), req, &rep); err != nil {
			t.Fatalf("Call: %v", err)
		}
		if rep.Status != 0 {
			var e rpc.Error
			if err := codec.Unmarshal(&rep, &e); err != nil || e.Code != rep.Status {
				t.Fatalf("error reply: Status %d, Error %+v, %v", rep.Status, e, err)
			}
			switch syscall.Errno(e.Code) {
			case syscall.EBADMSG, syscall.ENOSYS, syscall.ERANGE:
			default:
				t.Fatalf("unexpected error reply %+v", e)
			}
			return
		}
		m, ok := echoproto.Protocol.Lookup(label)
		if !ok {
			t.Fatalf("label %d has no method but was answered with success", label)
		}
		if err := codec.Unmarshal(&rep, newOf(m)); err != nil {
			t.Fatalf("%s reply does not decode: %v", m.Name, err)
		}
	})
}

// newOf returns a pointer to a new value of m's reply type.
func newOf(m rpc.MethodDef) any {
	return reflect.New(m.Reply).Interface()
}
