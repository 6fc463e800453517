package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"valence.dev/ipc"
	"valence.dev/ipc/rpc/echoproto"
	"valence.dev/libos"
)

// testTyped runs the typed IPC layer over the kernel: an echoproto server
// process (rpc.Server over libos.ServerEndpoint) and a typed client
// (echoproto.Client over libos.Endpoint). No side packs bytes by hand.
func testTyped() error {
	cli, proc, err := startServerRole("rpc-server")
	if err != nil {
		return err
	}
	defer stopServer(proc)
	c := echoproto.Client{T: libos.Endpoint{H: cli}}
	ctx := context.Background()
	if got, err := c.Echo(ctx, "typed hello"); err != nil || got != "typed hello" {
		return fmt.Errorf("Echo: %q %v", got, err)
	}
	if got, err := c.Add(ctx, 40, 2); err != nil || got != 42 {
		return fmt.Errorf("Add: %d %v", got, err)
	}
	if _, err := c.Add(ctx, 1<<62, 1<<62); !errors.Is(err, echoproto.ErrOverflow) {
		return fmt.Errorf("Add overflow: %v, want ErrOverflow", err)
	}
	n, err := libos.NewNotification()
	if err != nil {
		return err
	}
	give, err := libos.Dup(n, ipc.RightSignal|ipc.RightGrant, 0)
	if err != nil {
		return err
	}
	rep, err := c.PassHandle(ctx, give, "signal me")
	if err != nil {
		return fmt.Errorf("PassHandle: %v", err)
	}
	if bits, err := libos.NotifyWait(n); err != nil || bits != 1 {
		return fmt.Errorf("the server did not signal the passed handle: %d %v", bits, err)
	}
	if !strings.Contains(rep.Note, "signal me") {
		return fmt.Errorf("PassHandle reply note %q", rep.Note)
	}
	return nil
}

// rpcServer serves echoproto on an endpoint registered with the parent.
func rpcServer() int {
	ep, ok := register()
	if !ok {
		return 10
	}
	srv := echoproto.NewServer(echoHandler{})
	err := srv.Serve(context.Background(), libos.ServerEndpoint{H: ep})
	fmt.Println("rpc-server:", err)
	return 11
}

type echoHandler struct{}

func (echoHandler) Echo(_ context.Context, _ uint64, s string) (string, error) { return s, nil }

func (echoHandler) Add(_ context.Context, _ uint64, r echoproto.AddRequest) (int64, error) {
	s := r.A + r.B
	if (s > r.A) != (r.B > 0) {
		return 0, echoproto.ErrOverflow
	}
	return s, nil
}

func (echoHandler) PassHandle(_ context.Context, _ uint64, r echoproto.HandleRequest) (echoproto.HandleReply, error) {
	err := libos.NotifySignal(r.H, 1)
	libos.Close(r.H)
	return echoproto.HandleReply{Note: "got: " + r.Note}, err
}

func (echoHandler) Stat(context.Context, uint64, echoproto.StatRequest) (echoproto.Stats, error) {
	return echoproto.Stats{}, nil
}
