package rpc_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"valence.dev/ipc"
	"valence.dev/ipc/codec"
	"valence.dev/ipc/rpc"
	"valence.dev/ipc/rpc/echoproto"
	"valence.dev/ipc/rpc/memtransport"
)

// codeOf returns the code of the *rpc.Error in err's chain, or 0.
func codeOf(err error) int32 {
	var re *rpc.Error
	if errors.As(err, &re) {
		return re.Code
	}
	return 0
}

func TestUnknownMethod(t *testing.T) {
	s := serve(t, 1, nil)
	missing := rpc.Method[string, string]{Label: 99, Name: "Missing"}
	_, err := rpc.Call(context.Background(), s.client.T, missing, "x")
	if !errors.Is(err, rpc.ErrUnknownMethod) || !errors.Is(err, syscall.ENOSYS) {
		t.Errorf("Call(Missing): %v, want %v (ENOSYS)", err, rpc.ErrUnknownMethod)
	}
	if !strings.Contains(err.Error(), "rpc: Missing: echo: unknown method label 99") {
		t.Errorf("Call(Missing): %q lacks context", err)
	}
}

// TestUnimplementedMethod checks that a method of the protocol that the
// server registered no handler for is answered like an unknown one.
func TestUnimplementedMethod(t *testing.T) {
	client, end := memtransport.New()
	srv := rpc.NewServer(echoproto.Protocol)
	rpc.Handle(srv, echoproto.Echo, newEchoServer().Echo)
	go srv.Serve(context.Background(), end)
	defer end.Close()

	_, err := rpc.Call(context.Background(), client, echoproto.Add, echoproto.AddRequest{A: 1})
	if !errors.Is(err, rpc.ErrUnknownMethod) || !strings.Contains(err.Error(), "not implemented") {
		t.Errorf("Call(Add): %v, want %v, not implemented", err, rpc.ErrUnknownMethod)
	}
	if got, err := rpc.Call(context.Background(), client, echoproto.Echo, "ok"); err != nil || got != "ok" {
		t.Errorf("Call(Echo) = %q, %v", got, err)
	}
}

// failProto has one method whose handler fails with whatever error the
// request names.
var (
	fail      = rpc.Method[string, struct{}]{Label: 1, Name: "Fail"}
	failProto = rpc.NewProtocol("fail", fail.Def())
)

func TestHandlerErrors(t *testing.T) {
	long := strings.Repeat("é", 1000) // 2000 bytes: cut to 1024 at a rune boundary
	handlerErrs := map[string]error{
		"rpc error":     &rpc.Error{Code: int32(syscall.ENOENT), Msg: "no such thing"},
		"wrapped rpc":   fmt.Errorf("open %q: %w", "f", &rpc.Error{Code: int32(syscall.EEXIST), Msg: "exists"}),
		"errno":         syscall.EACCES,
		"wrapped errno": fmt.Errorf("stat: %w", syscall.ENOTDIR),
		"plain":         errors.New("disk on fire"),
		"deadline":      fmt.Errorf("waiting: %w", context.DeadlineExceeded),
		"canceled":      context.Canceled,
		"peer died":     fmt.Errorf("block device: %w", syscall.EOWNERDEAD),
		"code zero":     &rpc.Error{Msg: "forgot the code"},
		"sentinel":      rpc.ErrBadRequest,
		"long":          errors.New(long),
	}
	client, end := memtransport.New()
	srv := rpc.NewServer(failProto)
	rpc.Handle(srv, fail, func(ctx context.Context, badge uint64, name string) (struct{}, error) {
		return struct{}{}, handlerErrs[name]
	})
	go srv.Serve(context.Background(), end)
	defer end.Close()

	tests := []struct {
		name    string
		want    rpc.Error
		wantIs  error
		wantNot error
	}{
		{"rpc error", rpc.Error{Code: int32(syscall.ENOENT), Msg: "no such thing"}, syscall.ENOENT, nil},
		{"wrapped rpc", rpc.Error{Code: int32(syscall.EEXIST), Msg: `open "f": exists`}, syscall.EEXIST, nil},
		{"errno", rpc.Error{Code: int32(syscall.EACCES), Msg: "permission denied"}, syscall.EACCES, nil},
		{"wrapped errno", rpc.Error{Code: int32(syscall.ENOTDIR), Msg: "stat: not a directory"}, syscall.ENOTDIR, nil},
		{"plain", rpc.Error{Code: int32(syscall.EIO), Msg: "disk on fire"}, syscall.EIO, nil},
		{"deadline", rpc.Error{Code: int32(syscall.ETIMEDOUT), Msg: "waiting: context deadline exceeded"}, syscall.ETIMEDOUT, context.DeadlineExceeded},
		{"canceled", rpc.Error{Code: int32(syscall.ECANCELED), Msg: "context canceled"}, syscall.ECANCELED, context.Canceled},
		{"peer died", rpc.Error{Code: int32(syscall.EIO), Msg: "block device: owner died"}, syscall.EIO, syscall.EOWNERDEAD},
		{"code zero", rpc.Error{Code: int32(syscall.EIO), Msg: "forgot the code"}, syscall.EIO, nil},
		{"sentinel", rpc.Error{Code: int32(syscall.EBADMSG), Msg: "malformed request"}, rpc.ErrBadRequest, nil},
		{"long", rpc.Error{Code: int32(syscall.EIO), Msg: long[:1024]}, syscall.EIO, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := rpc.Call(context.Background(), client, fail, tt.name)
			var got *rpc.Error
			if !errors.As(err, &got) {
				t.Fatalf("Call: %v, want an *rpc.Error", err)
			}
			if diff := cmp.Diff(tt.want, *got); diff != "" {
				t.Errorf("error (-want +got):\n%s", diff)
			}
			if !errors.Is(err, tt.wantIs) {
				t.Errorf("errors.Is(%v, %v) = false", err, tt.wantIs)
			}
			if tt.wantNot != nil && errors.Is(err, tt.wantNot) {
				t.Errorf("errors.Is(%v, %v) = true, want false", err, tt.wantNot)
			}
		})
	}
}

