package rpc_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"valence.dev/ipc"
	"valence.dev/ipc/codec"
	"valence.dev/ipc/rpc/echoproto"
	"valence.dev/ipc/rpc/memtransport"
)

// echoServer implements the echo protocol for the tests. If release is
// set, Echo("block") waits until it is closed (or the server's context
// ends) before it answers.
type echoServer struct {
	release chan struct{}
	entered chan struct{} // receives when Echo("block") starts waiting
}

func newEchoServer() *echoServer {
	return &echoServer{release: make(chan struct{}), entered: make(chan struct{}, 16)}
}

func (e *echoServer) Echo(ctx context.Context, badge uint64, s string) (string, error) {
	if s == "block" && e.release != nil {
		e.entered <- struct{}{}
		select {
		case <-e.release:
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
	return s, nil
}

func (e *echoServer) Add(ctx context.Context, badge uint64, req echoproto.AddRequest) (int64, error) {
	sum := req.A + req.B
	if (req.A > 0 && req.B > 0 && sum < 0) || (req.A < 0 && req.B < 0 && sum >= 0) {
		return 0, fmt.Errorf("add %d + %d: %w", req.A, req.B, echoproto.ErrOverflow)
	}
	return sum, nil
}

// ownHandle is the handle the test server hands out.
const ownHandle ipc.Handle = 0x77

func (e *echoServer) PassHandle(ctx context.Context, badge uint64, req echoproto.HandleRequest) (echoproto.HandleReply, error) {
	return echoproto.HandleReply{Received: req.H, Own: ownHandle, Note: req.Note}, nil
}

func (e *echoServer) Stat(ctx context.Context, badge uint64, req echoproto.StatRequest) (echoproto.Stats, error) {
	st := echoproto.Stats{
		Name:  fmt.Sprintf("echo@%d", badge),
		Calls: 7,
		Owner: &echoproto.Owner{PID: 42, Name: "echod"},
	}
	if req.Methods {
		st.Methods = []echoproto.MethodStats{
			{Name: "Echo", Calls: 5, Labels: []string{"a", "b"}},
			{Name: "Add", Calls: 2, Errors: 1},
		}
		st.Latency = [][]uint32{{1, 2, 3}, nil, {4}}
	}
	return st, nil
}

// serving is a server running over an in-memory endpoint.
type serving struct {
	impl   *echoServer
	end    *memtransport.Server
	client echoproto.Client
	done   chan error // what each Serve returned
}

// serve starts n goroutines serving the echo protocol with impl over a
// new endpoint, and stops them when the test ends. notify, if set,
// becomes the server's OnNotify.
func serve(t testing.TB, n int, notify func(uint64)) *serving {
	t.Helper()
	return serveWith(t, newEchoServer(), n, notify)
}

// serveWith is serve with a given implementation.
func serveWith(t testing.TB, impl *echoServer, n int, notify func(uint64)) *serving {
	t.Helper()
	client, end := memtransport.New()
	s := &serving{impl: impl, end: end, client: echoproto.Client{T: client}, done: make(chan error, n)}
	srv := echoproto.NewServer(s.impl)
	srv.OnNotify = notify
	ctx, cancel := context.WithCancel(context.Background())
	for range n {
		go func() { s.done <- srv.Serve(ctx, end) }()
	}
	t.Cleanup(func() {
		cancel()
		end.Close()
		for range n {
			<-s.done
		}
	})
	return s
}

func TestEchoProtocol(t *testing.T) {
	s := serve(t, 1, nil)
	ctx := context.Background()
	c := s.client
	tests := []struct {
		name string
		call func() (any, error)
		want any
	}{
		{"Echo", func() (any, error) { return c.Echo(ctx, "hello, world") }, "hello, world"},
		{"Echo empty", func() (any, error) { return c.Echo(ctx, "") }, ""},
		{"Echo largest", func() (any, error) {
			return c.Echo(ctx, strings.Repeat("e", ipc.MaxData-2))
		}, strings.Repeat("e", ipc.MaxData-2)},
		{"Add", func() (any, error) { return c.Add(ctx, 40, 2) }, int64(42)},
		{"Add negative", func() (any, error) { return c.Add(ctx, -40, 2) }, int64(-38)},
		{"Add extremes", func() (any, error) { return c.Add(ctx, math.MaxInt64, math.MinInt64) }, int64(-1)},
		{"PassHandle", func() (any, error) { return c.PassHandle(ctx, 0x1234, "take it") },
			echoproto.HandleReply{Received: 0x1234, Own: ownHandle, Note: "take it"}},
		{"PassHandle none", func() (any, error) { return c.PassHandle(ctx, 0, "") },
			echoproto.HandleReply{Own: ownHandle}},
		{"Stat", func() (any, error) { return c.Stat(ctx, false) }, echoproto.Stats{
			Name: "echo@0", Calls: 7, Owner: &echoproto.Owner{PID: 42, Name: "echod"},
		}},
		{"Stat nested slices", func() (any, error) { return c.Stat(ctx, true) }, echoproto.Stats{
			Name: "echo@0", Calls: 7, Owner: &echoproto.Owner{PID: 42, Name: "echod"},
			Methods: []echoproto.MethodStats{
				{Name: "Echo", Calls: 5, Labels: []string{"a", "b"}},
				{Name: "Add", Calls: 2, Errors: 1},
			},
			Latency: [][]uint32{{1, 2, 3}, nil, {4}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.call()
			if err != nil {
				t.Fatalf("call: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("reply (-want +got):\n%s", diff)
			}
		})
	}
}

// TestBadge checks that the handler sees the badge of the client end.
func TestBadge(t *testing.T) {
	s := serve(t, 1, nil)
	c := echoproto.Client{T: s.end.Client(99)}
	st, err := c.Stat(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	if st.Name != "echo@99" {
		t.Errorf("Stat.Name = %q, want %q", st.Name, "echo@99")
	}
}

func TestConcurrentCallers(t *testing.T) {
	s := serve(t, 3, nil)
	const callers, calls = 16, 50
	var wg sync.WaitGroup
	errs := make(chan error, callers)
	for i := range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := echoproto.Client{T: s.end.Client(uint64(i))}
			for j := range calls {
				sum, err := c.Add(context.Background(), int64(i), int64(j))
				if err != nil || sum != int64(i+j) {
					errs <- fmt.Errorf("caller %d: Add(%d, %d) = %d, %v", i, i, j, sum, err)
					return
				}
				st, err := c.Stat(context.Background(), false)
				if want := fmt.Sprintf("echo@%d", i); err != nil || st.Name != want {
					errs <- fmt.Errorf("caller %d: Stat = %q, %v; want %q", i, st.Name, err, want)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestTooBigRequest checks that an oversized request fails in the
// client, before the transport.
func TestTooBigRequest(t *testing.T) {
	s := serve(t, 1, nil)
	_, err := s.client.Echo(context.Background(), strings.Repeat("x", ipc.MaxData))
	if !errors.Is(err, codec.ErrTooBig) {
		t.Fatalf("Echo: %v, want %v", err, codec.ErrTooBig)
	}
	if got, err := s.client.Echo(context.Background(), "after"); err != nil || got != "after" {
		t.Errorf("Echo after: %q, %v", got, err)
	}
}

func TestNotifications(t *testing.T) {
	bits := make(chan uint64, 4)
	s := serve(t, 1, func(b uint64) { bits <- b })

	s.end.Notify(0b10)
	if got := <-bits; got != 0b10 {
		t.Errorf("OnNotify(%#b), want %#b", got, 0b10)
	}

	// While the server is busy, signals accumulate into one delivery.
	done := make(chan error)
	go func() { _, err := s.client.Echo(context.Background(), "block"); done <- err }()
	<-s.impl.entered
	s.end.Notify(0b001)
	s.end.Notify(0b100)
	close(s.impl.release)
	if err := <-done; err != nil {
		t.Fatalf("Echo: %v", err)
	}
	if got := <-bits; got != 0b101 {
		t.Errorf("OnNotify(%#b), want %#b", got, 0b101)
	}
	// Calls still work afterwards.
	if _, err := s.client.Add(context.Background(), 1, 1); err != nil {
		t.Errorf("Add: %v", err)
	}
}

// TestServeStopsWithContext checks that Serve returns the context's
// error when it ends.
func TestServeStopsWithContext(t *testing.T) {
	_, end := memtransport.New()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- echoproto.NewServer(newEchoServer()).Serve(ctx, end) }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Serve: %v, want %v", err, context.Canceled)
	}
}