// TestProtocolError checks a protocol's own error through a typed client.
func TestProtocolError(t *testing.T) {
	s := serve(t, 1, nil)
	_, err := s.client.Add(context.Background(), math.MaxInt64, 1)
	if !errors.Is(err, echoproto.ErrOverflow) || !errors.Is(err, syscall.ERANGE) {
		t.Errorf("Add(MaxInt64, 1): %v, want %v", err, echoproto.ErrOverflow)
	}
}

// TestMalformedRequests sends hand-corrupted messages straight through
// the transport and checks that each gets an EBADMSG reply carrying an
// Error, and that the server goes on serving.
func TestMalformedRequests(t *testing.T) {
	s := serve(t, 1, nil)
	raw := s.end.Client(0)
	msg := func(label uint64, data []byte, hs ...ipc.Handle) *ipc.Message {
		m := &ipc.Message{}
		m.Label = label
		m.DataLen = uint32(copy(m.Data[:], data))
		m.NHandles = uint32(copy(m.Handles[:], hs))
		return m
	}
	tests := []struct {
		name   string
		req    *ipc.Message
		wantIn string
	}{
		{"Add too short", msg(echoproto.Add.Label, []byte{1, 2, 3}), "Add"},
		{"Add empty", msg(echoproto.Add.Label, nil), "Add"},
		{"Add trailing garbage", msg(echoproto.Add.Label, make([]byte, 17)), "trailing"},
		{"Echo length past end", msg(echoproto.Echo.Label, []byte{9, 'a'}), "Echo"},
		{"Echo non-minimal length", msg(echoproto.Echo.Label, []byte{0x81, 0, 'a'}), "minimal"},
		{"Echo huge length", msg(echoproto.Echo.Label, []byte{0xff, 0xff, 0xff, 0xff, 0x0f}), "Echo"},
		{"PassHandle index without handle", msg(echoproto.PassHandle.Label, []byte{1, 0}), "H"},
		{"PassHandle unused handle", msg(echoproto.PassHandle.Label, []byte{0, 0}, 5), "0 used"},
		{"Stat bad bool", msg(echoproto.Stat.Label, []byte{7}), "Methods"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var rep ipc.Message
			if err := raw.Call(context.Background(), tt.req, &rep); err != nil {
				t.Fatalf("Call: %v", err)
			}
			if rep.Status != int32(syscall.EBADMSG) {
				t.Errorf("Status = %d, want EBADMSG (%d)", rep.Status, syscall.EBADMSG)
			}
			var e rpc.Error
			if err := codec.Unmarshal(&rep, &e); err != nil {
				t.Fatalf("reply data is not an Error: %v", err)
			}
			if e.Code != int32(syscall.EBADMSG) || !strings.Contains(e.Msg, tt.wantIn) {
				t.Errorf("Error = %+v, want code EBADMSG and a message naming %q", e, tt.wantIn)
			}
			if got, err := s.client.Echo(context.Background(), "still here"); err != nil || got != "still here" {
				t.Errorf("Echo after: %q, %v", got, err)
			}
		})
	}
	// A message over the limits never reaches the server.
	over := msg(echoproto.Echo.Label, nil)
	over.DataLen = ipc.MaxData + 1
	if err := raw.Call(context.Background(), over, new(ipc.Message)); !errors.Is(err, syscall.EMSGSIZE) {
		t.Errorf("Call with DataLen over MaxData: %v, want EMSGSIZE", err)
	}
}

func TestCancel(t *testing.T) {
	s := serve(t, 1, nil)
	// A caller gives up while the handler runs.
	ctx, cancel := context.WithCancel(context.Background())
	errs := make(chan error)
	go func() { _, err := s.client.Echo(ctx, "block"); errs <- err }()
	<-s.impl.entered
	cancel()
	if err := <-errs; !errors.Is(err, context.Canceled) {
		t.Fatalf("Echo(block): %v, want %v", err, context.Canceled)
	}

	// Another gives up while waiting to be received (the only server
	// goroutine is still blocked).
	ctx2, cancel2 := context.WithCancel(context.Background())
	go func() { time.Sleep(10 * time.Millisecond); cancel2() }()
	if _, err := s.client.Echo(ctx2, "queued"); !errors.Is(err, context.Canceled) {
		t.Fatalf("Echo(queued): %v, want %v", err, context.Canceled)
	}

	// The handler finishes; its reply finds no caller, and the server
	// serves on.
	close(s.impl.release)
	if got, err := s.client.Echo(context.Background(), "next"); err != nil || got != "next" {
		t.Errorf("Echo(next) = %q, %v", got, err)
	}
	// A context already done fails at once.
	done, cancel3 := context.WithCancel(context.Background())
	cancel3()
	if _, err := s.client.Echo(done, "late"); !errors.Is(err, context.Canceled) {
		t.Errorf("Echo with done context: %v, want %v", err, context.Canceled)
	}
}

func TestPeerDeath(t *testing.T) {
	s := serve(t, 1, nil)
	// One caller in the handler, one waiting to be received.
	errs := make(chan error, 2)
	go func() { _, err := s.client.Echo(context.Background(), "block"); errs <- err }()
	<-s.impl.entered
	go func() { _, err := s.client.Add(context.Background(), 1, 2); errs <- err }()
	time.Sleep(10 * time.Millisecond) // let the second caller block

	s.end.Close()
	for range 2 {
		err := <-errs
		if !errors.Is(err, syscall.EOWNERDEAD) {
			t.Errorf("blocked call: %v, want EOWNERDEAD", err)
		}
		if !strings.HasPrefix(err.Error(), "rpc: ") {
			t.Errorf("blocked call: %q lacks context", err)
		}
	}
	if _, err := s.client.Echo(context.Background(), "x"); !errors.Is(err, syscall.EOWNERDEAD) {
		t.Errorf("call after death: %v, want EOWNERDEAD", err)
	}
	// The handler still running finishes; its reply goes nowhere, and
	// Serve stops at its next Receive.
	close(s.impl.release)
	if err := <-s.done; !errors.Is(err, memtransport.ErrClosed) {
		t.Errorf("Serve: %v, want %v", err, memtransport.ErrClosed)
	}
	s.done <- nil // for the cleanup
}

// fakeTransport answers every call with a fixed error or reply.
type fakeTransport struct {
	err error
	rep ipc.Message
}

func (f *fakeTransport) Call(ctx context.Context, req, rep *ipc.Message) error {
	if f.err != nil {
		return f.err
	}
	*rep = f.rep
	return nil
}

// TestTransportErrors checks that the transport's errors come through
// Call unchanged under context, and that replies the client cannot
// decode are errors, not panics.
func TestTransportErrors(t *testing.T) {
	errorReply := ipc.Message{}
	errorReply.Status = int32(syscall.ENOENT)
	errorReply.DataLen = 3 // not an Error: the code still comes through
	badReply := ipc.Message{}
	badReply.DataLen = 1
	for _, tt := range []struct {
		name string
		t    *fakeTransport
		want error
	}{
		{"peer died", &fakeTransport{err: syscall.EOWNERDEAD}, syscall.EOWNERDEAD},
		{"bad handle", &fakeTransport{err: fmt.Errorf("endpoint call: %w", syscall.EBADF)}, syscall.EBADF},
		{"error reply with bad data", &fakeTransport{rep: errorReply}, syscall.ENOENT},
		{"malformed reply", &fakeTransport{rep: badReply}, codec.ErrMalformed},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := rpc.Call(context.Background(), tt.t, echoproto.Add, echoproto.AddRequest{})
			if !errors.Is(err, tt.want) {
				t.Errorf("Call: %v, want %v", err, tt.want)
			}
			if !strings.HasPrefix(err.Error(), "rpc: Add: ") {
				t.Errorf("Call: %q lacks context", err)
			}
		})
	}
}
